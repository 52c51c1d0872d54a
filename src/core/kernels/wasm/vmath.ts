// Vectorised elementary functions for the generated kernels, for f32x4 and f64x2 lanes.
//
// Accuracy (measured by test/core/kernels-fast.test.ts against Math.*, over the ranges the activations use):
//   f32: exp, expm1, log1p, log, tanh, sigmoid within ~2.5 ulp (≈ 1.7e-7 relative); Φ (normal CDF, for GELU)
//        within 4.3e-7 relative on [−4, 9] (a fitted erfc, relative error 1.3e-7, with e^{−x²/2} from the
//        exact square), 4.4e-7 down to −8.
//   f64: exp, expm1, log1p, log, tanh, sigmoid within a few ulp (≈ 1e-15 relative). No f64 Φ: float64 GELU
//        runs evaluate the activation in JavaScript (the reference's own math) instead.
// Every function is written with the same range reduction for both precisions; only polynomial degrees and
// constants differ. Each returns an expression reading a local (safe to use several times).
// Cost: an inlined heavy activation is bound by the vector units' throughput (constants are reloaded from the
// stack, on the load ports), so what counts is the number of vector operations: the f32 polynomials are
// minimax fits of the lowest degree that keeps the accuracy above, 2ⁿ is added to the exponent field instead
// of built and multiplied, and |x| is one `and` (V8 lowers f32x4.abs and f32x4.neg to three instructions).

import {
  type Expr,
  f32x4ConvertI32x4S,
  f64x2ConvertLowI32x4S,
  i8x16Shuffle,
  i32,
  i32x4Add,
  i32x4Shl,
  i32x4ShrS,
  i32x4ShrU,
  i32x4Sub,
  i64x2Add,
  i64x2Shl,
  i64x2ShrS,
  i64x2ShrU,
  i64x2Sub,
  v128And,
  v128Or,
} from "./emit.js";
import type { Gen, Vt } from "./gen.js";

const LOG2E = Math.LOG2E;
// Cody–Waite split of ln 2: C1 has few significant bits, so n·C1 is exact.
const F32_LN2_HI = 0.693359375;
const F32_LN2_LO = -2.1219444e-4;
const F64_LN2_HI = 0.6931471803691238;
const F64_LN2_LO = 1.9082149292705877e-10;

/** Horner evaluation of Σ coef[k]·t^k. */
export function horner(vt: Vt, t: Expr, coef: number[]): Expr {
  let acc = vt.c(coef[coef.length - 1]);
  for (let k = coef.length - 2; k >= 0; k--) acc = vt.madd(acc, t, vt.c(coef[k]));
  return acc;
}

const factorialInv = (k: number) => {
  let f = 1;
  for (let j = 2; j <= k; j++) f *= j;
  return 1 / f;
};

// Rounding by the "magic number" 1.5·2^(mantissa bits): t = v + MAGIC rounds v to the nearest integer n
// (ties to even, as f32x4.nearest), and t's low bits hold n as an integer. This replaces nearest and the
// float-to-int conversion, which V8 lowers to several instructions each (NaN and overflow fix-ups).
const MAGIC_F32 = 12582912; // 1.5·2²³, bits 0x4b400000
const MAGIC_F64 = 6755399441055744; // 1.5·2⁵², bits 0x4338000000000000

/**
 * Reduces x to n·ln2 + r with |r| ≤ ln2/2; returns n as a float, t (= n + MAGIC, whose low bits hold n as an
 * integer: see scaleByPow2) and r.
 */
function reduceLn2(g: Gen, vt: Vt, x: Expr): { n: Expr; t: Expr; r: Expr } {
  const magic = vt.f32 ? MAGIC_F32 : MAGIC_F64;
  // fused, x·log₂e + MAGIC rounds the exact product to the nearest integer (unfused, the rounded product)
  const t = g.letV(vt.madd(x, vt.c(LOG2E), vt.c(magic)));
  const n = g.letV(vt.sub(t, vt.c(magic)));
  const hi = vt.f32 ? F32_LN2_HI : F64_LN2_HI;
  const lo = vt.f32 ? F32_LN2_LO : F64_LN2_LO;
  // r = x − n·hi − n·lo: n·hi is exact and so is x − n·hi (x ≈ n·ln2), fused or not; the second step is one
  // rounding when fused. (f32's lo is negative; fdlibm's f64 split has lo > 0.)
  const r = g.letV(vt.madd(n, vt.c(-lo), vt.madd(n, vt.c(-hi), x)));
  return { n, t, r };
}

