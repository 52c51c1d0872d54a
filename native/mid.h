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

/** An elementwise activation: y = act(z), e = y − x, loss += k·e², dz = k·e·act'(z). */
template <ActFn ACTIVATION>
struct Elementwise {
  template <int FMAX, int R>
  static TMS_INLINE void samples(const vf (&z)[R][FMAX], const vf (&x)[R][FMAX], const vf *k, vf (&lossv)[R],
                                 vf (&dz)[R][FMAX], int F = FMAX) {
    for (int f = 0; f < F; f++)
      for (int r = 0; r < R; r++) {
        vf y, d;
        ACTIVATION(z[r][f], &y, &d);
        const vf e = y - x[r][f];
        const vf ke = k[f] * e;
        lossv[r] = TMS_MADD(ke, e, lossv[r]);
        dz[r][f] = ke * d;
      }
  }
  /** (k is 0 in the padding lanes, so they add nothing to the loss and get dz = 0.) */
  template <int NV, int R>
  static TMS_INLINE void features(const vf (&z)[R][NV], const vf (&x)[R][NV], const vf *k, const vi *,
                                  vf (&lossv)[R], vf (&dz)[R][NV]) {
    for (int r = 0; r < R; r++)
      for (int v = 0; v < NV; v++) {
        vf y, d;
        ACTIVATION(z[r][v], &y, &d);
        const vf e = y - x[r][v];
        const vf ke = k[v] * e;
        lossv[r] = TMS_MADD(ke, e, lossv[r]);
        dz[r][v] = ke * d;
      }
  }
};

/**
 * The softmax family, with dy = k·e:
 *   softmax, softmin (on −z):  y = e^{z − max}/Σ,  dz = ±y⊙(dy − ⟨dy, y⟩)
 *   log_softmax:               y = z − max − ln Σ,  dz = dy − (e^{z − max}/Σ)·Σdy
 *   solu:                      y = z⊙p (p the softmax),  dz = dy⊙p + p⊙(dy⊙z − ⟨dy⊙z, p⟩)
 * A sample is one long chain (max, exp, sum, division, dot product), so the samples layout runs R blocks
 * side by side, each step for every block before the next.
 */
enum VectorId { SOFTMAX, SOFTMIN, LOG_SOFTMAX, SOLU };
template <VectorId ID>
struct SoftmaxFamily {
  template <int FMAX, int R>
  static TMS_INLINE void samples(const vf (&zIn)[R][FMAX], const vf (&x)[R][FMAX], const vf *k,
                                 vf (&lossv)[R], vf (&dz)[R][FMAX], int F = FMAX) {
    vf z[R][FMAX], ex[R][FMAX], dy[R][FMAX], mx[R], sum[R];
    for (int r = 0; r < R; r++)
      for (int f = 0; f < F; f++) z[r][f] = ID == SOFTMIN ? -zIn[r][f] : zIn[r][f];
    for (int r = 0; r < R; r++) mx[r] = z[r][0];
    for (int f = 1; f < F; f++)
      for (int r = 0; r < R; r++) mx[r] = tms_pmax(mx[r], z[r][f]);
    for (int f = 0; f < F; f++)
      for (int r = 0; r < R; r++) {
        ex[r][f] = tms_vexp(z[r][f] - mx[r], TMS_EXP_NORMAL);
        sum[r] = f == 0 ? ex[r][f] : sum[r] + ex[r][f];
      }
    auto lossTerm = [&](int r, int f, vf y) {
      const vf e = y - x[r][f];
      const vf ke = k[f] * e;
      lossv[r] = TMS_MADD(ke, e, lossv[r]);
      dy[r][f] = ke;
    };
    if constexpr (ID == LOG_SOFTMAX) {
      vf logSum[R], total[R], inv[R];
      for (int r = 0; r < R; r++) logSum[r] = mx[r] + tms_vlog(sum[r]);
      for (int f = 0; f < F; f++)
        for (int r = 0; r < R; r++) {
          lossTerm(r, f, z[r][f] - logSum[r]);
          total[r] = f == 0 ? dy[r][f] : total[r] + dy[r][f];
        }
      for (int r = 0; r < R; r++) inv[r] = splat(1) / sum[r];
      for (int f = 0; f < F; f++)
        for (int r = 0; r < R; r++) dz[r][f] = dy[r][f] - (ex[r][f] * inv[r]) * total[r];
      return;
    }
    vf inv[R], prob[R][FMAX], y[R][FMAX], dot[R];
    for (int r = 0; r < R; r++) inv[r] = splat(1) / sum[r];
    for (int f = 0; f < F; f++)
      for (int r = 0; r < R; r++) {
        prob[r][f] = ex[r][f] * inv[r];
        y[r][f] = ID == SOLU ? prob[r][f] * z[r][f] : prob[r][f];
        lossTerm(r, f, y[r][f]);
      }
    if constexpr (ID == SOLU) {
      vf dyz[R][FMAX];
      for (int f = 0; f < F; f++)
        for (int r = 0; r < R; r++) {
          dyz[r][f] = dy[r][f] * z[r][f];
          dot[r] = f == 0 ? dyz[r][f] * prob[r][f] : dot[r] + dyz[r][f] * prob[r][f];
        }
      for (int f = 0; f < F; f++)
        for (int r = 0; r < R; r++) dz[r][f] = dy[r][f] * prob[r][f] + prob[r][f] * (dyz[r][f] - dot[r]);
    } else {
      for (int f = 0; f < F; f++)
        for (int r = 0; r < R; r++) dot[r] = f == 0 ? dy[r][f] * y[r][f] : dot[r] + dy[r][f] * y[r][f];
      for (int f = 0; f < F; f++)
        for (int r = 0; r < R; r++) {
          const vf v = y[r][f] * (dy[r][f] - dot[r]);
          dz[r][f] = ID == SOFTMIN ? -v : v;
        }
    }
  }

