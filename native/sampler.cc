// tms-lab's native sampler: src/core/sampler/spec.ts's stream and values (per instance four xoshiro128+
// generators side by side, a step's four outputs deciding slots 4t … 4t + 3), written where the
// WebAssembly sampler would write them, bit for bit. Two uses:
//  * sampleRows, for the instances the kernel reads only as dense rows (the blocks path of small models):
//    instead of CSR entries, which nobody reads for them and which are most of the WebAssembly sampler's
//    work, each instance's B·F slot values as dense float32 rows (0 where not kept), the list of its
//    samples with a kept slot, and those samples transposed into the blocks path's blocks (what
//    sample_mask's dense values, then compact_samples and blocks_from_dense give). The mask scheme (slot kept
//    iff u ≤ T − 1 unsigned, T = 0 keeping all; value min(f32(u >> 8)·c, 1 − 2⁻²⁴)) runs four instances in
//    the sixteen lanes of an AVX-512 vector; the geometric scheme one instance at a time.
//  * sampleCsr, for float32 instances into CSR entries: the mask scheme's where F is a multiple of 4, packed
//    by one compress instruction per vector instead of the WebAssembly sampler's shuffle table; the
//    geometric scheme's with sixteen logarithms at a time in eight-lane float64 vectors (sample_geom has two
//    a vector), its row starts opened eight at a time by one store as sample_geom does.
// Without AVX-512 (F, VL) and BMI2 the addon exports neither, and the WebAssembly sampler runs.

#include <node_api.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <immintrin.h>

#include "napi.h"
#include "sampler.h"

