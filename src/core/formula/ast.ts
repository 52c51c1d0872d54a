// The expression tree of a user formula (parse.ts builds it, derive.ts differentiates it, compile.ts and
// the kernels' formula-vact.ts turn it into code). Nodes are plain data; `pos` is the 0-based offset in the
// formula text of what the node came from (for error messages), absent on nodes made by the derivative.

export type BinaryOp = "+" | "-" | "*" | "/" | "^";
export type CompareOp = "<" | "<=" | ">" | ">=" | "==" | "!=";

export type Node =
  | { k: "num"; v: number; pos?: number }
  | { k: "x"; pos?: number }
  | { k: "param"; name: string; pos?: number }
  | { k: "neg"; a: Node; pos?: number }
  | { k: "bin"; op: BinaryOp; a: Node; b: Node; pos?: number }
  | { k: "cmp"; op: CompareOp; a: Node; b: Node; pos?: number }
  | { k: "logic"; op: "&&" | "||"; a: Node; b: Node; pos?: number }
  | { k: "cond"; c: Node; a: Node; b: Node; pos?: number }
  /** A function of the table in functions.ts, or an internal one (`sign`, `d:<activation>`). */
  | { k: "call"; fn: string; args: Node[]; pos?: number };

export const num = (v: number): Node => ({ k: "num", v });
export const X: Node = { k: "x" };

/** A key equal for structurally equal trees (positions ignored): common subexpressions share it. */
export function keyOf(n: Node): string {
  switch (n.k) {
    case "num":
      return Object.is(n.v, -0) ? "-0" : String(n.v);
    case "x":
      return "x";
    case "param":
      return `$${n.name}`;
    case "neg":
      return `(-${keyOf(n.a)})`;
    case "bin":
    case "cmp":
    case "logic":
      return `(${keyOf(n.a)}${n.op}${keyOf(n.b)})`;
    case "cond":
      return `(${keyOf(n.c)}?${keyOf(n.a)}:${keyOf(n.b)})`;
    case "call":
      return `${n.fn}(${n.args.map(keyOf).join(",")})`;
  }
}

const PRECEDENCE: Record<string, number> = {
  "?": 1,
  "||": 2,
  "&&": 3,
  "==": 4,
  "!=": 4,
  "<": 5,
  "<=": 5,
  ">": 5,
  ">=": 5,
  "+": 6,
  "-": 6,
  "*": 7,
  "/": 7,
  neg: 8,
  "^": 9,
};

function precedenceOf(n: Node): number {
  switch (n.k) {
    case "num":
      return n.v < 0 ? PRECEDENCE.neg : 10;
    case "neg":
      return PRECEDENCE.neg;
    case "bin":
    case "cmp":
    case "logic":
      return PRECEDENCE[n.op];
    case "cond":
      return PRECEDENCE["?"];
    default:
      return 10;
  }
}

/** The tree as formula text (the grammar parse.ts reads), with only the parentheses it needs. */
export function print(n: Node): string {
  const wrap = (child: Node, min: number) => {
    const s = print(child);
    return precedenceOf(child) < min ? `(${s})` : s;
  };
  switch (n.k) {
    case "num":
      return String(n.v);
    case "x":
      return "x";
    case "param":
      return n.name;
    case "neg":
      return `-${wrap(n.a, PRECEDENCE.neg + 1)}`;
    case "bin": {
      const p = PRECEDENCE[n.op];
      // ^ is right-associative: a^b^c = a^(b^c); −, / are left-associative
      if (n.op === "^") return `${wrap(n.a, p + 1)}^${wrap(n.b, p)}`;
      // a + (b + c) and a·(b·c) print without parentheses; every other same-precedence right operand keeps
      // them, so the text reads back as the same tree
      const right = (n.op === "+" || n.op === "*") && n.b.k === "bin" && n.b.op === n.op ? p : p + 1;
      return `${wrap(n.a, p)} ${n.op} ${wrap(n.b, right)}`;
    }
    case "cmp":
    case "logic": {
      const p = PRECEDENCE[n.op];
      return `${wrap(n.a, p)} ${n.op} ${wrap(n.b, p + 1)}`;
    }
    case "cond":
      return `${wrap(n.c, 2)} ? ${wrap(n.a, 2)} : ${wrap(n.b, 1)}`;
    case "call":
      return `${n.fn}(${n.args.map(print).join(", ")})`;
  }
}

/** Every node of the tree, depth first. */
export function* walk(n: Node): Generator<Node> {
  yield n;
  switch (n.k) {
    case "neg":
      yield* walk(n.a);
      break;
    case "bin":
    case "cmp":
    case "logic":
      yield* walk(n.a);
      yield* walk(n.b);
      break;
    case "cond":
      yield* walk(n.c);
      yield* walk(n.a);
      yield* walk(n.b);
      break;
    case "call":
      for (const a of n.args) yield* walk(a);
      break;
    default:
  }
}
