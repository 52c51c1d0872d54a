// tms-lab's native step kernel for Node: an N-API addon, compiled by scripts/build-native.mjs for the machine
// it builds on, with three of the WebAssembly kernel's paths (src/core/kernels/wasm/kernel/):
//  * the Gram path (gram.ts), lanes = features, F ≤ 32 in NV vectors of 8:
//      M = W Wᵀ;  per non-empty sample  z = b + Σ_{j ∈ nz} M[:, j]·x_j,  (y, y') = act(z),  e = y − x,
//      loss += k·e², dz = k·e·y', ∇b += dz, C[:, j] += dz·x_j  (k = 2·imp/(B·F));
//      the n₀ all-zero samples add n₀ times the same at z = b, x = 0;  ∇W = (C + Cᵀ) W;
//  * the dense path (dense.ts) for instances whose every slot is kept, lanes = samples (denseInstance);
//  * and, in blocks.cc, the dense path of small models over the blocks the WebAssembly kernel prepares.
// Why it exists: on x86-64 the compiler's code keeps z, dz and the loss in 32 vector registers of 8 lanes,
// where V8's WebAssembly has 16 registers of 4 lanes (docs/speed.md, "A native kernel for Node"). The
// WebAssembly kernel stays the browser's path and the fallback; src/core/kernels/fast.ts sends here the
// instances kernels/native/native.ts says it takes. Float32 only.
// The activations are generated from the table (kernels/native/emit-c.ts → activations.gen.h).

#include <node_api.h>

#include <type_traits>

#include "mid.h"
#include "napi.h"

namespace tms {
namespace {

constexpr int MAX_NV = 4;  // F ≤ 32

/** The Int32Array of arguments, in this order (src/core/kernels/native/native.ts mirrors it). */
enum Arg {
  ACT, NF, NH, NB, W_AT, B_AT, ROWSTART_AT, FEATURE_AT, VALUE_AT, GRAD_W_AT, GRAD_B_AT, N_BLOCKS, CSR, N_ARGS
};

/** One instance's Gram path; returns its loss, or −1 if a row is out of order or names a feature ≥ F. */
template <typename MID, int NV>
double gramInstance(const Instance &in) {
  constexpr int FP = NV * VW;
  const int F = in.F, H = in.H, B = in.B;
  vi valid[NV];  // the lanes below F (the softmax family leaves the others out)
  for (int v = 0; v < NV; v++) valid[v] = (vi)(vi{0, 1, 2, 3, 4, 5, 6, 7} + VW * v < F);
  alignas(32) vf M[FP][NV];   // M[j] = column j of W Wᵀ
  alignas(32) vf C[FP][NV];   // C[j] = Σ dz·x_j
  alignas(32) vf WT[64][NV];  // WT[k] = column k of W (lanes = features), for H ≤ 64
  std::memset(C, 0, sizeof C);
  std::memset(WT, 0, sizeof(vf) * NV * H);
  float *wt = reinterpret_cast<float *>(WT);
  for (int f = 0; f < F; f++)
    for (int kk = 0; kk < H; kk++) wt[kk * FP + f] = in.W[f * H + kk];
  // M[j] = Σ_k W[:, k]·W[j, k]
  for (int j = 0; j < FP; j++)
    for (int v = 0; v < NV; v++) {
      vf s = splat(0);
      if (j < F)
        for (int kk = 0; kk < H; kk++) s = TMS_MADD(WT[kk][v], splat(in.W[j * H + kk]), s);
      M[j][v] = s;
    }
  alignas(32) float bs[FP] = {0}, ks[FP] = {0};
  const double scale = 1.0 / (double(B) * F);
  for (int f = 0; f < F; f++) {
    bs[f] = in.bias[f];
    ks[f] = float(2 * in.imp[f] * scale);
  }
  vf b[NV], k[NV], gb[NV], lossv = splat(0), xv[NV];
  for (int v = 0; v < NV; v++) {
    std::memcpy(&b[v], bs + VW * v, sizeof(vf));
    std::memcpy(&k[v], ks + VW * v, sizeof(vf));
    gb[v] = splat(0);
  }
  alignas(32) float x[FP] = {0};  // the current sample, dense (zeroed again after each row)
  int rows = 0;
  bool bad = false;
  const int first = in.rowStart[0], end = in.rowStart[B];
  for (int s = 0; s < B; s++) {
    // runs of eight all-zero samples at once (most of a sparse instance's batch)
#if defined(__AVX2__)
    while (s + 8 <= B) {
      const __m256i r0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(in.rowStart + s));
      const __m256i r1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(in.rowStart + s + 1));
      if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(r0, r1)) != -1) break;
      s += 8;
    }
    if (s >= B) break;