namespace tms {

#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__BMI2__)
namespace {

using namespace rows;

/** One xoshiro128+ step of every lane (the spec's Lanes.step), in 16 or 4 lanes; returns s0 + s3 before it. */
inline __m512i add32(__m512i a, __m512i b) { return _mm512_add_epi32(a, b); }
inline __m128i add32(__m128i a, __m128i b) { return _mm_add_epi32(a, b); }
inline __m512i xor32(__m512i a, __m512i b) { return _mm512_xor_si512(a, b); }
inline __m128i xor32(__m128i a, __m128i b) { return _mm_xor_si128(a, b); }
inline __m512i shl9(__m512i a) { return _mm512_slli_epi32(a, 9); }
inline __m128i shl9(__m128i a) { return _mm_slli_epi32(a, 9); }
inline __m512i rol11(__m512i a) { return _mm512_rol_epi32(a, 11); }
inline __m128i rol11(__m128i a) { return _mm_rol_epi32(a, 11); }
/** Word j of an instance's four generators as one vector (lane k: generator k), from its lane-major seeds. */
inline __m128i seedWord(const int32_t *seeds, int j) {
  return _mm_setr_epi32(seeds[j], seeds[4 + j], seeds[8 + j], seeds[12 + j]);
}
template <typename I>
inline __attribute__((always_inline)) I xoshiroStep(I &s0, I &s1, I &s2, I &s3) {
  const I u = add32(s0, s3);
  const I t = shl9(s1);
  s2 = xor32(s2, s0);
  s3 = xor32(s3, s1);
  s1 = xor32(s1, s2);
  s0 = xor32(s0, s3);
  s2 = xor32(s2, t);
  s3 = rol11(s3);
  return u;
}

/** Eight floats from each of two rows, the first in the low half (AVX-512F's 256-bit insert). */
inline __m512 pair(const float *lowRow, const float *highRow) {
  const __m512d low = _mm512_castpd256_pd512(_mm256_loadu_pd(reinterpret_cast<const double *>(lowRow)));
  return _mm512_castpd_ps(_mm512_insertf64x4(low, _mm256_loadu_pd(reinterpret_cast<const double *>(highRow)), 1));
}

/**
 * The listed samples' dense rows as the kernel's blocks (prepare.ts's blocks_from_dense, the same bytes):
 * four samples a block, F vectors of four lanes (lane = sample), lanes past the n-th sample zero.
 */
template <int F>
void toBlocks(const float *dense, const int32_t *list, int n, float *out) {
  alignas(32) static const float zero[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < n; k += 4, out += 4 * F) {
    const float *row[4];
    for (int l = 0; l < 4; l++) row[l] = k + l < n ? dense + F * list[k + l] : zero;
    if constexpr (F <= 4) {
      __m128 r0 = _mm_loadu_ps(row[0]), r1 = _mm_loadu_ps(row[1]), r2 = _mm_loadu_ps(row[2]),
             r3 = _mm_loadu_ps(row[3]);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      const __m128 f[4] = {r0, r1, r2, r3};
      for (int q = 0; q < F; q++) _mm_storeu_ps(out + 4 * q, f[q]);
    } else {
      // eight floats a row (the dense rows have 32 bytes of slack past the last one), two rows a 512-bit
      // vector; one two-source permutation gathers features 0–3 of the four samples, another features 4–7
      // (sample l's feature q is lane 8l + q of the pair a ‖ b, and goes to lane 4q + l of the block)
      const __m512 a = pair(row[0], row[1]), b = pair(row[2], row[3]);
      const __m512i low = _mm512_setr_epi32(0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
      const __m512i high = _mm512_add_epi32(low, _mm512_set1_epi32(4));
      _mm512_storeu_ps(out, _mm512_permutex2var_ps(a, low, b));
      const __m512 f4 = _mm512_permutex2var_ps(a, high, b);
      if constexpr (F == 5) _mm_storeu_ps(out + 16, _mm512_castps512_ps128(f4));
      else if constexpr (F == 6) _mm256_storeu_ps(out + 16, _mm512_castps512_ps256(f4));
      else _mm512_mask_storeu_ps(out + 16, __mmask16((1u << (4 * (F - 4))) - 1), f4);
    }
  }
}

/** For `samples` samples of F slots in a row: each sample's F bits, a zero bit between them (pdep's mask). */
constexpr uint64_t spreadOf(int F, int samples) {
  uint64_t m = 0;
  for (int s = 0; s < samples; s++) m |= ((uint64_t{1} << F) - 1) << (s * (F + 1));
  return m;
}
/** The bit above each sample's F bits in that layout (where a carry lands). */
constexpr uint64_t carriesOf(int F, int samples) {
  uint64_t m = 0;
  for (int s = 0; s < samples; s++) m |= uint64_t{1} << (s * (F + 1) + F);
  return m;
}

/** The largest float32 below 1: the spec's values are min(x, 1 − 2⁻²⁴), as WebAssembly's pmin (no NaN here). */
constexpr float BELOW_1 = 1.0f - 1.0f / 16777216.0f;

/**
 * The mask scheme's vectors: Group16 holds four instances (lane 4i + k: instance i's generator k), Lone4 one
 * instance's four generators (a batch's last instance when it is alone, where a 16-lane group would compute
 * three padding instances: on this double-pumped Zen 4 a 512-bit operation costs two 128-bit ones; and
 * csrInstance's one instance). Per step: kept iff u ≤ T − 1; the spec's value of every lane, and of the
 * kept ones (0 elsewhere).
 */
struct Group16 {
  typedef __m512i I;
  typedef __m512 V;
  static I load(const uint32_t *p) { return _mm512_load_si512(p); }
  static V floats(const uint32_t *p) { return _mm512_castsi512_ps(_mm512_load_si512(p)); }
  static __mmask16 kept(I u, I limit) { return _mm512_cmple_epu32_mask(u, limit); }
  static V keptValues(I u, V scale, __mmask16 kept) {
    const V x = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(u, 8)), scale);
    return _mm512_maskz_mov_ps(kept, _mm512_min_ps(x, _mm512_set1_ps(BELOW_1)));
  }
  static void store(float *const *dense, int count, int slot, V v) {
    _mm_storeu_ps(dense[0] + slot, _mm512_castps512_ps128(v));
    if (count > 1) _mm_storeu_ps(dense[1] + slot, _mm512_extractf32x4_ps(v, 1));
    if (count > 2) _mm_storeu_ps(dense[2] + slot, _mm512_extractf32x4_ps(v, 2));
    if (count > 3) _mm_storeu_ps(dense[3] + slot, _mm512_extractf32x4_ps(v, 3));
  }
};
struct Lone4 {
  typedef __m128i I;
  typedef __m128 V;
  static I load(const uint32_t *p) { return _mm_load_si128(reinterpret_cast<const __m128i *>(p)); }
  static V floats(const uint32_t *p) { return _mm_castsi128_ps(load(p)); }
  static __mmask8 kept(I u, I limit) { return _mm_cmple_epu32_mask(u, limit); }
  static V values(I u, V scale) {
    return _mm_min_ps(_mm_mul_ps(_mm_cvtepi32_ps(_mm_srli_epi32(u, 8)), scale), _mm_set1_ps(BELOW_1));
  }
  static V keptValues(I u, V scale, __mmask8 kept) { return _mm_maskz_mov_ps(kept, values(u, scale)); }
  static void store(float *const *dense, int, int slot, V v) { _mm_storeu_ps(dense[0] + slot, v); }
};

/**
 * Up to four instances (count) of the same B and F, F ≤ 8 compiled in. A *period* is lcm(F, 4) slots:
 * P steps and S whole samples; B is a whole number of periods. A chunk of U periods (as many as keep at
 * most 8 samples and 8 steps) at a time, each instance's keep bits become its samples' flags by spreading
 * the samples' F bits apart (pdep), adding 2^F − 1 to each (a carry out of a sample's bits iff one is set)
 * and gathering the carries (pext); the flagged samples' indices are appended with one compress.
 */
template <int F, typename L>
void sampleGroup(int32_t *const *rec, int count, int B, char *mem) {
  constexpr int SLOTS = F % 4 == 0 ? F : F % 2 == 0 ? 2 * F : 4 * F;
  constexpr int P = SLOTS / 4, S = SLOTS / F;
  constexpr int U = [] {
    int u = 1;
    while ((u + 1) * S <= 8 && (u + 1) * P <= 8) u++;
    return u;
  }();

  // lane 4i + k: instance i's generator k (padding instances repeat the last one; never stored)
  alignas(64) uint32_t s[4][16], tm1[16], c[16];
  float *dense[4];
  int32_t *list[4];
  for (int i = 0; i < 4; i++) {
    const int32_t *r = rec[i < count ? i : count - 1];
    for (int k = 0; k < 4; k++) {
      for (int j = 0; j < 4; j++) s[j][4 * i + k] = uint32_t(r[SEEDS + 4 * k + j]);
      tm1[4 * i + k] = uint32_t(r[TM1]);
      c[4 * i + k] = uint32_t(r[C_BITS]);
    }
    dense[i] = reinterpret_cast<float *>(mem + r[DENSE_AT]);
    list[i] = reinterpret_cast<int32_t *>(mem + r[LIST_AT]);
  }
  typename L::I s0 = L::load(s[0]), s1 = L::load(s[1]), s2 = L::load(s[2]), s3 = L::load(s[3]);
  const typename L::I limit = L::load(tm1);
  const typename L::V scale = L::floats(c);
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  int n[4] = {0, 0, 0, 0};

  /** `periods` periods from `sample` on: their steps, dense values and the flagged samples' indices. */
  auto chunk = [&](auto periods, int sample) {
    constexpr int STEPS = decltype(periods)::value * P, SAMPLES = decltype(periods)::value * S;
    constexpr uint64_t spread = spreadOf(F, SAMPLES), carries = carriesOf(F, SAMPLES);
    static_assert(STEPS <= 8 && SAMPLES <= 8 && SAMPLES * (F + 1) <= 64, "a chunk's bits fit a word");
    uint64_t steps[2] = {0, 0};  // the keep masks, 16 bits a step (four steps a word)
#pragma GCC unroll 8
    for (int t = 0; t < STEPS; t++) {
      const typename L::I u = xoshiroStep(s0, s1, s2, s3);
      const auto kept = L::kept(u, limit);
      L::store(dense, count, sample * F + 4 * t, L::keptValues(u, scale, kept));
      steps[t / 4] |= uint64_t(kept) << (16 * (t % 4));
    }
    for (int i = 0; i < count; i++) {
      // instance i's nibbles of each step: its keep bits, slot q at bit q
      const uint64_t nibbles = uint64_t{0x000F000F000F000F} << (4 * i);
      uint64_t keep = _pext_u64(steps[0], nibbles);
      if constexpr (STEPS > 4) keep |= _pext_u64(steps[1], nibbles) << 16;
      const uint32_t flags = uint32_t(_pext_u64(_pdep_u64(keep, spread) + spread, carries));
      const __m256i ids = _mm256_maskz_compress_epi32(__mmask8(flags), _mm256_add_epi32(_mm256_set1_epi32(sample), iota));
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(list[i] + n[i]), ids);
      n[i] += __builtin_popcount(flags);
    }
  };
  int sample = 0;
  for (; sample + U * S <= B; sample += U * S) chunk(std::integral_constant<int, U>(), sample);
  for (; sample < B; sample += S) chunk(std::integral_constant<int, 1>(), sample);
  for (int i = 0; i < count; i++) {
    rec[i][N_OUT] = n[i];
    toBlocks<F>(dense[i], list[i], n[i], reinterpret_cast<float *>(mem + rec[i][BLOCKS_AT]));
  }
}

