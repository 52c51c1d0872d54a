// Generates the optimizers' updates (src/core/optimizer/update.ts) as WebAssembly: the same operations in
// the same order, in float64 (two lanes at a time), each stored value rounded to the buffer's precision as the
// JavaScript version's typed-array stores do. So both give the same parameters bit for bit (tested); this one
// is several times faster, mostly because it divides and takes square roots two lanes at a time.
//
// <name>(p, g, m, v, n, …scalars), exported under the optimizer's name: n elements at byte addresses p, m, v (the working precision) and g
// (float64); the scalars are StepScalars' numbers in the order of SCALAR_ORDER.

import {
  type Expr,
  f32DemoteF64,
  f32Load,
  f32Store,
  f32x4DemoteF64x2Zero,
  f64Add,
  f64Div,
  f64Load,
  f64Mul,
  f64PromoteF32,
  f64Sqrt,
  f64Store,
  f64Sub,
  f64x2Add,
  f64x2Div,
  f64x2Mul,
  f64x2PromoteLowF32x4,
  f64x2Splat,
  f64x2Sqrt,
  f64x2Sub,
  get,
  i32,
  i32Add,
  i32And,
  i32Shl,
  ModuleBuilder,
  Ty,
  v128Load,
  v128Load64Zero,
  v128Store,
  v128Store64Lane,
} from "./emit.js";
import { Gen } from "./gen.js";

/** The arithmetic of one update, over f64x2 lanes or scalar f64. */
interface Lanes {
  add(a: Expr, b: Expr): Expr;
  sub(a: Expr, b: Expr): Expr;
  mul(a: Expr, b: Expr): Expr;
  div(a: Expr, b: Expr): Expr;
  sqrt(a: Expr): Expr;
  /** A scalar parameter in this lane type. */
  param(a: Expr): Expr;
  /** Loads element(s) at addr in the working precision, widened to f64. */
  load(addr: Expr): Expr;
  /** Rounds to the working precision and stores. */
  store(addr: Expr, value: Expr): Expr;
  loadF64(addr: Expr): Expr;
  /** The value in a local (read several times, computed once). */
  keep(value: Expr): Expr;
}

/** The order in which each optimizer's step scalars are passed to its `update` function. */
export const SCALAR_ORDER = {
  adamw: ["decay", "stepSize", "bias2Sqrt", "c1", "beta2", "c2", "eps"],
  adam: ["wd", "beta1", "c1", "beta2", "c2", "stepSize", "bias2Sqrt", "eps"],
  sgd: ["wd", "mu", "c", "a", "b", "negLr"],
} as const;
type Name = keyof typeof SCALAR_ORDER;
type Scalars<N extends Name> = Record<(typeof SCALAR_ORDER)[N][number], Expr>;

/** The addresses of one element (or lane pair) and its gradient, read once. */
interface Site {
  l: Lanes;
  pa: Expr;
  ma: Expr;
  va: Expr;
  gj: Expr;
}