/** n as integer lanes, from reduceLn2's t. */
function intOf(g: Gen, vt: Vt, t: Expr): Expr {
  return vt.f32
    ? g.letV(i32x4Sub(t, vt.i32s(0x4b400000)))
    : g.letV(i64x2Sub(t, vt.i64s(0x4338000000000000n)));
}

/**
 * p·2ⁿ for reduceLn2's t, by adding n to p's exponent field: t's bits are MAGIC's plus n, and MAGIC's bits
 * shifted to the exponent field's position vanish (its low 9 bits in f32, 12 in f64, are zero), so the shift of
 * t alone is n's. Exact when p·2ⁿ is a normal number; no constant, no integer conversion. p = 1.0 gives 2ⁿ.
 */
function scaleByPow2(vt: Vt, p: Expr, t: Expr): Expr {
  return vt.f32 ? i32x4Add(p, i32x4Shl(t, i32(23))) : i64x2Add(p, i64x2Shl(t, i32(52)));
}

/**
 * eʳ − 1 for |r| ≤ ln2/2, as r + r²·P(r). f32: a minimax fit of relative error, degree 6 (max 1.3e-8 in exact
 * arithmetic); f64: Taylor to degree 13.
 */
const EXPM1_F32 = [
  0.49999998155175096, 0.1666654367136457, 0.04166719964402434, 0.008366513775735633, 0.0013882522518860972,
];
function expm1Reduced(g: Gen, vt: Vt, r: Expr): Expr {
  const coef: number[] = [];
  if (vt.f32) coef.push(...EXPM1_F32);
  else for (let k = 2; k <= 13; k++) coef.push(factorialInv(k));
  return g.letV(vt.madd(vt.mul(r, r), horner(vt, r, coef), r));
}

/**
 * eʳ for |r| ≤ ln2/2 (a little beyond is fine). f32: 1 + r + r²·(c₂ + … + c₆r⁴), a minimax fit of relative
 * error with the first two coefficients fixed at 1 (max 3.1e-9 in exact arithmetic), by Horner's rule so 1 is
 * the one other constant; f64: Taylor to degree 13.
 */
const EXP_F32 = [
  1, 1, 0.4999999345164735, 0.16666520688953088, 0.04166838737034085, 0.008368709928602934,
  0.0013814613181447589,
];
function expReduced(vt: Vt, r: Expr): Expr {
  if (vt.f32) return horner(vt, r, EXP_F32);
  const coef: number[] = [];
  for (let k = 0; k <= 13; k++) coef.push(factorialInv(k));
  return horner(vt, r, coef);
}

/**
 * eˣ. By default over the whole range: overflows to +∞ and underflows gradually to 0 like the correctly
 * rounded function (the scale 2ⁿ is applied as two factors 2^(n>>1)·2^(n−(n>>1)), so n may exceed the
 * exponent range by one). With `range: "normal"` the input is clamped to where eˣ is a normal number (below,
 * the result is the smallest such, ~1e-38 in f32, instead of a subnormal; callers use it only for e^{−|x|}
 * terms where that difference is invisible) and the scale is added to the exponent field; `"clampBelow"` is
 * "normal" for inputs the caller keeps below the overflow threshold (e.g. ≤ 0), clamped below only. NaN → NaN
 * (pmin/pmax keep a NaN first operand).
 */
