// What native/kernel.cc (the Gram and dense paths, the N-API glue) and native/blocks.cc (the blocks path)
// share: the vector types and math, the generated activations, one instance's arguments. Two translation
// units, so that scripts/build-native.mjs compiles them side by side.

#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include <immintrin.h>

#include "vmath.h"  // vf, vi (8 float lanes), TMS_MADD, tms_sel, tms_vexp, …

static inline vf tms_c(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return tms_splat(f);
}

#include "activations.gen.h"

/*
 * The same math at 16 lanes (AVX-512), for two vectors of eight at once (mid.h's Elementwise). Each zmm
 * operation does what two ymm ones did, lane by lane the same, so the results are the same bits; what
 * changes is how much work each scheduler entry holds while a long chain (GELU's Φ: ≈ 41 operations,
 * ≈ 65 cycles deep) waits: a bare GELU loop takes 23.5 cycles per 8 lanes at 8 lanes, 18.3 at 16, the FMA
 * pipes' bound on this double-pumped Zen 4 (docs/speed.md, session 14). The 16-lane copy's opaque products
 * may use all 32 registers ("+v"); the 8-lane one keeps "+x" (with "+v" every demo row ran 11–17 % slower).
 */
#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define TMS_WIDE 1
namespace tms_wide {
#undef TMS_VMATH_H
#undef TMS_LANES
#define TMS_LANES 16
#undef TMS_OPAQUE
#define TMS_OPAQUE(v) __asm__("" : "+v"(v))
#include "vmath.h"
static inline vf tms_c(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return tms_splat(f);
}
#include "activations.gen.h"
}  // namespace tms_wide
#undef TMS_LANES
#define TMS_LANES 8
#undef TMS_OPAQUE
#define TMS_OPAQUE(v) __asm__("" : "+x"(v))
#endif

namespace tms {

constexpr int VW = 8;

typedef void (*ActFn)(vf, vf *, vf *);
#ifdef TMS_WIDE
typedef tms_wide::vf vw;
typedef void (*WideActFn)(vw, vw *, vw *);
/** Lanes 0–7 = a, 8–15 = b, and back. */
static inline vw joinWide(vf a, vf b) {
  return (vw)_mm512_insertf32x8(_mm512_castps256_ps512((__m256)a), (__m256)b, 1);
}
static inline vf lowHalf(vw w) { return (vf)_mm512_castps512_ps256((__m512)w); }
static inline vf highHalf(vw w) { return (vf)_mm512_extractf32x8_ps((__m512)w, 1); }
#else
typedef std::nullptr_t WideActFn;
#endif

struct Instance {
  int F, H, B;
  const float *W, *bias;
  const double *imp;
  const int32_t *rowStart, *feature;
  const float *value;
  double *gradW, *gradB;
  int nBlocks;  // the blocks path: how many blocks of four samples `value` holds
  bool csr;     // the dense path: read the samples from the CSR entries (feature, value), not dense rows
};

inline vf splat(float x) { return tms_splat(x); }

/** One instance's step on one path: its loss (∇W and ∇b written to the instance's places), or −1. */
typedef double (*PathFn)(const Instance &);

/**
 * The blocks path (blocks.cc) for F ≤ BLOCKS_MAX_F and H ≤ BLOCKS_MAX_H, H < F:
 * BLOCKS[activation][F − 1][H − 1], one function per shape so that W and the gradients stay in registers; empty entries stay in WebAssembly.
 */
constexpr int BLOCKS_MAX_F = 7, BLOCKS_MAX_H = 3;
typedef std::array<std::array<PathFn, BLOCKS_MAX_H>, BLOCKS_MAX_F> BlocksTable;
extern const BlocksTable BLOCKS[];

/**
 * The dense path for many features (tiled.cc), elementwise activations only: TILED[activation] for
 * F ≤ TILED_MAX_F and H ≤ TILED_MAX_H, reading the batch's CSR entries.
 */
constexpr int TILED_MAX_F = 1024, TILED_MAX_H = 256;
extern const PathFn TILED[];
extern const int N_TILED;

/**
 * The softmax family (activations acting on all features of a sample), after the elementwise ones in ids;
 * none in an addon built for one formula (TMS_ONE_ACTIVATION: experiments/formula-native.ts).
 */
#ifdef TMS_ONE_ACTIVATION
#define TMS_VECTOR_IDS
#else
#define TMS_VECTOR_IDS "softmax", "softmin", "log_softmax", "solu"
#endif

}  // namespace tms
