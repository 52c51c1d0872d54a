// tms-lab's native training steps: many whole steps of one small model's run in one call, for runs whose
// every part has native code (src/core/native-steps.ts decides which): per step the run's 16 seed words per
// instance (src/core/rng.ts's xoshiro128**, then seedLanes), the rows sampler (sampler.cc), the blocks path
// (blocks.cc) and torch's AdamW in float64 (src/core/optimizer/update.ts). The same operations in the same
// order as the step JavaScript drives, so the weights come out bit for bit the same; what goes is the
// JavaScript between the calls, and with it the warm-up it runs before V8 has optimised it (docs/speed.md).

#include <node_api.h>

#include <cmath>
#include <vector>

#include "kernel.h"
#include "sampler.h"

namespace tms {
namespace {

/** The call's Int32Array of arguments; the rows sampler's arguments (sampler.h) follow at SAMPLER. */
enum StepArg {
  N_STEPS = 0, N_INST = 1, S_F = 2, S_H = 3, S_B = 4, S_ACT = 5,
  RNG = 6,  // the run's generator, four words (in, and out as it stands after the last step taken)
  // byte offsets into the parameter memory: W, b (float32), ∇W, ∇b (float64), AdamW's m and v of W and b (float32)
  P_W = 10, P_B = 11, P_GW = 12, P_GB = 13, M_W = 14, V_W = 15, M_B = 16, V_B = 17,
  SAMPLER = 20
};
/** AdamW's scalars for one step (update.ts's StepScalars, in that order). */
enum Scalar { DECAY, STEP_SIZE, BIAS2_SQRT, C1, BETA2, C2, EPS, N_SCALARS };

/** rng.ts's Rng.nextUint32 (xoshiro128**). */
struct Xoshiro128ss {
  uint32_t a, b, c, d;
  static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
  uint32_t next() {
    const uint32_t result = rotl(b * 5, 7) * 9;
    const uint32_t t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  }
};

/** An instance's 16 seed words as sampleBatch draws them (then spec.ts's seedLanes: no all-zero lane). */
void drawSeeds(Xoshiro128ss &rng, int32_t *seeds) {
  for (int k = 0; k < 16; k++) seeds[k] = int32_t(rng.next());
  for (int l = 0; l < 4; l++)
    if ((seeds[4 * l] | seeds[4 * l + 1] | seeds[4 * l + 2] | seeds[4 * l + 3]) == 0) seeds[4 * l] = 1;
}

/** update.ts's AdamW over n values, each operation in float64 and each store rounded to float32. */
void adamw(float *p, const double *g, float *m, float *v, int64_t n, const double *s) {
  for (int64_t j = 0; j < n; j++) {
    const double gj = g[j];
    p[j] = float(double(p[j]) * s[DECAY]);
    m[j] = float(double(m[j]) + (gj - double(m[j])) * s[C1]);
    v[j] = float(double(v[j]) * s[BETA2] + s[C2] * gj * gj);
    p[j] = float(double(p[j]) - (s[STEP_SIZE] * double(m[j])) / (std::sqrt(double(v[j])) / s[BIAS2_SQRT] + s[EPS]));
  }
}

bool allFinite(const double *x, int64_t n) {
  for (int64_t j = 0; j < n; j++)
    if (!std::isfinite(x[j])) return false;
  return true;
}

napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, "TMS_NATIVE", message);
  return nullptr;
}

bool inside(size_t len, int64_t at, int64_t bytes, int align) {
  return at >= 0 && bytes >= 0 && at % align == 0 && uint64_t(at + bytes) <= len;
}

template <typename T>
T *typedArray(napi_env env, napi_value value, napi_typedarray_type type, size_t *length) {
  napi_typedarray_type actual;
  void *data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &actual, length, &data, &buffer, &offset) != napi_ok || actual != type)
    return nullptr;
  return static_cast<T *>(data);
}

}  // namespace

extern const int N_ACTIVATIONS;

/**
 * trainSteps(memory: ArrayBuffer, params: ArrayBuffer, args: Int32Array, doubles: Float64Array,
 * losses: Float64Array) -> steps taken. Up to args[N_STEPS] steps of a float32 run whose instances are all
 * sampled as rows (the rows sampler's arguments at args[SAMPLER …], seeds drawn here) and trained on the
 * blocks path (activation index args[S_ACT]); `memory` holds the batch's rows, lists and blocks, `params` the
 * run's parameters, gradients and AdamW state (byte offsets at args[P_W …]). doubles: the importance (I·F),
 * then N_SCALARS per step. Stops before the update of a step whose losses or gradients are not all finite,
 * with the generator as it was before that step (the caller runs that step itself); losses gets the last
 * step's losses.
 */
