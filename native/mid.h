// The middle of a step, between z and dz, for every path of the native kernel: from z (the pre-activation)
// and x (the input, also the target), the loss Σ k·e² with e = act(z) − x, and dz = ∂loss/∂z (with k·e in
// place of e: the caller's k = 2·importance/(B·F)). Two layouts:
//  * samples: lanes = samples, a vector per feature (the dense and blocks paths); R blocks side by side;
//  * features: lanes = features, NV vectors a row (the Gram path); lanes at or past F are padding.
// Elementwise activations act lane by lane; the softmax family reduces over the features, across vectors
// (samples layout) or across lanes too (features layout), by the operations of the WebAssembly kernel's
// emitVectorMid (src/core/kernels/wasm/kernel/softmax.ts).

#pragma once

#include "kernel.h"

namespace tms {

#define TMS_INLINE inline __attribute__((always_inline))

/** max and sum over the eight lanes, the result in every lane. */
static TMS_INLINE vf hmax(vf v) {
  v = tms_pmax(v, __builtin_shuffle(v, vi{4, 5, 6, 7, 0, 1, 2, 3}));
  v = tms_pmax(v, __builtin_shuffle(v, vi{2, 3, 0, 1, 6, 7, 4, 5}));
  return tms_pmax(v, __builtin_shuffle(v, vi{1, 0, 3, 2, 5, 4, 7, 6}));
}
static TMS_INLINE vf hsum(vf v) {
  v = v + __builtin_shuffle(v, vi{4, 5, 6, 7, 0, 1, 2, 3});
  v = v + __builtin_shuffle(v, vi{2, 3, 0, 1, 6, 7, 4, 5});
  return v + __builtin_shuffle(v, vi{1, 0, 3, 2, 5, 4, 7, 6});
}

/**
 * The arguments of every MID's `run`: R rows (samples layout: R blocks) of N vectors, n of them in use; k
 * per vector (the caller's 2·importance/(B·F), splat per feature or per lane); `valid` (features layout)
 * the lanes below F; lossv[r] += k·e², dz = ∂loss/∂z.
 */
#define TMS_MID_ARGS                                                                                     \
  const vf(&z)[R][N], const vf(&x)[R][N], const vf *k, const vi *valid, vf(&lossv)[R], vf(&dz)[R][N], \
      int n = N

/** An elementwise activation: y = act(z), e = y − x, loss += k·e², dz = k·e·act'(z), lane by lane. */
template <ActFn ACTIVATION, WideActFn WIDE, bool LIGHT>
struct Elementwise {
  /** Worth the blocks path's separate activation pass (blocks.cc trainChunk). */
  static constexpr bool HEAVY = !LIGHT;
  /** One vector's e = y − x: loss += k·e², dz = k·e·d. */
  static TMS_INLINE void lossAndDz(vf y, vf d, vf x, vf k, vf &loss, vf &dz) {
    const vf e = y - x;
    const vf ke = k * e;
    loss = TMS_MADD(ke, e, loss);
    dz = ke * d;
  }
  /**
   * (In the features layout k is 0 in the padding lanes, so they add nothing to the loss and get dz = 0.)
   * With AVX-512 the activation runs on two of the R·n vectors at once (WIDE, 16 lanes); the loss and dz
   * follow in the same order as one at a time, so the sums are the same.
   */
  template <int N, int R, bool FEATURES>
  static TMS_INLINE void run(TMS_MID_ARGS) {
    (void)valid;
    auto lossAndDzAt = [&](int r, int v, vf y, vf d) {
      lossAndDz(y, d, x[r][v], k[v], lossv[r], dz[r][v]);
    };
    if constexpr (LIGHT) {
      for (int v = 0; v < n; v++)
        for (int r = 0; r < R; r++) {
          vf y, d;
          ACTIVATION(z[r][v], &y, &d);
          lossAndDzAt(r, v, y, d);
        }
      return;
    }
    int i = 0;  // vector i is z[i % R][i / R]
#ifdef TMS_WIDE
    for (; i + 1 < R * n; i += 2) {
      vw y, d;
      WIDE(joinWide(z[i % R][i / R], z[(i + 1) % R][(i + 1) / R]), &y, &d);
      lossAndDzAt(i % R, i / R, lowHalf(y), lowHalf(d));
      lossAndDzAt((i + 1) % R, (i + 1) / R, highHalf(y), highHalf(d));
    }
#endif
    for (; i < R * n; i++) {
      vf y, d;
      ACTIVATION(z[i % R][i / R], &y, &d);
      lossAndDzAt(i % R, i / R, y, d);
    }
  }