export function vexp(g: Gen, vt: Vt, xIn: Expr, range: "full" | "normal" | "clampBelow" = "full"): Expr {
  const full = range === "full";
  const [lo, hi] = vt.f32 ? (full ? [-104, 89] : [-87.3, 88.7]) : full ? [-746, 710] : [-708, 709];
  const below = range === "clampBelow" ? xIn : vt.pmin(xIn, vt.c(hi));
  const x = g.letV(vt.pmax(below, vt.c(lo)));
  const { t, r } = reduceLn2(g, vt, x);
  const p = g.letV(expReduced(vt, r));
  if (!full) return g.letV(scaleByPow2(vt, p, t));
  const { s1, s2 } = splitPow2(g, vt, intOf(g, vt, t));
  return g.letV(vt.mul(vt.mul(p, s1), s2));
}

function splitPow2(g: Gen, vt: Vt, ni: Expr): { s1: Expr; s2: Expr } {
  if (vt.f32) {
    const n1 = g.letV(i32x4ShrS(ni, i32(1)));
    const n2 = g.letV(i32x4Sub(ni, n1));
    const bias = vt.i32s(127);
    return {
      s1: g.letV(i32x4Shl(i32x4Add(n1, bias), i32(23))),
      s2: g.letV(i32x4Shl(i32x4Add(n2, bias), i32(23))),
    };
  }
  const n1 = g.letV(i64x2ShrS(ni, i32(1)));
  const n2 = g.letV(i64x2Sub(ni, n1));
  const bias = vt.i64s(1023n);
  return {
    s1: g.letV(i64x2Shl(i64x2Add(n1, bias), i32(52))),
    s2: g.letV(i64x2Shl(i64x2Add(n2, bias), i32(52))),
  };
}

/**
 * eˣ − 1 and eˣ for x ≤ 0 (positive inputs are clamped to 0; callers select another branch there). Both are
 * accurate to ~1 ulp relative, including expm1 near 0 (where eˣ − 1 would cancel).
 */
export function vexpm1NonPos(g: Gen, vt: Vt, xIn: Expr, knownNonPositive = false): { em1: Expr; ex: Expr } {
  const x = g.letV(vt.pmax(knownNonPositive ? xIn : vt.pmin(xIn, vt.c(0)), vt.c(vt.f32 ? -18 : -40)));
  const { t, r } = reduceLn2(g, vt, x);
  const q = expm1Reduced(g, vt, r);
  const one = vt.c(1);
  const s = g.letV(scaleByPow2(vt, one, t));
  const sq = g.letV(vt.mul(s, q));
  return { em1: g.letV(vt.add(sq, vt.sub(s, one))), ex: g.letV(vt.add(sq, s)) };
}

/** ln(m) for m in [1/√2, √2]: 2·atanh(s), s = (m − 1)/(m + 1) in [−0.172, 0.172] (11 series terms in f64). */
function lnNearOne(g: Gen, vt: Vt, m: Expr): Expr {
  return atanhTwice(g, vt, g.letV(vt.div(vt.sub(m, vt.c(1)), vt.add(m, vt.c(1)))), 11);
}

/**
 * 2·atanh(s)/(2s) − 1 = z/3 + z²/5 + … for z = s² in [0, 1/9], as z·Q(z): f32 a minimax fit of relative error
 * (4 terms, max 4.5e-9 in exact arithmetic), f64 the series to 16 terms.
 */
const ATANH_F32 = [0.3333320812620389, 0.20010764717904458, 0.14000882611340623, 0.14006101231485837];

/**
 * ln(1 + t) for t in [0, 1] (also exact for tiny t): 2·atanh(s) with s = t/(t + 2) in [0, 1/3], computed
 * from t directly (no rounding of 1 + t to correct): 2s(1 + z·Q(z)), z = s² (ATANH_F32; f64 the series).
 */
export function vlog1pUnit(g: Gen, vt: Vt, t: Expr): Expr {
  const tt = g.letV(t);
  return atanhTwice(g, vt, g.letV(vt.div(tt, vt.add(tt, vt.c(2)))), 16);
}

