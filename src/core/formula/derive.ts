// Symbolic derivative d/dx of a formula tree, simplified as it is built (build.ts), with PyTorch's
// convention at kinks: the derivative of the branch taken.
//   c ? a : b      → c ? a′ : b′ (the test as written decides at its boundary: x > 0 ? x : 0 has 0 at 0)
//   max(a, b)      → a′ where a > b, b′ where a < b (or either is NaN), and at a tie the smaller of a′, b′
//   min(a, b)      → a′ where a < b, b′ where a > b (or either is NaN), and at a tie the smaller of a′, b′
//   abs(u)         → sign(u)·u′ (0 at 0)
// The tie rule gives max(x, 0) and max(0, x) relu's 0 at 0, max(x, 0.01x) leaky_relu's 0.01, and
// min(max(x, 0), 6) relu6's 0 at both 0 and 6 (PyTorch's relu, leaky_relu, relu6 and hardtanh backward).
// Comparisons and && / || are piecewise constant: derivative 0.

import { keyOf, type Node, num, walk } from "./ast.js";
import { add, binary, call, compare, cond, div, logic, mul, neg, pow, sub } from "./build.js";
import { FUNCTIONS } from "./functions.js";

const fn = (name: string, args: Node[]) => call(name, args, FUNCTIONS.get(name)?.f64);

/** Whether the tree depends on x. */
export const hasX = (n: Node): boolean => [...walk(n)].some((m) => m.k === "x");

export function derivative(n: Node): Node {
  const memo = new Map<string, Node>();
  const d = (m: Node): Node => {
    const key = keyOf(m);
    let out = memo.get(key);
    if (!out) {
      out = hasX(m) ? rule(m, d) : num(0);
      memo.set(key, out);
    }
    return out;
  };
  return d(n);
}

function rule(n: Node, d: (m: Node) => Node): Node {
  switch (n.k) {
    case "x":
      return num(1);
    case "num":
    case "param":
    case "cmp":
    case "logic":
      return num(0);
    case "neg":
      return neg(d(n.a));
    case "cond":
      return cond(n.c, d(n.a), d(n.b));
    case "bin":
      return binaryRule(n.op, n.a, n.b, d);
    case "call":
      return callRule(n.fn, n.args, d);
  }
}

function binaryRule(op: string, a: Node, b: Node, d: (m: Node) => Node): Node {
  const da = d(a);
  const db = d(b);
  switch (op) {
    case "+":
      return add(da, db);
    case "-":
      return sub(da, db);
    case "*":
      return add(mul(da, b), mul(a, db));
    case "/":
      if (!hasX(b)) return div(da, b);
      return div(sub(mul(da, b), mul(a, db)), mul(b, b));
    default: {
      // a^b: constant exponent b·a^(b−1)·a′; constant base a^b·log(a)·b′; else both
      if (!hasX(b)) return mul(mul(b, pow(a, sub(b, num(1)))), da);
      const ab = pow(a, b);
      if (!hasX(a)) return mul(mul(ab, fn("log", [a])), db);
      return mul(ab, add(mul(db, fn("log", [a])), div(mul(b, da), a)));
    }
  }
}

function callRule(name: string, args: Node[], d: (m: Node) => Node): Node {
  if (name === "max" || name === "min") {
    const [a, b] = args;
    const da = d(a);
    const db = d(b);
    // the forward pass is a > b ? a : b (max), a < b ? a : b (min): an unordered pair (NaN) takes b
    const taken = compare(name === "max" ? ">" : "<", a, b);
    return cond(taken, da, cond(compare("==", a, b), fn("min", [da, db]), db));
  }
  const f = FUNCTIONS.get(name);
  if (!f?.derivative) throw new Error(`no derivative rule for ${name}`);
  return f.derivative(args, args.map(d));
}

/** Replaces parameters by their values and folds what became constant (the tree is otherwise kept). */
export function bindParams(n: Node, values: Readonly<Record<string, number>>): Node {
  const go = (m: Node): Node => {
    const r = fold(m);
    return r.k === "num" && r.pos === undefined && m.pos !== undefined ? { ...r, pos: m.pos } : r;
  };
  const fold = (m: Node): Node => {
    switch (m.k) {
      case "num":
      case "x":
        return m;
      case "param": {
        const v = values[m.name];
        if (v === undefined) throw new Error(`parameter ${m.name} has no value`);
        return { k: "num", v, pos: m.pos };
      }
      case "neg": {
        const a = go(m.a);
        return a.k === "num" ? num(-a.v) : { ...m, a };
      }
      case "bin":
      case "cmp":
      case "logic": {
        const a = go(m.a);
        const b = go(m.b);
        if (a.k !== "num" || b.k !== "num") return { ...m, a, b };
        if (m.k === "bin") return binary(m.op, a, b);
        return m.k === "cmp" ? compare(m.op, a, b) : logic(m.op, a, b);
      }
      case "cond": {
        const c = go(m.c);
        return c.k === "num" ? go(c.v !== 0 ? m.a : m.b) : { ...m, c, a: go(m.a), b: go(m.b) };
      }
      case "call": {
        const args = m.args.map(go);
        return args.every((a) => a.k === "num") ? { ...fn(m.fn, args), pos: m.pos } : { ...m, args };
      }
    }
  };
  return go(n);
}

/** The first constant subtree whose value is not finite (log(0), 1/0, 10^400), for the error message. */
export function nonFiniteConstant(n: Node): Node | undefined {
  for (const m of walk(n)) if (m.k === "num" && !Number.isFinite(m.v)) return m;
  return undefined;
}