#endif
    const int e0 = in.rowStart[s], e1 = in.rowStart[s + 1];
    if (e0 == e1) continue;
    // rows out of order, or past the entries the caller checked: read nothing
    if (e1 < e0 || e0 < first || e1 > end) {
      bad = true;
      break;
    }
    rows++;
    vf z[NV];
    for (int v = 0; v < NV; v++) z[v] = b[v];
    for (int e = e0; e < e1; e++) {
      const uint32_t j = uint32_t(in.feature[e]);
      if (j >= uint32_t(F)) {
        bad = true;
        continue;
      }
      const float xj = in.value[e];
      x[j] = xj;
      const vf xs = splat(xj);
      for (int v = 0; v < NV; v++) z[v] = TMS_MADD(M[j][v], xs, z[v]);
    }
    std::memcpy(xv, x, sizeof xv);
    vf dz[1][NV], lossr[1] = {lossv};
    MID::template run<NV, 1, true>(reinterpret_cast<const vf(&)[1][NV]>(z),
                                   reinterpret_cast<const vf(&)[1][NV]>(xv), k, valid, lossr, dz);
    lossv = lossr[0];
    for (int v = 0; v < NV; v++) gb[v] += dz[0][v];
    for (int e = e0; e < e1; e++) {
      const uint32_t j = uint32_t(in.feature[e]);
      if (j >= uint32_t(F)) continue;
      x[j] = 0;
      const vf xs = splat(in.value[e]);
      for (int v = 0; v < NV; v++) C[j][v] = TMS_MADD(dz[0][v], xs, C[j][v]);
    }
  }
  if (bad) return -1;
  // the all-zero samples: z = b, x = 0, each the same loss and ∇b; nothing for ∇W
  const double n0 = B - rows;
  double loss = 0;
  for (int l = 0; l < VW; l++) loss += lossv[l];
  {
    const vf zero[1][NV] = {};
    vf l0[1] = {splat(0)}, g0[1][NV];
    MID::template run<NV, 1, true>(reinterpret_cast<const vf(&)[1][NV]>(b), zero, k, valid, l0, g0);
    for (int l = 0; l < VW; l++) loss += n0 * double(l0[0][l]);
    for (int v = 0; v < NV; v++)
      for (int l = 0; l < VW && VW * v + l < F; l++)
        in.gradB[VW * v + l] = double(gb[v][l]) + n0 * double(g0[0][v][l]);
  }
  // ∇W = (C + Cᵀ) W: with S = C + Cᵀ (S[j] its column j, lanes = features), ∇W[:, k] = Σ_j S[j]·W[j, k]
  alignas(32) vf S[FP][NV];
  const float *c = reinterpret_cast<const float *>(C);
  float *sm = reinterpret_cast<float *>(S);
  // (rows and lanes of C past F are zero: C[j] is only updated for j < F, and dz is 0 in lanes past F)
  for (int j = 0; j < F; j++)
    for (int f = 0; f < FP; f++) sm[j * FP + f] = c[j * FP + f] + c[f * FP + j];
  for (int kk = 0; kk < H; kk++) {
    vf g[NV];
    for (int v = 0; v < NV; v++) g[v] = splat(0);
    for (int j = 0; j < F; j++) {
      const vf w = splat(in.W[j * H + kk]);
      for (int v = 0; v < NV; v++) g[v] = TMS_MADD(S[j][v], w, g[v]);
    }
    alignas(32) float gs[FP];
    std::memcpy(gs, g, sizeof gs);
    for (int f = 0; f < F; f++) in.gradW[f * H + kk] = gs[f];
  }
  return 0.5 * loss;
}