/** sampleCsr's arguments (src/core/sampler/native.ts mirrors them). */
enum CsrArg {
  CSR_B = 0, CSR_F = 1, CSR_SEEDS = 4, CSR_TM1 = 20, CSR_C_BITS = 21, CSR_RS_AT = 22, CSR_FEAT_AT = 23,
  CSR_VAL_AT = 24, CSR_NNZ = 25, CSR_CAP = 26,
  CSR_GEOMETRIC = 27,  // 1: the geometric scheme, ln(1 − p) as a double at CSR_LOG_Q, the table at CSR_LN_TABLE_AT
  CSR_LOG_Q = 28, CSR_LN_TABLE_AT = 30, CSR_ARGS = 32
};

/**
 * One instance of the mask scheme with F a multiple of 4 into the batch's CSR arrays from entry nnz on,
 * exactly as the WebAssembly sampler's sample_mask writes it (its aligned loop: per sample, the capacity
 * check, the row start, then F/4 steps whose kept lanes are packed to the front, zeros after them): one
 * instance at a time (its entries follow the previous instance's), four lanes, the packing one compress per
 * vector. Returns the new nnz, or −1 when the capacity ran out (the caller grows the batch and retries).
 */
template <bool ALL>
int csrSlots(const int32_t *a, char *mem) {
  const int B = a[CSR_B], V = a[CSR_F] / 4;
  __m128i s0 = seedWord(a + CSR_SEEDS, 0), s1 = seedWord(a + CSR_SEEDS, 1), s2 = seedWord(a + CSR_SEEDS, 2),
          s3 = seedWord(a + CSR_SEEDS, 3);
  const __m128i limit = _mm_set1_epi32(a[CSR_TM1]);
  const __m128 scale = _mm_castsi128_ps(_mm_set1_epi32(a[CSR_C_BITS]));
  int32_t *rs = reinterpret_cast<int32_t *>(mem + a[CSR_RS_AT]);
  int32_t *feat = reinterpret_cast<int32_t *>(mem + a[CSR_FEAT_AT]);
  float *val = reinterpret_cast<float *>(mem + a[CSR_VAL_AT]);
  int nnz = a[CSR_NNZ];
  const int cap = a[CSR_CAP];
  const __m128i four = _mm_set1_epi32(4), iota = _mm_setr_epi32(0, 1, 2, 3);
  for (int s = 0; s < B; s++) {
    if (nnz + 4 * V > cap - 4) return -1;
    rs[s] = nnz;
    __m128i features = iota;
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      const __m128i u = xoshiroStep(s0, s1, s2, s3);
      if constexpr (ALL) {
        // p = 1: every slot kept, nothing to pack
        _mm_storeu_si128(reinterpret_cast<__m128i *>(feat + nnz), features);
        _mm_storeu_ps(val + nnz, Lone4::values(u, scale));
        nnz += 4;
      } else {
        const __mmask8 kept = Lone4::kept(u, limit);
        const __m128 x = Lone4::values(u, scale);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(feat + nnz), _mm_maskz_compress_epi32(kept, features));
        _mm_storeu_ps(val + nnz, _mm_maskz_compress_ps(kept, x));
        nnz += __builtin_popcount(kept);
      }
      features = _mm_add_epi32(features, four);
    }
  }
  rs[B] = nnz;
  return nnz;
}
int csrInstance(const int32_t *a, char *mem) {
  // T − 1 = 2³² − 1 unsigned: p = 1
  return a[CSR_TM1] == -1 ? csrSlots<true>(a, mem) : csrSlots<false>(a, mem);
}

