// Imperative code generation on top of emit.ts: a `Gen` appends statements to one function as they are
// called (lets, loops, ifs), while expressions stay pure `Expr` thunks. `Vt` is the vector type of a
// kernel: f32x4 for float32 runs, f64x2 for float64 runs, with the scalar type of the same precision, so
// one generator writes both.

import {
  block,
  brIf,
  type Expr,
  type FnBuilder,
  f32c,
  f32Load,
  f32Store,
  f32x4Abs,
  f32x4Add,
  f32x4Div,
  f32x4Eq,
  f32x4ExtractLane,
  f32x4Floor,
  f32x4Ge,
  f32x4Gt,
  f32x4Le,
  f32x4Lt,
  f32x4Max,
  f32x4Min,
  f32x4Mul,
  f32x4Nearest,
  f32x4Neg,
  f32x4Pmax,
  f32x4Pmin,
  f32x4RelaxedMadd,
  f32x4Splat,
  f32x4Sub,
  f64c,
  f64Load,
  f64PromoteF32,
  f64Store,
  f64x2Abs,
  f64x2Add,
  f64x2Div,
  f64x2Eq,
  f64x2ExtractLane,
  f64x2Floor,
  f64x2Ge,
  f64x2Gt,
  f64x2Le,
  f64x2Lt,
  f64x2Max,
  f64x2Min,
  f64x2Mul,
  f64x2Nearest,
  f64x2Neg,
  f64x2Pmax,
  f64x2Pmin,
  f64x2PromoteLowF32x4,
  f64x2RelaxedMadd,
  f64x2Splat,
  f64x2Sub,
  get,
  i8x16Shuffle,
  i32,
  i32Add,
  i32Eqz,
  i32LtS,
  i32x4RelaxedLaneselect,
  if_,
  type Label,
  loop,
  ret,
  set,
  Ty,
  v128And,
  v128AndNot,
  v128Bitselect,
  v128Const,
  v128Load,
  v128Load32Splat,
  v128Load64Splat,
  v128Or,
  v128Store,
  v128Xor,
} from "./emit.js";

export type Dtype = "f32" | "f64";

export class Gen {
  constructor(readonly f: FnBuilder) {}

  emit(...stmts: Expr[]): void {
    for (const s of stmts) s(this.f);
  }
  local(t: Ty): number {
    return this.f.local(t);
  }
  /** A new local holding `value`; returns an expression reading it. */
  let(t: Ty, value: Expr): Expr {
    const l = this.f.local(t);
    set(l, value)(this.f);
    return get(l);
  }
  letV(value: Expr): Expr {
    return this.let(Ty.v128, value);
  }
  letI(value: Expr): Expr {
    return this.let(Ty.i32, value);
  }
  /** A mutable local: read with get(l), write with this.set(l, …). */
  varV(init?: Expr): number {
    const l = this.f.local(Ty.v128);
    if (init) set(l, init)(this.f);
    return l;
  }
  varI(init?: Expr): number {
    const l = this.f.local(Ty.i32);
    if (init) set(l, init)(this.f);
    return l;
  }
  set(l: number, value: Expr): void {
    set(l, value)(this.f);
  }

  /** for (i = from; i < to; i += step): a wasm loop, skipped when from ≥ to. */
  forRange(from: Expr, to: Expr, step: number, body: (i: Expr) => void): void {
    const i = this.f.local(Ty.i32);
    set(i, from)(this.f);
    this.block((exit) => {
      this.brIf(exit, i32Eqz(i32LtS(get(i), to)));
      this.loop((again) => {
        body(get(i));
        this.set(i, i32Add(get(i), i32(step)));
        this.brIf(again, i32LtS(get(i), to));
      });
    });
  }

  /** A do-while loop: body runs at least once and may leave early by `exit` (a label outside); `cont` after it. */
  doWhile(body: (again: Label) => void, cont: () => Expr): void {
    this.loop((again) => {
      body(again);
      this.brIf(again, cont());
    });
  }

