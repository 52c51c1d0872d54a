// A user formula (src/core/formula/) as vector code for the generated kernels: its value and derivative
// trees emitted with the same vector-math primitives as the built-ins (vmath.ts), and a built-in called by
// id (`gelu(x)`) through the built-in's own vector form (vact.ts). Common subexpressions of f and f′ are
// computed once; both sides of ?:, min and max are computed and selected, as the built-ins do.
// The result is the entry's `vector` form (the seam of vact.ts): the kernel inlines it like a built-in's.
// Where a function has no vector code at a precision (erf and GELU in float64, as for the built-in GELU),
// that precision is left out of `dtypes`: the kernel then calls the formula's JavaScript, as for built-ins.

import { ACTIVATIONS } from "../../activations.js";
import { keyOf, type Node, walk } from "../../formula/ast.js";
import { derivativeName } from "../../formula/functions.js";
import type { Expr } from "./emit.js";
import type { Dtype, Gen, Vt } from "./gen.js";
import { type VectorForm, type VectorMath, vectorEmitAt, type YD } from "./vact.js";

/**
 * erf(u)/u = Σ c_k u^{2k} on |u| < ERF_SERIES_BELOW; 5 terms leave < 8e-8 relative there (float32 only).
 * Beyond, 2Φ(u√2) − 1 is within ~6e-8 absolute, ≤ 3e-7 relative (erf(1/4) ≈ 0.28).
 */
const ERF_SERIES_BELOW = 0.25;
const ERF_SERIES = Array.from({ length: 5 }, (_, k) => {
  let factorial = 1;
  for (let j = 2; j <= k; j++) factorial *= j;
  return (1.1283791670955126 * (k % 2 ? -1 : 1)) / (factorial * (2 * k + 1));
});

/** A formula's f and f′ trees as an activation's vector form, for the precisions it can be written in. */
export function formulaVectorForm(tree: Node, derivativeTree: Node): VectorForm | undefined {
  const dtypes = (["f32", "f64"] as const).filter((dtype) => vectorizable([tree, derivativeTree], dtype));
  if (!dtypes.length) return undefined;
  return {
    emit: (m, z) => new Emitter(m, z, m.vt.dtype).roots(tree, derivativeTree),
    dtypes,
    light: isLight([tree, derivativeTree]),
  };
}

/** A built-in's vector form at this precision (emitted with whichever VectorMath the formula's is). */
const builtinGen = (id: string, dtype: Dtype) => {
  const act = ACTIVATIONS.get(id);
  return act ? vectorEmitAt(act, dtype) : undefined;
};

function vectorizable(trees: Node[], dtype: Dtype): boolean {
  for (const tree of trees)
    for (const n of walk(tree)) {
      if (n.k !== "call") continue;
      if (n.fn === "erf" && dtype === "f64") return false;
      const id = n.fn.startsWith("d:") ? n.fn.slice(2) : n.fn;
      if (BUILTIN_CALLS.has(id) && !builtinGen(id, dtype)) return false;
    }
  return true;
}

/** Piecewise-linear pieces only (no transcendental calls): the kernel may keep it unrolled and fused. */
const LIGHT_CALLS = new Set(["min", "max", "abs", "sign"]);
function isLight(trees: Node[]): boolean {
  for (const tree of trees)
    for (const n of walk(tree)) if (n.k === "call" && !LIGHT_CALLS.has(n.fn)) return false;
  return true;
}

/** Functions emitted here (exp, sigmoid, tanh); every other element-wise built-in by its own vector form. */
const EMITTED_HERE = new Set(["exp", "sigmoid", "tanh"]);
const BUILTIN_CALLS = new Set(
  [...ACTIVATIONS.values()]
    .filter((a) => a.kind === "elementwise" && !EMITTED_HERE.has(a.id))
    .map((a) => a.id),
);

/** A value: a number vector, or a comparison's mask (all-ones lanes where true). */
interface V {
  e: Expr;
  mask: boolean;
}

/**
 * Emits through the VectorMath it is given, so the same formula is written as WebAssembly (vact.ts's
 * vectorMath) or as C for the native kernel (kernels/native/emit-c.ts).
 */
class Emitter {
  private readonly memo = new Map<string, V>();
  private readonly builtins = new Map<string, YD>();
  private readonly g: Gen;
  private readonly vt: Vt;
  constructor(
    private readonly m: VectorMath,
    private readonly z: Expr,
    private readonly dtype: Dtype,
  ) {
    this.g = m.g;
    this.vt = m.vt;
  }

