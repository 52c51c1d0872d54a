// The training loop: sample a batch, run a kernel, take an optimizer step per instance. Instances whose loss or
// gradient turns non-finite are frozen at that step and reported as diverged; the others train on.

import { type Activation, type Buffer, getActivation } from "./activations.js";
import { wasmEnabled } from "./kernels/engine.js";
import { fastKernel, rowsOnlyInstances } from "./kernels/fast.js";
import { nativeInstances } from "./kernels/native/native.js";
import { makeReferenceKernel } from "./kernels/reference.js";
import { sparseKernel } from "./kernels/sparse.js";
import type { Gradients, SoftmaxDim, StepKernel } from "./kernels/types.js";
import { type DType, initParams, type ModelSpec, type Params } from "./model.js";
import { NativeSteps, type StepsRun } from "./native-steps.js";
import {
  createOptimizer,
  type LrSchedule,
  lrScale,
  type Optimizer,
  type OptimizerName,
  type OptimizerSettings,
} from "./optimizer.js";
import { Rng } from "./rng.js";
import { createBatch, type SparseBatch, sampleBatch } from "./sampling.js";

/** auto: the WebAssembly kernel (falls back to `sparse` without WebAssembly SIMD); sparse: plain JavaScript. */
export type KernelChoice = "auto" | "reference" | "sparse";

export interface TrainConfig {
  spec: ModelSpec;
  activation: string;
  steps: number;
  batchSize: number;
  lr: number;
  lrSchedule: LrSchedule;
  seed: number;
  dtype: DType;
  softmaxDim: SoftmaxDim;
  kernel?: KernelChoice;
  /** AdamW by default (torch's defaults); a name takes torch.optim's defaults for that optimizer. */
  optimizer?: OptimizerName | OptimizerSettings;
}

export const TRAIN_DEFAULTS = {
  steps: 10_000,
  batchSize: 1024,
  lr: 1e-3,
  lrSchedule: "constant" as LrSchedule,
  seed: 0,
  dtype: "f32" as DType,
  softmaxDim: "features" as SoftmaxDim,
};

export function chooseKernel(
  act: Activation,
  softmaxDim: SoftmaxDim,
  choice: KernelChoice = "auto",
): StepKernel {
  const needsBatch = act.kind === "vector" && softmaxDim === "batch";
  if (choice === "reference" || needsBatch) return makeReferenceKernel(softmaxDim);
  return choice === "sparse" ? sparseKernel : fastKernel;
}

/**
 * Which code computes a run's steps, as chooseKernel and the fast kernel decide it: "reference" (the
 * readable kernel: asked for, or the softmax over the batch), "javascript" (the sparse kernel: asked for,
 * or no WebAssembly SIMD), "webassembly", or "webassembly+native" (the native kernel runs some of the
 * instances: kernels/native/native.ts). They agree to float32 rounding, not bit for bit.
 */
export function kernelUsed(
  act: Activation,
  spec: ModelSpec,
  dtype: DType,
  softmaxDim: SoftmaxDim,
  choice: KernelChoice = "auto",
): "reference" | "javascript" | "webassembly" | "webassembly+native" {
  if (choice === "reference" || (act.kind === "vector" && softmaxDim === "batch")) return "reference";
  if (choice === "sparse" || !wasmEnabled()) return "javascript";
  return nativeInstances(spec, act, dtype) ? "webassembly+native" : "webassembly";
}

/** A training run that can be advanced in slices (the browser trains a few steps per frame). */
export class Trainer {
  readonly config: TrainConfig;
  readonly activation: Activation;
  readonly params: Params;
  /** Steps taken so far. */
  step = 0;
  /** Last step's loss per instance (the last finite one for diverged instances). */
  readonly trainLoss: Float64Array;
  /** Step at which each instance diverged, or −1. */
  readonly divergedAtStep: Int32Array;
  private readonly kernel: StepKernel;
  private readonly rng: Rng;
  /** Created on first use (a trainer stepped in lockstep never samples). */
  private batch: SparseBatch | undefined;
  private readonly grads: Gradients;
  private readonly losses: Float64Array;
  private readonly optimizer: Optimizer;
  /** Instances not frozen by divergence. */
  private liveInstances: number;
  /** Steps in native code where every part of this run has it (looked up on the first advance), or null. */
  private native: NativeSteps | null | undefined;