/** One element's update for each optimizer, in update.ts's order of operations. */
const UPDATES: { [N in Name]: (g: Gen, x: Site, s: Scalars<N>) => void } = {
  adamw: (g, { l, pa, ma, va, gj }, s) => {
    g.emit(l.store(pa, l.mul(l.load(pa), s.decay)));
    g.emit(l.store(ma, l.add(l.load(ma), l.mul(l.sub(gj, l.load(ma)), s.c1))));
    g.emit(l.store(va, l.add(l.mul(l.load(va), s.beta2), l.mul(l.mul(s.c2, gj), gj))));
    const denom = l.add(l.div(l.sqrt(l.load(va)), s.bias2Sqrt), s.eps);
    g.emit(l.store(pa, l.sub(l.load(pa), l.div(l.mul(s.stepSize, l.load(ma)), denom))));
  },
  adam: (g, { l, pa, ma, va, gj: raw }, s) => {
    const gj = l.keep(l.add(raw, l.mul(s.wd, l.load(pa))));
    g.emit(l.store(ma, l.add(l.mul(l.load(ma), s.beta1), l.mul(s.c1, gj))));
    g.emit(l.store(va, l.add(l.mul(l.load(va), s.beta2), l.mul(l.mul(s.c2, gj), gj))));
    const denom = l.add(l.div(l.sqrt(l.load(va)), s.bias2Sqrt), s.eps);
    g.emit(l.store(pa, l.sub(l.load(pa), l.div(l.mul(s.stepSize, l.load(ma)), denom))));
  },
  sgd: (g, { l, pa, ma, gj: raw }, s) => {
    const gj = l.keep(l.add(raw, l.mul(s.wd, l.load(pa))));
    g.emit(l.store(ma, l.add(l.mul(l.load(ma), s.mu), l.mul(s.c, gj))));
    g.emit(l.store(pa, l.add(l.load(pa), l.mul(s.negLr, l.add(l.mul(s.a, gj), l.mul(s.b, l.load(ma)))))));
  },
};

/** The module of one optimizer's `update` for one precision. */
export function buildOptimizer(name: Name, dtype: "f32" | "f64"): Uint8Array {
  const f32 = dtype === "f32";
  const order = SCALAR_ORDER[name];
  const mb = new ModuleBuilder({ module: "env", name: "memory", minPages: 1 });
  const first = 5;
  const f64 = Array(order.length).fill(Ty.f64);
  mb.fn(name, [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, ...f64], [], (f) => {
    const g = new Gen(f);
    const [p, gr, m, v, n] = [0, 1, 2, 3, 4].map((k) => get(k));
    const args = order.map((_, k) => get(first + k));

    const vector: Lanes = {
      add: f64x2Add,
      sub: f64x2Sub,
      mul: f64x2Mul,
      div: f64x2Div,
      sqrt: f64x2Sqrt,
      param: (a) => g.letV(f64x2Splat(a)),
      load: (addr) => (f32 ? f64x2PromoteLowF32x4(v128Load64Zero(addr)) : v128Load(addr)),
      store: (addr, value) =>
        f32 ? v128Store64Lane(addr, f32x4DemoteF64x2Zero(value), 0) : v128Store(addr, value),
      loadF64: (addr) => v128Load(addr),
      keep: (value) => g.letV(value),
    };
    const scalar: Lanes = {
      add: f64Add,
      sub: f64Sub,
      mul: f64Mul,
      div: f64Div,
      sqrt: f64Sqrt,
      param: (a) => a,
      load: (addr) => (f32 ? f64PromoteF32(f32Load(addr)) : f64Load(addr)),
      store: (addr, value) => (f32 ? f32Store(addr, f32DemoteF64(value)) : f64Store(addr, value)),
      loadF64: (addr) => f64Load(addr),
      keep: (value) => g.let(Ty.f64, value),
    };
    /** Updates the element(s) at index j; `l` reads its stored results back, as the JS version does. */
    const updateAt = (l: Lanes, consts: Expr[], j: Expr) => {
      const at = (base: Expr) => g.letI(i32Add(base, i32Shl(j, i32(f32 ? 2 : 3))));
      const [pa, ma, va] = [at(p), at(m), at(v)];
      const ga = g.letI(i32Add(gr, i32Shl(j, i32(3))));
      const gj = l.keep(l.loadF64(ga));
      const s = Object.fromEntries(order.map((key, k) => [key, consts[k]]));
      (UPDATES[name] as (g: Gen, x: Site, s: Record<string, Expr>) => void)(g, { l, pa, ma, va, gj }, s);
    };
    const vconsts = args.map((a) => vector.param(a));
    const pairs = g.letI(i32And(n, i32(-2)));
    g.forRange(i32(0), pairs, 2, (j) => updateAt(vector, vconsts, g.letI(j)));
    // an odd last element
    g.if(i32And(n, i32(1)), () => updateAt(scalar, args, pairs));
  });
  return mb.bytes();
}
