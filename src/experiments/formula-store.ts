// The formula activations a results store holds, recorded in its manifest by id: a store never mixes two
// definitions of one id (cells of `mine` trained with another formula would be skipped as present).

import type { FormulaDefinition } from "../core/formula/activation.js";

export function mergeStoreFormulas(
  root: string,
  recorded: Record<string, FormulaDefinition> | undefined,
  jobs: readonly { formula?: FormulaDefinition }[],
  force: boolean,
): Record<string, FormulaDefinition> | undefined {
  const out: Record<string, FormulaDefinition> = { ...(recorded ?? {}) };
  for (const { formula } of jobs) {
    if (!formula) continue;
    const before = out[formula.id];
    const same =
      before &&
      before.formula === formula.formula &&
      JSON.stringify(before.params) === JSON.stringify(formula.params);
    if (before && !same && !force) {
      const err = new Error(
        `${root} holds activation '${formula.id}' as '${before.formula}', now '${formula.formula}'` +
          `${formula.params ? ` with ${JSON.stringify(formula.params)}` : ""}: use another --out or another name, or --force`,
      );
      err.name = "StoreError";
      throw err;
    }
    out[formula.id] = formula;
  }
  return Object.keys(out).length ? out : undefined;
}
