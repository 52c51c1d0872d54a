/*
 * native/vmath.h: the float32 vector elementary functions of src/core/kernels/wasm/vmath.ts, for 8-lane GCC
 * vector extensions (AVX), header-only. Compiles as C (gcc -std=c11) and C++ (g++ -std=c++17).
 *
 * Every function is a line-by-line port of vmath.ts's f32 path: the same range reductions, constants
 * (each rounded to float32 from the same double, as Vt.c does), polynomial coefficients, Horner order and
 * integer bit manipulations (on int32 reinterpretations, as vmath.ts's i32x4 ops), so results are meant to be
 * bit-identical to the WebAssembly kernels lane by lane. Accuracy (vmath.ts's header, checked by
 * native/vmath-test.c): exp, expm1, log1p, log, tanh, sigmoid within ~2.5 ulp; Φ within 5e-7 on [-4, 9].
 *
 * Multiply-add: Vt.madd(a, b, c) = a·b + c is relaxed SIMD's fused multiply-add when the Vt has `fma`
 * (what the kernels use on this machine), else a multiply then an add (two roundings). Here TMS_MADD does the
 * same: fused when TMS_FMA is 1 (the default), unfused when 0. Either way the result does not depend on the
 * compiler's -ffp-contract: the fused form is an explicit FMA instruction (or __builtin_fmaf per lane), and
 * every product is passed through an empty asm (TMS_OPAQUE) so the compiler cannot contract it with a
 * following add (g++ contracts by default). Do not compile with -ffast-math (it reassociates and may replace
 * the divisions by reciprocal approximations).
 *
 * Vt.sel is relaxed SIMD's lane select when fused and bitselect otherwise; both are the same for the
 * whole-lane masks used here, so tms_sel is one function.
 */
#ifndef TMS_VMATH_H
#define TMS_VMATH_H

#include <stdint.h>

#ifndef TMS_FMA
#define TMS_FMA 1
#endif

#if defined(__AVX__)
#include <immintrin.h>
#endif
#if TMS_FMA && defined(__AVX__) && defined(__FMA__)
#define TMS_HAVE_FMA_INSN 1
#else
#define TMS_HAVE_FMA_INSN 0
#endif

/* lanes a vector: 8 (AVX) unless the includer asks for 16 (AVX-512), e.g. to give one chain of operations
 * two blocks' worth of independent work (mid.h) */
#ifndef TMS_LANES
#define TMS_LANES 8
#endif
#ifndef TMS_NO_VECTOR_TYPEDEFS
typedef float vf __attribute__((vector_size(4 * TMS_LANES)));
typedef int32_t vi __attribute__((vector_size(4 * TMS_LANES)));
#endif
/* unsigned lanes for wrapping adds, left shifts and logical right shifts (i32x4.add/shl/shr_u) */
typedef uint32_t tms_vu __attribute__((vector_size(4 * TMS_LANES)));

/* Keeps v in a register as an opaque value: a product passed through it cannot be contracted into an FMA. */
#ifndef TMS_OPAQUE
#if defined(__AVX__)
#define TMS_OPAQUE(v) __asm__("" : "+x"(v))
#else
#define TMS_OPAQUE(v) __asm__("" : "+m"(v))
#endif
#endif

/* ---- lane-wise helpers ----------------------------------------------------------------------------- */

/** Every lane = c (Vt.c, for a constant already rounded to float; named so as not to clash with kernel.cc's tms_c(bits)). */
static inline vf tms_splat(float c) {
#if TMS_LANES == 8
  vf v = {c, c, c, c, c, c, c, c};
#elif TMS_LANES == 16
  vf v = {c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c};
#else
  vf v;
  for (int k = 0; k < TMS_LANES; k++) v[k] = c;
#endif
  return v;
}
/** i32 lanes = v (Vt.i32s). */
static inline vi tms_i32s(int32_t v) {
#if TMS_LANES == 8
  vi r = {v, v, v, v, v, v, v, v};
#elif TMS_LANES == 16
  vi r = {v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v};
#else
  vi r;
  for (int k = 0; k < TMS_LANES; k++) r[k] = v;
#endif
  return r;
}
static inline vi tms_bits(vf x) { return (vi)x; }
static inline vf tms_float(vi x) { return (vf)x; }