/**
 * ln(1 − u·2⁻³²) of eight outputs u by exactly the operations of spec.ts's lnOneMinus, in float64 lanes
 * (so its gaps are the WebAssembly sampler's, bit for bit): y = 2³² − u = 2^e·m, bucket i = m's top 8
 * mantissa bits, whose centre c has 1/c and ln c (ln(c/2) from bucket 106 on) in `table`;
 * r = (m − c)·(1/c); n·LN2_HI + (n·LN2_LO + ln c + ln(1 + r)), each multiply and add rounded on its own.
 */
inline __m512d lnOneMinus8(__m256i u, const double *table) {
  const __m512d y = _mm512_add_pd(_mm512_cvtepu32_pd(_mm256_xor_si256(u, _mm256_set1_epi32(-1))), _mm512_set1_pd(1.0));
  const __m512i bits = _mm512_castpd_si512(y);
  const __m512i bucket = _mm512_and_si512(_mm512_srli_epi64(bits, 44), _mm512_set1_epi64(0xff));
  const __m512i upper = _mm512_mask_add_epi64(_mm512_srli_epi64(bits, 52),
                                              _mm512_cmpge_epi64_mask(bucket, _mm512_set1_epi64(106)),
                                              _mm512_srli_epi64(bits, 52), _mm512_set1_epi64(1));
  const __m512d m = _mm512_castsi512_pd(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi64(0x000fffffffffffffll)),
                                                        _mm512_set1_epi64(0x3ff0000000000000ll)));
  // bucket and exponent are small integers: through 32 bits to float64 (AVX-512F has no 64-bit conversion)
  const __m512d bucketD = _mm512_cvtepi32_pd(_mm512_cvtepi64_epi32(bucket));
  // (i + ½)/256 as a product: exact either way (256 is a power of two)
  const __m512d centre =
      _mm512_add_pd(_mm512_set1_pd(1.0), _mm512_mul_pd(_mm512_add_pd(bucketD, _mm512_set1_pd(0.5)), _mm512_set1_pd(1.0 / 256)));
  const __m512i at = _mm512_add_epi64(bucket, bucket);
  const __m512d inv = _mm512_i64gather_pd(at, table, 8), lnC = _mm512_i64gather_pd(at, table + 1, 8);
  const __m512d r = _mm512_mul_pd(_mm512_sub_pd(m, centre), inv);
  __m512d h = _mm512_set1_pd(-1.0 / 6);
  h = _mm512_add_pd(_mm512_mul_pd(h, r), _mm512_set1_pd(1.0 / 5));
  h = _mm512_add_pd(_mm512_mul_pd(h, r), _mm512_set1_pd(-1.0 / 4));
  h = _mm512_add_pd(_mm512_mul_pd(h, r), _mm512_set1_pd(1.0 / 3));
  h = _mm512_add_pd(_mm512_mul_pd(h, r), _mm512_set1_pd(-1.0 / 2));
  h = _mm512_add_pd(_mm512_mul_pd(h, r), _mm512_set1_pd(1.0));
  const __m512d n = _mm512_cvtepi32_pd(
      _mm256_sub_epi32(_mm512_cvtepi64_epi32(upper), _mm256_set1_epi32(1023 + 32)));
  const __m512d low = _mm512_add_pd(_mm512_add_pd(_mm512_mul_pd(n, _mm512_set1_pd(1.9082149292705877e-10)), lnC),
                                    _mm512_mul_pd(h, r));
  return _mm512_add_pd(_mm512_mul_pd(n, _mm512_set1_pd(0.6931471803691238)), low);
}