  roots(y: Node, d: Node): YD {
    return { y: this.g.letV(this.num(y)), d: this.g.letV(this.num(d)) };
  }

  /** n as numbers (a mask as 1 or 0). */
  private num(n: Node): Expr {
    const v = this.value(n);
    return v.mask ? this.vt.and(this.vt.c(1), v.e) : v.e;
  }

  private value(n: Node): V {
    if (n.k === "num") return { e: this.vt.c(n.v), mask: false };
    if (n.k === "x") return { e: this.z, mask: false };
    const key = keyOf(n);
    let v = this.memo.get(key);
    if (!v) {
      const fresh = this.emit(n);
      v = { e: this.g.letV(fresh.e), mask: fresh.mask };
      this.memo.set(key, v);
    }
    return v;
  }

  private emit(n: Node): V {
    const { vt } = this;
    const num = (e: Expr): V => ({ e, mask: false });
    switch (n.k) {
      case "neg":
        return num(vt.neg(this.num(n.a)));
      case "bin": {
        const a = this.num(n.a);
        if (n.op === "^") return num(this.pow(a, n.b));
        const b = this.num(n.b);
        const op = { "+": vt.add, "-": vt.sub, "*": vt.mul, "/": vt.div }[n.op];
        return num(op.call(vt, a, b));
      }
      case "cmp": {
        const a = this.num(n.a);
        const b = this.num(n.b);
        if (n.op === "!=") return { e: vt.xor(vt.eq(a, b), vt.i32s(-1)), mask: true };
        const op = { "<": vt.lt, "<=": vt.le, ">": vt.gt, ">=": vt.ge, "==": vt.eq }[n.op];
        return { e: op.call(vt, a, b), mask: true };
      }
      case "logic": {
        const a = this.value(n.a).e;
        const b = this.value(n.b).e;
        return { e: n.op === "&&" ? vt.and(a, b) : vt.or(a, b), mask: true };
      }
      case "cond":
        return num(vt.sel(this.value(n.c).e, this.num(n.a), this.num(n.b)));
      case "call":
        return num(this.call(n.fn, n.args));
      default:
        throw new Error(`formula node ${n.k} has no vector code`);
    }
  }

  private call(fn: string, args: Node[]): Expr {
    const { vt } = this;
    if (fn === "max" || fn === "min") {
      // max(a, b) = a > b ? a : b = pmax(b, a); min likewise (so NaN behaves as in JavaScript)
      const a = this.num(args[0]);
      const b = this.num(args[1]);
      return fn === "max" ? vt.pmax(b, a) : vt.pmin(b, a);
    }
    const id = fn.startsWith("d:") ? fn.slice(2) : fn;
    if (BUILTIN_CALLS.has(id)) {
      const yd = this.builtin(id, args[0]);
      return fn === derivativeName(id) ? yd.d : yd.y;
    }
    const u = this.num(args[0]);
    switch (fn) {
      case "exp":
        return this.m.exp(u);
      case "expm1": {
        // e^u − 1 from m = e^{−|u|} − 1 (accurate): m itself for u ≤ 0, −m/e^{−|u|} above
        const { em1, ex } = this.m.expm1NonPos(vt.neg(vt.abs(u)));
        return vt.sel(vt.gt(u, vt.c(0)), vt.div(vt.neg(em1), ex), em1);
      }
      case "log":
        return this.log(u);
      case "log1p": {
        // 2·atanh(u/(u + 2)) converges fast for u in [−1/3, 1] (vlog1pUnit's series is odd in s); log(1 + u)
        // elsewhere, where 1 + u loses nothing that matters
        const near = vt.and(vt.ge(u, vt.c(-1 / 3)), vt.le(u, vt.c(1)));
        return vt.sel(near, this.m.log1pUnit(u), this.log(vt.add(vt.c(1), u)));
      }
      case "sqrt":
        return this.m.sqrt(u);
      case "abs":
        return vt.abs(u);
      case "sign":
        // 1, −1, or u·0 (0 for ±0, NaN for NaN)
        return vt.sel(vt.gt(u, vt.c(0)), vt.c(1), vt.sel(vt.lt(u, vt.c(0)), vt.c(-1), vt.mul(u, vt.c(0))));
      case "sigmoid":
        return this.m.sigmoid(u).s;
      case "tanh":
        return this.m.tanh(u);
      case "erf":
        return this.erf(u, args[0]);
      default:
        throw new Error(`function ${fn} has no vector code`);
    }
  }

