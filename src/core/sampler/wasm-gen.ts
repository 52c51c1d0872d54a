// Generates the WebAssembly batch sampler (one module per precision and F). The algorithm is specified in
// spec.ts and written readably in reference.ts; this is its SIMD version, and the two produce the same
// batches bit for bit (tested).
//
// Random numbers: four xoshiro128+ generators in the lanes of four i32x4 state vectors (S0..S3 at `st`);
// one step yields 4 outputs, consumed in lane order.
//
// sample_mask(st, rs, feat, val, nnz, cap, B, F, all, c) -> nnz or −1 (capacity)
//   slots q = s·F + f in order, four per step (lane l of step t is slot 4t + l); a slot is kept when all ≠ 0
//   or u < T (unsigned), with value conv(u) (f32: min(f32(u >>> 8)·c, 1 − 2⁻²⁴); f64: u·c). Kept lanes are
//   packed with a shuffle table (`perm`, 16 × 16 bytes at st + 64). T is read from the state's CONST block
//   (TM1, written by setKeepThreshold).
// sample_geom(st, rs, feat, val, nnz, cap, B, F, logQ) -> nnz or −1
//   gaps between non-zero slots (slot = sample·F + feature) are ⌊ln(1 − u·2⁻³²)/ln(1 − p)⌋ with ln computed
//   as in `lnOneMinus` (spec.ts), two at a time in f64x2 lanes: a step's outputs u0, u1 give two gaps and
//   u2, u3 the two values (f32: (u >>> 8)·2⁻²⁴; f64: u·2⁻³²).

import {
  type Expr,
  f32DemoteF64,
  f32Store,
  f32x4ConvertI32x4S,
  f32x4Mul,
  f32x4Pmin,
  f32x4Splat,
  f64ConvertI32S,
  f64ConvertI32U,
  f64c,
  f64Mul,
  f64Store,
  f64x2Add,
  f64x2ConvertLowI32x4S,
  f64x2ConvertLowI32x4U,
  f64x2Div,
  f64x2Floor,
  f64x2Ge,
  f64x2Mul,
  f64x2Pmin,
  f64x2Splat,
  f64x2Sub,
  get,
  i8x16RelaxedSwizzle,
  i8x16Shuffle,
  i8x16Swizzle,
  i32,
  i32Add,
  i32And,
  i32DivU,
  i32GeS,
  i32GtS,
  i32Load,
  i32LtS,
  i32Mul,
  i32Popcnt,
  i32Shl,
  i32ShrU,
  i32Store,
  i32Sub,
  i32Xor,
  i32x4Add,
  i32x4Bitmask,
  i32x4ExtractLane,
  i32x4GtS,
  i32x4Shl,
  i32x4ShrU,
  i32x4Splat,
  i32x4Sub,
  i64,
  i64Big,
  i64x2ShrU,
  i64x2Splat,
  i64x2Sub,
  ModuleBuilder,
  Ty,
  v128And,
  v128AndNot,
  v128Load,
  v128Not,
  v128Or,
  v128Store,
  v128Xor,
} from "../kernels/wasm/emit.js";
import { Gen } from "../kernels/wasm/gen.js";

import { LN_HALF_FROM, LN_POLY, LN_TABLE_SIZE, LN2_HI, LN2_LO } from "./spec.js";
import { DENSE_MAX_F, GEOM_AHEAD, K, MAX_PERIOD, maskPeriod, SAMPLER_STATE } from "./state.js";

/** The low 32-bit words of two f64 lanes into i32 lanes 0 and 1. */
const LOW_WORDS = [0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11];

/**
 * ln(1 − u·2⁻³²) for lanes 0 and 1 of each u (as f64x2), by exactly the operations of `lnOneMinus` in
 * spec.ts: y = (2³² − 1 − u) + 1 = 2^e·m, m in [1, 2); bucket i = m's top 8 mantissa bits, whose centre
 * c has 1/c and ln c (ln(c/2) from bucket LN_HALF_FROM on) in the table at `tab`; r = (m − c)·(1/c); then
 * n·LN2_HI + (n·LN2_LO + ln c + ln(1 + r)) with n = e − 32, the last term a degree-6 polynomial: no division
 * and 6 terms (an atanh series would need a division and 11). Several inputs are evaluated stage by stage,
 * interleaved, so their latencies overlap.
 */
