// tms-lab's native kernel, the blocks path: the dense path of small models over the blocks the WebAssembly
// kernel prepares (src/core/kernels/wasm/kernel/prepare.ts). A translation unit of its own (kernel.h), since
// one function per activation and shape is most of the addon's compile time.

#include "kernel.h"

namespace tms {
namespace {

/**
 * The dense path of a small model (F ≤ BLOCKS_MAX_F features, H ≤ BLOCKS_MAX_H) over the blocks the
 * WebAssembly kernel prepared for it (prepare.ts: the non-empty samples, four to a block, F vectors of four
 * lanes, 16·F bytes a block, consecutive). Two blocks make one block of eight lanes here; per block
 *   h_k = Σ_f X[f]·W[f,k],  z_f = b_f + Σ_k h_k·W[f,k],  dz_f = k_f·e·act'(z_f),  dh_k = Σ_f dz_f·W[f,k],
 *   ∇W[f,k] += dz_f·h_k + X[f]·dh_k,  ∇b_f += dz_f,
 * with F and H known to the compiler, so W, ∇W and ∇b stay in registers across the batch. At F = 5 the
 * dense path over rows (denseInstance) lost to WebAssembly (copying rows into blocks cost more than the
 * block's work); these blocks are already transposed. Padding lanes are all-zero samples, counted out of n₀.
 */
template <ActFn ACTIVATION, int F, int H>
double blocksInstance(const Instance &in) {
  vf w[F][H], bf[F], kf[F], gW[F][H], gb[F], lossv = splat(0);
  const double scale = 1.0 / (double(in.B) * F);
  for (int f = 0; f < F; f++) {
    bf[f] = splat(in.bias[f]);
    kf[f] = splat(float(2 * in.imp[f] * scale));
    gb[f] = splat(0);
    for (int k = 0; k < H; k++) {
      w[f][k] = splat(in.W[f * H + k]);
      gW[f][k] = splat(0);
    }
  }
  auto block = [&](const vf *x) {
    vf h[H], dh[H], dz[F];
    for (int k = 0; k < H; k++) {
      h[k] = splat(0);
      dh[k] = splat(0);
    }
    for (int f = 0; f < F; f++)
      for (int k = 0; k < H; k++) h[k] = TMS_MADD(x[f], w[f][k], h[k]);
    for (int f = 0; f < F; f++) {
      vf z = bf[f];
      for (int k = 0; k < H; k++) z = TMS_MADD(h[k], w[f][k], z);
      vf y, d;
      ACTIVATION(z, &y, &d);
      const vf e = y - x[f];
      const vf ke = kf[f] * e;
      lossv = TMS_MADD(ke, e, lossv);
      dz[f] = ke * d;
      for (int k = 0; k < H; k++) dh[k] = TMS_MADD(dz[f], w[f][k], dh[k]);
    }
    for (int f = 0; f < F; f++) {
      gb[f] += dz[f];
      for (int k = 0; k < H; k++) gW[f][k] = TMS_MADD(x[f], dh[k], TMS_MADD(dz[f], h[k], gW[f][k]));
    }
  };
  // lanes 0–3 from one block, 4–7 from the next
  auto load = [](const float *lo, const float *hi) -> vf {
    return (vf)_mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo)), _mm_loadu_ps(hi), 1);
  };
  const float *blk = in.value;
  const int n = in.nBlocks;
  int b = 0;
  for (; b + 2 <= n; b += 2, blk += 8 * F) {
    vf x[F];
    for (int f = 0; f < F; f++) x[f] = load(blk + 4 * f, blk + 4 * F + 4 * f);
    block(x);
  }
  if (b < n) {
    vf x[F];
    const float zero[4] = {0, 0, 0, 0};
    for (int f = 0; f < F; f++) x[f] = load(blk + 4 * f, zero);
    block(x);
  }
  const int rows = 4 * (n + (n & 1));
  const double n0 = in.B - rows;
  double loss = 0;
  for (int l = 0; l < VW; l++) loss += lossv[l];
  for (int f = 0; f < F; f++) {
    vf y, d;
    ACTIVATION(bf[f], &y, &d);
    const vf ke = kf[f] * y;
    loss += n0 * double((ke * y)[0]);
    double g = n0 * double((ke * d)[0]);
    for (int l = 0; l < VW; l++) g += gb[f][l];
    in.gradB[f] = g;
    for (int k = 0; k < H; k++) {
      double a = 0;
      for (int l = 0; l < VW; l++) a += gW[f][k][l];
      in.gradW[f * H + k] = a;
    }
  }
  return 0.5 * loss;
}

template <ActFn A, int F, int H>
constexpr PathFn blocksFn() {
  if constexpr (H < F) return &blocksInstance<A, F, H>;
  else return nullptr;
}
template <ActFn A, int F, int... Hs>
constexpr std::array<PathFn, BLOCKS_MAX_H> blocksRow(std::integer_sequence<int, Hs...>) {
  return {blocksFn<A, F, Hs + 1>()...};
}
template <ActFn A, int... Fs>
constexpr BlocksTable blocksTable(std::integer_sequence<int, Fs...>) {
  return {blocksRow<A, Fs + 1>(std::make_integer_sequence<int, BLOCKS_MAX_H>())...};
}

}  // namespace

#define TMS_BLOCKS_ROW(name) blocksTable<tms_act_##name>(std::make_integer_sequence<int, BLOCKS_MAX_F>()),
const BlocksTable BLOCKS[] = {TMS_ACTIVATIONS(TMS_BLOCKS_ROW)};

}  // namespace tms