/**
 * The geometric scheme's next AHEAD steps: gaps[2t + j] = min(⌊ln(1 − u_j·2⁻³²)/ln(1 − p)⌋, slots) from
 * outputs j = 0, 1 of step t, values[2t + j] = (u_{2+j} >> 8)·2⁻²⁴. Drawn ahead of their use (as sample_geom
 * does), eight logarithms a vector, instead of each waiting behind the branch on where the previous
 * gap landed; steps drawn past the instance's last slot are never used. slots < 2³¹ (the caller checks).
 */
constexpr int AHEAD = 16;
inline void drawGaps(__m128i (&s)[4], double logQ, int64_t slots, const double *table, int32_t *gaps,
                     float *values) {
  alignas(64) uint32_t u[AHEAD][4];
  for (int t = 0; t < AHEAD; t++)
    _mm_store_si128(reinterpret_cast<__m128i *>(u[t]), xoshiroStep(s[0], s[1], s[2], s[3]));
  const __m512d q = _mm512_set1_pd(logQ), most = _mm512_set1_pd(double(slots));
  // eight steps at a time: outputs 0, 1 of each (the gaps' uniforms), then outputs 2, 3 (the values'), in
  // step order
  for (int t = 0; t < AHEAD; t += 8) {
    const __m512i first = _mm512_load_si512(u[t]), second = _mm512_load_si512(u[t + 4]);
    const __m512i gapU = _mm512_permutex2var_epi32(
        first, _mm512_setr_epi32(0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29), second);
    const __m512i valueU = _mm512_permutex2var_epi32(
        first, _mm512_setr_epi32(2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31), second);
    for (int half = 0; half < 2; half++) {
      const __m256i uh = half ? _mm512_extracti64x4_epi64(gapU, 1) : _mm512_castsi512_si256(gapU);
      const __m512d gap = _mm512_roundscale_pd(_mm512_div_pd(lnOneMinus8(uh, table), q),
                                               _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
      // min(gap, slots), as spec.ts's Math.min (gap is never NaN: y ≥ 1, so its logarithm is finite)
      const __m512d capped = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(gap, most, _CMP_GT_OQ), gap, most);
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(gaps + 2 * t + 8 * half), _mm512_cvttpd_epi32(capped));
    }
    _mm512_storeu_ps(values + 2 * t,
                     _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(valueU, 8)), _mm512_set1_ps(1.0f / 16777216.0f)));
  }
}

