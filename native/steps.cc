// tms-lab's native training steps: many whole steps of a small model's runs in one call (one run, or a
// lockstep group sharing each step's batch), for runs whose every part has native code
// (src/core/native-steps.ts decides which): per step 16 seed words per instance from the runs' generator
// (src/core/rng.ts's xoshiro128**, then seedLanes), the rows sampler (sampler.cc), then per run the blocks
// path (blocks.cc) and torch's AdamW in float64 (src/core/optimizer/update.ts). The same operations in the
// same order as the steps JavaScript drives, so the weights come out bit for bit the same; what goes is the
// JavaScript between the calls, and the warm-up it runs before V8 has optimised it (docs/speed.md).

#include <node_api.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernel.h"
#include "napi.h"
#include "sampler.h"

namespace tms {
namespace {

/**
 * The call's Int32Array of arguments: a header, RUN_WORDS words for each of N_RUNS runs, then the rows
 * sampler's arguments (sampler.h) at HEADER + RUN_WORDS·N_RUNS.
 */
enum StepArg {
  N_STEPS = 0, N_INST = 1, S_F = 2, S_H = 3, S_B = 4, N_RUNS = 5,
  RNG = 6,  // the runs' shared generator, four words (in, and out as it stands after the last step taken)
  HEADER = 10
};
/** A run's words: its activation's index, then byte offsets into its parameter memory: W, b (float32), ∇W, ∇b
 * (float64), AdamW's m and v of W and of b (float32). */
enum RunArg { R_ACT = 0, P_W = 1, P_B = 2, P_GW = 3, P_GB = 4, M_W = 5, V_W = 6, M_B = 7, V_B = 8, RUN_WORDS = 10 };
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

}  // namespace

extern const int N_ACTIVATIONS;

namespace {

/** One run's parameters, state and step function, checked against its parameter memory. */
struct Run {
  PathFn blocks;
  float *W, *bias, *mW, *vW, *mB, *vB;
  double *gW, *gB;
};

const char *runOf(const int32_t *r, char *par, size_t parLen, int64_t nW, int64_t nB, int F, int H, Run &run) {
  const int act = r[R_ACT];
  if (act < 0 || act >= N_ACTIVATIONS || !BLOCKS[act][F - 1][H - 1])
    return "trainSteps: no blocks path for this activation and shape";
  if (!inside(parLen, r[P_W], 4 * nW, 4) || !inside(parLen, r[P_B], 4 * nB, 4) ||
      !inside(parLen, r[P_GW], 8 * nW, 8) || !inside(parLen, r[P_GB], 8 * nB, 8) ||
      !inside(parLen, r[M_W], 4 * nW, 4) || !inside(parLen, r[V_W], 4 * nW, 4) ||
      !inside(parLen, r[M_B], 4 * nB, 4) || !inside(parLen, r[V_B], 4 * nB, 4))
    return "trainSteps: a parameter address lies outside the parameter memory";
  auto f32 = [&](int at) { return reinterpret_cast<float *>(par + r[at]); };
  auto f64 = [&](int at) { return reinterpret_cast<double *>(par + r[at]); };
  run = Run{BLOCKS[act][F - 1][H - 1], f32(P_W), f32(P_B), f32(M_W), f32(V_W), f32(M_B), f32(V_B), f64(P_GW), f64(P_GB)};
  return nullptr;
}

double secondsSince(const std::chrono::steady_clock::time_point &t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

/**
 * trainSteps(memory: ArrayBuffer, params: ArrayBuffer[], args: Int32Array, doubles: Float64Array,
 * losses: Float64Array, seconds: Float64Array) -> steps taken. Up to args[N_STEPS] steps of N_RUNS float32
 * runs of one model that share their data (a lockstep group, or one run): per step one batch, every
 * instance sampled as rows (the rows sampler's arguments after the runs' words, seeds drawn here), then each
 * run on the blocks path (its activation index and its offsets into params[r] in its words). `memory` holds
 * the batch's rows, lists and blocks. doubles: the importance (I·F), then per step N_SCALARS for each run.
 * Stops before the updates of a step in which some run's losses or gradients are not all finite, with the
 * generator as it was before that step (the caller takes that step itself); losses[r·I …] gets run r's last
 * losses; seconds[0] adds the time spent sampling, seconds[1 + r] run r's.
 */
napi_value TrainSteps(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 6)
    return fail(env, "trainSteps: takes six arguments (memory, params, args, doubles, losses, seconds)");
  void *memData;
  size_t memLen, nArgs, nDoubles, nLosses, nSeconds;
  if (napi_get_arraybuffer_info(env, argv[0], &memData, &memLen) != napi_ok)
    return fail(env, "trainSteps: memory must be an ArrayBuffer");
  int32_t *a = typedArray<int32_t>(env, argv[2], napi_int32_array, 0, &nArgs);
  const double *doubles = typedArray<const double>(env, argv[3], napi_float64_array, 0, &nDoubles);
  double *losses = typedArray<double>(env, argv[4], napi_float64_array, 0, &nLosses);
  double *seconds = typedArray<double>(env, argv[5], napi_float64_array, 0, &nSeconds);
  if (!a || !doubles || !losses || !seconds || nArgs < HEADER)
    return fail(env, "trainSteps: args, doubles, losses and seconds must be an Int32Array and Float64Arrays");
  const int steps = a[N_STEPS], I = a[N_INST], F = a[S_F], H = a[S_H], B = a[S_B], R = a[N_RUNS];
  uint32_t nParams;
  bool isArray = false;
  napi_is_array(env, argv[1], &isArray);
  if (R < 1 || !isArray || napi_get_array_length(env, argv[1], &nParams) != napi_ok || nParams != uint32_t(R))
    return fail(env, "trainSteps: params must be an array of one ArrayBuffer per run");
  if (size_t(HEADER) + size_t(RUN_WORDS) * R > nArgs) return fail(env, "trainSteps: args is shorter than its runs");
  int32_t *sampler = a + HEADER + RUN_WORDS * R;
  char *mem = static_cast<char *>(memData);
  if (const char *why = rows::check(sampler, nArgs - HEADER - RUN_WORDS * R, memLen)) return fail(env, why);
  if (steps < 0 || I < 1 || sampler[rows::COUNT] != I || sampler[rows::NB] != B || sampler[rows::NF] != F)
    return fail(env, "trainSteps: the sampler's arguments do not describe these runs' instances");
  if (F > BLOCKS_MAX_F || H < 1 || H > BLOCKS_MAX_H) return fail(env, "trainSteps: no blocks path for this shape");
  const int64_t nW = int64_t(I) * F * H, nB = int64_t(I) * F;
  if (nDoubles < size_t(nB) + size_t(steps) * R * N_SCALARS || nLosses < size_t(R) * I || nSeconds < size_t(R) + 1)
    return fail(env, "trainSteps: doubles, losses or seconds is too short");
  std::vector<Run> runs(R);
  for (int r = 0; r < R; r++) {
    napi_value buffer;
    void *parData;
    size_t parLen;
    if (napi_get_element(env, argv[1], r, &buffer) != napi_ok ||
        napi_get_arraybuffer_info(env, buffer, &parData, &parLen) != napi_ok)
      return fail(env, "trainSteps: params must be an array of one ArrayBuffer per run");
    if (const char *why = runOf(a + HEADER + RUN_WORDS * r, static_cast<char *>(parData), parLen, nW, nB, F, H, runs[r]))
      return fail(env, why);
  }
  Xoshiro128ss rng{uint32_t(a[RNG]), uint32_t(a[RNG + 1]), uint32_t(a[RNG + 2]), uint32_t(a[RNG + 3])};
  std::vector<double> stepLoss(size_t(R) * I);
  int done = 0;
  for (; done < steps; done++) {
    const Xoshiro128ss before = rng;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < I; i++) drawSeeds(rng, sampler + rows::HEAD + rows::REC * i + rows::SEEDS);
    rows::sample(sampler, mem);
    seconds[0] += secondsSince(t0);
    bool finite = true;
    for (int r = 0; r < R && finite; r++) {
      t0 = std::chrono::steady_clock::now();
      const Run &run = runs[r];
      double *loss = stepLoss.data() + size_t(r) * I;
      for (int i = 0; i < I; i++) {
        const int32_t *rec = sampler + rows::HEAD + rows::REC * i;
        const Instance in{F, H, B, run.W + i * F * H, run.bias + i * F, doubles + i * F, nullptr, nullptr,
                          reinterpret_cast<const float *>(mem + rec[rows::BLOCKS_AT]), run.gW + int64_t(i) * F * H,
                          run.gB + int64_t(i) * F, (rec[rows::N_OUT] + 3) >> 2, false};
        loss[i] = run.blocks(in);
      }
      finite = allFinite(loss, I) && allFinite(run.gW, nW) && allFinite(run.gB, nB);
      seconds[1 + r] += secondsSince(t0);
    }
    if (!finite) {
      rng = before;
      break;
    }
    for (int r = 0; r < R; r++) {
      t0 = std::chrono::steady_clock::now();
      const Run &run = runs[r];
      const double *s = doubles + nB + (int64_t(done) * R + r) * N_SCALARS;
      adamw(run.W, run.gW, run.mW, run.vW, nW, s);
      adamw(run.bias, run.gB, run.mB, run.vB, nB, s);
      seconds[1 + r] += secondsSince(t0);
    }
    std::memcpy(losses, stepLoss.data(), sizeof(double) * R * I);
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