  constructor(config: TrainConfig, params?: Params) {
    this.config = config;
    const { spec, dtype } = config;
    const { nInstances: I } = spec;
    this.activation = getActivation(config.activation);
    this.kernel = chooseKernel(this.activation, config.softmaxDim, config.kernel);
    const initial = params ?? initParams(spec, dtype, config.seed);
    this.rng = new Rng(config.seed, "train");
    this.losses = new Float64Array(I);
    this.trainLoss = new Float64Array(I).fill(Number.NaN);
    this.divergedAtStep = new Int32Array(I).fill(-1);
    this.liveInstances = I;
    // in WebAssembly where available: parameters, gradients and state then live in its memory (`params`
    // given to the constructor is copied, not updated in place)
    this.optimizer = createOptimizer(config.optimizer ?? "adamw", initial, I);
    this.params = this.optimizer.params;
    this.grads = this.optimizer.grads;
  }

  get done(): boolean {
    return this.step >= this.config.steps;
  }

  /** Runs up to `n` more steps (never past config.steps); returns the losses of the last one. */
  advance(n: number): Float64Array {
    const end = Math.min(this.config.steps, this.step + n);
    while (this.step < end) {
      this.batch ??= createBatch(this.config.spec, this.config.batchSize, this.config.dtype);
      const native = this.nativeSteps(this.batch);
      if (native) {
        this.tookSteps(native.steps(this.step, end - this.step, this.rng));
        if (this.step === end) break;
        // a step with a non-finite loss or gradient: taken below, which freezes what diverged
      }
      sampleBatch(this.config.spec, this.rng, this.batch, this.rowsOnly());
      this.stepOn(this.batch);
    }
    return this.losses;
  }

  /** This run's native steps, while every instance trains and where every part of its step has native code. */
  private nativeSteps(batch: SparseBatch): NativeSteps | undefined {
    const run = this.stepsRun();
    if (!run) return undefined;
    if (this.native === undefined) {
      const { spec, dtype, steps } = this.config;
      this.native = NativeSteps.for({ spec, dtype, batch, steps }, [run]) ?? null;
    }
    return this.native ?? undefined;
  }

  /** What native steps (src/core/native-steps.ts) need of this run while every instance trains, else undefined. */
  stepsRun(): StepsRun | undefined {
    if (this.liveInstances !== this.config.spec.nInstances) return undefined;
    const { lr, lrSchedule } = this.config;
    const { activation: act, kernel, optimizer, losses } = this;
    return { act, kernel, optimizer, lr, lrSchedule, losses };
  }

  /** Counts n steps that native code took for this run (it wrote the last one's losses). */
  tookSteps(n: number): void {
    if (n > 0) this.trainLoss.set(this.losses);
    this.step += n;
  }

  /**
   * The instances whose CSR entries this run's kernel does not read (rowsOnlyInstances), so a batch for it
   * may leave them out; undefined for none.
   */
  rowsOnly(): Uint8Array | undefined {
    return rowsOnlyInstances(this.kernel, this.config.spec, this.config.dtype);
  }

  /**
   * One step on a batch sampled elsewhere (does not touch this trainer's own random stream). Lockstep
   * training (src/core/lockstep.ts) samples once per step for several trainers of the same spec, batch size,
   * dtype and seed: that batch is the very one each would have sampled, so results are unchanged.
   */
  stepOn(batch: SparseBatch): Float64Array {
    const { spec, steps, lr, lrSchedule } = this.config;
    const { nInstances: I, nFeatures: F, nHidden: H } = spec;
    this.kernel(spec, this.activation, this.params, batch, this.grads, this.losses);
    const stepLr = lr * lrScale(lrSchedule, this.step, steps);
    if (
      this.liveInstances === I &&
      allFinite(this.losses, 0, I) &&
      allFinite(this.grads.W, 0, I * F * H) &&
      allFinite(this.grads.b, 0, I * F)
    ) {
      // the usual case: every instance steps, so one update for all (the scalars computed once)
      this.trainLoss.set(this.losses);
      this.optimizer.step(stepLr);
      this.step++;
      return this.losses;
    }
    for (let i = 0; i < I; i++) {
      if (this.divergedAtStep[i] >= 0) continue;
      const loss = this.losses[i];
      if (
        !Number.isFinite(loss) ||
        !allFinite(this.grads.W, i * F * H, (i + 1) * F * H) ||
        !allFinite(this.grads.b, i * F, (i + 1) * F)
      ) {
        this.divergedAtStep[i] = this.step;
        this.liveInstances--;
        continue;
      }
      this.trainLoss[i] = loss;
      this.optimizer.step(stepLr, i, i + 1);
    }
    this.step++;
    return this.losses;
  }
}

