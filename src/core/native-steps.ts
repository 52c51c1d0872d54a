// Whole training steps in native code (native/steps.cc) for the runs it covers: a float32 run of a small
// model (the intro and phase presets' shapes) whose every instance the native rows sampler samples and the
// native blocks path trains, with AdamW's state in WebAssembly memory. A cold `tms train` of such a run spent
// ≈ 10 % of its time in the JavaScript between the native calls, most of it before V8 had optimised that
// JavaScript; here one call takes up to a slice of steps. The operations are the same as Trainer.stepOn's, in
// the same order, so the weights are bit for bit the same (test/core/native-steps.test.ts). Whether it is
// used depends only on the installation and the run's settings, never on timing.

import type { Activation } from "./activations.js";
import { engineOf } from "./kernels/engine.js";
import { fastKernel, rowsOnlyInstances } from "./kernels/fast.js";
import { type NativeKernel, nativeInstances, nativeKernelFor } from "./kernels/native/native.js";
import type { StepKernel } from "./kernels/types.js";
import type { ModelSpec } from "./model.js";
import { stepScalars } from "./optimizer/update.js";
import { type LrSchedule, lrScale, type Optimizer } from "./optimizer.js";
import type { Rng } from "./rng.js";
import { nativeRowsArgs } from "./sampler/batch.js";
import type { SparseBatch } from "./sampling.js";

/** native/steps.cc's StepArg: the header before the rows sampler's arguments. */
const ARG = { N_STEPS: 0, N_INST: 1, F: 2, H: 3, B: 4, ACT: 5, RNG: 6, PARAMS: 10, SAMPLER: 20 } as const;
/** AdamW's scalars a step (native/steps.cc's Scalar, update.ts's StepScalars order). */
const N_SCALARS = 7;

let enabled = true;
/** Turns native steps off (and on): the tests and benchmarks compare both ways of stepping. */
export function setNativeSteps(on: boolean): void {
  enabled = on;
}

/** What a run is, as far as native steps care. */
export interface StepsRun {
  spec: ModelSpec;
  act: Activation;
  kernel: StepKernel;
  dtype: "f32" | "f64";
  batch: SparseBatch;
  optimizer: Optimizer;
  lr: number;
  lrSchedule: LrSchedule;
  steps: number;
}

export class NativeSteps {
  /** The importance, then each step's AdamW scalars. */
  private doubles: Float64Array;
  private constructor(
    private readonly run: StepsRun,
    private readonly trainSteps: NonNullable<NativeKernel["trainSteps"]>,
    private readonly args: Int32Array,
    private readonly params: ArrayBuffer,
  ) {
    const { spec } = run;
    this.doubles = new Float64Array(spec.nInstances * spec.nFeatures + 100 * N_SCALARS);
    this.doubles.set(spec.importance);
  }

  /** Native steps for this run, or undefined where some part of a step has no native code. */
  static for(run: StepsRun): NativeSteps | undefined {
    const { spec, act, dtype, optimizer } = run;
    const I = spec.nInstances;
    if (!enabled || run.kernel !== fastKernel || dtype !== "f32" || optimizer.settings.name !== "adamw")
      return undefined;
    const native = nativeKernelFor(act, spec.nFeatures, dtype);
    const trainSteps = native?.kernel.trainSteps;
    if (!native || !trainSteps) return undefined;
    if (nativeInstances(spec, act, dtype)?.blocks.length !== I) return undefined;
    if (!rowsOnlyInstances(fastKernel, spec, dtype)?.every((r) => r === 1)) return undefined;
    const params = sharedBuffer(optimizer);
    const args = params && nativeRowsArgs(spec, run.batch, ARG.SAMPLER);
    if (!params || !args) return undefined;
    args.set([I, spec.nFeatures, spec.nHidden, run.batch.batchSize, native.act], ARG.N_INST);
    const { params: p, grads: g, state } = optimizer;
    args.set(
      [p.W, p.b, g.W, g.b, state.W.m, state.W.v, state.b.m, state.b.v].map((v) => v.byteOffset),
      ARG.PARAMS,
    );
    return new NativeSteps(run, trainSteps, args, params);
  }

  /**
   * Up to n steps from step `step` (0-based) with the run's generator, which it advances; `losses` gets the
   * last step's. Returns the steps taken: fewer than n when a step's losses or gradients are not all finite,
   * with `rng` as it was before that step, which the caller then takes itself.
   */
  steps(step: number, n: number, rng: Rng, losses: Float64Array): number {
    const { spec, optimizer, lr, lrSchedule, steps } = this.run;
    const IF = spec.nInstances * spec.nFeatures;
    if (this.doubles.length < IF + n * N_SCALARS) {
      this.doubles = new Float64Array(IF + n * N_SCALARS);
      this.doubles.set(spec.importance);
    }
    const doubles = this.doubles;
    const t = optimizer.steps[0];
    for (let k = 0; k < n; k++) {
      const s = stepScalars(optimizer.settings, t + k + 1, lr * lrScale(lrSchedule, step + k, steps));
      if (s.name !== "adamw") throw new Error("native steps: AdamW only");
      doubles.set([s.decay, s.stepSize, s.bias2Sqrt, s.c1, s.beta2, s.c2, s.eps], IF + k * N_SCALARS);
    }
    const memory = engineOf(this.run.batch)?.buffer;
    if (!memory) throw new Error("native steps: the batch has no engine memory");
    this.args[ARG.N_STEPS] = n;
    rng.saveState(this.args, ARG.RNG);
    const done = this.trainSteps(memory, this.params, this.args, doubles, losses);
    rng.loadState(this.args, ARG.RNG);
    optimizer.stepped(done);
    return done;
  }
}

/** The one ArrayBuffer all of the optimizer's float32 parameters, state and float64 gradients are views of. */
function sharedBuffer(o: Optimizer): ArrayBuffer | undefined {
  const f32 = [o.params.W, o.params.b, o.state.W.m, o.state.W.v, o.state.b.m, o.state.b.v];
  const f64 = [o.grads.W, o.grads.b];
  const buffer = o.params.W.buffer;
  if (!(buffer instanceof ArrayBuffer)) return undefined;
  const same = (v: { buffer: ArrayBufferLike }) => v.buffer === buffer;
  return f32.every((v) => v instanceof Float32Array && same(v)) && f64.every(same) ? buffer : undefined;
}
