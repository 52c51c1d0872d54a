// Formula activations as cells and CLI arguments carry them (src/core/formula/): the definitions of a
// study, registered again in whichever thread, process or browser trains a cell. No zod here: the schemas
// that validate a config are in formula-config.ts, and a sweep worker or `tms train` needs none of them.

import {
  defineFormulaActivation,
  expandFamily,
  type FormulaDefinition,
  type FormulaFamily,
  parseActivationSpec,
} from "../core/formula/activation.js";
import { FormulaError } from "../core/formula/errors.js";

/**
 * The formula activations of a study, in order: the inline `name=formula` entries of its activation list,
 * then each family's members. Two definitions of one id are refused.
 */
export function studyFormulas(
  activations: readonly string[],
  families: readonly FormulaFamily[],
): FormulaDefinition[] {
  const defs: FormulaDefinition[] = [];
  for (const spec of activations) {
    const def = parseActivationSpec(spec);
    if (def) defs.push(def);
  }
  for (const family of families) defs.push(...expandFamily(family));
  const seen = new Map<string, string>();
  for (const d of defs) {
    const text = JSON.stringify([d.formula, d.params ?? null]);
    const before = seen.get(d.id);
    if (before !== undefined && before !== text)
      throw new FormulaError(`activation '${d.id}' is defined twice, differently`);
    seen.set(d.id, text);
  }
  return defs.filter((d, k) => defs.findIndex((e) => e.id === d.id) === k);
}

/** Registers the formula activations jobs carry (in whichever thread or process trains them). */
export function registerJobFormulas(jobs: readonly { formula?: FormulaDefinition }[]): void {
  for (const job of jobs) if (job.formula) defineFormulaActivation(job.formula);
}

/** A CLI activation argument: a built-in id as it is, `name=formula` defined and replaced by its name. */
export function activationFromArgument(spec: string): { id: string; formula?: FormulaDefinition } {
  const def = parseActivationSpec(spec);
  if (!def) return { id: spec };
  defineFormulaActivation(def);
  return { id: def.id, formula: def };
}
