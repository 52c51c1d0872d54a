// tms-lab's native kernel, the dense path for many features (F > 32, the sparsity and geometry presets):
// src/core/kernels/wasm/kernel/dense-tiled.ts's five matrix products, with 8 lanes and 32 registers. A
// chunk of up to NB blocks of eight non-empty samples (lanes = samples) is scattered from the batch's CSR
// entries into X (a vector per feature and block), then
//   h = X W,  z = b + h Wᵀ,  (loss, dz) = act over z,  dh = dZ W,  ∇W += dZᵀ h + Xᵀ dh,  ∇b += dZ,
// each product a loop over a small tile of accumulators kept in registers for its whole sum, W broadcast
// from a padded copy (F and H rounded up to the tiles' 4). ∇W and ∇b sum in vectors of lane partial sums
// across the chunks, reduced at the end; the padding lanes of the last block are all-zero samples, counted
// out of the n₀ all-zero samples, which add n₀ times one sample at z = b, x = 0. Elementwise activations
// only (the softmax family stays in WebAssembly).

#include <vector>

#include "mid.h"

namespace tms {
namespace {

constexpr int NB = 16;  // blocks of eight samples a chunk
constexpr int T = 4;    // a tile's rows and columns

/** Per-thread scratch, grown to the largest model seen. */
struct Scratch {
  std::vector<vf> X, Z, DZ, GW, GB;
  std::vector<float> W;
  void fit(int FP, int HP) {
    const size_t chunk = size_t(FP) * NB;
    if (X.size() < chunk) X.resize(chunk), Z.resize(chunk), DZ.resize(chunk);
    if (GW.size() < size_t(FP) * HP) GW.resize(size_t(FP) * HP);
    if (GB.size() < size_t(FP)) GB.resize(FP);
    if (W.size() < size_t(FP) * HP) W.resize(size_t(FP) * HP);
  }
};
thread_local Scratch scratch;

/**
 * out[b][k] = Σ_f in[f][b] · W[f][k] for blocks [0, nb) and hidden units [0, HP): h = X W and dh = dZ W
 * (`in` a vector per feature and block, NB blocks a feature; out HP vectors a block).
 */
inline void timesW(const vf *in, const float *W, int FP, int HP, int nb, vf *out) {
  int b0 = 0;
  for (; b0 + T <= nb; b0 += T)
    for (int k0 = 0; k0 < HP; k0 += T) {
      vf acc[T][T];
      for (int r = 0; r < T; r++)
        for (int c = 0; c < T; c++) acc[r][c] = splat(0);
      for (int f = 0; f < FP; f++) {
        // the operands in registers (left to itself the compiler folds x into every multiply-add, and the
        // loads bound the loop)
        vf x[T], w[T];
        for (int r = 0; r < T; r++) {
          x[r] = in[f * NB + b0 + r];
          TMS_OPAQUE(x[r]);
        }
        for (int c = 0; c < T; c++) w[c] = splat(W[f * HP + k0 + c]);
        for (int r = 0; r < T; r++)
          for (int c = 0; c < T; c++) acc[r][c] = TMS_MADD(x[r], w[c], acc[r][c]);
      }
      for (int r = 0; r < T; r++)
        for (int c = 0; c < T; c++) out[(b0 + r) * HP + k0 + c] = acc[r][c];
    }
  for (; b0 < nb; b0++)
    for (int k0 = 0; k0 < HP; k0 += T) {
      vf acc[T];
      for (int c = 0; c < T; c++) acc[c] = splat(0);
      for (int f = 0; f < FP; f++) {
        const vf x = in[f * NB + b0];
        for (int c = 0; c < T; c++) acc[c] = TMS_MADD(x, splat(W[f * HP + k0 + c]), acc[c]);
      }
      for (int c = 0; c < T; c++) out[b0 * HP + k0 + c] = acc[c];
    }
}

/** Z[f][b] = b_f + Σ_k h[b][k] · W[f][k]: z = b + h Wᵀ. */
inline void plusHWt(const vf *h, const float *W, const vf *bias, int FP, int HP, int nb, vf *Z) {
  for (int f0 = 0; f0 < FP; f0 += T) {
    int b0 = 0;
    for (; b0 + T <= nb; b0 += T) {
      vf acc[T][T];
      for (int r = 0; r < T; r++)
        for (int c = 0; c < T; c++) acc[r][c] = bias[f0 + c];
      for (int k = 0; k < HP; k++) {
        vf hk[T], w[T];
        for (int r = 0; r < T; r++) {
          hk[r] = h[(b0 + r) * HP + k];
          TMS_OPAQUE(hk[r]);
        }
        for (int c = 0; c < T; c++) w[c] = splat(W[(f0 + c) * HP + k]);
        for (int r = 0; r < T; r++)
          for (int c = 0; c < T; c++) acc[r][c] = TMS_MADD(hk[r], w[c], acc[r][c]);
      }
      for (int r = 0; r < T; r++)
        for (int c = 0; c < T; c++) Z[(f0 + c) * NB + b0 + r] = acc[r][c];
    }
    for (; b0 < nb; b0++) {
      vf acc[T];
      for (int c = 0; c < T; c++) acc[c] = bias[f0 + c];
      for (int k = 0; k < HP; k++) {
        const vf hk = h[b0 * HP + k];
        for (int c = 0; c < T; c++) acc[c] = TMS_MADD(hk, splat(W[(f0 + c) * HP + k]), acc[c]);
      }
      for (int c = 0; c < T; c++) Z[(f0 + c) * NB + b0] = acc[c];
    }
  }
}

/**
 * GW[f][k] += Σ_b A[f][b]·P[b][k]: one of ∇W's two products (dZᵀ h, then Xᵀ dh), lane partial sums. One
 * product at a time, so that a tile's operands fit the registers beside its accumulators (both at once,
 * the compiler reloaded them for every multiply-add and the loads bound the loop).
 */
inline void addProduct(const vf *A, const vf *P, int FP, int HP, int nb, vf *GW) {
  for (int f0 = 0; f0 < FP; f0 += T)
    for (int k0 = 0; k0 < HP; k0 += T) {
      vf acc[T][T];
      for (int r = 0; r < T; r++)
        for (int c = 0; c < T; c++) acc[r][c] = GW[(f0 + r) * HP + k0 + c];
      for (int b = 0; b < nb; b++) {
        vf a[T], q[T];
        for (int r = 0; r < T; r++) {
          a[r] = A[(f0 + r) * NB + b];
          TMS_OPAQUE(a[r]);
        }
        for (int c = 0; c < T; c++) {
          q[c] = P[b * HP + k0 + c];
          TMS_OPAQUE(q[c]);
        }
        for (int r = 0; r < T; r++)
          for (int c = 0; c < T; c++) acc[r][c] = TMS_MADD(a[r], q[c], acc[r][c]);
      }
      for (int r = 0; r < T; r++)
        for (int c = 0; c < T; c++) GW[(f0 + r) * HP + k0 + c] = acc[r][c];
    }
}

/** Eight full rows of F values (samples) as X's vectors f of block b (lanes = samples): 8 × 8 transposes. */
inline void transposeRows(const float *const (&row)[VW], int F, vf *X, int b) {
  int f = 0;
  for (; f + 8 <= F; f += 8) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(row[i] + f);
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4)
      for (int j = 0; j < 2; j++) {
        r[i + j] = _mm256_shuffle_ps(t[i + j], t[i + 2 + j], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 2 + j] = _mm256_shuffle_ps(t[i + j], t[i + 2 + j], _MM_SHUFFLE(3, 2, 3, 2));
      }
    // r[0], r[2], r[1], r[3] hold features f, f+1, f+2, f+3 of rows 0–3 (low half) and 4–7 (high half)
    const int order[4] = {0, 2, 1, 3};
    for (int q = 0; q < 4; q++) {
      const __m256 lo = r[order[q]], hi = r[4 + order[q]];
      X[(f + q) * NB + b] = (vf)_mm256_permute2f128_ps(lo, hi, 0x20);
      X[(f + q + 4) * NB + b] = (vf)_mm256_permute2f128_ps(lo, hi, 0x31);
    }
  }
  for (; f < F; f++) {
    alignas(32) float lanes[VW];
    for (int i = 0; i < VW; i++) lanes[i] = row[i][f];
    std::memcpy(&X[f * NB + b], lanes, sizeof(vf));
  }
}

