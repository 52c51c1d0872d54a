// A measurement probe, not part of tms-lab: one core's peak f32 multiply-add rate at 128, 256 and 512 bits,
// unfused (mul then add, what WebAssembly SIMD has without relaxed SIMD) and fused, 12 independent chains
// in registers. Compare the first line with bench/flops.ts's WebAssembly bound (`npm run bench` prints it).
//
//   gcc -O2 -march=native -ffp-contract=off bench/native-probe/fma-peak.c -o /tmp/fma-peak && /tmp/fma-peak

#include <immintrin.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
// the empty asm keeps the compiler from reordering the chains across iterations
#define TEST(NAME, T, SET, LANES)                                                                          \
  {                                                                                                        \
    T x = SET(0.999f), y = SET(0.001f);                                                                    \
    R12(DECL)                                                                                              \
    double t0 = now();                                                                                     \
    for (long i = 0; i < n; i++) {                                                                         \
      R12(STEP)                                                                                            \
      __asm__ volatile("" ::: "memory");                                                                   \
    }                                                                                                      \
    double t = now() - t0;                                                                                 \
    T s = SET(0);                                                                                          \
    R12(SUM)                                                                                               \
    float o[16];                                                                                           \
    memcpy(o, &s, 4);                                                                                      \
    printf("%-16s %6.1f GFLOP/s  (%g)\n", NAME, 2.0 * 12 * LANES * n / t / 1e9, o[0]);                   \
  }

int main(void) {
  long n = 100000000;
#define DECL(k) __m128 a##k = _mm_set1_ps(k);
#define SUM(k) s = _mm_add_ps(s, a##k);
#define STEP(k) a##k = _mm_add_ps(_mm_mul_ps(a##k, x), y);
  TEST("128 mul+add", __m128, _mm_set1_ps, 4)
#undef STEP
#define STEP(k) a##k = _mm_fmadd_ps(a##k, x, y);
  TEST("128 fma", __m128, _mm_set1_ps, 4)
#undef DECL
#undef SUM
#undef STEP
#define DECL(k) __m256 a##k = _mm256_set1_ps(k);
#define SUM(k) s = _mm256_add_ps(s, a##k);
#define STEP(k) a##k = _mm256_add_ps(_mm256_mul_ps(a##k, x), y);
  TEST("256 mul+add", __m256, _mm256_set1_ps, 8)
#undef STEP
#define STEP(k) a##k = _mm256_fmadd_ps(a##k, x, y);
  TEST("256 fma", __m256, _mm256_set1_ps, 8)
#ifdef __AVX512F__
#undef DECL
#undef SUM
#undef STEP
#define DECL(k) __m512 a##k = _mm512_set1_ps(k);
#define SUM(k) s = _mm512_add_ps(s, a##k);
#define STEP(k) a##k = _mm512_fmadd_ps(a##k, x, y);
  TEST("512 fma", __m512, _mm512_set1_ps, 16)
#endif
  return 0;
}
