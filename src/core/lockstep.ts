// Lockstep training: several runs that differ only in their activation (or anything else that does not
// change the data: lr, schedule, kernel) trained side by side on one sampled batch per step. Each run's own
// stream Rng(seed, "train") would produce exactly these batches, so every outcome equals train(config)'s, bit
// for bit, while the sampler runs once instead of once per run. Meant for sweep workers (docs/speed.md).

import { NativeSteps, type StepsRun } from "./native-steps.js";
import { Rng } from "./rng.js";
import { createBatch, sampleBatch } from "./sampling.js";
import {
  logSpacedSteps,
  snapshotKeeper,
  type TrainConfig,
  Trainer,
  type TrainHooks,
  type TrainOutcome,
} from "./train.js";

/** Default largest lockstep group (runs sharing one batch per step; 1 turns lockstep off). */
export const DEFAULT_LOCKSTEP = 8;

/** Whether two configs sample identical batches (same spec values, batch size, dtype, seed and steps). */
export function sharesData(a: TrainConfig, b: TrainConfig): boolean {
  const same = (x: ArrayLike<number>, y: ArrayLike<number>) =>
    x.length === y.length && Array.prototype.every.call(x, (v: number, k: number) => Object.is(v, y[k]));
  return (
    a.seed === b.seed &&
    a.steps === b.steps &&
    a.batchSize === b.batchSize &&
    a.dtype === b.dtype &&
    a.spec.nInstances === b.spec.nInstances &&
    a.spec.nFeatures === b.spec.nFeatures &&
    a.spec.nHidden === b.spec.nHidden &&
    same(a.spec.featureProbability, b.spec.featureProbability)
  );
}

/** The instances no trainer reads as CSR entries (Trainer.rowsOnly), if they all leave out the same ones. */
function rowsOnlyForAll(trainers: readonly Trainer[]): Uint8Array | undefined {
  const first = trainers[0].rowsOnly();
  if (!first) return undefined;
  for (let k = 1; k < trainers.length; k++) {
    const rows = trainers[k].rowsOnly();
    if (rows !== first && !rows?.every((r, i) => r === first[i])) return undefined;
  }
  return first;
}

/**
 * Trains every config to the end, sampling each step's batch once. Outcomes (and their loss curves and
 * snapshots) equal `train(configs[k], hooks[k])`; `seconds` is each run's own kernel and optimiser time plus
 * an equal share of the sampling.
 */
export function trainLockstep(
  configs: readonly TrainConfig[],
  hooks: readonly TrainHooks[] = [],
): TrainOutcome[] {
  if (configs.length === 0) return [];
  const first = configs[0];
  for (const c of configs)
    if (!sharesData(first, c)) throw new Error("trainLockstep: configs must share their data");
  const steps = first.steps;
  const trainers = configs.map((c) => new Trainer(c));
  const rng = new Rng(first.seed, "train");
  const batch = createBatch(first.spec, first.batchSize, first.dtype);
  const curveSteps = new Set(logSpacedSteps(steps));
  const runs = trainers.map((t, k) => {
    const h = hooks[k] ?? {};
    const kept = snapshotKeeper(t, steps, h.snapshots);
    const { snapshots, keep } = kept;
    return {
      t,
      h,
      snapshotSteps: new Set(kept.snapshotSteps),
      snapshots,
      keep,
      curve: { step: [] as number[], loss: [] as number[][] },
      ms: 0,
    };
  });
  const progressEvery = Math.max(1, Math.floor(steps / 100));
  /** What a run records once it has taken `done` steps (its last losses `losses`). */
  const record = (r: (typeof runs)[number], done: number, losses: Float64Array) => {
    if (curveSteps.has(done)) {
      r.curve.step.push(done);
      r.curve.loss.push(Array.from(losses));
    }
    if (r.snapshotSteps.has(done)) r.keep();
    if (r.h.onProgress && done % progressEvery === 0) r.h.onProgress(done, losses);
  };
  // where every part of every run's step has native code, slices of steps run there, up to the next step at
  // which some run records something
  const marks = new Set([...curveSteps, ...runs.flatMap((r) => [...r.snapshotSteps])]);
  for (let s = progressEvery; s <= steps; s += progressEvery) marks.add(s);
  const nextMark = [...marks].filter((s) => s > 0).sort((a, b) => a - b);
  const stepsRuns = trainers.map((t) => t.stepsRun());
  const stepper = stepsRuns.every((r) => r !== undefined)
    ? NativeSteps.for({ spec: first.spec, dtype: first.dtype, batch, steps }, stepsRuns as StepsRun[])
    : undefined;
  let native = stepper;
  let mark = 0;
  let samplingMs = 0;
  for (let step = 0; step < steps; ) {
    if (native) {
      while (nextMark[mark] <= step) mark++;
      const n = (nextMark[mark] ?? steps) - step;
      const done = native.steps(step, n, rng);
      step += done;
      for (const r of runs) {
        r.t.tookSteps(done);
        if (done > 0) record(r, step, r.t.trainLoss);
      }
      if (done === n) continue;
      // a run diverges at this step: it and the rest are taken below, step by step
      native = undefined;
    }
    const t0 = performance.now();
    sampleBatch(first.spec, rng, batch, rowsOnlyForAll(trainers));
    samplingMs += performance.now() - t0;
    for (const r of runs) {
      const t1 = performance.now();
      const losses = r.t.stepOn(batch);
      r.ms += performance.now() - t1;
      record(r, r.t.step, losses);
    }
    step++;
  }
  if (stepper) {
    samplingMs += 1000 * stepper.seconds[0];
    runs.forEach((r, k) => {
      r.ms += 1000 * stepper.seconds[1 + k];
    });
  }
  return runs.map((r) => ({
    params: r.t.params,
    trainLoss: r.t.trainLoss,
    divergedAtStep: r.t.divergedAtStep,
    seconds: (r.ms + samplingMs / runs.length) / 1000,
    curve: r.curve,
    ...(r.snapshots ? { snapshots: r.snapshots } : {}),
  }));
}