function allFinite(a: Float64Array, from: number, to: number): boolean {
  let sum = 0;
  for (let j = from; j < to; j++) sum += a[j] * 0;
  return sum === 0; // x·0 is NaN exactly when x is NaN or ±Infinity
}

export interface TrainOutcome {
  params: Params;
  trainLoss: Float64Array;
  divergedAtStep: Int32Array;
  seconds: number;
  /** Sampled loss curve: steps (1-based count of steps taken) and per-instance losses at those steps. */
  curve: { step: number[]; loss: number[][] };
  /** Copies of W and b at log-spaced steps (step 0 = the initial weights), when asked for. */
  snapshots?: { step: number[]; W: Buffer[]; b: Buffer[] };
}

export interface TrainHooks {
  /** Called every ~1% of the run. */
  onProgress?: (step: number, losses: Float64Array) => void;
  /** Number of weight snapshots to keep (0: none). */
  snapshots?: number;
}

/** About `n` log-spaced step counts in [1, steps], always including `steps`. */
export function logSpacedSteps(steps: number, n = 100): number[] {
  const out = new Set<number>();
  for (let k = 0; k < n; k++) out.add(Math.max(1, Math.round(steps ** (k / Math.max(1, n - 1)))));
  out.add(steps);
  return [...out].sort((a, b) => a - b);
}

/**
 * The steps at which to keep `count` weight snapshots (step 0 and log-spaced after it; none without a count),
 * where they go, and `keep`, which stores the trainer's current weights; step 0's is kept at once.
 */
export function snapshotKeeper(trainer: Trainer, steps: number, count?: number) {
  const snapshotSteps = count ? [0, ...logSpacedSteps(steps, count - 1)] : [];
  const snapshots: TrainOutcome["snapshots"] = count ? { step: [], W: [], b: [] } : undefined;
  const keep = () => {
    snapshots?.step.push(trainer.step);
    snapshots?.W.push(trainer.params.W.slice());
    snapshots?.b.push(trainer.params.b.slice());
  };
  if (snapshotSteps.includes(0)) keep();
  return { snapshotSteps, snapshots, keep };
}

/** Trains to the end, recording the loss curve (~100 log-spaced steps) and optional snapshots. */
export function train(config: TrainConfig, hooks: TrainHooks = {}): TrainOutcome {
  const trainer = new Trainer(config);
  const curveSteps = logSpacedSteps(config.steps);
  const {
    snapshotSteps,
    snapshots,
    keep: keepSnapshot,
  } = snapshotKeeper(trainer, config.steps, hooks.snapshots);
  const marks = [...new Set([...curveSteps, ...snapshotSteps.filter((s) => s > 0)])].sort((a, b) => a - b);
  const progressEvery = Math.max(1, Math.floor(config.steps / 100));
  const curve = { step: [] as number[], loss: [] as number[][] };
  const t0 = performance.now();
  let nextMark = 0;
  while (!trainer.done) {
    const target = Math.min(marks[nextMark], (Math.floor(trainer.step / progressEvery) + 1) * progressEvery);
    const losses = trainer.advance(target - trainer.step);
    if (trainer.step === marks[nextMark]) {
      if (curveSteps.includes(trainer.step)) {
        curve.step.push(trainer.step);
        curve.loss.push(Array.from(losses));
      }
      if (snapshotSteps.includes(trainer.step)) keepSnapshot();
      nextMark++;
    }
    if (hooks.onProgress && trainer.step % progressEvery === 0) hooks.onProgress(trainer.step, losses);
  }
  return {
    params: trainer.params,
    trainLoss: trainer.trainLoss,
    divergedAtStep: trainer.divergedAtStep,
    seconds: (performance.now() - t0) / 1000,
    curve,
    ...(snapshots ? { snapshots } : {}),
  };
}