  /** A loop: body's branches to `again` repeat it; falling off the end leaves it. */
  loop(body: (again: Label) => void): void {
    loop(body)(this.f);
  }

  if(cond: Expr, then: () => void, otherwise?: () => void): void {
    if_(cond, () => then(), otherwise ? () => otherwise() : undefined)(this.f);
  }

  /** A block: body's branches to `exit` leave it. */
  block(body: (exit: Label) => void): void {
    block(body)(this.f);
  }
  brIf(label: Label, cond: Expr): void {
    brIf(label, cond)(this.f);
  }
  /** Returns from the function with `value`. */
  ret(value: Expr): void {
    ret(value)(this.f);
  }
}

/**
 * Vector constants kept in memory (a region of the workspace) and loaded where used: V8 does not hoist
 * v128.const out of loops and materialises each use with ~3 instructions, while a load is one.
 */
export class ConstPool {
  private readonly offsets = new Map<string, number>();
  private readonly loads: Expr[] = [];
  readonly bytes: Uint8Array;
  constructor(
    /** Byte offset of the pool from `base`. */
    readonly at: number,
    readonly base: Expr,
    readonly capacity: number,
  ) {
    this.bytes = new Uint8Array(capacity * 16);
  }
  /** The constant's slot (the next free one the first time it is asked for) as a load. */
  load(value: Uint8Array): Expr {
    const key = constKey(value);
    let off = this.offsets.get(key);
    if (off === undefined) {
      off = this.offsets.size * 16;
      if (off >= this.bytes.length) throw new Error("constant pool full");
      this.bytes.set(value, off);
      this.offsets.set(key, off);
      this.loads[off / 16] = v128Load(this.base, this.at + off);
    }
    return this.loads[off / 16];
  }
}

/** A 16-byte value as a string of eight 16-bit code units (a map key). */
function constKey(b: Uint8Array): string {
  let key = "";
  for (let k = 0; k < 16; k += 2) key += String.fromCharCode(b[k] | (b[k + 1] << 8));
  return key;
}

type Bin = (a: Expr, b: Expr) => Expr;
type Un = (a: Expr) => Expr;
type At = (addr: Expr, off?: number) => Expr;
/** Each lane-wise operation's f32x4 and f64x2 instruction (a Vt takes one column of the table). */
const LANE_OPS = {
  loadSplat: [v128Load32Splat, v128Load64Splat],
  sLoad: [f32Load, f64Load],
  sStore: [f32Store, f64Store],
  sc: [f32c, f64c],
  splat: [f32x4Splat, f64x2Splat],
  add: [f32x4Add, f64x2Add],
  sub: [f32x4Sub, f64x2Sub],
  mul: [f32x4Mul, f64x2Mul],
  div: [f32x4Div, f64x2Div],
  min: [f32x4Min, f64x2Min],
  max: [f32x4Max, f64x2Max],
  pmin: [f32x4Pmin, f64x2Pmin],
  pmax: [f32x4Pmax, f64x2Pmax],
  neg: [f32x4Neg, f64x2Neg],
  abs: [f32x4Abs, f64x2Abs],
  floor: [f32x4Floor, f64x2Floor],
  nearest: [f32x4Nearest, f64x2Nearest],
  lt: [f32x4Lt, f64x2Lt],
  gt: [f32x4Gt, f64x2Gt],
  le: [f32x4Le, f64x2Le],
  ge: [f32x4Ge, f64x2Ge],
  eq: [f32x4Eq, f64x2Eq],
  extract: [f32x4ExtractLane, f64x2ExtractLane],
} as const;

/** Fills a 16-byte constant; `put(view, lane)` writes one lane. */
function constBytes(put: (dv: DataView, lane: number) => void, lanes: number): Uint8Array {
  const bytes = new Uint8Array(16);
  const dv = new DataView(bytes.buffer);
  for (let l = 0; l < lanes; l++) put(dv, l);
  return bytes;
}

