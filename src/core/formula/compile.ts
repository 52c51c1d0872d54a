// Formula trees → JavaScript functions (one `new Function` each, so V8 compiles them like hand-written
// code), in float64 or in float32 semantics (every operation rounded with Math.fround, as float32 vector
// code computes). Common subexpressions are computed once; both branches of ?: are computed and one is
// selected, as the vector code does (no side effects, so only the cost differs).

import { keyOf, type Node } from "./ast.js";
import { FUNCTIONS } from "./functions.js";

export type Precision = "f64" | "f32";

const MATH: Record<string, string> = {
  exp: "Math.exp",
  expm1: "Math.expm1",
  log: "Math.log",
  log1p: "Math.log1p",
  sqrt: "Math.sqrt",
  abs: "Math.abs",
  tanh: "Math.tanh",
};

const literal = (v: number) => (Object.is(v, -0) ? "(-0)" : v < 0 ? `(${v})` : String(v));

/** Straight-line code computing the trees' values into locals; returns the locals holding each root. */
function emit(roots: Node[], precision: Precision): { lines: string[]; results: string[]; fns: string[] } {
  const lines: string[] = [];
  const names = new Map<string, string>();
  const fns = new Set<string>();
  const r = (expr: string) => (precision === "f32" ? `F(${expr})` : expr);
  const value = (n: Node): string => {
    if (n.k === "num") return precision === "f32" ? literal(Math.fround(n.v)) : literal(n.v);
    if (n.k === "x") return "x";
    const key = keyOf(n);
    const known = names.get(key);
    if (known) return known;
    const expr = expression(n);
    const name = `t${names.size}`;
    names.set(key, name);
    lines.push(`const ${name} = ${expr};`);
    return name;
  };
  // comparisons are booleans: as numbers they are 1 or 0
  const numeric = (n: Node) => (n.k === "cmp" || n.k === "logic" ? `(+${value(n)})` : value(n));
  const expression = (n: Node): string => {
    switch (n.k) {
      case "neg":
        return `-${numeric(n.a)}`;
      case "bin": {
        const a = numeric(n.a);
        const b = numeric(n.b);
        if (n.op === "^")
          return n.b.k === "num" && n.b.v === 2 ? r(`${a} * ${a}`) : r(`Math.pow(${a}, ${b})`);
        return r(`${a} ${n.op} ${b}`);
      }
      case "cmp": {
        const op = n.op === "==" ? "===" : n.op === "!=" ? "!==" : n.op;
        return `${numeric(n.a)} ${op} ${numeric(n.b)}`;
      }
      case "logic":
        return `${value(n.a)} ${n.op} ${value(n.b)}`;
      case "cond":
        return `${value(n.c)} ? ${numeric(n.a)} : ${numeric(n.b)}`;
      case "call": {
        const args = n.args.map(numeric).join(", ");
        const math = MATH[n.fn];
        if (math) return r(`${math}(${args})`);
        fns.add(n.fn);
        return r(`${fnLocal(n.fn)}(${args})`);
      }
      default:
        throw new Error(`cannot compile ${n.k}`);
    }
  };
  const results = roots.map(numeric);
  return { lines, results, fns: [...fns] };
}

const fnLocal = (name: string) => `f_${name.replace(":", "_")}`;

/** A function of x computing the tree in the given precision. */
export function compileTree(tree: Node, precision: Precision): (x: number) => number {
  const { lines, results, fns } = emit([tree], precision);
  const input = precision === "f32" ? "x = Math.fround(x);" : "";
  const body = `return function formula(x) { ${input} ${lines.join(" ")} return ${results[0]}; };`;
  const make = new Function("F", ...fns.map(fnLocal), body);
  return make(Math.fround, ...fns.map((f) => FUNCTIONS.get(f)?.f64));
}

/** The JavaScript source of a tree's function (for tests and the curious). */
export function sourceOf(tree: Node, precision: Precision): string {
  const { lines, results } = emit([tree], precision);
  return [...lines, `return ${results[0]};`].join("\n");
}
