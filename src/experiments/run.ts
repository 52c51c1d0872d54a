// One training run of one preset and activation, summarised as plain JSON: the unit a sweep stores, the
// CLI prints and the browser shows. No Node APIs (runs in a Web Worker).

import { getActivation } from "../core/activations.js";
import { EVAL_SAMPLES, evaluateLoss, evaluationBatch, evaluationRowsOnly } from "../core/evaluate.js";
import { trainLockstep } from "../core/lockstep.js";
import { type InstanceMetrics, instanceMetrics } from "../core/metrics.js";
import { initParams, type ModelSpec, type Params } from "../core/model.js";
import type { SparseBatch } from "../core/sampling.js";
import {
  kernelUsed,
  TRAIN_DEFAULTS,
  type TrainConfig,
  type TrainHooks,
  type TrainOutcome,
  train,
} from "../core/train.js";

/** A training run's options: everything of TrainConfig but the model and the activation. */
export type RunOptions = Omit<TrainConfig, "spec" | "activation">;

export const RUN_DEFAULTS: RunOptions = { ...TRAIN_DEFAULTS };

export interface InstanceSummary extends InstanceMetrics {
  featureProbability: number;
  sparsity: number;
  loss: number;
  trainLoss: number;
  diverged: boolean;
  divergedAtStep: number | null;
  /** ‖W − W₀‖_F / ‖W₀‖_F of this instance: how far training moved it from its init (absent in old stores). */
  weightChange?: number;
}

/** A run as stored: its options (but the kernel, which does not change the numbers), the model and results. */
export interface RunSummary extends Required<Omit<RunOptions, "kernel" | "optimizer">> {
  /** Present when not AdamW (the default), so AdamW runs' summaries are as before. */
  optimizer?: string;
  preset: string;
  activation: string;
  nFeatures: number;
  nHidden: number;
  nInstances: number;
  seconds: number;
  evalSeconds: number;
  /** Which code computed the steps (core/train.ts kernelUsed; absent in older stores). */
  computedBy?: string;
  instances: InstanceSummary[];
  lossCurve: { step: number[]; loss: number[][] };
}

export interface RunOutput {
  summary: RunSummary;
  params: Params;
  snapshots?: TrainOutcome["snapshots"];
}

export function runTraining(
  presetId: string,
  spec: ModelSpec,
  activation: string,
  options: RunOptions,
  hooks: TrainHooks = {},
): RunOutput {
  return summarize(presetId, spec, activation, options, train({ spec, activation, ...options }, hooks));
}

/** One run of a lockstep group: its activation and options (data-sharing: same seed, steps, batch, dtype). */
export interface LockstepRun {
  activation: string;
  options: RunOptions;
  hooks?: TrainHooks;
}

/**
 * Several runs of one model that share their data, trained side by side on one sampled batch per step
 * (src/core/lockstep.ts): each output equals runTraining's for that run, bit for bit.
 */
export function runTrainingLockstep(
  presetId: string,
  spec: ModelSpec,
  runs: readonly LockstepRun[],
): RunOutput[] {
  const configs: TrainConfig[] = runs.map((r) => ({ spec, activation: r.activation, ...r.options }));
  const outcomes = trainLockstep(
    configs,
    runs.map((r) => r.hooks ?? {}),
  );
  // the runs share seed and dtype, so their evaluation samples too: sampled once for the group
  const first = runs[0]?.options;
  const evalBatch =
    first &&
    evaluationBatch(
      spec,
      first.seed,
      first.dtype,
      EVAL_SAMPLES,
      evaluationRowsOnly(
        spec,
        runs.map((r) => ({ activation: r.activation, softmaxDim: r.options.softmaxDim })),
        first.dtype,
      ),
    );
  return runs.map((r, k) => summarize(presetId, spec, r.activation, r.options, outcomes[k], evalBatch));
}

function summarize(
  presetId: string,
  spec: ModelSpec,
  activation: string,
  options: RunOptions,
  outcome: TrainOutcome,
  evalBatch?: SparseBatch,
): RunOutput {
  const t0 = performance.now();
  const evalLoss = evaluateLoss(
    spec,
    activation,
    outcome.params,
    options.seed,
    options.softmaxDim,
    EVAL_SAMPLES,
    evalBatch,
  );
  const evalSeconds = (performance.now() - t0) / 1000;
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const instances: InstanceSummary[] = [];
  // Trainer always starts from initParams(spec, dtype, seed), so W₀ is recomputed rather than carried along.
  const W0 = initParams(spec, options.dtype, options.seed).W;
  for (let i = 0; i < I; i++) {
    const p = spec.featureProbability[i];
    const at = outcome.divergedAtStep[i];
    instances.push({
      featureProbability: p,
      sparsity: 1 - p,
      loss: evalLoss[i],
      trainLoss: outcome.trainLoss[i],
      diverged: at >= 0,
      divergedAtStep: at >= 0 ? at : null,
      weightChange: relativeChange(outcome.params.W, W0, i * F * H, (i + 1) * F * H),
      ...instanceMetrics(outcome.params.W, outcome.params.b, i, F, H),
    });
  }
  return {
    params: outcome.params,
    snapshots: outcome.snapshots,
    summary: {
      preset: presetId,
      activation,
      nFeatures: F,
      nHidden: H,
      nInstances: I,
      steps: options.steps,
      batchSize: options.batchSize,
      lr: options.lr,
      lrSchedule: options.lrSchedule,
      ...(options.optimizer && options.optimizer !== "adamw"
        ? { optimizer: optionName(options.optimizer) }
        : {}),
      seed: options.seed,
      dtype: options.dtype,
      softmaxDim: options.softmaxDim,
      seconds: outcome.seconds,
      evalSeconds,
      computedBy: kernelUsed(
        getActivation(activation),
        spec,
        options.dtype,
        options.softmaxDim,
        options.kernel,
      ),
      instances,
      lossCurve: outcome.curve,
    },
  };
}

/** ‖W − W₀‖ / ‖W₀‖ over W[from, to) (NaN when W₀ is zero there). */
function relativeChange(W: ArrayLike<number>, W0: ArrayLike<number>, from: number, to: number): number {
  let d = 0;
  let n = 0;
  for (let j = from; j < to; j++) {
    d += (W[j] - W0[j]) ** 2;
    n += W0[j] ** 2;
  }
  return n > 0 ? Math.sqrt(d / n) : Number.NaN;
}

const optionName = (o: NonNullable<RunOptions["optimizer"]>) => (typeof o === "string" ? o : o.name);