/** The vector type of a kernel, with its scalar counterpart. */
export class Vt {
  readonly L: number;
  /** Bytes per element. */
  readonly E: number;
  readonly sTy: Ty;
  readonly shift: number;
  readonly f32: boolean;
  private readonly splatConsts = new Map<number, Expr>();
  private immediates?: Vt;
  constructor(
    readonly dtype: Dtype,
    readonly pool?: ConstPool,
    /** Emit madd as relaxed SIMD's multiply-add (fused on FMA hardware) instead of mul then add. */
    readonly fma = false,
  ) {
    this.f32 = dtype === "f32";
    this.L = this.f32 ? 4 : 2;
    this.E = this.f32 ? 4 : 8;
    this.shift = this.f32 ? 2 : 3;
    this.sTy = this.f32 ? Ty.f32 : Ty.f64;
    const column = this.f32 ? 0 : 1;
    for (const [name, ops] of Object.entries(LANE_OPS)) Object.assign(this, { [name]: ops[column] });
  }
  /** The same pool with the other precision. */
  withDtype(dtype: Dtype): Vt {
    return new Vt(dtype, this.pool, this.fma);
  }
  /** The same without the pool: constants as immediates. */
  withImmediates(): Vt {
    this.immediates ??= new Vt(this.dtype, undefined, this.fma);
    return this.immediates;
  }
  /** A 16-byte constant (from the pool when there is one). */
  vconst(bytes: Uint8Array): Expr {
    return this.pool ? this.pool.load(bytes) : v128Const(bytes);
  }
  /** i32x4 with every lane = v. */
  i32s(v: number): Expr {
    return this.vconst(constBytes((dv, l) => dv.setInt32(4 * l, v | 0, true), 4));
  }
  /** i64x2 with both lanes = v. */
  i64s(v: bigint): Expr {
    return this.vconst(constBytes((dv, l) => dv.setBigUint64(8 * l, BigInt.asUintN(64, v), true), 2));
  }

  // memory
  load(addr: Expr, off = 0): Expr {
    return v128Load(addr, off);
  }
  store(addr: Expr, v: Expr, off = 0): Expr {
    return v128Store(addr, v, off);
  }
  declare readonly loadSplat: At;
  declare readonly sLoad: At;
  declare readonly sStore: (addr: Expr, v: Expr, off?: number) => Expr;
  /** Scalar of this precision, widened to f64. */
  sToF64(x: Expr): Expr {
    return this.f32 ? f64PromoteF32(x) : x;
  }

  // constants
  /** Every lane = x (the same expression each time for the same x). */
  c(x: number): Expr {
    // a Map does not tell -0 from 0
    if (Object.is(x, -0)) return this.lanes(new Array(this.L).fill(x));
    let e = this.splatConsts.get(x);
    if (!e) {
      e = this.lanes(new Array(this.L).fill(x));
      this.splatConsts.set(x, e);
    }
    return e;
  }
  /** A constant with a different value per lane. */
  lanes(values: number[]): Expr {
    return this.vconst(
      constBytes(
        (dv, l) => (this.f32 ? dv.setFloat32(4 * l, values[l], true) : dv.setFloat64(8 * l, values[l], true)),
        values.length,
      ),
    );
  }
  /** Integer lanes of the same width as the float lanes (i32 for f32, i64 for f64). */
  intLanes(values: number[]): Expr {
    return this.vconst(
      constBytes(
        (dv, l) =>
          this.f32 ? dv.setInt32(4 * l, values[l], true) : dv.setBigInt64(8 * l, BigInt(values[l]), true),
        values.length,
      ),
    );
  }
  declare readonly sc: (x: number) => Expr;
  declare readonly splat: Un;