napi_value TrainSteps(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 5)
    return fail(env, "trainSteps: takes five arguments (memory, params, args, doubles, losses)");
  void *memData, *parData;
  size_t memLen, parLen, nArgs, nDoubles, nLosses;
  if (napi_get_arraybuffer_info(env, argv[0], &memData, &memLen) != napi_ok ||
      napi_get_arraybuffer_info(env, argv[1], &parData, &parLen) != napi_ok)
    return fail(env, "trainSteps: memory and params must be ArrayBuffers");
  int32_t *a = typedArray<int32_t>(env, argv[2], napi_int32_array, &nArgs);
  const double *doubles = typedArray<const double>(env, argv[3], napi_float64_array, &nDoubles);
  double *losses = typedArray<double>(env, argv[4], napi_float64_array, &nLosses);
  if (!a || !doubles || !losses || nArgs < SAMPLER)
    return fail(env, "trainSteps: args, doubles and losses must be an Int32Array and two Float64Arrays");
  const int steps = a[N_STEPS], I = a[N_INST], F = a[S_F], H = a[S_H], B = a[S_B], act = a[S_ACT];
  int32_t *sampler = a + SAMPLER;
  char *mem = static_cast<char *>(memData);
  if (const char *why = rows::check(sampler, nArgs - SAMPLER, memLen)) return fail(env, why);
  if (steps < 0 || I < 1 || sampler[rows::COUNT] != I || sampler[rows::NB] != B || sampler[rows::NF] != F)
    return fail(env, "trainSteps: the sampler's arguments do not describe this run's instances");
  if (act < 0 || act >= N_ACTIVATIONS || F < 1 || F > BLOCKS_MAX_F || H < 1 || H > BLOCKS_MAX_H || !BLOCKS[act][F - 1][H - 1])
    return fail(env, "trainSteps: no blocks path for this activation and shape");
  const int64_t nW = int64_t(I) * F * H, nB = int64_t(I) * F;
  if (!inside(parLen, a[P_W], 4 * nW, 4) || !inside(parLen, a[P_B], 4 * nB, 4) ||
      !inside(parLen, a[P_GW], 8 * nW, 8) || !inside(parLen, a[P_GB], 8 * nB, 8) ||
      !inside(parLen, a[M_W], 4 * nW, 4) || !inside(parLen, a[V_W], 4 * nW, 4) ||
      !inside(parLen, a[M_B], 4 * nB, 4) || !inside(parLen, a[V_B], 4 * nB, 4))
    return fail(env, "trainSteps: a parameter address lies outside the parameter memory");
  if (nDoubles < size_t(nB) + size_t(steps) * N_SCALARS || nLosses < size_t(I))
    return fail(env, "trainSteps: doubles or losses is too short");
  char *par = static_cast<char *>(parData);
  float *W = reinterpret_cast<float *>(par + a[P_W]), *bias = reinterpret_cast<float *>(par + a[P_B]);
  double *gW = reinterpret_cast<double *>(par + a[P_GW]), *gB = reinterpret_cast<double *>(par + a[P_GB]);
  float *mW = reinterpret_cast<float *>(par + a[M_W]), *vW = reinterpret_cast<float *>(par + a[V_W]);
  float *mB = reinterpret_cast<float *>(par + a[M_B]), *vB = reinterpret_cast<float *>(par + a[V_B]);
  const PathFn blocks = BLOCKS[act][F - 1][H - 1];
  Xoshiro128ss rng{uint32_t(a[RNG]), uint32_t(a[RNG + 1]), uint32_t(a[RNG + 2]), uint32_t(a[RNG + 3])};
  std::vector<double> stepLoss(I);
  int done = 0;
  for (; done < steps; done++) {
    const Xoshiro128ss before = rng;
    for (int i = 0; i < I; i++) drawSeeds(rng, sampler + rows::HEAD + rows::REC * i + rows::SEEDS);
    rows::sample(sampler, mem);
    for (int i = 0; i < I; i++) {
      const int32_t *r = sampler + rows::HEAD + rows::REC * i;
      const Instance in{F, H, B, W + i * F * H, bias + i * F, doubles + i * F, nullptr, nullptr,
                        reinterpret_cast<const float *>(mem + r[rows::BLOCKS_AT]), gW + int64_t(i) * F * H,
                        gB + int64_t(i) * F, (r[rows::N_OUT] + 3) >> 2, false};
      stepLoss[i] = blocks(in);
    }
    if (!allFinite(stepLoss.data(), I) || !allFinite(gW, nW) || !allFinite(gB, nB)) {
      rng = before;
      break;
    }
    const double *s = doubles + nB + int64_t(done) * N_SCALARS;
    adamw(W, gW, mW, vW, nW, s);
    adamw(bias, gB, mB, vB, nB, s);
    for (int i = 0; i < I; i++) losses[i] = stepLoss[i];
  }
  a[RNG] = int32_t(rng.a);
  a[RNG + 1] = int32_t(rng.b);
  a[RNG + 2] = int32_t(rng.c);
  a[RNG + 3] = int32_t(rng.d);
  napi_value out;
  napi_create_int32(env, done, &out);
  return out;
}

}  // namespace tms