function emitLnOneMinus(g: Gen, us: Expr[], tab: Expr, tabOff: number): Expr[] {
  const each = (f: (k: number) => Expr) => us.map((_, k) => g.letV(f(k)));
  const y = each((k) => f64x2Add(f64x2ConvertLowI32x4U(v128Not(us[k])), f64x2Splat(f64c(1))));
  const ebits = each((k) => i64x2Sub(i64x2ShrU(y[k], i32(52)), i64x2Splat(i64(1023))));
  const e0 = each((k) =>
    f64x2ConvertLowI32x4S(
      i8x16Shuffle(ebits[k], ebits[k], [0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11]),
    ),
  );
  const m = each((k) => v128Or(v128And(y[k], i64x2Splat(i64BigMask())), i64x2Splat(i64One())));
  const big = each((k) => f64x2Ge(m[k], f64x2Splat(f64c(1 + LN_HALF_FROM / LN_TABLE_SIZE))));
  const e = each((k) => f64x2Add(e0[k], v128And(f64x2Splat(f64c(1)), big[k])));
  // byte offsets of the two lanes' entries (16 bytes each: 1/c, ln c) = top 8 mantissa bits · 16
  const off = each((k) => v128And(i64x2ShrU(y[k], i32(40)), i64x2Splat(i64(0xff0))));
  const entry = (k: number, lane: number) =>
    v128Load(i32Add(tab, i32x4ExtractLane(off[k], 2 * lane)), tabOff);
  const lo = each((k) => entry(k, 0));
  const hi = each((k) => entry(k, 1));
  const lanes0 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const lanes1 = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  const invC = each((k) => i8x16Shuffle(lo[k], hi[k], lanes0));
  const logC = each((k) => i8x16Shuffle(lo[k], hi[k], lanes1));
  // c = the bucket's centre: m's top 8 mantissa bits, then a one at bit 43; m − c is exact
  const c = each((k) =>
    v128Or(v128And(m[k], i64x2Splat(i64Big(0xfffff00000000000n))), i64x2Splat(i64Big(0x80000000000n))),
  );
  const r = each((k) => f64x2Mul(f64x2Sub(m[k], c[k]), invC[k]));
  let h = each(() => f64x2Splat(f64c(LN_POLY[LN_POLY.length - 1])));
  for (let c = LN_POLY.length - 2; c >= 0; c--) {
    const prev = h;
    h = each((k) => f64x2Add(f64x2Mul(prev[k], r[k]), f64x2Splat(f64c(LN_POLY[c]))));
  }
  const n = each((k) => f64x2Sub(e[k], f64x2Splat(f64c(32))));
  return each((k) =>
    f64x2Add(
      f64x2Mul(n[k], f64x2Splat(f64c(LN2_HI))),
      f64x2Add(f64x2Add(f64x2Mul(n[k], f64x2Splat(f64c(LN2_LO))), logC[k]), f64x2Mul(h[k], r[k])),
    ),
  );
}

const i64BigMask = () => i64Big(0x000fffffffffffffn);
const i64One = () => i64Big(0x3ff0000000000000n);

/** One xoshiro128+ step on the four lanes; returns the outputs s0 + s3 (before the update). */
function emitStep(g: Gen, S: number[]): Expr {
  const [s0, s1, s2, s3] = S;
  const out = g.letV(i32x4Add(get(s0), get(s3)));
  const t = g.letV(i32x4Shl(get(s1), i32(9)));
  g.set(s2, v128Xor(get(s2), get(s0)));
  g.set(s3, v128Xor(get(s3), get(s1)));
  g.set(s1, v128Xor(get(s1), get(s2)));
  g.set(s0, v128Xor(get(s0), get(s3)));
  g.set(s2, v128Xor(get(s2), t));
  g.set(s3, v128Or(i32x4Shl(get(s3), i32(11)), i32x4ShrU(get(s3), i32(21))));
  return out;
}

