// tms-lab's native kernel, the blocks path: the dense path of small models over the blocks the WebAssembly
// kernel prepares (src/core/kernels/wasm/kernel/prepare.ts). A translation unit of its own (kernel.h), since
// one function per activation and shape is most of the addon's compile time.

#include "kernel.h"

namespace tms {
namespace {

#define TMS_INLINE inline __attribute__((always_inline))

/**
 * An elementwise activation, feature by feature, for R blocks side by side: y, e = y − x, loss += k·e²,
 * dz = k·e·act'(z).
 */
template <ActFn ACTIVATION>
struct Elementwise {
  template <int F, int R>
  static TMS_INLINE void mid(const vf (&z)[R][F], const vf (&x)[R][F], const vf *k, vf (&lossv)[R],
                             vf (&dz)[R][F]) {
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
};

/**
 * The softmax family over the features of each sample (lanes = samples, so its reductions run across the F
 * vectors), by the operations of the WebAssembly kernel's emitVectorMid (kernel/softmax.ts):
 *   softmax, softmin (on −z):  y = e^{z − max}/Σ,  dz = ±y⊙(dy − ⟨dy, y⟩)
 *   log_softmax:               y = z − max − ln Σ,  dz = dy − (e^{z − max}/Σ)·Σdy
 *   solu:                      y = z⊙p (p the softmax),  dz = dy⊙p + p⊙(dy⊙z − ⟨dy⊙z, p⟩)
 * with dy = k·e. Each block is one long chain (max, exp, sum, division, dot product), so R blocks run side
 * by side, each step for every block before the next.
 */
enum VectorId { SOFTMAX, SOFTMIN, LOG_SOFTMAX, SOLU };
template <VectorId ID>
struct SoftmaxFamily {
  template <int F, int R>
  static TMS_INLINE void mid(const vf (&zIn)[R][F], const vf (&x)[R][F], const vf *k, vf (&lossv)[R],
                             vf (&dz)[R][F]) {
    vf z[R][F], ex[R][F], dy[R][F], mx[R], sum[R];
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
    vf inv[R], prob[R][F], y[R][F], dot[R];
    for (int r = 0; r < R; r++) inv[r] = splat(1) / sum[r];
    for (int f = 0; f < F; f++)
      for (int r = 0; r < R; r++) {
        prob[r][f] = ex[r][f] * inv[r];
        y[r][f] = ID == SOLU ? prob[r][f] * z[r][f] : prob[r][f];
        lossTerm(r, f, y[r][f]);
      }
    if constexpr (ID == SOLU) {
      vf dyz[R][F];
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
};

/** An instance's parameters and sums while its blocks are trained (all in registers for small F·H). */
template <int F, int H>
struct BlocksState {
  vf w[F][H], bf[F], kf[F], gW[F][H], gb[F];
};

/**
 * R blocks of eight samples side by side (independent chains for the vector units; each block's operations
 * and sums are its own, in the same order, except ∇W, ∇b and the loss, which sum the R blocks in turn).
 */
template <typename MID, int F, int H, int R>
TMS_INLINE void trainBlocks(BlocksState<F, H> &st, const vf (&x)[R][F], vf (&lossv)[R]) {
  vf h[R][H], dh[R][H], z[R][F], dz[R][F];
  for (int r = 0; r < R; r++)
    for (int k = 0; k < H; k++) h[r][k] = dh[r][k] = splat(0);
  for (int f = 0; f < F; f++)
    for (int k = 0; k < H; k++)
      for (int r = 0; r < R; r++) h[r][k] = TMS_MADD(x[r][f], st.w[f][k], h[r][k]);
  for (int f = 0; f < F; f++)
    for (int r = 0; r < R; r++) {
      z[r][f] = st.bf[f];
      for (int k = 0; k < H; k++) z[r][f] = TMS_MADD(h[r][k], st.w[f][k], z[r][f]);
    }
  MID::template mid<F, R>(z, x, st.kf, lossv, dz);
  for (int f = 0; f < F; f++)
    for (int k = 0; k < H; k++)
      for (int r = 0; r < R; r++) dh[r][k] = TMS_MADD(dz[r][f], st.w[f][k], dh[r][k]);
  for (int r = 0; r < R; r++)
    for (int f = 0; f < F; f++) {
      st.gb[f] += dz[r][f];
      for (int k = 0; k < H; k++)
        st.gW[f][k] = TMS_MADD(x[r][f], dh[r][k], TMS_MADD(dz[r][f], h[r][k], st.gW[f][k]));
    }
}

/**
 * The dense path of a small model (F ≤ BLOCKS_MAX_F features, H ≤ BLOCKS_MAX_H) over the blocks the
 * WebAssembly kernel prepared for it (prepare.ts: the non-empty samples, four to a block, F vectors of four
 * lanes, 16·F bytes a block, consecutive). Two of them make one block of eight lanes here; per block
 *   h_k = Σ_f X[f]·W[f,k],  z_f = b_f + Σ_k h_k·W[f,k],  (loss, dz) = MID over the features,
 *   dh_k = Σ_f dz_f·W[f,k],  ∇W[f,k] += dz_f·h_k + X[f]·dh_k,  ∇b_f += dz_f,
 * with F and H known to the compiler, so W, ∇W and ∇b stay in registers across the batch. At F = 5 the
 * dense path over rows (denseInstance) lost to WebAssembly (copying rows into blocks cost more than the
 * block's work); these blocks are already transposed. Padding lanes are all-zero samples, counted out of n₀.
 */
template <typename MID, int F, int H>
double blocksInstance(const Instance &in) {
  // two blocks of eight side by side where their values fit in the registers with W and ∇W
  constexpr int R = F * H <= 12 ? 2 : 1;
  BlocksState<F, H> st;
  const double scale = 1.0 / (double(in.B) * F);
  for (int f = 0; f < F; f++) {
    st.bf[f] = splat(in.bias[f]);
    st.kf[f] = splat(float(2 * in.imp[f] * scale));
    st.gb[f] = splat(0);
    for (int k = 0; k < H; k++) {
      st.w[f][k] = splat(in.W[f * H + k]);
      st.gW[f][k] = splat(0);
    }
  }
  vf lossv[R];
  for (int r = 0; r < R; r++) lossv[r] = splat(0);
  // lanes 0–3 from one prepared block, 4–7 from the next (or zero: padding)
  const float zero[4] = {0, 0, 0, 0};
  auto load = [](const float *lo, const float *hi) -> vf {
    return (vf)_mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo)), _mm_loadu_ps(hi), 1);
  };
  const float *blk = in.value;
  const int n = in.nBlocks;
  int b = 0;
  for (; b + 2 * R <= n; b += 2 * R, blk += 8 * R * F) {
    vf x[R][F];
    for (int r = 0; r < R; r++)
      for (int f = 0; f < F; f++) x[r][f] = load(blk + 8 * F * r + 4 * f, blk + 8 * F * r + 4 * F + 4 * f);
    trainBlocks<MID, F, H, R>(st, x, lossv);
  }
  vf lossTail[1] = {splat(0)};
  for (; b < n; b += 2, blk += 8 * F) {
    vf x[1][F];
    for (int f = 0; f < F; f++) x[0][f] = load(blk + 4 * f, b + 1 < n ? blk + 4 * F + 4 * f : zero);
    trainBlocks<MID, F, H, 1>(st, x, lossTail);
  }
  // the all-zero samples (n₀ < 0 when padding lanes were computed as all-zero samples): z = b, x = 0
  const double n0 = in.B - 4 * (n + (n & 1));
  double loss = 0;
  for (int l = 0; l < VW; l++) {
    for (int r = 0; r < R; r++) loss += lossv[r][l];
    loss += lossTail[0][l];
  }
  vf zeros[1][F], l0[1] = {splat(0)}, g0[1][F];
  for (int f = 0; f < F; f++) zeros[0][f] = splat(0);
  MID::template mid<F, 1>(reinterpret_cast<const vf(&)[1][F]>(st.bf), zeros, st.kf, l0, g0);
  loss += n0 * double(l0[0][0]);
  for (int f = 0; f < F; f++) {
    double g = n0 * double(g0[0][f][0]);
    for (int l = 0; l < VW; l++) g += st.gb[f][l];
    in.gradB[f] = g;
    for (int k = 0; k < H; k++) {
      double a = 0;
      for (int l = 0; l < VW; l++) a += st.gW[f][k][l];
      in.gradW[f * H + k] = a;
    }
  }
  return 0.5 * loss;
}

template <typename MID, int F, int H>
constexpr PathFn blocksFn() {
  if constexpr (H < F) return &blocksInstance<MID, F, H>;
  else return nullptr;
}
template <typename MID, int F, int... Hs>
constexpr std::array<PathFn, BLOCKS_MAX_H> blocksRow(std::integer_sequence<int, Hs...>) {
  return {blocksFn<MID, F, Hs + 1>()...};
}
template <typename MID, int... Fs>
constexpr BlocksTable blocksTable(std::integer_sequence<int, Fs...>) {
  return {blocksRow<MID, Fs + 1>(std::make_integer_sequence<int, BLOCKS_MAX_H>())...};
}

}  // namespace

#define TMS_BLOCKS_ROW(name) blocksTable<Elementwise<tms_act_##name>>(std::make_integer_sequence<int, BLOCKS_MAX_F>()),
#define TMS_VECTOR_ROW(id) blocksTable<SoftmaxFamily<id>>(std::make_integer_sequence<int, BLOCKS_MAX_F>()),
// the elementwise activations, then the softmax family in TMS_VECTOR_IDS' order (kernel.h)
const BlocksTable BLOCKS[] = {TMS_ACTIVATIONS(TMS_BLOCKS_ROW) TMS_VECTOR_ROW(SOFTMAX) TMS_VECTOR_ROW(SOFTMIN)
                                  TMS_VECTOR_ROW(LOG_SOFTMAX) TMS_VECTOR_ROW(SOLU)};

}  // namespace tms