/** 2·atanh(s) for |s| ≤ 1/3: 2s(1 + z·Q(z)), z = s² (f32 ATANH_F32, f64 the series to f64Terms terms). */
function atanhTwice(g: Gen, vt: Vt, s: Expr, f64Terms: number): Expr {
  const z = g.letV(vt.mul(s, s));
  const coef: number[] = [];
  if (vt.f32) coef.push(...ATANH_F32);
  else for (let k = 1; k <= f64Terms; k++) coef.push(1 / (2 * k + 1));
  const s2 = g.letV(vt.add(s, s));
  return g.letV(vt.madd(vt.mul(s2, z), horner(vt, z, coef), s2));
}

/** ln(x) for positive normal x. */
export function vlog(g: Gen, vt: Vt, xIn: Expr): Expr {
  const x = g.letV(xIn);
  let e: Expr;
  let m: Expr;
  if (vt.f32) {
    e = g.letV(f32x4ConvertI32x4S(i32x4Sub(i32x4ShrU(x, i32(23)), vt.i32s(127))));
    m = g.letV(v128Or(v128And(x, vt.i32s(0x007fffff)), vt.i32s(0x3f800000)));
  } else {
    const ebits = g.letV(i64x2Sub(i64x2ShrU(x, i32(52)), vt.i64s(1023n)));
    // the low 32 bits of each i64 lane into i32 lanes 0 and 1
    e = g.letV(
      f64x2ConvertLowI32x4S(i8x16Shuffle(ebits, ebits, [0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11])),
    );
    m = g.letV(v128Or(v128And(x, vt.i64s(0x000fffffffffffffn)), vt.i64s(0x3ff0000000000000n)));
  }
  const big = g.letV(vt.gt(m, vt.c(Math.SQRT2)));
  const mm = g.letV(vt.sel(big, vt.mul(m, vt.c(0.5)), m));
  const ee = g.letV(vt.add(e, vt.and(vt.c(1), big)));
  return g.letV(vt.madd(ee, vt.c(Math.LN2), lnNearOne(g, vt, mm)));
}

/** The sign bit of every lane. */
function signMask(vt: Vt): Expr {
  return vt.c(-0);
}

/** |x| by clearing the sign bit with a constant mask: one instruction, where V8 builds f32x4.abs's in three. */
export function vabs(vt: Vt, x: Expr): Expr {
  return v128And(x, vt.f32 ? vt.i32s(0x7fffffff) : vt.i64s(0x7fffffffffffffffn));
}

/** tanh(x) = sign(x)·(−m)/(m + 2) with m = expm1(−2|x|). */
export function vtanh(g: Gen, vt: Vt, xIn: Expr): Expr {
  const x = g.letV(xIn);
  const { em1 } = vexpm1NonPos(g, vt, vt.mul(vabs(vt, x), vt.c(-2)), true);
  // −m/(m + 2) as m/(−2 − m): the same value, without a negation
  const t = vt.div(em1, vt.sub(vt.c(-2), em1));
  return g.letV(vt.xor(t, vt.and(x, signMask(vt))));
}

/**
 * σ(x) = 1/(1 + e^{−x}), with e^{−x} in the normal range: accurate to a few ulp relative for x ≥ −87.3;
 * below, 1.2e-38 (the normal-range clamp) instead of a subnormal. One division, no select.
 */
export function vsigmoid(g: Gen, vt: Vt, xIn: Expr): { s: Expr } {
  const w = vexp(g, vt, vt.xor(xIn, signMask(vt)), "normal");
  return { s: g.letV(vt.div(vt.c(1), vt.add(w, vt.c(1)))) };
}

/** e^{−|x|}; −|x| is x with its sign bit set. */
function expNegAbs(g: Gen, vt: Vt, x: Expr): Expr {
  return vexp(g, vt, v128Or(x, signMask(vt)), "clampBelow");
}

/**
 * σ(x), w = e^{−|x|}, inv = 1/(1 + w) and ln(1 + w) (softplus(x) = max(x, 0) + ln(1 + w)), from one
 * exponential. (One division for both, q = 1/((1 + w)(2 + w)), measured no faster: the loop is not bound by
 * the divider.)
 */
