// Whole training steps in native code (native/steps.cc) for the runs it covers: float32 runs of a small model
// (the intro and phase presets' shapes) whose every instance the native rows sampler samples and the native
// blocks path trains, with AdamW's state in WebAssembly memory; one run (Trainer.advance) or a lockstep group
// sharing each step's batch (trainLockstep). A cold `tms train` of such a run spent a quarter of its time in
// the JavaScript between the native calls, much of it before V8 had optimised that JavaScript; here one call
// takes a slice of steps. The operations are Trainer.stepOn's, in the same order, so the weights are bit for
// bit the same (test/core/native-steps.test.ts). Whether it is used depends only on the installation and the
// runs' settings, never on timing.

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

/** native/steps.cc's StepArg and RunArg: the header, then RUN_WORDS a run, then the rows sampler's arguments. */
const ARG = { N_STEPS: 0, N_INST: 1, F: 2, H: 3, B: 4, N_RUNS: 5, RNG: 6, HEADER: 10 } as const;
const RUN_WORDS = 10;
/** AdamW's scalars a step and run (native/steps.cc's Scalar, update.ts's StepScalars order). */
const N_SCALARS = 7;

let enabled = true;
/** Turns native steps off (and on): the tests and benchmarks compare both ways of stepping. */
export function setNativeSteps(on: boolean): void {
  enabled = on;
}

/** What the runs share: one model, batch and data (lockstep.ts's sharesData). */
export interface StepsData {
  spec: ModelSpec;
  dtype: "f32" | "f64";
  batch: SparseBatch;
  /** The runs' length (the learning-rate schedules' horizon). */
  steps: number;
}

/** What native steps need of one run. */
export interface StepsRun {
  act: Activation;
  kernel: StepKernel;
  optimizer: Optimizer;
  lr: number;
  lrSchedule: LrSchedule;
  /** Where the run's last losses go. */
  losses: Float64Array;
}

type TrainSteps = NonNullable<NativeKernel["trainSteps"]>;

export class NativeSteps {
  /** The importance, then each step's AdamW scalars for each run. */
  private doubles: Float64Array;
  private readonly losses: Float64Array;
  /** Seconds spent sampling (index 0) and in each run (1 + r), added up over every call. */
  readonly seconds: Float64Array;
  private constructor(
    private readonly data: StepsData,
    private readonly runs: readonly StepsRun[],
    private readonly trainSteps: TrainSteps,
    private readonly args: Int32Array,
    private readonly params: ArrayBuffer[],
  ) {
    const { nInstances: I, nFeatures: F } = data.spec;
    this.doubles = new Float64Array(I * F + 100 * runs.length * N_SCALARS);
    this.doubles.set(data.spec.importance);
    this.losses = new Float64Array(runs.length * I);
    this.seconds = new Float64Array(runs.length + 1);
  }

  /** Native steps for these runs, or undefined where some part of a step has no native code. */
  static for(data: StepsData, runs: readonly StepsRun[]): NativeSteps | undefined {
    const { spec, dtype, batch } = data;
    const I = spec.nInstances;
    if (!enabled || runs.length === 0 || dtype !== "f32") return undefined;
    if (!rowsOnlyInstances(fastKernel, spec, dtype)?.every((r) => r === 1)) return undefined;
    let trainSteps: TrainSteps | undefined;
    const acts: number[] = [];
    const params: ArrayBuffer[] = [];
    for (const run of runs) {
      if (run.kernel !== fastKernel || run.optimizer.settings.name !== "adamw") return undefined;
      const native = nativeKernelFor(run.act, spec.nFeatures, dtype);
      // every run's activation in the one addon that has trainSteps (a formula's own addon has none)
      trainSteps ??= native?.kernel.trainSteps;
      if (!native || !trainSteps || native.kernel.trainSteps !== trainSteps) return undefined;
      if (nativeInstances(spec, run.act, dtype)?.blocks.length !== I) return undefined;
      const buffer = sharedBuffer(run.optimizer);
      if (!buffer) return undefined;
      acts.push(native.act);
      params.push(buffer);
    }
    const samplerAt = ARG.HEADER + RUN_WORDS * runs.length;
    const args = trainSteps && nativeRowsArgs(spec, batch, samplerAt);
    if (!trainSteps || !args) return undefined;
    args.set([I, spec.nFeatures, spec.nHidden, batch.batchSize, runs.length], ARG.N_INST);
    runs.forEach(({ optimizer: { params: p, grads: g, state } }, r) => {
      const views = [p.W, p.b, g.W, g.b, state.W.m, state.W.v, state.b.m, state.b.v];
      args.set([acts[r], ...views.map((v) => v.byteOffset)], ARG.HEADER + RUN_WORDS * r);
    });
    return new NativeSteps(data, runs, trainSteps, args, params);
  }

  /**
   * Up to n steps from step `step` (0-based) with the runs' shared generator, which it advances; each run's
   * `losses` gets its last step's. Returns the steps taken: fewer than n when some run's losses or gradients
   * are not all finite at a step, with `rng` as it was before that step, which the caller then takes itself.
   */
  steps(step: number, n: number, rng: Rng): number {
    const { spec, steps } = this.data;
    const R = this.runs.length;
    const I = spec.nInstances;
    const IF = I * spec.nFeatures;
    if (this.doubles.length < IF + n * R * N_SCALARS) {
      this.doubles = new Float64Array(IF + n * R * N_SCALARS);
      this.doubles.set(spec.importance);
    }
    const doubles = this.doubles;
    this.runs.forEach(({ optimizer, lr, lrSchedule }, r) => {
      const t = optimizer.steps[0];
      for (let k = 0; k < n; k++) {
        const s = stepScalars(optimizer.settings, t + k + 1, lr * lrScale(lrSchedule, step + k, steps));
        if (s.name !== "adamw") throw new Error("native steps: AdamW only");
        doubles.set(
          [s.decay, s.stepSize, s.bias2Sqrt, s.c1, s.beta2, s.c2, s.eps],
          IF + (k * R + r) * N_SCALARS,
        );
      }
    });
    const memory = engineOf(this.data.batch)?.buffer;
    if (!memory) throw new Error("native steps: the batch has no engine memory");
    this.args[ARG.N_STEPS] = n;
    rng.saveState(this.args, ARG.RNG);
    const done = this.trainSteps(memory, this.params, this.args, doubles, this.losses, this.seconds);
    rng.loadState(this.args, ARG.RNG);
    this.runs.forEach((run, r) => {
      run.optimizer.stepped(done);
      if (done > 0) run.losses.set(this.losses.subarray(r * I, (r + 1) * I));
    });
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