#if defined(__AVX2__)
/**
 * Eight rows of F values (row i at rows + i·F) as F vectors of eight lanes (lane i = row i): 8 × 8 tiles
 * transposed by unpacks and shuffles; a last partial tile is read with a masked load, so nothing past the
 * eighth row's end is read.
 */
static inline void transposeRows(const float *rows, int F, vf *out) {
  for (int f0 = 0; f0 < F; f0 += VW) {
    const int n = F - f0 < VW ? F - f0 : VW;
    const __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 r[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_maskload_ps(rows + int64_t(i) * F + f0, keep);
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
      t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
      u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
      u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
      u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
      u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
    }
    for (int j = 0; j < 4 && j < n; j++) out[f0 + j] = (vf)_mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    for (int j = 4; j < n; j++) out[f0 + j] = (vf)_mm256_permute2f128_ps(u[j - 4], u[j], 0x31);
  }
}
#endif

/**
 * One instance's dense path (direct form, lanes = samples), for instances whose samples are stored as dense
 * rows (`value` → B·F floats, row-major: the values of an instance whose every slot is kept, or the
 * sampler's dense copy; `rowStart` tells the empty samples). Non-empty samples go eight to a block X[f];
 * per block
 *   h_k = Σ_f X[f]·W[f,k],  z_f = b_f + Σ_k h_k·W[f,k],  dz_f = k_f·e·act'(z_f),  dh_k = Σ_f dz_f·W[f,k],
 * and, once per chunk of blocks, with the accumulators in registers (feature groups at a time),
 *   ∇W[f,k] += Σ_blocks dz_f·h_k + X[f]·dh_k,  ∇b_f += Σ_blocks dz_f  (lane partial sums, added at the end).
 * The last block's padding lanes are all-zero samples, counted out of the n₀ all-zero samples.
 */
template <typename MID, int H>
double denseInstance(const Instance &in) {
  constexpr int NB = 8;                                  // blocks per chunk
  constexpr int FG = H >= 5 ? 2 : H >= 3 ? 4 : 8;        // features a group (accumulators in registers)
  const int F = in.F, B = in.B;
  const int FP = (F + FG - 1) / FG * FG;                 // ≤ 32
  alignas(32) vf X[NB][32], DZ[NB][32], HB[NB][H], DH[NB][H];
  alignas(32) vf gW[32][H], gb[32];
  alignas(32) float w[32][H];
  vf bf[32], kf[32];
  const double scale = 1.0 / (double(B) * F);
  for (int f = 0; f < FP; f++) {
    bf[f] = splat(f < F ? in.bias[f] : 0.f);
    kf[f] = splat(f < F ? float(2 * in.imp[f] * scale) : 0.f);
    gb[f] = splat(0);
    for (int k = 0; k < H; k++) {
      w[f][k] = f < F ? in.W[f * H + k] : 0.f;
      gW[f][k] = splat(0);
    }
  }
  // X's rows F … FP−1 stay zero, and so do DZ's (never written): the padding features of a group
  for (int b = 0; b < NB; b++)
    for (int f = 0; f < FP; f++) X[b][f] = DZ[b][f] = splat(0);
  vf lossv = splat(0);
  int rows = 0, nb = 0, lane = 0;
  // R blocks from b0 on side by side (independent chains: h and dh are sums over the F features)
  auto forward = [&](int b0, auto blocks) __attribute__((always_inline)) {
    constexpr int R = decltype(blocks)::value;
    vf h[R][H], dh[R][H], z[R][32], lossr[R];
    for (int r = 0; r < R; r++) {
      lossr[r] = splat(0);
      for (int k = 0; k < H; k++) h[r][k] = dh[r][k] = splat(0);
    }
    for (int f = 0; f < F; f++)
      for (int k = 0; k < H; k++)
        for (int r = 0; r < R; r++) h[r][k] = TMS_MADD(X[b0 + r][f], splat(w[f][k]), h[r][k]);
    for (int f = 0; f < F; f++)
      for (int r = 0; r < R; r++) {
        z[r][f] = bf[f];
        for (int k = 0; k < H; k++) z[r][f] = TMS_MADD(h[r][k], splat(w[f][k]), z[r][f]);
      }
    MID::template run<32, R, false>(z, reinterpret_cast<const vf(&)[R][32]>(X[b0]), kf, nullptr, lossr,
                                    reinterpret_cast<vf(&)[R][32]>(DZ[b0]), F);
    for (int r = 0; r < R; r++) lossv += lossr[r];
    for (int f = 0; f < F; f++)
      for (int k = 0; k < H; k++)
        for (int r = 0; r < R; r++) dh[r][k] = TMS_MADD(DZ[b0 + r][f], splat(w[f][k]), dh[r][k]);
    for (int r = 0; r < R; r++)
      for (int k = 0; k < H; k++) {
        HB[b0 + r][k] = h[r][k];
        DH[b0 + r][k] = dh[r][k];
      }
  };
  const float *source = in.value;
  for (int s = 0; s <= B; s++) {
    bool filled = false;
#if defined(__AVX2__)
    // eight non-empty samples in a row (every sample, at p = 1) start a block: their rows transposed eight
    // features at a time in registers, instead of a scalar store per value (which then made each vector
    // load of X wait on store forwarding)
    if (!in.csr && lane == 0 && s + 8 <= B) {
      const __m256i r0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(in.rowStart + s));
      const __m256i r1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(in.rowStart + s + 1));
      if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(r0, r1)) == 0) {
        transposeRows(source + int64_t(s) * F, F, X[nb]);
        lane = VW;
        s += VW - 1;
        filled = true;
      }
    }
