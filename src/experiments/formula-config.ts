// User formula activations in study configs (src/core/formula/): the schemas that validate them, whose
// errors name the formula's problem and position. What cells and CLI arguments do with a definition is in
// formula-jobs.ts, which does not load zod (a sweep worker and `tms train` never validate a config).

import * as z from "zod";
import { ACTIVATIONS, UnknownIdError } from "../core/activations.js";
import {
  checkFormulaName,
  compileFormulaActivation,
  expandFamily,
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