/**
 * The geometric scheme's kept slots in order (spec.ts; reference.ts's loop): from the instance's 16 seed
 * words, each step's outputs 0 and 1 give two gaps ⌊ln(1 − u·2⁻³²)/ln(1 − p)⌋ between kept slots, outputs 2
 * and 3 their values (u >> 8)·2⁻²⁴; keep(slot, value) for each slot below `slots`, until it returns false.
 * Returns whether every kept slot was taken.
 */
template <typename Keep>
inline bool geometricSlots(const int32_t *seeds, double logQ, int64_t slots, const double *table, Keep keep) {
  __m128i s[4] = {seedWord(seeds, 0), seedWord(seeds, 1), seedWord(seeds, 2), seedWord(seeds, 3)};
  int32_t gaps[2 * AHEAD];
  float values[2 * AHEAD];
  int64_t pos = -1;
  for (;;) {
    drawGaps(s, logQ, slots, table, gaps, values);
    for (int k = 0; k < 2 * AHEAD; k++) {
      pos += gaps[k] + 1;
      if (pos >= slots) return true;
      if (!keep(pos, values[k])) return false;
    }
  }
}

inline double logQOf(const int32_t *at) {
  double logQ;
  std::memcpy(&logQ, at, 8);
  return logQ;
}

/** One instance of the geometric scheme into dense rows, its list of non-empty samples and its blocks. */
template <int F>
void geometricInstance(int32_t *rec, int B, char *mem, const double *table) {
  float *dense = reinterpret_cast<float *>(mem + rec[DENSE_AT]);
  int32_t *list = reinterpret_cast<int32_t *>(mem + rec[LIST_AT]);
  const int64_t slots = int64_t(B) * F;
  std::memset(dense, 0, size_t(slots) * 4);
  int n = 0, last = -1;
  geometricSlots(rec + SEEDS, logQOf(rec + LOG_Q), slots, table, [&](int64_t pos, float value) {
    const int sample = int(pos / F);
    if (sample != last) list[n++] = last = sample;
    dense[pos] = value;
    return true;
  });
  rec[N_OUT] = n;
  toBlocks<F>(dense, list, n, reinterpret_cast<float *>(mem + rec[BLOCKS_AT]));
}

/**
 * One float32 instance of the geometric scheme into the batch's CSR arrays from entry nnz on, exactly as the
 * WebAssembly sampler's sample_geom writes them: a sample's row start when the first kept slot lands at or
 * past it, then its entries (feature, value). Returns the new nnz, or −1 when the capacity ran out (the
 * caller grows the batch and samples the instance again from the same seeds).
 */
