// The activation a series of the store was trained with: a built-in by id, or a formula rebuilt from the
// definition its result.json records (so tables computed from an activation's definition, such as the
// activation properties, cover formula activations like built-ins).

import { ACTIVATIONS, type Activation } from "../core/activations.js";
import { compileFormulaActivation } from "../core/formula/activation.js";
import type { Series } from "./data.js";

export function seriesActivation(s: Pick<Series, "activation" | "cells">): Activation | undefined {
  const builtin = ACTIVATIONS.get(s.activation);
  if (builtin) return builtin;
  const def = s.cells.find((c) => c.formula)?.formula;
  if (!def) return undefined;
  try {
    return compileFormulaActivation(def);
  } catch {
    return undefined;
  }
}