/**
 * The sampler module for one precision and feature count F (F is compiled in). With `relaxed`, lanes are
 * packed by relaxed SIMD's swizzle (one instruction on x86-64; the lanes kept are the same either way).
 */
export function buildSampler(dtype: "f32" | "f64", F: number, relaxed = false): Uint8Array {
  const mb = new ModuleBuilder({ module: "env", name: "memory", minPages: 1 });
  emitSampleMask(mb, dtype === "f32", F, relaxed);
  emitSampleGeom(mb, dtype === "f32", F);
  return mb.bytes();
}

/** The four random-state vectors, loaded into locals. */
function loadState(g: Gen, st: Expr): number[] {
  const S = [0, 1, 2, 3].map(() => g.local(Ty.v128));
  S.forEach((l, k) => {
    g.set(l, v128Load(st, SAMPLER_STATE.S + 16 * k));
  });
  return S;
}
function saveState(g: Gen, st: Expr, S: number[]): void {
  S.forEach((l, k) => {
    g.emit(v128Store(st, get(l), SAMPLER_STATE.S + 16 * k));
  });
}

/** What sample_mask's two loop shapes (F a multiple of 4 or not) share: its arguments, state and helpers. */
interface MaskGen {
  g: Gen;
  F: number;
  st: Expr;
  rs: Expr;
  feat: Expr;
  cap: Expr;
  B: Expr;
  all: Expr;
  /** The nnz parameter (a local). */
  nnz: number;
  S: number[];
  slots: Expr;
  withDense: boolean;
  constAt(k: number): Expr;
  /** Stores u's values at `at` (packed by perm if given; all lanes at the dense address with denseOut). */
  conv(at: Expr, u: Expr, perm?: Expr, denseOut?: { notKept?: Expr }): void;
  valAt(): Expr;
  /** Saves the state and returns −1 (capacity). */
  fail(): void;
  notKeptLanes(u: Expr): Expr;
  bitsOf(notKept: Expr): Expr;
  keptBits(u: Expr): Expr;
  emitPacked(u: Expr, fvec: Expr, bits: Expr, denseOut?: { notKept: Expr }): void;
}

/**
 * sample_mask(st, rs, feat, val, nnz, cap, B, F, all, c, dense) -> nnz or −1
 * For float32 and F ≤ DENSE_MAX_F, the slots drawn by the unrolled loops also store their value (0 where
 * not kept) at dense + 4·slot, which must hold B·F floats: every slot when denseComplete(F, B). The
 * kernels' dense path transposes those rows into blocks.
 * The loops avoid what costs most in V8's code for them: vector constants (materialised in every iteration
 * by several instructions; here they are loads from the CONST block, which JS fills) and inner loops (each
 * iteration pays a stack check; here a vector's sample starts are at most ⌈4/F⌉ unrolled ifs).
 */