static inline vf tms_add(vf a, vf b) { return a + b; }
static inline vf tms_sub(vf a, vf b) { return a - b; }
/** a·b, rounded, never contracted with a later add. */
static inline vf tms_mul(vf a, vf b) {
  vf p = a * b;
  TMS_OPAQUE(p);
  return p;
}
static inline vf tms_div(vf a, vf b) { return a / b; }
/** √a, correctly rounded (f32x4.sqrt). */
static inline vf tms_sqrt(vf a) {
#if TMS_LANES == 16 && defined(__AVX512F__)
  return (vf)_mm512_sqrt_ps((__m512)a);
#elif TMS_LANES == 8 && defined(__AVX__)
  return (vf)_mm256_sqrt_ps((__m256)a);
#else
  vf r;
  for (int k = 0; k < TMS_LANES; k++) r[k] = __builtin_sqrtf(a[k]);
  return r;
#endif
}

/** a·b + c with one rounding, whatever the build flags. */
static inline vf tms_fmadd(vf a, vf b, vf c) {
#if TMS_HAVE_FMA_INSN && TMS_LANES == 8
  return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#elif TMS_HAVE_FMA_INSN && TMS_LANES == 16 && defined(__AVX512F__)
  return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif TMS_HAVE_FMA_INSN && TMS_LANES == 32 && defined(__AVX512F__)
  typedef float half __attribute__((vector_size(64)));
  half lo = (half)_mm512_fmadd_ps((__m512)__builtin_shufflevector(a, a, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15), (__m512)__builtin_shufflevector(b, b, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15), (__m512)__builtin_shufflevector(c, c, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15));
  half hi = (half)_mm512_fmadd_ps((__m512)__builtin_shufflevector(a, a, 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31), (__m512)__builtin_shufflevector(b, b, 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31), (__m512)__builtin_shufflevector(c, c, 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31));
  return __builtin_shufflevector(lo, hi, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31);
#else
  vf r;
  for (int k = 0; k < TMS_LANES; k++) r[k] = __builtin_fmaf(a[k], b[k], c[k]);
  return r;
#endif
}
/** a·b + c with two roundings, whatever the build flags. */
static inline vf tms_mul_add(vf a, vf b, vf c) { return tms_add(tms_mul(a, b), c); }

/* Vt.madd */
#if TMS_FMA
#define TMS_MADD(a, b, c) tms_fmadd((a), (b), (c))
#else
#define TMS_MADD(a, b, c) tms_mul_add((a), (b), (c))
#endif

/** mask ? a : b for whole-lane masks (Vt.sel). */
static inline vf tms_sel(vi mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }
/** mask ? a : 0 (Vt.and). */
static inline vf tms_and(vf a, vi mask) { return (vf)((vi)a & mask); }
static inline vf tms_andb(vf a, int32_t m) { return (vf)((vi)a & tms_i32s(m)); }
static inline vf tms_orb(vf a, int32_t m) { return (vf)((vi)a | tms_i32s(m)); }
static inline vf tms_xor(vf a, vf b) { return (vf)((vi)a ^ (vi)b); }

/**
 * f32x4.pmin(a, b) = b < a ? b : a; pmax(a, b) = a < b ? b : a (a NaN first operand is kept). These are
 * x86's minps(b, a) and maxps(b, a) exactly (first operand if the comparison holds, else the second, NaN
 * and ±0 included): one instruction instead of a compare and a blend.
 */