  /** (y, d) = (act(z), act′(z)) for `count` consecutive vectors, two at a time with AVX-512. */
  static TMS_INLINE void activate(const vf *z, vf *y, vf *d, int count) {
    int j = 0;
#ifdef TMS_WIDE
    for (; j + 1 < count; j += 2) {
      vw zz, yy, dd;
      std::memcpy(&zz, z + j, sizeof zz);
      WIDE(zz, &yy, &dd);
      std::memcpy(y + j, &yy, sizeof yy);
      std::memcpy(d + j, &dd, sizeof dd);
    }
#endif
    for (; j < count; j++) ACTIVATION(z[j], y + j, d + j);
  }

  /**
   * run() over `groups` consecutive groups of R rows of N vectors (the samples layout), in two passes: the
   * activation over all of them as one flat array, two vectors at a time with AVX-512 (a loop with nothing
   * else in it, so the core overlaps one pair's long chain with the next), then the loss and dz in run()'s
   * order (so the same sums).
   */
  template <int N, int R>
  static TMS_INLINE void runGroups(const vf (*z)[R][N], const vf (*x)[R][N], const vf *k, vf (&lossv)[R],
                                   vf (*dz)[R][N], vf (*y)[R][N], vf (*d)[R][N], int groups) {
    activate(&z[0][0][0], &y[0][0][0], &d[0][0][0], groups * R * N);
    for (int g = 0; g < groups; g++)
      for (int v = 0; v < N; v++)
        for (int r = 0; r < R; r++)
          lossAndDz(y[g][r][v], d[g][r][v], x[g][r][v], k[v], lossv[r], dz[g][r][v]);
  }
};

/** The Elementwise MID of table entry `name` (activations.gen.h). */
#ifdef TMS_WIDE
#define TMS_ELEMENTWISE(name) Elementwise<tms_act_##name, tms_wide::tms_act_##name, tms_light_##name>
#else
#define TMS_ELEMENTWISE(name) Elementwise<tms_act_##name, nullptr, tms_light_##name>
#endif

/**
 * The softmax family, with dy = k·e:
 *   softmax, softmin (on −z):  y = e^{z − max}/Σ,  dz = ±y⊙(dy − ⟨dy, y⟩)
 *   log_softmax:               y = z − max − ln Σ,  dz = dy − (e^{z − max}/Σ)·Σdy
 *   solu:                      y = z⊙p (p the softmax),  dz = dy⊙p + p⊙(dy⊙z − ⟨dy⊙z, p⟩)
 * Its reductions run across the vectors and, in the features layout, across the lanes too, with the
 * padding lanes left out. A sample is one long chain (max, exp, sum, division, dot product), so the
 * samples layout runs R blocks side by side, each step for every block before the next.
 */
enum VectorId { SOFTMAX, SOFTMIN, LOG_SOFTMAX, SOLU };
template <VectorId ID>
struct SoftmaxFamily {
  static constexpr bool HEAVY = false;
  template <int N, int R, bool FEATURES>
  static TMS_INLINE void run(TMS_MID_ARGS) {
    const vf lowest = splat(-__builtin_inff());
    auto keep = [&](int v, vf a) { return FEATURES ? tms_and(a, valid[v]) : a; };
    /** Per row, Σ over the vectors of term(r, v) (in order; rows interleaved), then across the lanes in the
     * features layout. */
    auto sumsOf = [&](vf(&out)[R], auto term) {
      for (int r = 0; r < R; r++) out[r] = term(r, 0);
      for (int v = 1; v < n; v++)
        for (int r = 0; r < R; r++) out[r] = out[r] + term(r, v);
      if (FEATURES)
        for (int r = 0; r < R; r++) out[r] = hsum(out[r]);
    };
    vf zs[R][N], ex[R][N], dy[R][N], mx[R], sum[R], inv[R];
    for (int r = 0; r < R; r++)
      for (int v = 0; v < n; v++) zs[r][v] = ID == SOFTMIN ? -z[r][v] : z[r][v];
    for (int r = 0; r < R; r++) mx[r] = FEATURES ? tms_sel(valid[0], zs[r][0], lowest) : zs[r][0];
    for (int v = 1; v < n; v++)
      for (int r = 0; r < R; r++)
        mx[r] = tms_pmax(mx[r], FEATURES ? tms_sel(valid[v], zs[r][v], lowest) : zs[r][v]);
    if (FEATURES)
      for (int r = 0; r < R; r++) mx[r] = hmax(mx[r]);
    for (int v = 0; v < n; v++)
      for (int r = 0; r < R; r++) ex[r][v] = keep(v, tms_vexp(zs[r][v] - mx[r], TMS_EXP_NORMAL));
    sumsOf(sum, [&](int r, int v) { return ex[r][v]; });
    for (int r = 0; r < R; r++) inv[r] = splat(1) / sum[r];
    auto lossTerm = [&](int r, int v, vf y) {
      const vf e = y - x[r][v];
      const vf ke = k[v] * e;
      lossv[r] = TMS_MADD(ke, e, lossv[r]);
      dy[r][v] = ke;
    };
    if constexpr (ID == LOG_SOFTMAX) {
      vf logSum[R], total[R];
      for (int r = 0; r < R; r++) logSum[r] = mx[r] + tms_vlog(sum[r]);
      for (int v = 0; v < n; v++)
        for (int r = 0; r < R; r++) lossTerm(r, v, keep(v, zs[r][v] - logSum[r]));
      sumsOf(total, [&](int r, int v) { return dy[r][v]; });
      for (int v = 0; v < n; v++)
        for (int r = 0; r < R; r++) dz[r][v] = keep(v, dy[r][v] - (ex[r][v] * inv[r]) * total[r]);
      return;
    }
    vf prob[R][N], y[R][N], dot[R];
    for (int v = 0; v < n; v++)
      for (int r = 0; r < R; r++) {
        prob[r][v] = ex[r][v] * inv[r];
        y[r][v] = ID == SOLU ? prob[r][v] * zs[r][v] : prob[r][v];
        lossTerm(r, v, y[r][v]);
      }
    if constexpr (ID == SOLU) {
      vf dyz[R][N];
      for (int v = 0; v < n; v++)
        for (int r = 0; r < R; r++) dyz[r][v] = dy[r][v] * zs[r][v];
      sumsOf(dot, [&](int r, int v) { return dyz[r][v] * prob[r][v]; });
      for (int v = 0; v < n; v++)
        for (int r = 0; r < R; r++)
          dz[r][v] = keep(v, dy[r][v] * prob[r][v] + prob[r][v] * (dyz[r][v] - dot[r]));
    } else {
      sumsOf(dot, [&](int r, int v) { return dy[r][v] * y[r][v]; });
      for (int v = 0; v < n; v++)
        for (int r = 0; r < R; r++) {
          const vf w = y[r][v] * (dy[r][v] - dot[r]);
          dz[r][v] = keep(v, ID == SOFTMIN ? -w : w);
        }
    }
  }
};

/** X(MID) for the softmax family, in TMS_VECTOR_IDS' order (after the elementwise activations). */
#ifdef TMS_ONE_ACTIVATION
#define TMS_VECTOR_MIDS(X)
#else
#define TMS_VECTOR_MIDS(X) \
  X(SoftmaxFamily<SOFTMAX>) X(SoftmaxFamily<SOFTMIN>) X(SoftmaxFamily<LOG_SOFTMAX>) X(SoftmaxFamily<SOLU>)
#endif

}  // namespace tms