#endif
    if (filled) {
      // a whole block, trained below
    } else if (s < B) {
      const int e0 = in.rowStart[s], e1 = in.rowStart[s + 1];
      if (e1 == e0) continue;
      float *x = reinterpret_cast<float *>(X[nb]);
      if (in.csr) {
        // rows out of order, or past the entries the caller checked: read nothing
        if (e1 < e0 || e0 < in.rowStart[0] || e1 > in.rowStart[B]) return -1;
        for (int e = e0; e < e1; e++) {
          const uint32_t j = uint32_t(in.feature[e]);
          if (j >= uint32_t(F)) return -1;
          x[j * VW + lane] = in.value[e];
        }
      } else {
        const float *row = source + int64_t(s) * F;
        for (int f = 0; f < F; f++) x[f * VW + lane] = row[f];
      }
      if (++lane < VW) continue;
    } else if (lane == 0 && nb == 0) {
      break;
    }
    if (lane > 0) {
      rows += VW;
      nb++;
      lane = 0;
    }
    if (nb == NB || (s == B && nb > 0)) {
      // the chunk's blocks: forward, activation, backward through z, two side by side
      int pair = 0;
      for (; pair + 2 <= nb; pair += 2) forward(pair, std::integral_constant<int, 2>());
      if (pair < nb) forward(pair, std::integral_constant<int, 1>());
      // the chunk's ∇W and ∇b, FG features at a time
      for (int f0 = 0; f0 < FP; f0 += FG) {
        vf acc[FG][H], accb[FG];
        for (int i = 0; i < FG; i++) {
          accb[i] = gb[f0 + i];
          for (int k = 0; k < H; k++) acc[i][k] = gW[f0 + i][k];
        }
        for (int b = 0; b < nb; b++)
          for (int i = 0; i < FG; i++) {
            const vf dz = DZ[b][f0 + i], x = X[b][f0 + i];
            accb[i] += dz;
            for (int k = 0; k < H; k++) acc[i][k] = TMS_MADD(x, DH[b][k], TMS_MADD(dz, HB[b][k], acc[i][k]));
          }
        for (int i = 0; i < FG; i++) {
          gb[f0 + i] = accb[i];
          for (int k = 0; k < H; k++) gW[f0 + i][k] = acc[i][k];
        }
      }
      for (int b = 0; b < nb; b++)
        for (int f = 0; f < F; f++) X[b][f] = splat(0);
      nb = 0;
    }
    if (s == B) break;
  }
  // the all-zero samples (n₀ < 0 when padding lanes were computed as all-zero samples)
  const double n0 = B - rows;
  double loss = 0;
  for (int l = 0; l < VW; l++) loss += lossv[l];
  vf zeros[1][32], l0[1] = {splat(0)}, g0[1][32];
  for (int f = 0; f < F; f++) zeros[0][f] = splat(0);
  MID::template run<32, 1, false>(reinterpret_cast<const vf(&)[1][32]>(bf), zeros, kf, nullptr, l0, g0,
                                  F);
  loss += n0 * double(l0[0][0]);
  for (int f = 0; f < F; f++) {
    double g = n0 * double(g0[0][f][0]);
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

#define TMS_GRAM_ROW(MID) \
  {&gramInstance<MID, 1>, &gramInstance<MID, 2>, &gramInstance<MID, 3>, &gramInstance<MID, 4>},
#define TMS_ELEMENTWISE_GRAM(name) TMS_GRAM_ROW(TMS_ELEMENTWISE(name))
const PathFn GRAM[][MAX_NV] = {TMS_ACTIVATIONS(TMS_ELEMENTWISE_GRAM) TMS_VECTOR_MIDS(TMS_GRAM_ROW)};
/** The dense path for H ≤ DENSE_MAX_H (h and dh in registers); above, the WebAssembly kernel's. */
constexpr int DENSE_MAX_H = 5;
#define TMS_DENSE_ROW(MID)                                                                      \
  {&denseInstance<MID, 1>, &denseInstance<MID, 2>, &denseInstance<MID, 3>, &denseInstance<MID, 4>, \
   &denseInstance<MID, 5>},
#define TMS_ELEMENTWISE_DENSE(name) TMS_DENSE_ROW(TMS_ELEMENTWISE(name))
const PathFn DENSE[][DENSE_MAX_H] = {TMS_ACTIVATIONS(TMS_ELEMENTWISE_DENSE) TMS_VECTOR_MIDS(TMS_DENSE_ROW)};
#define TMS_NAME(name) #name,
const char *const IDS[] = {TMS_ACTIVATIONS(TMS_NAME) TMS_VECTOR_IDS};
constexpr int N_ACTS = sizeof(IDS) / sizeof(IDS[0]);

/** The three paths `Run` serves. */
enum Path { GRAM_PATH, DENSE_PATH, BLOCKS_PATH, TILED_PATH };

/** The message for the path being called ("gram: …", "dense: …" or "blocks: …"). */
#define TMS_WHY(text)                                                          \
  (path == DENSE_PATH    ? "dense: " text                                        \
   : path == BLOCKS_PATH ? "blocks: " text                                       \
   : path == TILED_PATH  ? "tiled: " text                                        \
                         : "gram: " text)

/**
 * Checks one instance's arguments against the memory; fills `in`, or returns what is wrong. The Gram path
 * reads the batch's CSR entries (feature and value); the dense path reads B·F values as dense rows; the
 * blocks path N_BLOCKS blocks of 4·F values.
 */
const char *instanceOf(Path path, const int32_t *a, const double *imp, char *mem, size_t memLen,
                       Instance &in) {
  const int F = a[NF], H = a[NH], B = a[NB];
  if (a[ACT] < 0 || a[ACT] >= N_ACTS) return TMS_WHY("unknown activation index");
  if (path == TILED_PATH && a[ACT] >= N_TILED) return TMS_WHY("the softmax family has no tiled path");
  const int maxF = path == BLOCKS_PATH ? BLOCKS_MAX_F : path == TILED_PATH ? TILED_MAX_F : VW * MAX_NV;
  const int maxH = path == DENSE_PATH    ? DENSE_MAX_H
                   : path == BLOCKS_PATH ? BLOCKS_MAX_H
                   : path == TILED_PATH  ? TILED_MAX_H
                                         : 64;
  if (F < 1 || F > maxF || H < 1 || H > maxH || B < 1 || (path == BLOCKS_PATH && H >= F))
    return TMS_WHY("bad model shape");
  const int64_t FH = int64_t(F) * H;
  if (!inside(memLen, a[W_AT], 4 * FH, 4) || !inside(memLen, a[B_AT], 4 * F, 4) ||
      !inside(memLen, a[ROWSTART_AT], 4 * (int64_t(B) + 1), 4) ||
      !inside(memLen, a[GRAD_W_AT], 8 * FH, 8) || !inside(memLen, a[GRAD_B_AT], 8 * F, 8))
    return TMS_WHY("an address lies outside the memory");
  const int32_t *rowStart = reinterpret_cast<const int32_t *>(mem + a[ROWSTART_AT]);
  if (path == DENSE_PATH && a[CSR] == 0) {
    if (!inside(memLen, a[VALUE_AT], 4 * int64_t(B) * F, 4)) return TMS_WHY("the dense rows lie outside the memory");
  } else if (path == BLOCKS_PATH) {
    // blocks of four samples: at most ⌈B/4⌉ of them
    if (a[N_BLOCKS] < 0 || a[N_BLOCKS] > (int64_t(B) + 3) / 4) return TMS_WHY("bad number of blocks");
    if (!inside(memLen, a[VALUE_AT], 16 * int64_t(a[N_BLOCKS]) * F, 4))
      return TMS_WHY("the blocks lie outside the memory");
  } else {
    // the entries between the first row's start and the last row's end must be inside the memory (the
    // kernel reads no row that is out of order or outside them)
    const int64_t first = rowStart[0], end = rowStart[B];
    if (first < 0 || end < first || !inside(memLen, a[FEATURE_AT] + 4 * first, 4 * (end - first), 4) ||
        !inside(memLen, a[VALUE_AT] + 4 * first, 4 * (end - first), 4))
      return TMS_WHY("the batch's entries lie outside the memory");
  }
  in = Instance{F,
                H,
                B,
                reinterpret_cast<const float *>(mem + a[W_AT]),
                reinterpret_cast<const float *>(mem + a[B_AT]),
                imp,
                rowStart,
                reinterpret_cast<const int32_t *>(mem + a[FEATURE_AT]),
                reinterpret_cast<const float *>(mem + a[VALUE_AT]),
                reinterpret_cast<double *>(mem + a[GRAD_W_AT]),
                reinterpret_cast<double *>(mem + a[GRAD_B_AT]),
                a[N_BLOCKS],
                path == DENSE_PATH && a[CSR] != 0};
  return nullptr;
}

/**
 * gram(memory: ArrayBuffer, args: Int32Array, importance: Float64Array, losses: Float64Array): the Gram
 * path of n = losses.length instances in one call. Instance i's arguments are args[i·N_ARGS …] and its
 * importance importance[i·F …]; every address is a byte offset into memory (the WebAssembly engine's,
 * where the batch and parameters already are); ∇W and ∇b are written there as float64, the loss to
 * losses[i]. dense(…): the same for the dense path, with VALUE_AT the instance's B·F dense rows;
 * blocks(…): the blocks path, with VALUE_AT the instance's N_BLOCKS prepared blocks.
 */
template <Path path>
napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 4)
    return fail(env, TMS_WHY("takes four arguments (memory, args, importance, losses)"));
  void *memData;
  size_t memLen;
  if (napi_get_arraybuffer_info(env, argv[0], &memData, &memLen) != napi_ok)
    return fail(env, TMS_WHY("memory must be an ArrayBuffer"));
  size_t nLosses, nArgs, nImp;
  double *losses = typedArray<double>(env, argv[3], napi_float64_array, 0, &nLosses);
  const int32_t *args = typedArray<const int32_t>(env, argv[1], napi_int32_array, N_ARGS * nLosses, &nArgs);
  const double *imp = typedArray<const double>(env, argv[2], napi_float64_array, 0, &nImp);
  if (!losses || !args || !imp)
    return fail(env, TMS_WHY("args, importance and losses must be an Int32Array and two Float64Arrays"));
  size_t impAt = 0;
  for (size_t i = 0; i < nLosses; i++) {
    const int32_t *a = args + i * N_ARGS;
    if (a[NF] < 1 || impAt + size_t(a[NF]) > nImp) return fail(env, TMS_WHY("importance is too short"));
    Instance in;
    if (const char *why = instanceOf(path, a, imp + impAt, static_cast<char *>(memData), memLen, in))
      return fail(env, why);
    impAt += a[NF];
    const double loss = path == DENSE_PATH    ? DENSE[a[ACT]][in.H - 1](in)
                        : path == BLOCKS_PATH ? BLOCKS[a[ACT]][in.F - 1][in.H - 1](in)
                        : path == TILED_PATH  ? TILED[a[ACT]](in)
                                              : GRAM[a[ACT]][(in.F + VW - 1) / VW - 1](in);
    if (loss < 0) return fail(env, TMS_WHY("a row is out of order, or names a feature outside 0 … F−1"));
    losses[i] = loss;
  }
  return nullptr;
}

}  // namespace
}  // namespace tms