static inline vf tms_pmin(vf a, vf b) {
#if TMS_LANES == 16 && defined(__AVX512F__)
  return (vf)_mm512_min_ps((__m512)b, (__m512)a);
#elif TMS_LANES == 8 && defined(__AVX__)
  return (vf)_mm256_min_ps((__m256)b, (__m256)a);
#else
  return tms_sel((vi)(b < a), b, a);
#endif
}
static inline vf tms_pmax(vf a, vf b) {
#if TMS_LANES == 16 && defined(__AVX512F__)
  return (vf)_mm512_max_ps((__m512)b, (__m512)a);
#elif TMS_LANES == 8 && defined(__AVX__)
  return (vf)_mm256_max_ps((__m256)b, (__m256)a);
#else
  return tms_sel((vi)(a < b), b, a);
#endif
}
static inline vi tms_gt(vf a, vf b) { return (vi)(a > b); }
static inline vi tms_ge(vf a, vf b) { return (vi)(a >= b); }

/* i32x4 add, sub (wrapping), shl, shr_s, shr_u on the bits */
static inline vi tms_iadd(vi a, vi b) { return (vi)((tms_vu)a + (tms_vu)b); }
static inline vi tms_isub(vi a, vi b) { return (vi)((tms_vu)a - (tms_vu)b); }
static inline vi tms_ishl(vi a, int s) { return (vi)((tms_vu)a << s); }
static inline vi tms_ishr_s(vi a, int s) { return a >> s; }
static inline vi tms_ishr_u(vi a, int s) { return (vi)((tms_vu)a >> s); }

/** |x| by clearing the sign bit (vabs). */
static inline vf tms_vabs(vf x) { return tms_andb(x, 0x7fffffff); }

/* ---- constants (double values of vmath.ts; TMS_C rounds them to float, like Vt.c) ------------------ */

#define TMS_LOG2E 1.4426950408889634   /* Math.LOG2E */
#define TMS_LN2 0.6931471805599453     /* Math.LN2 */
#define TMS_SQRT2 1.4142135623730951   /* Math.SQRT2 */
#define TMS_SQRT1_2 0.7071067811865476 /* Math.SQRT1_2 */
#define TMS_F32_LN2_HI 0.693359375
#define TMS_F32_LN2_LO -2.1219444e-4
#define TMS_MAGIC_F32 12582912.0 /* 1.5·2²³, bits 0x4b400000 */
#define TMS_INV_SQRT_2PI 0.3989422804014327
#define TMS_C(x) tms_splat((float)(x))

/* EXPM1_F32 */
#define TMS_EXPM1_0 0.49999998155175096
#define TMS_EXPM1_1 0.1666654367136457
#define TMS_EXPM1_2 0.04166719964402434
#define TMS_EXPM1_3 0.008366513775735633
#define TMS_EXPM1_4 0.0013882522518860972
/* EXP_F32 */
#define TMS_EXP_0 1.0
#define TMS_EXP_1 1.0
#define TMS_EXP_2 0.4999999345164735
#define TMS_EXP_3 0.16666520688953088
#define TMS_EXP_4 0.04166838737034085
#define TMS_EXP_5 0.008368709928602934
#define TMS_EXP_6 0.0013814613181447589
/* ATANH_F32 */
#define TMS_ATANH_0 0.3333320812620389
#define TMS_ATANH_1 0.20010764717904458
#define TMS_ATANH_2 0.14000882611340623
#define TMS_ATANH_3 0.14006101231485837
/* ERFCX_T; PHI_ERFCX_T = ERFCX_T / (2·INV_SQRT_2PI), in double, then rounded to float */
#define TMS_ERFCX_0 0.22567586192788286
#define TMS_ERFCX_1 0.2256696031754939
#define TMS_ERFCX_2 0.20784252823152885
#define TMS_ERFCX_3 0.16854382956287342
#define TMS_ERFCX_4 0.14142221019292855
#define TMS_ERFCX_5 -0.005583526630074661
#define TMS_ERFCX_6 0.16905170343549775
#define TMS_ERFCX_7 -0.18287727414926788
#define TMS_ERFCX_8 0.0502551846574375
#define TMS_PHI_ERFCX(c) ((c) / (2 * TMS_INV_SQRT_2PI))