  // arithmetic
  declare readonly add: Bin;
  declare readonly sub: Bin;
  declare readonly mul: Bin;
  declare readonly div: Bin;
  /** IEEE-style min/max that propagate NaN. */
  declare readonly min: Bin;
  declare readonly max: Bin;
  /** pmin(a, b) = b < a ? b : a (one instruction on x86). */
  declare readonly pmin: Bin;
  declare readonly pmax: Bin;
  declare readonly neg: Un;
  declare readonly abs: Un;
  declare readonly floor: Un;
  declare readonly nearest: Un;
  /** a·b + c: fused (one rounding) with `fma`, else two roundings (plain WebAssembly SIMD has no FMA). */
  madd(a: Expr, b: Expr, c: Expr): Expr {
    if (this.fma) return this.f32 ? f32x4RelaxedMadd(a, b, c) : f64x2RelaxedMadd(a, b, c);
    return this.add(this.mul(a, b), c);
  }

  // comparisons: all-ones lanes where true
  declare readonly lt: Bin;
  declare readonly gt: Bin;
  declare readonly le: Bin;
  declare readonly ge: Bin;
  declare readonly eq: Bin;
  /**
   * mask ? a : b, for masks of whole lanes (comparison results). With relaxed SIMD (as for `madd`), its
   * lane select: one instruction on x86-64 (blendv) where bitselect takes three.
   */
  sel(mask: Expr, a: Expr, b: Expr): Expr {
    return this.fma ? i32x4RelaxedLaneselect(a, b, mask) : v128Bitselect(a, b, mask);
  }
  /** mask ? a : 0 */
  and(a: Expr, mask: Expr): Expr {
    return v128And(a, mask);
  }
  /** mask ? 0 : a */
  andNot(a: Expr, mask: Expr): Expr {
    return v128AndNot(a, mask);
  }
  or(a: Expr, b: Expr): Expr {
    return v128Or(a, b);
  }
  xor(a: Expr, b: Expr): Expr {
    return v128Xor(a, b);
  }

  declare readonly extract: (v: Expr, lane: number) => Expr;
  /** Sum of the lanes, in lane order pairs ((l0 + l2) + (l1 + l3)) for f32, as a scalar. */
  hsum(g: Gen, v: Expr): Expr {
    const x = g.letV(v);
    if (this.f32) {
      const s = g.letV(
        f32x4Add(x, i8x16Shuffle(x, x, [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7])),
      );
      return f32x4ExtractLane(
        f32x4Add(s, i8x16Shuffle(s, s, [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11])),
        0,
      );
    }
    return f64x2ExtractLane(
      f64x2Add(x, i8x16Shuffle(x, x, [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7])),
      0,
    );
  }
  /** Lane-wise max over the lanes of v, broadcast to all lanes. */
  hmaxSplat(g: Gen, v: Expr): Expr {
    const x = g.letV(v);
    const s = g.letV(
      this.pmax(x, i8x16Shuffle(x, x, [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7])),
    );
    if (!this.f32) return s;
    return g.letV(this.pmax(s, i8x16Shuffle(s, s, [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11])));
  }
  /** Sum over lanes broadcast to all lanes. */
  hsumSplat(g: Gen, v: Expr): Expr {
    const x = g.letV(v);
    const s = g.letV(this.add(x, i8x16Shuffle(x, x, [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7])));
    if (!this.f32) return s;
    return g.letV(this.add(s, i8x16Shuffle(s, s, [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11])));
  }
  /** Widens a vector to f64 and sums its lanes pairwise into an f64x2 expression. */
  toF64x2Sum(v: Expr): Expr {
    if (!this.f32) return v;
    return f64x2Add(
      f64x2PromoteLow(v),
      f64x2PromoteLow(i8x16Shuffle(v, v, [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15])),
    );
  }
}

function f64x2PromoteLow(v: Expr): Expr {
  return f64x2PromoteLowF32x4(v);
}