function emitSampleMask(mb: ModuleBuilder, f32: boolean, F: number, relaxed: boolean): void {
  mb.fn(
    "sample_mask",
    [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.f64, Ty.i32],
    [Ty.i32],
    (f) => {
      const g = new Gen(f);
      const [st, rs, feat, val] = [get(0), get(1), get(2), get(3)];
      const nnz = 4;
      const dense = 10; // a local: the address of the next vector's dense values
      const withDense = f32 && F <= DENSE_MAX_F;
      const [cap, B, all] = [get(5), get(6), get(8)];
      const C = SAMPLER_STATE.CONST;
      const constAt = (k: number) => v128Load(st, C + 16 * k);
      const S = loadState(g, st);
      const slots = g.letI(i32Mul(B, i32(F)));
      const cf32 = f32 ? g.letV(f32x4Splat(f32DemoteF64(get(9)))) : undefined;
      const cf64 = f32 ? undefined : g.letV(f64x2Splat(get(9)));
      const swizzle = relaxed ? i8x16RelaxedSwizzle : i8x16Swizzle;
      /**
       * Stores the values of u's lanes, packed by `perm` if given (f32 converts all four, then packs); with
       * `denseOut`, also all four lanes at the dense address, zeroed where `notKept`.
       */
      const conv = (at: Expr, u: Expr, perm?: Expr, denseOut?: { notKept?: Expr }) => {
        const pack = (v: Expr) => (perm ? swizzle(v, perm) : v);
        if (f32) {
          // pmin: one instruction; no NaN can occur here
          const cu = g.letV(
            f32x4Pmin(f32x4Mul(f32x4ConvertI32x4S(i32x4ShrU(u, i32(8))), cf32 as Expr), constAt(K.BELOW1)),
          );
          g.emit(v128Store(at, pack(cu)));
          if (denseOut) {
            g.emit(v128Store(get(dense), denseOut.notKept ? v128AndNot(cu, denseOut.notKept) : cu));
            g.set(dense, i32Add(get(dense), i32(16)));
          }
        } else {
          const uu = g.letV(pack(u));
          const at2 = g.letI(at);
          g.emit(v128Store(at2, f64x2Mul(f64x2ConvertLowI32x4U(uu), cf64 as Expr)));
          const hi = i8x16Shuffle(uu, uu, [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
          g.emit(v128Store(at2, f64x2Mul(f64x2ConvertLowI32x4U(hi), cf64 as Expr), 16));
        }
      };
      const valAt = () => i32Add(val, i32Shl(get(nnz), i32(f32 ? 2 : 3)));
      const fail = () => {
        saveState(g, st, S);
        g.ret(i32(-1));
      };
      /** The lanes not kept: u < T unsigned ⇔ !((u ^ 2³¹) > (T − 1) ^ 2³¹ signed); T = 0 (all) keeps all. */
      const notKeptLanes = (u: Expr) => i32x4GtS(v128Xor(u, constAt(K.SIGN)), constAt(K.TM1));
      const bitsOf = (notKept: Expr) => i32Xor(i32x4Bitmask(notKept), i32(15));
      const keptBits = (u: Expr) => bitsOf(notKeptLanes(u));
      /** Stores the kept lanes of (fvec, u) packed at nnz (and all lanes' values densely, if asked). */
      const emitPacked = (u: Expr, fvec: Expr, bits: Expr, denseOut?: { notKept: Expr }) => {
        const perm = g.letV(v128Load(i32Add(st, i32Shl(bits, i32(4))), SAMPLER_STATE.PERM));
        g.emit(v128Store(i32Add(feat, i32Shl(get(nnz), i32(2))), swizzle(fvec, perm)));
        conv(valAt(), u, perm, denseOut);
      };
      const m: MaskGen = {
        g,
        F,
        st,
        rs,
        feat,
        cap,
        B,
        all,
        nnz,
        S,
        slots,
        withDense,
        constAt,
        conv,
        valAt,
        fail,
        notKeptLanes,
        bitsOf,
        keptBits,
        emitPacked,
      };
      if (F % 4 === 0) emitMaskAligned(m);
      else emitMaskUnaligned(m);
      g.emit(i32Store(i32Add(rs, i32Shl(B, i32(2))), get(nnz)));
      saveState(g, st, S);
      g.emit(get(nnz));
    },
  );
}

/** sample_mask for F a multiple of 4. */
function emitMaskAligned(m: MaskGen): void {
  const { g, F, rs, feat, cap, B, all, nnz, S, withDense, constAt, conv, valAt, fail } = m;
  const { notKeptLanes, bitsOf, emitPacked } = m;
  // samples aligned with vectors: per sample, F/4 steps; the lanes' features f..f+3 are a running
  // vector (an add per step, where a constant would be materialised by several instructions)
  const fvec = g.local(Ty.v128);
  // two loops rather than a test in one: TurboFan would hoist the branches' common start (the random steps)
  // above the test and keep all of a sample's outputs live at once, spilling them
  const samples = (draw: () => void) =>
    g.forRange(i32(0), B, 1, (s) => {
      const ss = g.letI(s);
      g.if(i32GtS(i32Add(get(nnz), i32(F)), i32Sub(cap, i32(4))), fail);
      g.emit(i32Store(i32Add(rs, i32Shl(ss, i32(2))), get(nnz)));
      g.set(fvec, constAt(K.IOTA));
      draw();
    });
  const next = () => g.set(fvec, i32x4Add(get(fvec), constAt(K.FOUR)));
  g.if(
    all,
    () =>
      samples(() => {
        for (let v = 0; v < F; v += 4) {
          const u = emitStep(g, S);
          g.emit(v128Store(i32Add(feat, i32Shl(get(nnz), i32(2))), get(fvec)));
          conv(valAt(), u, undefined, withDense ? {} : undefined);
          g.set(nnz, i32Add(get(nnz), i32(4)));
          if (v + 4 < F) next();
        }
      }),
    () =>
      samples(() => {
        for (let v = 0; v < F; v += 4) {
          const u = g.letV(emitStep(g, S));
          const notKept = g.letV(notKeptLanes(u));
          const bits = g.letI(bitsOf(notKept));
          emitPacked(u, get(fvec), bits, withDense ? { notKept } : undefined);
          g.set(nnz, i32Add(get(nnz), i32Popcnt(bits)));
          if (v + 4 < F) next();
        }
      }),
  );
}

/** sample_mask for F not a multiple of 4: whole periods straight-line, then vector by vector. */
function emitMaskUnaligned(m: MaskGen): void {
  const { g, F, st, rs, feat, cap, B, all, nnz, S, slots, withDense, constAt, conv, valAt, fail } = m;
  const { notKeptLanes, bitsOf, keptBits, emitPacked } = m;
  const fvec = g.varV(constAt(K.IOTA)); // feature index of each lane's slot
  const reps = Math.ceil(4 / F); // reductions mod F, and most sample starts, per vector
  const reduce = () => {
    for (let r = 0; r < reps; r++)
      g.set(fvec, i32x4Sub(get(fvec), v128And(constAt(K.F), i32x4GtS(get(fvec), constAt(K.FM1)))));
  };
  reduce();
  const s = g.varI(i32(0)); // next sample to open
  const nextStart = g.varI(i32(0)); // its first slot
  const body = (qq: Expr, valid?: Expr) => {
    g.if(i32GtS(i32Add(get(nnz), i32(4)), cap), fail);
    const u = g.letV(emitStep(g, S));
    const bits = g.letI(valid ? i32And(keptBits(u), valid) : keptBits(u));
    // open the samples starting in this vector: their rowStart counts the kept lanes before them
    const end = valid ? slots : i32Add(qq, i32(4));
    for (let r = 0; r < reps; r++)
      g.if(i32LtS(get(nextStart), end), () => {
        const before = i32And(bits, i32Sub(i32Shl(i32(1), i32Sub(get(nextStart), qq)), i32(1)));
        g.emit(i32Store(i32Add(rs, i32Shl(get(s), i32(2))), i32Add(get(nnz), i32Popcnt(before))));
        g.set(s, i32Add(get(s), i32(1)));
        g.set(nextStart, i32Add(get(nextStart), i32(F)));
      });
    emitPacked(u, get(fvec), bits);
    g.set(nnz, i32Add(get(nnz), i32Popcnt(bits)));
    // next lanes' features: f + 4 mod F
    g.set(fvec, i32x4Add(get(fvec), constAt(K.FOUR)));
    reduce();
  };
  const whole = g.letI(i32And(slots, i32(-4)));
  const first = g.varI(i32(0)); // the first slot the loop below draws
  const period = maskPeriod(F);
  if (period.vectors <= MAX_PERIOD) {
    // Whole periods first, straight-line: no feature arithmetic, no tests for sample starts.
    const periods = g.letI(i32DivU(B, i32(period.samples)));
    const openSamples = (v: number, counted: (lane: number) => Expr) => {
      for (let m = 0; m < period.samples; m++) {
        const lane = m * F - 4 * v;
        if (lane < 0 || lane >= 4) continue;
        g.emit(i32Store(i32Add(rs, i32Shl(i32Add(get(s), i32(m)), i32(2))), counted(lane)));
      }
    };
    // one loop per case, not a test in one loop (as in emitMaskAligned)
    const eachPeriod = (draw: () => void) =>
      g.forRange(i32(0), periods, 1, () => {
        g.if(i32GtS(i32Add(get(nnz), i32(4 * period.vectors)), cap), fail);
        draw();
        g.set(s, i32Add(get(s), i32(period.samples)));
      });
    g.if(
      all,
      () =>
        eachPeriod(() => {
          for (let v = 0; v < period.vectors; v++) {
            const u = emitStep(g, S);
            openSamples(v, (lane) => i32Add(get(nnz), i32(lane)));
            g.emit(
              v128Store(i32Add(feat, i32Shl(get(nnz), i32(2))), v128Load(st, SAMPLER_STATE.FPAT + 16 * v)),
            );
            conv(valAt(), u, undefined, withDense ? {} : undefined);
            g.set(nnz, i32Add(get(nnz), i32(4)));
          }
        }),
      () =>
        eachPeriod(() => {
          for (let v = 0; v < period.vectors; v++) {
            const u = g.letV(emitStep(g, S));
            const notKept = g.letV(notKeptLanes(u));
            const bits = g.letI(bitsOf(notKept));
            openSamples(v, (lane) =>
              lane === 0 ? get(nnz) : i32Add(get(nnz), i32Popcnt(i32And(bits, i32((1 << lane) - 1)))),
            );
            emitPacked(
              u,
              v128Load(st, SAMPLER_STATE.FPAT + 16 * v),
              bits,
              withDense ? { notKept } : undefined,
            );
            g.set(nnz, i32Add(get(nnz), i32Popcnt(bits)));
          }
        }),
    );
    // the rest (fewer samples than a period) by the loop below, from a period's end: feature 0
    g.set(first, i32Mul(get(s), i32(F)));
    g.set(nextStart, get(first));
  }
  g.forRange(get(first), whole, 4, (q) => body(g.letI(q)));
  // a last, partial vector (B·F not a multiple of 4): its lanes past the end are drawn and unused
  g.if(i32LtS(whole, slots), () => body(whole, i32Sub(i32Shl(i32(1), i32Sub(slots, whole)), i32(1))));
}

/** sample_geom(st, rs, feat, val, nnz, cap, B, F, logQ) -> nnz or −1 */
function emitSampleGeom(mb: ModuleBuilder, f32: boolean, F: number): void {
  mb.fn(
    "sample_geom",
    [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.f64],
    [Ty.i32],
    (f) => {
      const g = new Gen(f);
      const [st, rs, feat, val] = [get(0), get(1), get(2), get(3)];
      const nnz = 4;
      const [cap, B, logQ] = [get(5), get(6), get(8)];
      const S = loadState(g, st);
      const slots = g.letI(i32Mul(B, i32(F)));
      const pos = g.varI(i32(-1));
      const s = g.varI(i32(0)); // next sample whose rowStart is unwritten
      const sEnd = g.varI(i32(0)); // first slot of sample s
      const logQv = g.letV(f64x2Splat(logQ));
      const slotsV = g.letV(f64x2Splat(f64ConvertI32S(slots)));
      const BUF = SAMPLER_STATE.BUF;
      g.block((done) => {
        g.doWhile(
          () => {
            // GEOM_AHEAD steps of gaps and raw outputs, branch-free so the logarithms pipeline, two per
            // iteration side by side
            g.forRange(i32(0), i32(32 * GEOM_AHEAD), 64, (o) => {
              const at = g.letI(i32Add(st, o));
              const u = [g.letV(emitStep(g, S)), g.letV(emitStep(g, S))];
              const ln = emitLnOneMinus(g, u, st, SAMPLER_STATE.LNTAB);
              for (let k = 0; k < 2; k++) {
                // pmin and the 2⁵² trick instead of min and trunc_sat, which V8 lowers to ~7 instructions each
                // for NaN and overflow cases that cannot occur here (0 ≤ gap ≤ slots < 2³¹)
                const gap = f64x2Pmin(f64x2Floor(f64x2Div(ln[k], logQv)), slotsV);
                const bits = g.letV(f64x2Add(gap, f64x2Splat(f64c(2 ** 52))));
                g.emit(v128Store(at, i8x16Shuffle(bits, bits, LOW_WORDS), BUF + 32 * k));
                g.emit(v128Store(at, u[k], BUF + 32 * k + 16));
              }
            });
            g.forRange(i32(0), i32(32 * GEOM_AHEAD), 32, (o) => {
              const at = g.letI(i32Add(st, o));
              for (let j = 0; j < 2; j++) {
                g.set(pos, i32Add(get(pos), i32Add(i32Load(at, BUF + 4 * j), i32(1))));
                g.brIf(done, i32GeS(get(pos), slots));
                // open every sample up to pos's (sample t): up to 8 at once by two vector stores of nnz, which
                // write rowStart of samples s..s+7 (those past t are written again when they open), with no
                // loop whose exit the branch predictor would miss at almost every entry; else one at a time
                const next = g.letI(i32Add(i32DivU(get(pos), i32(F)), i32(1)));
                g.if(
                  i32And(i32LtS(i32Sub(next, get(s)), i32(9)), i32LtS(get(s), i32Sub(B, i32(6)))),
                  () => {
                    const at = g.letI(i32Add(rs, i32Shl(get(s), i32(2))));
                    const v = g.letV(i32x4Splat(get(nnz)));
                    g.emit(v128Store(at, v));
                    g.emit(v128Store(at, v, 16));
                    g.set(s, next);
                    g.set(sEnd, i32Mul(next, i32(F)));
                  },
                  () =>
                    g.block((opened) => {
                      g.doWhile(
                        () => {
                          g.brIf(opened, i32LtS(get(pos), get(sEnd)));
                          g.emit(i32Store(i32Add(rs, i32Shl(get(s), i32(2))), get(nnz)));
                          g.set(s, i32Add(get(s), i32(1)));
                          g.set(sEnd, i32Add(get(sEnd), i32(F)));
                        },
                        () => i32(1),
                      );
                    }),
                );
                g.if(i32GeS(get(nnz), cap), () => {
                  saveState(g, st, S);
                  g.ret(i32(-1));
                });
                g.emit(
                  i32Store(
                    i32Add(feat, i32Shl(get(nnz), i32(2))),
                    i32Sub(get(pos), i32Sub(get(sEnd), i32(F))),
                  ),
                );
                const uv = i32Load(at, BUF + 16 + 4 * (2 + j));
                const vat = i32Add(val, i32Shl(get(nnz), i32(f32 ? 2 : 3)));
                if (f32)
                  g.emit(
                    f32Store(vat, f32DemoteF64(f64Mul(f64ConvertI32S(i32ShrU(uv, i32(8))), f64c(2 ** -24)))),
                  );
                else g.emit(f64Store(vat, f64Mul(f64ConvertI32U(uv), f64c(2 ** -32))));
                g.set(nnz, i32Add(get(nnz), i32(1)));
              }
            });
          },
          () => i32(1),
        );
      });
      // close the remaining samples
      g.forRange(get(s), i32Add(B, i32(1)), 1, (q) =>
        g.emit(i32Store(i32Add(rs, i32Shl(q, i32(2))), get(nnz))),
      );
      saveState(g, st, S);
      g.emit(get(nnz));
    },
  );
}