/* Horner steps: acc = madd(acc, t, c[k]) from the highest coefficient down (vmath.ts's horner). */
#define TMS_HSTEP(acc, t, k) (acc) = TMS_MADD((acc), (t), TMS_C(k))

/* ---- range reduction and scaling --------------------------------------------------------------------- */

/** reduceLn2: x = n·ln2 + r; t = x·log₂e + MAGIC (low bits hold n), n = t − MAGIC, r. */
static inline void tms_reduce_ln2_(vf x, vf *t, vf *n, vf *r) {
  *t = TMS_MADD(x, TMS_C(TMS_LOG2E), TMS_C(TMS_MAGIC_F32));
  *n = tms_sub(*t, TMS_C(TMS_MAGIC_F32));
  *r = TMS_MADD(*n, TMS_C(-(TMS_F32_LN2_LO)), TMS_MADD(*n, TMS_C(-(TMS_F32_LN2_HI)), x));
}

/** intOf: n as integer lanes from reduceLn2's t. */
static inline vi tms_int_of_(vf t) { return tms_isub((vi)t, tms_i32s(0x4b400000)); }

/** scaleByPow2: p·2ⁿ by adding t's bits shifted to the exponent field. */
static inline vf tms_scale_by_pow2_(vf p, vf t) { return (vf)tms_iadd((vi)p, tms_ishl((vi)t, 23)); }

/** splitPow2: 2^(n>>1) and 2^(n − (n>>1)) as floats. */
static inline void tms_split_pow2_(vi ni, vf *s1, vf *s2) {
  vi n1 = tms_ishr_s(ni, 1);
  vi n2 = tms_isub(ni, n1);
  vi bias = tms_i32s(127);
  *s1 = (vf)tms_ishl(tms_iadd(n1, bias), 23);
  *s2 = (vf)tms_ishl(tms_iadd(n2, bias), 23);
}

/** expm1Reduced: eʳ − 1 = r + r²·P(r) (EXPM1_F32). */
static inline vf tms_expm1_reduced_(vf r) {
  vf acc = TMS_C(TMS_EXPM1_4);
  TMS_HSTEP(acc, r, TMS_EXPM1_3);
  TMS_HSTEP(acc, r, TMS_EXPM1_2);
  TMS_HSTEP(acc, r, TMS_EXPM1_1);
  TMS_HSTEP(acc, r, TMS_EXPM1_0);
  return TMS_MADD(tms_mul(r, r), acc, r);
}

/** expReduced: eʳ by Horner's rule on EXP_F32. */
static inline vf tms_exp_reduced_(vf r) {
  vf acc = TMS_C(TMS_EXP_6);
  TMS_HSTEP(acc, r, TMS_EXP_5);
  TMS_HSTEP(acc, r, TMS_EXP_4);
  TMS_HSTEP(acc, r, TMS_EXP_3);
  TMS_HSTEP(acc, r, TMS_EXP_2);
  TMS_HSTEP(acc, r, TMS_EXP_1);
  TMS_HSTEP(acc, r, TMS_EXP_0);
  return acc;
}

/* ---- the functions ------------------------------------------------------------------------------------ */

enum { TMS_EXP_FULL = 0, TMS_EXP_NORMAL = 1, TMS_EXP_CLAMP_BELOW = 2 };

/**
 * eˣ (vexp). range 0 "full": overflow to +∞, gradual underflow (scale applied as two factors); 1 "normal":
 * input clamped to [−87.3, 88.7], scale added to the exponent field; 2 "clampBelow": "normal" clamped below
 * only (for inputs the caller keeps below the overflow threshold). NaN → NaN.
 */