// a formula's own addon (TMS_ONE_ACTIVATION) has them where it links the main build's sampler.o and steps.o
// (TMS_WITH_STEPS: experiments/formula-native.ts)
#if !defined(TMS_ONE_ACTIVATION) || defined(TMS_WITH_STEPS)
namespace tms {
// native/sampler.cc
napi_value SampleRows(napi_env env, napi_callback_info info);
napi_value SampleCsr(napi_env env, napi_callback_info info);
extern const bool HAS_SAMPLER;
// native/steps.cc, which needs the sampler
napi_value TrainSteps(napi_env env, napi_callback_info info);
extern const int N_ACTIVATIONS = N_ACTS;
}  // namespace tms
#endif

using namespace tms;

NAPI_MODULE_INIT() {
  napi_value fn, ids, lanes;
  napi_create_function(env, "gram", NAPI_AUTO_LENGTH, Run<GRAM_PATH>, nullptr, &fn);
  napi_set_named_property(env, exports, "gram", fn);
  napi_create_function(env, "dense", NAPI_AUTO_LENGTH, Run<DENSE_PATH>, nullptr, &fn);
  napi_set_named_property(env, exports, "dense", fn);
  napi_create_function(env, "blocks", NAPI_AUTO_LENGTH, Run<BLOCKS_PATH>, nullptr, &fn);
  napi_set_named_property(env, exports, "blocks", fn);
  napi_create_function(env, "tiled", NAPI_AUTO_LENGTH, Run<TILED_PATH>, nullptr, &fn);
  napi_set_named_property(env, exports, "tiled", fn);
#if !defined(TMS_ONE_ACTIVATION) || defined(TMS_WITH_STEPS)
  if (HAS_SAMPLER) {
    napi_create_function(env, "sampleRows", NAPI_AUTO_LENGTH, SampleRows, nullptr, &fn);
    napi_set_named_property(env, exports, "sampleRows", fn);
    napi_create_function(env, "sampleCsr", NAPI_AUTO_LENGTH, SampleCsr, nullptr, &fn);
    napi_set_named_property(env, exports, "sampleCsr", fn);
    napi_create_function(env, "trainSteps", NAPI_AUTO_LENGTH, TrainSteps, nullptr, &fn);
    napi_set_named_property(env, exports, "trainSteps", fn);
  }
#endif
  napi_create_int32(env, DENSE_MAX_H, &lanes);
  napi_set_named_property(env, exports, "denseMaxH", lanes);
  napi_create_int32(env, BLOCKS_MAX_F, &lanes);
  napi_set_named_property(env, exports, "blocksMaxF", lanes);
  napi_create_int32(env, BLOCKS_MAX_H, &lanes);
  napi_set_named_property(env, exports, "blocksMaxH", lanes);
  napi_create_int32(env, TILED_MAX_F, &lanes);
  napi_set_named_property(env, exports, "tiledMaxF", lanes);
  napi_create_int32(env, TILED_MAX_H, &lanes);
  napi_set_named_property(env, exports, "tiledMaxH", lanes);
  napi_create_array_with_length(env, N_ACTS, &ids);
  for (int i = 0; i < N_ACTS; i++) {
    napi_value s;
    napi_create_string_utf8(env, IDS[i], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, ids, i, s);
  }
  napi_set_named_property(env, exports, "ids", ids);
  napi_create_int32(env, VW, &lanes);
  napi_set_named_property(env, exports, "lanes", lanes);
  return exports;
}