int geometricCsr(const int32_t *a, char *mem) {
  const int B = a[CSR_B], F = a[CSR_F];
  const double *table = reinterpret_cast<const double *>(mem + a[CSR_LN_TABLE_AT]);
  int32_t *rs = reinterpret_cast<int32_t *>(mem + a[CSR_RS_AT]);
  int32_t *feat = reinterpret_cast<int32_t *>(mem + a[CSR_FEAT_AT]);
  float *val = reinterpret_cast<float *>(mem + a[CSR_VAL_AT]);
  int nnz = a[CSR_NNZ];
  const int cap = a[CSR_CAP];
  int64_t sampleEnd = 0;
  int sample = 0;
  const bool whole = geometricSlots(a + CSR_SEEDS, logQOf(a + CSR_LOG_Q), int64_t(B) * F, table, [&](int64_t pos, float value) {
    // open every sample up to pos's: up to eight at once by one vector store of nnz over their row
    // starts (those past pos's sample are written again when they open), as sample_geom does, instead of
    // a loop whose exit the branch predictor would miss at almost every entry
    const int next = int(uint32_t(pos) / uint32_t(F)) + 1;
    if (next - sample < 9 && sample < B - 6) {
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(rs + sample), _mm256_set1_epi32(nnz));
      sample = next;
      sampleEnd = int64_t(next) * F;
    } else {
      while (pos >= sampleEnd) {
        rs[sample++] = nnz;
        sampleEnd += F;
      }
    }
    if (nnz >= cap) return false;
    feat[nnz] = int32_t(pos - (sampleEnd - F));
    val[nnz++] = value;
    return true;
  });
  if (!whole) return -1;
  for (; sample <= B; sample++) rs[sample] = nnz;
  return nnz;
}

typedef void (*GroupFn)(int32_t *const *, int, int, char *);
typedef void (*GeometricFn)(int32_t *, int, char *, const double *);
constexpr GeometricFn GEOMETRIC_ROWS[8] = {geometricInstance<1>, geometricInstance<2>, geometricInstance<3>,
                                           geometricInstance<4>, geometricInstance<5>, geometricInstance<6>,
                                           geometricInstance<7>, geometricInstance<8>};
template <typename L>
constexpr std::array<GroupFn, 8> groupsOf() {
  return {sampleGroup<1, L>, sampleGroup<2, L>, sampleGroup<3, L>, sampleGroup<4, L>,
          sampleGroup<5, L>, sampleGroup<6, L>, sampleGroup<7, L>, sampleGroup<8, L>};
}
constexpr std::array<GroupFn, 8> GROUPS = groupsOf<Group16>(), LONE = groupsOf<Lone4>();

/** Both samplers' arguments (memory: ArrayBuffer, args: Int32Array of at least atLeast), or why not. */
const char *memoryAndArgs(napi_env env, napi_callback_info info, size_t atLeast, char **mem, size_t *memLen,
                          int32_t **args, size_t *length) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2)
    return "the native sampler takes two arguments (memory, args)";
  void *memData;
  if (napi_get_arraybuffer_info(env, argv[0], &memData, memLen) != napi_ok)
    return "the native sampler's memory must be an ArrayBuffer";
  *args = typedArray<int32_t>(env, argv[1], napi_int32_array, atLeast, length);
  if (!*args) return "the native sampler's args must be an Int32Array, long enough for its header";
  *mem = static_cast<char *>(memData);
  return nullptr;
}

}  // namespace

/**
 * sampleRows(memory: ArrayBuffer, args: Int32Array): args[0] instances of B = args[1] samples and F = args[2]
 * features (args[3]: the byte offset of the logarithm table), instance k's record at args[4 + 26k …]: its 16
 * seed words (lane-major, as seedLanes left them), T − 1, c's float32 bits, the byte offsets of its dense rows
 * (B·F floats and 32 bytes more), its sample list (B + 8 entries) and its blocks (⌈B/4⌉·F vectors); word 22
 * says the geometric scheme (ln(1 − p) as a double at words 24–25); writes how many samples are listed at
 * word 21.
 */
napi_value SampleRows(napi_env env, napi_callback_info info) {
  char *mem;
  size_t memLen, length;
  int32_t *args;
  if (const char *why = memoryAndArgs(env, info, HEAD, &mem, &memLen, &args, &length))
    return fail(env, why);
  if (const char *why = rows::check(args, length, memLen)) return fail(env, why);
  rows::sample(args, mem);
  return nullptr;
}