/** One instance on the tiled dense path (elementwise MID); its loss, or −1 for a bad row. */
template <typename MID>
double tiledInstance(const Instance &in) {
  const int F = in.F, H = in.H, B = in.B;
  const int FP = (F + T - 1) / T * T, HP = (H + T - 1) / T * T;
  Scratch &s = scratch;
  s.fit(FP, HP);
  vf *X = s.X.data(), *Z = s.Z.data(), *DZ = s.DZ.data(), *GW = s.GW.data(), *GB = s.GB.data();
  float *W = s.W.data();
  std::vector<vf> hv(size_t(NB) * HP), dhv(size_t(NB) * HP), bias(FP), kf(FP);
  const double scale = 1.0 / (double(B) * F);
  for (int f = 0; f < FP; f++) {
    bias[f] = splat(f < F ? in.bias[f] : 0.f);
    kf[f] = splat(f < F ? float(2 * in.imp[f] * scale) : 0.f);
    GB[f] = splat(0);
    for (int k = 0; k < HP; k++) {
      W[f * HP + k] = f < F && k < H ? in.W[f * H + k] : 0.f;
      GW[f * HP + k] = splat(0);
    }
  }
  double loss = 0;  // the chunks' loss sums (a float32 sum over a whole batch of F = 200 lost ≈ 4e-6)
  const int first = in.rowStart[0], end = in.rowStart[B];
  int rows = 0;  // samples computed, padding lanes included
  int s0 = 0;
  while (s0 < B) {
    // the chunk's non-empty samples into X (lanes = samples): a block of eight full rows (every feature,
    // in order: a p = 1 instance) transposed, the others scattered. A row counts as full from its length
    // and its first and last features: the samplers write a row's features in increasing order, so F of
    // them from 0 to F − 1 are all of them (a malformed row that only looks full is read within its bounds)
    int n = 0;
    alignas(32) int32_t start[NB * VW], stop[NB * VW];
    for (; s0 < B && n < NB * VW; s0++) {
      const int e0 = in.rowStart[s0], e1 = in.rowStart[s0 + 1];
      if (e0 == e1) continue;
      if (e1 < e0 || e0 < first || e1 > end) return -1;
      start[n] = e0;
      stop[n++] = e1;
    }
    if (n == 0) break;
    const int nb = (n + VW - 1) / VW;
    rows += nb * VW;
    float *xs = reinterpret_cast<float *>(X);
    for (int b = 0; b < nb; b++) {
      bool full = b * VW + VW <= n;
      for (int i = 0; full && i < VW; i++) {
        const int e0 = start[b * VW + i];
        full = stop[b * VW + i] - e0 == F && in.feature[e0] == 0 && in.feature[e0 + F - 1] == F - 1;
      }
      if (full) {
        const float *row[VW];
        for (int i = 0; i < VW; i++) row[i] = in.value + start[b * VW + i];
        transposeRows(row, F, X, b);
        for (int f = F; f < FP; f++) X[f * NB + b] = splat(0);
        continue;
      }
      for (int f = 0; f < FP; f++) X[f * NB + b] = splat(0);
      for (int i = 0; i < VW && b * VW + i < n; i++)
        for (int e = start[b * VW + i]; e < stop[b * VW + i]; e++) {
          const int f = in.feature[e];
          if (f < 0 || f >= F) return -1;
          xs[(f * NB + b) * VW + i] = in.value[e];
        }
    }
    vf lossv = splat(0);
    timesW(X, W, FP, HP, nb, hv.data());
    plusHWt(hv.data(), W, bias.data(), FP, HP, nb, Z);
    for (int f = 0; f < F; f++) {
      vf y[NB], d[NB];
      MID::activate(Z + f * NB, y, d, nb);
      for (int b = 0; b < nb; b++) {
        MID::lossAndDz(y[b], d[b], X[f * NB + b], kf[f], lossv, DZ[f * NB + b]);
        GB[f] += DZ[f * NB + b];
      }
    }
    for (int f = F; f < FP; f++)
      for (int b = 0; b < nb; b++) DZ[f * NB + b] = splat(0);
    timesW(DZ, W, FP, HP, nb, dhv.data());
    addProduct(DZ, hv.data(), FP, HP, nb, GW);
    addProduct(X, dhv.data(), FP, HP, nb, GW);
    for (int l = 0; l < VW; l++) loss += lossv[l];
  }
  // the all-zero samples (n₀ < 0 when padding lanes were computed as all-zero samples): z = b, x = 0
  const double n0 = B - rows;
  for (int f = 0; f < F; f++) {
    vf y, d, l0 = splat(0), g0;
    MID::activate(&bias[f], &y, &d, 1);
    MID::lossAndDz(y, d, splat(0), kf[f], l0, g0);
    loss += n0 * double(l0[0]);
    double g = n0 * double(g0[0]);
    for (int l = 0; l < VW; l++) g += GB[f][l];
    in.gradB[f] = g;
    for (int k = 0; k < H; k++) {
      double a = 0;
      for (int l = 0; l < VW; l++) a += GW[f * HP + k][l];
      in.gradW[f * H + k] = a;
    }
  }
  return 0.5 * loss;
}

}  // namespace

#define TMS_TILED_ROW(name) &tiledInstance<TMS_ELEMENTWISE(name)>,
const PathFn TILED[] = {TMS_ACTIVATIONS(TMS_TILED_ROW)};
extern const int N_TILED = sizeof(TILED) / sizeof(TILED[0]);

}  // namespace tms
