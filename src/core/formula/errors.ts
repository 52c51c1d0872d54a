// The one error a bad formula raises: what is wrong and where (1-based character position in the text).

export class FormulaError extends Error {
  /** 0-based offset into the formula text, when the problem has a place. */
  readonly position: number | undefined;
  constructor(problem: string, position?: number, text?: string) {
    const where = position === undefined ? "" : ` at position ${position + 1}`;
    super(`${text === undefined ? "formula" : `formula '${text}'`}: ${problem}${where}`);
    this.name = "FormulaError";
    this.position = position;
  }
}
