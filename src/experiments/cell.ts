// Trains one cell of a study and packs it into the files of the store. Pure (no Node APIs): local worker
// threads, queue workers and the browser all call it.

import type { ModelSpec, Params } from "../core/model.js";
import { specOf } from "./cell-spec.js";
import { registerJobFormulas } from "./formula-jobs.js";
import { installFormulaKernels } from "./formula-native.js";
import { type RunOutput, runTraining, runTrainingLockstep } from "./run.js";
import { encodeSafetensors, type Tensor } from "./safetensors.js";
import { type CellFiles, RESULT_SCHEMA } from "./store-format.js";
import type { CellJob } from "./study.js";

export interface RunEnvironment {
  tmsLab: string;
  node?: string;
  gitCommit: string | null;
  worker?: string;
}

function tensor(data: Params["W"], shape: number[]): Tensor {
  return { dtype: data instanceof Float32Array ? "F32" : "F64", shape, data };
}

/**
 * Defines the formula activations the jobs carry, and compiles a long run's formula into native code (from
 * its steps, so a cell's numbers never depend on timing, and are the same locally and through the queue).
 */
function prepareFormulas(jobs: readonly CellJob[]): void {
  registerJobFormulas(jobs);
  for (const job of jobs) installFormulaKernels([job.activation], job.options.steps);
}

export function executeCell(
  job: CellJob,
  env: RunEnvironment,
  onProgress?: (step: number) => void,
): CellFiles {
  prepareFormulas([job]);
  const spec = specOf(job);
  const startedAt = new Date().toISOString();
  const out = runTraining(job.preset, spec, job.activation, job.options, {
    onProgress,
    snapshots: job.snapshots,
  });
  return packCell(job, spec, env, out, startedAt);
}

/**
 * Trains a lockstep group (planned by groupForLockstep: one model, data-sharing options) side by side and
 * packs each cell; the files equal executeCell's for each job, bit for bit, but for their timings.
 * `onProgress` hears the group's step (all its runs advance together).
 */
export function executeCells(
  jobs: readonly CellJob[],
  env: RunEnvironment,
  onProgress?: (step: number) => void,
): CellFiles[] {
  if (jobs.length === 1) return [executeCell(jobs[0], env, onProgress)];
  prepareFormulas(jobs);
  const spec = specOf(jobs[0]);
  const startedAt = new Date().toISOString();
  const outs = runTrainingLockstep(
    jobs[0].preset,
    spec,
    jobs.map((job, k) => ({
      activation: job.activation,
      options: job.options,
      hooks: { snapshots: job.snapshots, ...(k === 0 && onProgress ? { onProgress } : {}) },
    })),
  );
  return jobs.map((job, k) => packCell(job, spec, env, outs[k], startedAt));
}

function packCell(
  job: CellJob,
  spec: ModelSpec,
  env: RunEnvironment,
  out: RunOutput,
  startedAt: string,
): CellFiles {
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const metadata = {
    format: "pt",
    key: job.key,
    preset: job.preset,
    activation: job.activation,
    seed: String(job.options.seed),
    steps: String(job.options.steps),
    dtype: job.options.dtype,
  };
  const weights = encodeSafetensors(
    { W: tensor(out.params.W, [I, F, H]), b: tensor(out.params.b, [I, F]) },
    metadata,
  );
  let snapshots: Uint8Array | undefined;
  if (out.snapshots) {
    const n = out.snapshots.step.length;
    const W = out.params.dtype === "f32" ? new Float32Array(n * I * F * H) : new Float64Array(n * I * F * H);
    const b = out.params.dtype === "f32" ? new Float32Array(n * I * F) : new Float64Array(n * I * F);
    for (let k = 0; k < n; k++) {
      W.set(out.snapshots.W[k], k * I * F * H);
      b.set(out.snapshots.b[k], k * I * F);
    }
    snapshots = encodeSafetensors(
      { W: tensor(W, [n, I, F, H]), b: tensor(b, [n, I, F]) },
      { ...metadata, steps: JSON.stringify(out.snapshots.step) },
    );
  }
  const importance: number[][] = [];
  for (let i = 0; i < I; i++) importance.push(Array.from(spec.importance.subarray(i * F, (i + 1) * F)));
  return {
    result: {
      schema: RESULT_SCHEMA,
      key: job.key,
      variant: job.variant,
      ...out.summary,
      ...(job.formula ? { formula: job.formula } : {}),
      config: {
        featureProbability: Array.from(spec.featureProbability),
        importance,
        ...(job.experiment ? { experiment: job.experiment } : {}),
      },
      versions: { tmsLab: env.tmsLab, ...(env.node ? { node: env.node } : {}) },
      gitCommit: env.gitCommit,
      timings: {
        startedAt,
        finishedAt: new Date().toISOString(),
        trainSeconds: out.summary.seconds,
        evalSeconds: out.summary.evalSeconds,
        ...(env.worker ? { worker: env.worker } : {}),
      },
      ...(out.snapshots ? { snapshotSteps: out.snapshots.step } : {}),
    },
    weights,
    ...(snapshots ? { snapshots } : {}),
  };
}