const char *rows::check(const int32_t *args, size_t length, size_t memLen) {
  if (length < HEAD) return "sampleRows: args is shorter than its header";
  const int count = args[COUNT], B = args[NB], F = args[NF];
  if (count < 0 || size_t(HEAD + REC * int64_t(count)) > length)
    return "sampleRows: args is shorter than its count of records";
  if (F < 1 || F > 8 || B < 1 || (B * F) % 4 != 0 || B % (F % 4 == 0 ? 1 : F % 2 == 0 ? 2 : 4) != 0)
    return "sampleRows: F must be 1 … 8 and B a whole number of the mask scheme's periods";
  for (int k = 0; k < count; k++) {
    const int32_t *r = args + HEAD + REC * k;
    if (!inside(memLen, r[DENSE_AT], int64_t(B) * F * 4 + 32, 4) || !inside(memLen, r[LIST_AT], (B + 8) * 4, 4) ||
        !inside(memLen, r[BLOCKS_AT], (B + 3) / 4 * 16 * int64_t(F), 4))
      return "sampleRows: an instance's rows, sample list or blocks lie outside the memory";
  }
  if (!inside(memLen, args[LN_TABLE_AT], 2 * 256 * 8, 8))
    return "sampleRows: the logarithm table lies outside the memory";
  return nullptr;
}

void rows::sample(int32_t *args, char *mem) {
  const int count = args[COUNT], B = args[NB], F = args[NF];
  const double *table = reinterpret_cast<const double *>(mem + args[LN_TABLE_AT]);
  // the mask scheme's instances four at a time, the geometric scheme's one by one
  int32_t *group[4];
  int in = 0;
  for (int k = 0; k < count; k++) {
    int32_t *r = args + HEAD + REC * k;
    if (r[GEOMETRIC]) {
      GEOMETRIC_ROWS[F - 1](r, B, mem, table);
      continue;
    }
    group[in++] = r;
    if (in == 4) {
      GROUPS[F - 1](group, in, B, mem);
      in = 0;
    }
  }
  if (in > 0) (in == 1 ? LONE : GROUPS)[F - 1](group, in, B, mem);
}

/**
 * sampleCsr(memory: ArrayBuffer, args: Int32Array) -> nnz or −1: one float32 instance of B = args[0] samples
 * and F = args[1] features, its 16 seed words at args[4 …], the byte offsets of its row starts, of the batch's
 * feature and value arrays, the entries so far and the capacity (args[22 … 26]); of the mask scheme (F a
 * multiple of 4; T − 1 and c's bits at args[20], args[21]: csrInstance) or, where args[27] is 1, of the
 * geometric scheme (ln(1 − p) as a double at args[28 … 29], the logarithm table's byte offset at args[30]:
 * geometricCsr).
 */
napi_value SampleCsr(napi_env env, napi_callback_info info) {
  char *mem;
  size_t memLen, length;
  int32_t *a;
  if (const char *why = memoryAndArgs(env, info, CSR_ARGS, &mem, &memLen, &a, &length)) return fail(env, why);
  const int B = a[CSR_B], F = a[CSR_F], nnz = a[CSR_NNZ], cap = a[CSR_CAP];
  const bool geometric = a[CSR_GEOMETRIC] == 1;
  if (B < 1 || F < 1 || (!geometric && F % 4 != 0))
    return fail(env, "sampleCsr: B and F must be positive, and F a multiple of 4 for the mask scheme");
  if (geometric && int64_t(B) * F >= (int64_t{1} << 31)) return fail(env, "sampleCsr: B·F must be below 2³¹");
  if (geometric && !inside(memLen, a[CSR_LN_TABLE_AT], 2 * 256 * 8, 8))
    return fail(env, "sampleCsr: the logarithm table lies outside the memory");
  // the arrays hold cap entries and the sampler's slack of 8 (spec.ts SLACK)
  if (nnz < 0 || cap < nnz || !inside(memLen, a[CSR_RS_AT], 4 * (int64_t(B) + 1), 4) ||
      !inside(memLen, a[CSR_FEAT_AT], 4 * (int64_t(cap) + 8), 4) || !inside(memLen, a[CSR_VAL_AT], 4 * (int64_t(cap) + 8), 4))
    return fail(env, "sampleCsr: the batch's arrays lie outside the memory");
  napi_value out;
  napi_create_int32(env, geometric ? geometricCsr(a, mem) : csrInstance(a, mem), &out);
  return out;
}

extern const bool HAS_SAMPLER = true;
#else
const char *rows::check(const int32_t *, size_t, size_t) { return "sampleRows: not in this build (no AVX-512)"; }
void rows::sample(int32_t *, char *) {}
napi_value SampleRows(napi_env, napi_callback_info) { return nullptr; }
napi_value SampleCsr(napi_env, napi_callback_info) { return nullptr; }
extern const bool HAS_SAMPLER = false;
#endif

}  // namespace tms
