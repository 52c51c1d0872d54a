// User formula activations in study configs and CLI lists (src/core/formula/): the schemas that validate
// them (the errors name the formula's problem and position), and the definitions a study's cells carry so
// that any worker (thread, queue worker, browser) can rebuild them.

import { z } from "zod";
import { ACTIVATIONS, UnknownIdError } from "../core/activations.js";
import {
  checkFormulaName,
  compileFormulaActivation,
  defineFormulaActivation,
  expandFamily,
  type FormulaDefinition,
  type FormulaFamily,
  parseActivationSpec,
} from "../core/formula/activation.js";
import { FormulaError } from "../core/formula/errors.js";

/** A built-in id, or `name=formula`. */
export const activationSpecSchema = z.string().superRefine((spec, ctx) => {
  try {
    const def = parseActivationSpec(spec);
    if (def) compileFormulaActivation(def);
    else if (!ACTIVATIONS.has(spec)) throw new UnknownIdError("activation", spec, [...ACTIVATIONS.keys()]);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
  }
});

const finite = z.number({ error: "a parameter value must be a finite number" });

/** `[[formulas]]`: a formula with parameters, one activation per value (or combination of values). */
export const formulaFamilySchema = z
  .object({
    id: z.string(),
    name: z.string().optional(),
    formula: z.string(),
    params: z.record(z.string(), z.union([finite, z.array(finite)])).optional(),
  })
  .strict()
  .superRefine((family, ctx) => {
    // each check names the key it is about: the id, the parameter lists, then the formula itself
    const checks: [string, () => unknown][] = [
      ["id", () => checkFormulaName(family.id)],
      ["params", () => expandFamily(family)],
      ["formula", () => expandFamily(family).forEach(compileFormulaActivation)],
    ];
    for (const [key, check] of checks) {
      try {
        check();
      } catch (e) {
        if (!(e instanceof FormulaError)) throw e;
        ctx.addIssue({ code: "custom", message: e.message, path: [key] });
        return;
      }
    }
  });

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