static inline vf tms_vexp(vf xIn, int range) {
  const int full = range == TMS_EXP_FULL;
  const float lo = full ? (float)-104 : (float)-87.3;
  const float hi = full ? (float)89 : (float)88.7;
  vf below = range == TMS_EXP_CLAMP_BELOW ? xIn : tms_pmin(xIn, tms_splat(hi));
  vf x = tms_pmax(below, tms_splat(lo));
  vf t, n, r;
  tms_reduce_ln2_(x, &t, &n, &r);
  vf p = tms_exp_reduced_(r);
  if (!full) return tms_scale_by_pow2_(p, t);
  vf s1, s2;
  tms_split_pow2_(tms_int_of_(t), &s1, &s2);
  return tms_mul(tms_mul(p, s1), s2);
}

static inline void tms_vexpm1_nonpos_(vf xIn, int knownNonPositive, vf *em1, vf *ex) {
  vf x = tms_pmax(knownNonPositive ? xIn : tms_pmin(xIn, tms_splat(0.0f)), tms_splat(-18.0f));
  vf t, n, r;
  tms_reduce_ln2_(x, &t, &n, &r);
  vf q = tms_expm1_reduced_(r);
  vf one = tms_splat(1.0f);
  vf s = tms_scale_by_pow2_(one, t);
  vf sq = tms_mul(s, q);
  *em1 = tms_add(sq, tms_sub(s, one));
  *ex = tms_add(sq, s);
}

/** eˣ − 1 and eˣ for x ≤ 0 (vexpm1NonPos; positive inputs are clamped to 0). */
static inline void tms_vexpm1_nonpos(vf x, vf *em1, vf *ex) { tms_vexpm1_nonpos_(x, 0, em1, ex); }

/** atanhTwice: 2·atanh(s) = 2s(1 + z·Q(z)), z = s² (ATANH_F32). */
static inline vf tms_atanh_twice_(vf s) {
  vf z = tms_mul(s, s);
  vf acc = TMS_C(TMS_ATANH_3);
  TMS_HSTEP(acc, z, TMS_ATANH_2);
  TMS_HSTEP(acc, z, TMS_ATANH_1);
  TMS_HSTEP(acc, z, TMS_ATANH_0);
  vf s2 = tms_add(s, s);
  return TMS_MADD(tms_mul(s2, z), acc, s2);
}

/** lnNearOne: ln(m) for m in [1/√2, √2]. */
static inline vf tms_ln_near_one_(vf m) {
  return tms_atanh_twice_(tms_div(tms_sub(m, tms_splat(1.0f)), tms_add(m, tms_splat(1.0f))));
}

/** ln(1 + t) for t in [0, 1] (vlog1pUnit). */
static inline vf tms_vlog1p_unit(vf t) { return tms_atanh_twice_(tms_div(t, tms_add(t, tms_splat(2.0f)))); }

/** ln(x) for positive normal x (vlog). */
static inline vf tms_vlog(vf x) {
  vf e = __builtin_convertvector(tms_isub(tms_ishr_u((vi)x, 23), tms_i32s(127)), vf);
  vf m = (vf)(((vi)x & tms_i32s(0x007fffff)) | tms_i32s(0x3f800000));
  vi big = tms_gt(m, TMS_C(TMS_SQRT2));
  vf mm = tms_sel(big, tms_mul(m, tms_splat(0.5f)), m);
  vf ee = tms_add(e, tms_and(tms_splat(1.0f), big));
  return TMS_MADD(ee, TMS_C(TMS_LN2), tms_ln_near_one_(mm));
}

/** tanh(x) = sign(x)·m/(−2 − m), m = expm1(−2|x|) (vtanh). */
static inline vf tms_vtanh(vf x) {
  vf em1, ex;
  tms_vexpm1_nonpos_(tms_mul(tms_vabs(x), tms_splat(-2.0f)), 1, &em1, &ex);
  (void)ex;
  vf t = tms_div(em1, tms_sub(tms_splat(-2.0f), em1));
  return tms_xor(t, tms_andb(x, (int32_t)0x80000000u));
}

