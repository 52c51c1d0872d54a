// tms-lab's native kernel, the blocks path: the dense path of small models over the blocks the WebAssembly
// kernel prepares (src/core/kernels/wasm/kernel/prepare.ts). A translation unit of its own (kernel.h), since
// one function per activation and shape is most of the addon's compile time.

#include "mid.h"

namespace tms {
namespace {

/** An instance's parameters and sums while its blocks are trained (all in registers for small F·H). */
template <int F, int H>
struct BlocksState {
  vf w[F][H], bf[F], kf[F], gW[F][H], gb[F];
};

/** h_k = Σ_f X[f]·W[f,k], z_f = b_f + Σ_k h_k·W[f,k] for R blocks of eight samples side by side. */
template <int F, int H, int R>
TMS_INLINE void forwardBlocks(const BlocksState<F, H> &st, const vf (&x)[R][F], vf (&h)[R][H], vf (&z)[R][F]) {
  for (int r = 0; r < R; r++)
    for (int k = 0; k < H; k++) h[r][k] = splat(0);
  for (int f = 0; f < F; f++)
    for (int k = 0; k < H; k++)
      for (int r = 0; r < R; r++) h[r][k] = TMS_MADD(x[r][f], st.w[f][k], h[r][k]);
  for (int f = 0; f < F; f++)
    for (int r = 0; r < R; r++) {
      z[r][f] = st.bf[f];
      for (int k = 0; k < H; k++) z[r][f] = TMS_MADD(h[r][k], st.w[f][k], z[r][f]);
    }
}

/** dh_k = Σ_f dz_f·W[f,k], then ∇W[f,k] += dz_f·h_k + X[f]·dh_k and ∇b_f += dz_f, block after block. */
template <int F, int H, int R>
TMS_INLINE void backwardBlocks(BlocksState<F, H> &st, const vf (&x)[R][F], const vf (&h)[R][H],
                               const vf (&dz)[R][F]) {
  vf dh[R][H];
  for (int r = 0; r < R; r++)
    for (int k = 0; k < H; k++) dh[r][k] = splat(0);
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
 * R blocks of eight samples side by side (independent chains for the vector units; each block's operations
 * and sums are its own, in the same order, except ∇W, ∇b and the loss, which sum the R blocks in turn).
 */
template <typename MID, int F, int H, int R>
TMS_INLINE void trainBlocks(BlocksState<F, H> &st, const vf (&x)[R][F], vf (&lossv)[R]) {
  vf h[R][H], z[R][F], dz[R][F];
  forwardBlocks<F, H, R>(st, x, h, z);
  MID::template run<F, R, false>(z, x, st.kf, nullptr, lossv, dz);
  backwardBlocks<F, H, R>(st, x, h, dz);
}

/**
 * trainBlocks for up to CHUNK groups of R blocks in three passes (all forwards, all activations, all
 * backwards) with the same operations in the same order. The activation pass then runs without W and ∇W
 * in registers: a heavy activation (GELU's Φ, mish) has the registers and the core's schedulers to itself
 * instead of spilling around W and ∇W.
 */
template <typename MID, int F, int H, int R, int CHUNK>
TMS_INLINE void trainChunk(BlocksState<F, H> &st, const vf (&x)[CHUNK][R][F], int groups, vf (&lossv)[R]) {
  vf h[CHUNK][R][H], z[CHUNK][R][F], dz[CHUNK][R][F];
  for (int g = 0; g < groups; g++) forwardBlocks<F, H, R>(st, x[g], h[g], z[g]);
  if constexpr (MID::HEAVY) {
    vf y[CHUNK][R][F], d[CHUNK][R][F];
    MID::template runGroups<F, R>(z, x, st.kf, lossv, dz, y, d, groups);
  } else {
    for (int g = 0; g < groups; g++) MID::template run<F, R, false>(z[g], x[g], st.kf, nullptr, lossv, dz[g]);
  }
  for (int g = 0; g < groups; g++) backwardBlocks<F, H, R>(st, x[g], h[g], dz[g]);
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
  constexpr int CHUNK = MID::HEAVY ? 8 : 1;
  while (b + 2 * R <= n) {
    vf x[CHUNK][R][F];
    int groups = 0;
    for (; groups < CHUNK && b + 2 * R <= n; groups++, b += 2 * R, blk += 8 * R * F)
      for (int r = 0; r < R; r++)
        for (int f = 0; f < F; f++)
          x[groups][r][f] = load(blk + 8 * F * r + 4 * f, blk + 8 * F * r + 4 * F + 4 * f);
    trainChunk<MID, F, H, R, CHUNK>(st, x, groups, lossv);
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
  MID::template run<F, 1, false>(reinterpret_cast<const vf(&)[1][F]>(st.bf), zeros, st.kf, nullptr, l0,
                                 g0);
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

#define TMS_BLOCKS_ROW(MID) blocksTable<MID>(std::make_integer_sequence<int, BLOCKS_MAX_F>()),
#define TMS_ELEMENTWISE_ROW(name) TMS_BLOCKS_ROW(TMS_ELEMENTWISE(name))
const BlocksTable BLOCKS[] = {TMS_ACTIVATIONS(TMS_ELEMENTWISE_ROW) TMS_VECTOR_MIDS(TMS_BLOCKS_ROW)};

}  // namespace tms