  /** A built-in's value and derivative at u, from its own generator, once per argument. */
  private builtin(id: string, arg: Node): YD {
    const key = `${id}(${keyOf(arg)})`;
    let yd = this.builtins.get(key);
    if (!yd) {
      const gen = builtinGen(id, this.dtype);
      if (!gen) throw new Error(`${id} has no vector code for ${this.dtype}`);
      yd = gen(this.m, this.g.letV(this.num(arg)));
      this.builtins.set(key, yd);
    }
    return yd;
  }

  /** ln u: vlog for positive finite u; −∞ at 0, +∞ at +∞, NaN below 0 and for NaN. */
  private log(uIn: Expr): Expr {
    const { g, vt } = this;
    const u = g.letV(uIn);
    const special = vt.sel(
      vt.eq(u, vt.c(0)),
      vt.c(Number.NEGATIVE_INFINITY),
      vt.sel(vt.eq(u, vt.c(Number.POSITIVE_INFINITY)), u, vt.c(Number.NaN)),
    );
    const finite = vt.and(vt.gt(u, vt.c(0)), vt.lt(u, vt.c(Number.POSITIVE_INFINITY)));
    return vt.sel(finite, this.m.log(vt.sel(finite, u, vt.c(1))), special);
  }

  /** u^b: integer constants by multiplication, 1/2 as a square root, else e^{b·ln u} for u > 0. */
  private pow(u: Expr, exponent: Node): Expr {
    const { g, vt } = this;
    if (exponent.k === "num" && Number.isInteger(exponent.v) && Math.abs(exponent.v) <= 64) {
      let n = Math.abs(exponent.v);
      let base = g.letV(u);
      let acc: Expr | undefined;
      while (n > 0) {
        if (n & 1) acc = acc ? g.letV(vt.mul(acc, base)) : base;
        n >>= 1;
        if (n > 0) base = g.letV(vt.mul(base, base));
      }
      const p = acc ?? vt.c(1);
      return exponent.v < 0 ? vt.div(vt.c(1), p) : p;
    }
    if (exponent.k === "num" && exponent.v === 0.5) return this.m.sqrt(u);
    const b = g.letV(this.num(exponent));
    const uu = g.letV(u);
    const positive = vt.gt(uu, vt.c(0));
    const general = this.m.exp(vt.mul(b, this.log(vt.sel(positive, uu, vt.c(1)))));
    // 0^b: 0 for b > 0, +∞ for b < 0, 1 for b = 0; negative bases with non-integer b: NaN
    const zero = vt.sel(
      vt.gt(b, vt.c(0)),
      vt.c(0),
      vt.sel(vt.lt(b, vt.c(0)), vt.c(Number.POSITIVE_INFINITY), vt.c(1)),
    );
    return vt.sel(positive, general, vt.sel(vt.eq(uu, vt.c(0)), zero, vt.c(Number.NaN)));
  }

  /**
   * erf in float32: the series near 0 (relative accuracy), 2Φ(u√2) − 1 beyond. Φ's computation yields
   * e^{−u²} too, which erf's derivative (2/√π)·e^{−u²} needs: it is noted as that subexpression's value, so
   * a formula with erf costs one exponential for f and f′, as the built-in GELU.
   */
  private erf(uIn: Expr, arg: Node): Expr {
    const { g, vt } = this;
    const u = g.letV(uIn);
    const series = vt.mul(u, this.m.horner(g.letV(vt.mul(u, u)), ERF_SERIES));
    const { Phi, phi } = this.m.normalCdfF32(vt.mul(u, vt.c(Math.SQRT2)));
    const gauss: Node = {
      k: "call",
      fn: "exp",
      args: [{ k: "neg", a: { k: "bin", op: "*", a: arg, b: arg } }],
    };
    this.memo.set(keyOf(gauss), { e: g.letV(vt.mul(phi, vt.c(Math.sqrt(2 * Math.PI)))), mask: false });
    return vt.sel(vt.lt(vt.abs(u), vt.c(ERF_SERIES_BELOW)), series, vt.sub(vt.add(Phi, Phi), vt.c(1)));
  }
}