  /** R rows, lanes = features; `valid` marks the lanes below F (the padding lanes are left out). */
  template <int NV, int R>
  static TMS_INLINE void features(const vf (&zIn)[R][NV], const vf (&x)[R][NV], const vf *k, const vi *valid,
                                  vf (&lossv)[R], vf (&dz)[R][NV]) {
    const vf lowest = splat(-__builtin_inff());
    vf z[R][NV], ex[R][NV], dy[R][NV], mx[R], sum[R], t[R];
    for (int r = 0; r < R; r++)
      for (int v = 0; v < NV; v++) z[r][v] = ID == SOFTMIN ? -zIn[r][v] : zIn[r][v];
    for (int r = 0; r < R; r++) {
      vf m = tms_sel(valid[0], z[r][0], lowest);
      for (int v = 1; v < NV; v++) m = tms_pmax(m, tms_sel(valid[v], z[r][v], lowest));
      mx[r] = hmax(m);
    }
    for (int v = 0; v < NV; v++)
      for (int r = 0; r < R; r++) {
        ex[r][v] = tms_and(tms_vexp(z[r][v] - mx[r], TMS_EXP_NORMAL), valid[v]);
        t[r] = v == 0 ? ex[r][v] : t[r] + ex[r][v];
      }
    for (int r = 0; r < R; r++) sum[r] = hsum(t[r]);
    auto lossTerm = [&](int r, int v, vf y) {
      const vf e = y - x[r][v];
      const vf ke = k[v] * e;
      lossv[r] = TMS_MADD(ke, e, lossv[r]);
      dy[r][v] = ke;
    };
    if constexpr (ID == LOG_SOFTMAX) {
      vf logSum[R], total[R], inv[R];
      for (int r = 0; r < R; r++) logSum[r] = mx[r] + tms_vlog(sum[r]);
      for (int v = 0; v < NV; v++)
        for (int r = 0; r < R; r++) {
          lossTerm(r, v, tms_and(z[r][v] - logSum[r], valid[v]));
          t[r] = v == 0 ? dy[r][v] : t[r] + dy[r][v];
        }
      for (int r = 0; r < R; r++) {
        total[r] = hsum(t[r]);
        inv[r] = splat(1) / sum[r];
      }
      for (int v = 0; v < NV; v++)
        for (int r = 0; r < R; r++) dz[r][v] = tms_and(dy[r][v] - (ex[r][v] * inv[r]) * total[r], valid[v]);
      return;
    }
    vf inv[R], prob[R][NV], y[R][NV], dot[R];
    for (int r = 0; r < R; r++) inv[r] = splat(1) / sum[r];
    for (int v = 0; v < NV; v++)
      for (int r = 0; r < R; r++) {
        prob[r][v] = ex[r][v] * inv[r];
        y[r][v] = ID == SOLU ? prob[r][v] * z[r][v] : prob[r][v];
        lossTerm(r, v, y[r][v]);
      }
    if constexpr (ID == SOLU) {
      vf dyz[R][NV];
      for (int v = 0; v < NV; v++)
        for (int r = 0; r < R; r++) {
          dyz[r][v] = dy[r][v] * z[r][v];
          t[r] = v == 0 ? dyz[r][v] * prob[r][v] : t[r] + dyz[r][v] * prob[r][v];
        }
      for (int r = 0; r < R; r++) dot[r] = hsum(t[r]);
      for (int v = 0; v < NV; v++)
        for (int r = 0; r < R; r++)
          dz[r][v] = tms_and(dy[r][v] * prob[r][v] + prob[r][v] * (dyz[r][v] - dot[r]), valid[v]);
    } else {
      for (int v = 0; v < NV; v++)
        for (int r = 0; r < R; r++) t[r] = v == 0 ? dy[r][v] * y[r][v] : t[r] + dy[r][v] * y[r][v];
      for (int r = 0; r < R; r++) dot[r] = hsum(t[r]);
      for (int v = 0; v < NV; v++)
        for (int r = 0; r < R; r++) {
          const vf w = y[r][v] * (dy[r][v] - dot[r]);
          dz[r][v] = tms_and(ID == SOFTMIN ? -w : w, valid[v]);
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
