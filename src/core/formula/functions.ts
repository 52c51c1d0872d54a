// The functions a formula may call: the elementary ones of the grammar, and every built-in element-wise
// activation by its id (`gelu(x)`, `relu(2*x - 1)`), each with its float64 value and its derivative rule.
// Values are the built-ins' own (sigmoid, softplus, tanh … are the table's entries; erf is special.ts's), so
// a formula that spells out a built-in computes what the built-in computes.

import { ACTIVATION_IDS, type ElementwiseActivation, getActivation } from "../activations.js";
import { erf } from "../special.js";
import type { Node } from "./ast.js";
import { num } from "./ast.js";
import { add, call, compare, cond, div, mul, neg, sub } from "./build.js";

export interface FormulaFunction {
  name: string;
  /** Number of arguments (min and max take two). */
  arity: number;
  /** The value in float64. */
  f64: (...args: number[]) => number;
  /** d/dx f(args), given the arguments and their derivatives (chain rule applied); min, max: derive.ts. */
  derivative?: (args: Node[], d: Node[]) => Node;
  doc: string;
}

const builtin = (id: string) => getActivation(id) as ElementwiseActivation;
const sigmoid = builtin("sigmoid").forward;
const softplus = builtin("softplus").forward;

/** sign(u) with sign(0) = 0, as PyTorch's derivative of abs. */
const sign = (u: number) => (u > 0 ? 1 : u < 0 ? -1 : u === 0 ? 0 : Number.NaN);

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/** f(u) of one argument whose derivative is g(u)·u'. */
function unary(name: string, f64: (u: number) => number, g: (u: Node) => Node, doc: string): FormulaFunction {
  return { name, arity: 1, f64, derivative: ([u], [du]) => mul(g(u), du), doc };
}

const fn1 = (name: string, u: Node) => call(name, [u], FUNCTIONS.get(name)?.f64);

const ELEMENTARY: FormulaFunction[] = [
  unary("exp", Math.exp, (u) => fn1("exp", u), "eᵘ"),
  unary("expm1", Math.expm1, (u) => fn1("exp", u), "eᵘ − 1, accurate near 0"),
  unary("log", Math.log, (u) => div(num(1), u), "natural logarithm"),
  unary("log1p", Math.log1p, (u) => div(num(1), add(num(1), u)), "log(1 + u), accurate near 0"),
  unary("sqrt", Math.sqrt, (u) => div(num(0.5), fn1("sqrt", u)), "square root (derivative +∞ at 0)"),
  unary("abs", Math.abs, (u) => fn1("sign", u), "|u| (derivative sign(u), 0 at 0 as PyTorch)"),
  unary("sign", sign, () => num(0), "−1, 0 or 1 (derivative 0)"),
  unary(
    "sigmoid",
    sigmoid,
    (u) => {
      const s = fn1("sigmoid", u);
      return mul(s, sub(num(1), s));
    },
    "1/(1 + e⁻ᵘ)",
  ),
  unary(
    "tanh",
    Math.tanh,
    (u) => {
      const t = fn1("tanh", u);
      return sub(num(1), mul(t, t));
    },
    "hyperbolic tangent",
  ),
  unary("erf", erf, (u) => mul(num(TWO_OVER_SQRT_PI), fn1("exp", neg(mul(u, u)))), "error function"),
  unary(
    "softplus",
    softplus,
    (u) => cond(compare(">", u, num(20)), num(1), fn1("sigmoid", u)),
    "log(1 + eᵘ), u itself above 20 (PyTorch's threshold)",
  ),
  { name: "min", arity: 2, f64: (a, b) => (a < b ? a : b), doc: "the smaller (ties: see derive.ts)" },
  { name: "max", arity: 2, f64: (a, b) => (a > b ? a : b), doc: "the larger (ties: see derive.ts)" },
];

/** The derivative of built-in activation `id` at u, as the table computes it (`d:<id>` in trees). */
export const derivativeName = (id: string) => `d:${id}`;

function activationFunctions(): FormulaFunction[] {
  const out: FormulaFunction[] = [];
  const elementary = new Set(ELEMENTARY.map((f) => f.name));
  for (const id of ACTIVATION_IDS) {
    const act = getActivation(id);
    if (act.kind !== "elementwise" || elementary.has(id)) continue;
    const dname = derivativeName(id);
    out.push({
      name: id,
      arity: 1,
      f64: act.forward,
      derivative: ([u], [du]) => mul(call(dname, [u], FUNCTIONS.get(dname)?.f64), du),
      doc: `the built-in activation ${act.name} (${act.torch})`,
    });
    out.push({
      name: dname,
      arity: 1,
      f64: (u) => act.derivative(u, act.forward(u)),
      doc: `derivative of ${id}`,
    });
  }
  return out;
}

export const FUNCTIONS: ReadonlyMap<string, FormulaFunction> = new Map(
  [...ELEMENTARY, ...activationFunctions()].map((f) => [f.name, f]),
);

/** The names a user may call (internal derivative functions excluded). */
export const CALLABLE: readonly string[] = [...FUNCTIONS.keys()].filter((n) => !n.startsWith("d:"));

/** Named constants a formula may use. */
export const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI };
