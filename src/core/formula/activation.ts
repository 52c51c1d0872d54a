// A user formula as an activation: an entry of the same shape as the built-ins' (forward, derivative, docs,
// name), registered so that getActivation finds it by its id wherever built-ins are looked up. Also the
// id syntax `name=formula` (CLI lists and study configs) and the expansion of a parameter family into one
// activation per value (`swish_beta~beta=4`).

import { ACTIVATIONS, defineActivation, type ElementwiseActivation, getActivation } from "../activations.js";
import { formulaVectorForm } from "../kernels/wasm/formula-vact.js";
import { keyOf, type Node, print } from "./ast.js";
import { compileTree } from "./compile.js";
import { bindParams, derivative, nonFiniteConstant } from "./derive.js";
import { FormulaError } from "./errors.js";
import { FUNCTIONS } from "./functions.js";
import { parseFormula } from "./parse.js";

/** One formula activation: what a store records and a worker needs to rebuild it. */
export interface FormulaDefinition {
  /** The activation id: a name, with `~param=value,…` for a member of a parameter family. */
  id: string;
  name?: string;
  formula: string;
  /** Parameter values (a family member). */
  params?: Record<string, number>;
}

export interface FormulaActivation extends ElementwiseActivation {
  definition: FormulaDefinition;
  /** Identifies the code (kernel caches): the id and the formula with its parameter values. */
  key: string;
  /** f with the parameters bound, and f′ (simplified). */
  tree: Node;
  derivativeTree: Node;
  /** f and f′ in float32 semantics (every operation rounded), the reference for float32 vector code. */
  forward32(x: number): number;
  derivative32(x: number): number;
}

export const isFormulaActivation = (a: { kind: string }): a is FormulaActivation =>
  a.kind === "elementwise" && "definition" in a;

const NAME = /^[a-z][a-z0-9_]*$/;

/** Checks a formula activation's name (the part of the id before any `~`). */
export function checkFormulaName(name: string): void {
  if (!NAME.test(name))
    throw new FormulaError(
      `name '${name}' must be lower-case letters, digits and _ (starting with a letter)`,
    );
  if (ACTIVATIONS.has(name))
    throw new FormulaError(`name '${name}' is a built-in activation; choose another`);
}

const built = new Map<string, FormulaActivation>();
const MAX_BUILT = 2000;
const isRegistered = (a: FormulaActivation) => {
  try {
    return getActivation(a.id) === a;
  } catch {
    return false;
  }
};

/** Builds (once per id, formula and parameter values) the activation of a definition; throws FormulaError. */
export function compileFormulaActivation(def: FormulaDefinition): FormulaActivation {
  const key = `${def.id}=${def.formula}${def.params ? `|${JSON.stringify(def.params)}` : ""}`;
  let act = built.get(key);
  if (!act) {
    act = buildFormulaActivation(def, key);
    built.set(key, act);
    // the explorer compiles a formula per keystroke: forget the oldest not in use (registered)
    if (built.size > MAX_BUILT)
      for (const [k, a] of built)
        if (!isRegistered(a)) {
          built.delete(k);
          break;
        }
  }
  return act;
}

/** Builds and registers it: getActivation(def.id) returns it from now on (until redefined). */
export function defineFormulaActivation(def: FormulaDefinition): FormulaActivation {
  const act = compileFormulaActivation(def);
  defineActivation(act);
  return act;
}

function buildFormulaActivation(def: FormulaDefinition, key: string): FormulaActivation {
  checkFormulaName(def.id.split("~")[0]);
  const params = def.params ?? {};
  const parsed = parseFormula(def.formula, { params: Object.keys(params) });
  for (const [p, v] of Object.entries(params))
    if (!Number.isFinite(v))
      throw new FormulaError(`parameter ${p} = ${v} is not finite`, undefined, def.formula);
  const tree = bindParams(parsed, params);
  const bad = nonFiniteConstant(tree);
  if (bad)
    throw new FormulaError(
      `a constant part is not finite (${(bad as { v: number }).v})`,
      bad.pos,
      def.formula,
    );
  const dtree = derivative(tree);
  const bound = Object.entries(params).map(([p, v]) => `${p} = ${v}`);
  const forward = compileTree(tree, "f64");
  const dforward = compileTree(dtree, "f64");
  return {
    kind: "elementwise",
    id: def.id,
    name: def.name ?? def.id,
    torch: "(a formula: no single PyTorch call)",
    formula: [def.formula, ...bound].join(", "),
    doc: `User formula; f′(x) = ${print(dtree)}`,
    forward,
    derivative: (x) => dforward(x),
    definition: def,
    key,
    tree,
    derivativeTree: dtree,
    vector: formulaVectorForm(tree, dtree),
    forward32: compileTree(tree, "f32"),
    derivative32: compileTree(dtree, "f32"),
  };
}

/** `name=formula` → its definition; any other text (a built-in id) → undefined. */
export function parseActivationSpec(spec: string): FormulaDefinition | undefined {
  const at = spec.indexOf("=");
  if (at < 0) return undefined;
  const id = spec.slice(0, at).trim();
  const formula = spec.slice(at + 1).trim();
  checkFormulaName(id);
  return { id, formula };
}

/** Splits a comma-separated activation list, leaving commas inside parentheses (max(x, 0)) alone. */
export function splitActivationList(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if ((c === "," && depth === 0) || i === text.length) {
      const part = text.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  return out;
}

/** A parameter family as a config declares it: values per parameter, one activation per combination. */
export interface FormulaFamily {
  id: string;
  name?: string;
  formula: string;
  params?: Record<string, number | number[]>;
}

/** The family's members, in the order of the values given (the first parameter varies slowest). */
export function expandFamily(family: FormulaFamily): FormulaDefinition[] {
  checkFormulaName(family.id);
  const entries = Object.entries(family.params ?? {}).map(
    ([p, v]) => [p, Array.isArray(v) ? v : [v]] as const,
  );
  for (const [p, values] of entries)
    if (values.length === 0)
      throw new FormulaError(`parameter ${p} of '${family.id}' has an empty list of values`);
  if (entries.length === 0)
    return [{ id: family.id, ...(family.name ? { name: family.name } : {}), formula: family.formula }];
  let combos: Record<string, number>[] = [{}];
  for (const [p, values] of entries) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [p]: v })));
  return combos.map((params) => {
    const tag = Object.entries(params)
      .map(([p, v]) => `${p}=${v}`)
      .join(",");
    return {
      id: `${family.id}~${tag}`,
      name: `${family.name ?? family.id} (${tag.replaceAll(",", ", ")})`,
      formula: family.formula,
      params,
    };
  });
}

/** Whether a function name may be called in formulas (for the explorer's hints). */
export const isFormulaFunction = (name: string) => FUNCTIONS.has(name) && !name.startsWith("d:");

/** A stable text of a tree, for comparing two formulas' code (equal trees compile to equal code). */
export const treeKey = keyOf;