export function vsigmoidLog1p(g: Gen, vt: Vt, xIn: Expr): { s: Expr; w: Expr; inv: Expr; log1pW: Expr } {
  const x = g.letV(xIn);
  const w = expNegAbs(g, vt, x);
  const inv = g.letV(vt.div(vt.c(1), vt.add(w, vt.c(1))));
  // σ(x) = 1/(1 + w) for x ≥ 0, w/(1 + w) below
  const s = g.letV(vt.sel(vt.ge(x, vt.c(0)), inv, vt.mul(w, inv)));
  return { s, w, inv, log1pW: vlog1pUnit(g, vt, w) };
}

const INV_SQRT_2PI = 0.3989422804014327;

/**
 * erfc(z)·e^{z²} = t·P(t), t = 1/(1 + 0.4z), z ≥ 0: a fit of relative error (degree 8, max relative error
 * 1.3e-7 in f64 arithmetic).
 */
const ERFCX_T = [
  0.22567586192788286, 0.2256696031754939, 0.20784252823152885, 0.16854382956287342, 0.14142221019292855,
  -0.005583526630074661, 0.16905170343549775, -0.18287727414926788, 0.0502551846574375,
];
/** ERFCX_T·√(2π)/2, so that erfc(z)/2 = φ·t·P(t) from φ = E/√(2π) (one product fewer). */
const PHI_ERFCX_T = ERFCX_T.map((c) => c / (2 * INV_SQRT_2PI));

/**
 * Φ(x), the standard normal CDF, and φ(x), its density, in f32 only. With z = |x|/√2 and E = e^{−z²}
 * (= √(2π)·φ(x)), erfc(z) = E·t·P(t) (ERFCX_T) and Φ(x) = erfc(−x/√2)/2, computed from |x| so there is no
 * cancellation for negative x. One exponential per value, shared by Φ and φ.
 */
export function vnormalCdfF32(g: Gen, vt: Vt, xIn: Expr): { Phi: Expr; phi: Expr } {
  if (!vt.f32) throw new Error("vnormalCdfF32 is float32 only");
  const x = g.letV(xIn);
  const absX = g.letV(vabs(vt, x));
  // t = 1/(1 + 0.4z), z = |x|/√2 (the constant 0.4/√2 rounded: z off by one rounding, as before)
  const t = g.letV(vt.div(vt.c(1), vt.madd(absX, vt.c(0.4 * Math.SQRT1_2), vt.c(1))));
  // e^{−x²/2} without rounding the exponent: |x| = h + l with h's square exact (12 significant bits), then
  // e^{−h²/2 − δ}, δ = (|x|² − h²)/2 = l·(h + l/2), with δ subtracted after the exact part of the range
  // reduction
  const ax = g.letV(vt.pmin(absX, vt.c(13.2)));
  const xh = g.letV(v128And(ax, vt.i32s(0xfffff000)));
  const a = g.letV(vt.mul(vt.mul(xh, xh), vt.c(-0.5)));
  const l = g.letV(vt.sub(ax, xh));
  const delta = g.letV(vt.mul(l, vt.madd(l, vt.c(0.5), xh)));
  // n from a alone: δ < 2⁻¹¹·x² (< 0.09) only widens |r| a little beyond ln2/2
  const tt = g.letV(vt.madd(a, vt.c(LOG2E), vt.c(MAGIC_F32)));
  const n = g.letV(vt.sub(tt, vt.c(MAGIC_F32)));
  const r = g.letV(vt.madd(n, vt.c(-F32_LN2_LO), vt.sub(vt.madd(n, vt.c(-F32_LN2_HI), a), delta)));
  // φ = e^{−x²/2}/√(2π); |x| ≤ 13.2 keeps e^{−x²/2} a normal number
  const phi = g.letV(vt.mul(scaleByPow2(vt, g.letV(expReduced(vt, r)), tt), vt.c(INV_SQRT_2PI)));
  const half = g.letV(vt.mul(phi, vt.mul(t, horner(vt, t, PHI_ERFCX_T)))); // erfc(|x|/√2)/2
  const Phi = g.letV(vt.sel(vt.ge(x, vt.c(0)), vt.sub(vt.c(1), half), half));
  return { Phi, phi };
}
