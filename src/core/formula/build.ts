// Smart constructors for formula trees: each folds constants and drops identities (x + 0, x·1, x^1, …), so
// derivatives come out simplified as they are built. Folding evaluates in float64, as the compiled formula
// would; it never reassociates (a·(b·x) stays as written), so a formula's value is the one its text says.

import type { BinaryOp, CompareOp, Node } from "./ast.js";
import { keyOf, num } from "./ast.js";

const isNum = (n: Node): n is { k: "num"; v: number } => n.k === "num";
/** Whether n is the constant v (not a type guard: a false answer says nothing about n's kind). */
const is = (n: Node, v: number): boolean => n.k === "num" && n.v === v;

export function neg(a: Node): Node {
  if (isNum(a)) return num(-a.v);
  if (a.k === "neg") return a.a;
  return { k: "neg", a };
}

export function add(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.v + b.v);
  if (is(a, 0)) return b;
  if (is(b, 0)) return a;
  if (b.k === "neg") return sub(a, b.a);
  return { k: "bin", op: "+", a, b };
}

export function sub(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.v - b.v);
  if (is(b, 0)) return a;
  if (is(a, 0)) return neg(b);
  if (b.k === "neg") return add(a, b.a);
  if (keyOf(a) === keyOf(b)) return num(0);
  return { k: "bin", op: "-", a, b };
}

/**
 * a·b. A zero factor gives 0 even where the other factor would be infinite: in a derivative such a term is
 * a branch or argument that does not depend on x, whose true contribution is 0.
 */
export function mul(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.v * b.v);
  if (is(a, 0) || is(b, 0)) return num(0);
  if (is(a, 1)) return b;
  if (is(b, 1)) return a;
  if (is(a, -1)) return neg(b);
  if (is(b, -1)) return neg(a);
  if (a.k === "neg" && b.k === "neg") return mul(a.a, b.a);
  if (a.k === "neg") return neg(mul(a.a, b));
  if (b.k === "neg") return neg(mul(a, b.a));
  // constants first: 2·(3·u) → 6·u, u·2 → 2·u
  if (isNum(b)) return mul(b, a);
  if (a.k === "num" && b.k === "bin" && b.op === "*" && b.a.k === "num") return mul(num(a.v * b.a.v), b.b);
  return { k: "bin", op: "*", a, b };
}

export function div(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.v / b.v);
  if (is(a, 0)) return num(0);
  if (is(b, 1)) return a;
  if (is(b, -1)) return neg(a);
  if (a.k === "neg") return neg(div(a.a, b));
  return { k: "bin", op: "/", a, b };
}

export function pow(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.v ** b.v);
  if (is(b, 1)) return a;
  if (is(b, 0)) return num(1);
  return { k: "bin", op: "^", a, b };
}

const BINARY: Record<BinaryOp, (a: Node, b: Node) => Node> = {
  "+": add,
  "-": sub,
  "*": mul,
  "/": div,
  "^": pow,
};

export function binary(op: BinaryOp, a: Node, b: Node): Node {
  return BINARY[op](a, b);
}

const COMPARE: Record<CompareOp, (a: number, b: number) => boolean> = {
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
};

export function compare(op: CompareOp, a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(COMPARE[op](a.v, b.v) ? 1 : 0);
  return { k: "cmp", op, a, b };
}

export function logic(op: "&&" | "||", a: Node, b: Node): Node {
  if (isNum(a) && isNum(b))
    return num((op === "&&" ? a.v !== 0 && b.v !== 0 : a.v !== 0 || b.v !== 0) ? 1 : 0);
  return { k: "logic", op, a, b };
}

/** c ? a : b; a constant test picks its branch, equal branches need no test. */
export function cond(c: Node, a: Node, b: Node): Node {
  if (isNum(c)) return c.v !== 0 ? a : b;
  if (keyOf(a) === keyOf(b)) return a;
  return { k: "cond", c, a, b };
}

export function call(fn: string, args: Node[], evaluate?: (...v: number[]) => number): Node {
  if (evaluate && args.every((a) => isNum(a)))
    return num(evaluate(...args.map((a) => (a as { v: number }).v)));
  return { k: "call", fn, args };
}
