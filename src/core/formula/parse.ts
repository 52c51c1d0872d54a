// Formula text → tree (ast.ts), with every error named and placed. Parsing is jsep's (a small, widely used
// expression parser), configured for arithmetic: + − * / ^ (right-associative, above unary minus, so
// −x^2 = −(x²) as in mathematics), comparisons, && and ||, and ?: (jsep's ternary). jsep's nodes carry no
// positions, so two parser hooks note where each token starts and whether it was parenthesised.

import jsep from "jsep";
import { type BinaryOp, type CompareOp, type Node, walk } from "./ast.js";
import { FormulaError } from "./errors.js";
import { CALLABLE, CONSTANTS, FUNCTIONS } from "./functions.js";

type JsepNode = jsep.Expression & { start?: number; paren?: boolean };

const BINARY: [string, number, boolean?][] = [
  ["||", 1],
  ["&&", 2],
  ["==", 6],
  ["!=", 6],
  ["<", 7],
  [">", 7],
  ["<=", 7],
  [">=", 7],
  ["+", 9],
  ["-", 9],
  ["*", 10],
  ["/", 10],
  ["^", 11, true],
];

// jsep is configured globally: this module is its only user in tms-lab
jsep.removeAllBinaryOps();
for (const [op, precedence, right] of BINARY) jsep.addBinaryOp(op, precedence, right);
jsep.removeAllUnaryOps();
jsep.addUnaryOp("-");
jsep.addUnaryOp("+");
jsep.removeAllLiterals();

/** Start offsets of the tokens being read (jsep reads tokens recursively: a stack). */
let tokenStarts: number[] = [];
jsep.hooks.add("gobble-token", function (this: jsep.HookScope, env) {
  tokenStarts.push(this.index);
  // numbers skip jsep's after-token hook: read them here so they get a position too
  const c = this.code;
  if ((c >= 48 && c <= 57) || c === 46) env.node = this.gobbleNumericLiteral();
});
jsep.hooks.add("after-token", function (this: jsep.HookScope, env) {
  const start = tokenStarts.pop();
  const node = env.node as JsepNode | undefined;
  if (!node || start === undefined) return;
  if (this.expr[start] === "(") node.paren = true;
  node.start ??= start;
});

export interface ParseOptions {
  /** Names of the parameters the formula may use (besides x). */
  params?: readonly string[];
}

/** Parses formula text; throws FormulaError naming the problem and its position. */
export function parseFormula(text: string, options: ParseOptions = {}): Node {
  if (text.trim() === "") throw new FormulaError("is empty", undefined, text);
  let tree: JsepNode;
  tokenStarts = [];
  try {
    tree = jsep(text) as JsepNode;
  } catch (e) {
    const err = e as { index?: number; description?: string; message: string };
    throw new FormulaError(`syntax error: ${err.description ?? err.message}`, err.index, text);
  }
  const node = new Converter(text, new Set(options.params ?? [])).convert(tree);
  if (![...walk(node)].some((n) => n.k === "x")) throw new FormulaError("does not use x", undefined, text);
  return node;
}

/** A test: comparisons and &&, || as they are; any other value u as u != 0 (so NaN counts as true). */
function truth(n: Node): Node {
  return n.k === "cmp" || n.k === "logic"
    ? n
    : { k: "cmp", op: "!=", a: n, b: { k: "num", v: 0 }, pos: n.pos };
}

class Converter {
  constructor(
    private readonly text: string,
    private readonly params: ReadonlySet<string>,
  ) {}

  private fail(problem: string, at: JsepNode | number | undefined): never {
    throw new FormulaError(problem, typeof at === "number" ? at : at?.start, this.text);
  }

  convert(n: JsepNode): Node {
    const pos = n.start;
    switch (n.type) {
      case "Literal": {
        const v = (n as jsep.Literal).value;
        if (typeof v !== "number") return this.fail(`unsupported value ${(n as jsep.Literal).raw}`, n);
        if (!Number.isFinite(v)) return this.fail(`constant ${(n as jsep.Literal).raw} is not finite`, n);
        return { k: "num", v, pos };
      }
      case "Identifier":
        return this.identifier((n as jsep.Identifier).name, n);
      case "UnaryExpression": {
        const u = n as jsep.UnaryExpression & JsepNode;
        const a = this.convert(u.argument as JsepNode);
        return u.operator === "-" ? { k: "neg", a, pos } : a;
      }
      case "BinaryExpression":
        return this.binary(n as jsep.BinaryExpression & JsepNode);
      case "ConditionalExpression": {
        const c = n as jsep.ConditionalExpression;
        return {
          k: "cond",
          c: truth(this.convert(c.test as JsepNode)),
          a: this.convert(c.consequent as JsepNode),
          b: this.convert(c.alternate as JsepNode),
          pos: pos ?? (c.test as JsepNode).start,
        };
      }
      case "CallExpression":
        return this.call(n as jsep.CallExpression & JsepNode);
      case "Compound":
        return this.fail(
          "has several expressions; write one",
          ((n as jsep.Compound).body[1] as JsepNode)?.start,
        );
      default:
        return this.fail(`unsupported syntax (${n.type})`, n);
    }
  }

  private identifier(name: string, n: JsepNode): Node {
    if (name === "x") return { k: "x", pos: n.start };
    if (this.params.has(name)) return { k: "param", name, pos: n.start };
    if (name in CONSTANTS) return { k: "num", v: CONSTANTS[name], pos: n.start };
    if (FUNCTIONS.has(name)) return this.fail(`'${name}' is a function: write ${name}(…)`, n);
    const declared = this.params.size ? `; parameters: ${[...this.params].join(", ")}` : "";
    return this.fail(`unknown parameter '${name}' (the variable is x${declared})`, n);
  }

  private binary(n: jsep.BinaryExpression & JsepNode): Node {
    const left = n.left as JsepNode;
    // jsep binds unary minus tighter than ^: −x^2 arrives as (−x)^2 and is read as −(x^2)
    if (n.operator === "^" && left.type === "UnaryExpression" && !left.paren) {
      const u = left as jsep.UnaryExpression & JsepNode;
      const inner = this.binary({ ...n, left: u.argument });
      return u.operator === "-" ? { k: "neg", a: inner, pos: left.start } : inner;
    }
    const a = this.convert(left);
    const b = this.convert(n.right as JsepNode);
    const pos = left.start;
    const op = n.operator;
    if (op === "&&" || op === "||") return { k: "logic", op, a: truth(a), b: truth(b), pos };
    if (["<", "<=", ">", ">=", "==", "!="].includes(op)) return { k: "cmp", op: op as CompareOp, a, b, pos };
    return { k: "bin", op: op as BinaryOp, a, b, pos };
  }

  private call(n: jsep.CallExpression & JsepNode): Node {
    const callee = n.callee as JsepNode;
    if (callee.type !== "Identifier") return this.fail("only named functions can be called", n);
    const name = (callee as jsep.Identifier).name;
    const f = FUNCTIONS.get(name);
    if (!f || !CALLABLE.includes(name)) {
      const what =
        name === "x" || this.params.has(name) ? `'${name}' is not a function` : `unknown function '${name}'`;
      return this.fail(`${what} (functions: ${CALLABLE.join(", ")})`, n);
    }
    const args = n.arguments as JsepNode[];
    if (args.length !== f.arity) {
      const want = f.arity === 1 ? "1 argument" : `${f.arity} arguments`;
      return this.fail(`${name} takes ${want}, got ${args.length}`, n);
    }
    return { k: "call", fn: name, args: args.map((a) => this.convert(a)), pos: n.start };
  }
}