/** σ(x) = 1/(1 + e^{−x}), e^{−x} in the normal range (vsigmoid). */
static inline vf tms_vsigmoid(vf x) {
  vf w = tms_vexp((vf)((vi)x ^ tms_i32s((int32_t)0x80000000u)), TMS_EXP_NORMAL);
  return tms_div(tms_splat(1.0f), tms_add(w, tms_splat(1.0f)));
}

/** σ(x), w = e^{−|x|}, inv = 1/(1 + w), ln(1 + w) from one exponential (vsigmoidLog1p). */
static inline void tms_vsigmoid_log1p(vf x, vf *s, vf *w, vf *inv, vf *log1pW) {
  vf ww = tms_vexp(tms_orb(x, (int32_t)0x80000000u), TMS_EXP_CLAMP_BELOW); /* expNegAbs */
  vf iv = tms_div(tms_splat(1.0f), tms_add(ww, tms_splat(1.0f)));
  *s = tms_sel(tms_ge(x, tms_splat(0.0f)), iv, tms_mul(ww, iv));
  *w = ww;
  *inv = iv;
  *log1pW = tms_vlog1p_unit(ww);
}

/** Φ(x), the standard normal CDF, and φ(x), its density (vnormalCdfF32). */
static inline void tms_vnormal_cdf(vf x, vf *Phi, vf *phi) {
  vf absX = tms_vabs(x);
  vf t = tms_div(tms_splat(1.0f), TMS_MADD(absX, TMS_C(0.4 * TMS_SQRT1_2), tms_splat(1.0f)));
  vf ax = tms_pmin(absX, TMS_C(13.2));
  vf xh = tms_andb(ax, (int32_t)0xfffff000u);
  vf a = tms_mul(tms_mul(xh, xh), tms_splat(-0.5f));
  vf l = tms_sub(ax, xh);
  vf delta = tms_mul(l, TMS_MADD(l, tms_splat(0.5f), xh));
  vf tt = TMS_MADD(a, TMS_C(TMS_LOG2E), TMS_C(TMS_MAGIC_F32));
  vf n = tms_sub(tt, TMS_C(TMS_MAGIC_F32));
  vf r = TMS_MADD(n, TMS_C(-(TMS_F32_LN2_LO)), tms_sub(TMS_MADD(n, TMS_C(-(TMS_F32_LN2_HI)), a), delta));
  vf ph = tms_mul(tms_scale_by_pow2_(tms_exp_reduced_(r), tt), TMS_C(TMS_INV_SQRT_2PI));
  vf acc = TMS_C(TMS_PHI_ERFCX(TMS_ERFCX_8));
  TMS_HSTEP(acc, t, TMS_PHI_ERFCX(TMS_ERFCX_7));
  TMS_HSTEP(acc, t, TMS_PHI_ERFCX(TMS_ERFCX_6));
  TMS_HSTEP(acc, t, TMS_PHI_ERFCX(TMS_ERFCX_5));
  TMS_HSTEP(acc, t, TMS_PHI_ERFCX(TMS_ERFCX_4));
  TMS_HSTEP(acc, t, TMS_PHI_ERFCX(TMS_ERFCX_3));
  TMS_HSTEP(acc, t, TMS_PHI_ERFCX(TMS_ERFCX_2));
  TMS_HSTEP(acc, t, TMS_PHI_ERFCX(TMS_ERFCX_1));
  TMS_HSTEP(acc, t, TMS_PHI_ERFCX(TMS_ERFCX_0));
  vf half = tms_mul(ph, tms_mul(t, acc)); /* erfc(|x|/√2)/2 */
  *Phi = tms_sel(tms_ge(x, tms_splat(0.0f)), tms_sub(tms_splat(1.0f), half), half);
  *phi = ph;
}

#endif /* TMS_VMATH_H */
