// Evaluation loss: the training loss on fresh samples from the separate "eval" stream of the run's seed.

import { getActivation } from "./activations.js";
import { rowsOnlyInstances } from "./kernels/fast.js";
import type { SoftmaxDim } from "./kernels/types.js";
import type { ModelSpec, Params } from "./model.js";
import { Rng } from "./rng.js";
import { createBatch, type SparseBatch, sampleBatch } from "./sampling.js";
import { chooseKernel } from "./train.js";

export const EVAL_SAMPLES = 8192;

/**
 * The evaluation samples of a seed: the first `samples` of its "eval" stream, as one batch. `rowsOnly`
 * (evaluationRowsOnly) lets the sampler write the instances the evaluating kernels read only as dense rows
 * that way, as a training step's batch (the same samples either way).
 */
export function evaluationBatch(
  spec: ModelSpec,
  seed: number,
  dtype: Params["dtype"],
  samples = EVAL_SAMPLES,
  rowsOnly?: Uint8Array,
): SparseBatch {
  const batch = createBatch(spec, samples, dtype);
  sampleBatch(spec, new Rng(seed, "eval"), batch, rowsOnly);
  return batch;
}

/**
 * The instances that every one of these activations' evaluations (evaluateLoss's kernel) reads only as dense
 * rows (rowsOnlyInstances), so that one evaluation batch for all of them may be sampled that way; undefined
 * for none.
 */
export function evaluationRowsOnly(
  spec: ModelSpec,
  runs: readonly { activation: string; softmaxDim: SoftmaxDim }[],
  dtype: Params["dtype"],
): Uint8Array | undefined {
  let common: Uint8Array | undefined;
  for (const run of runs) {
    const kernel = chooseKernel(getActivation(run.activation), run.softmaxDim);
    const rows = rowsOnlyInstances(kernel, spec, dtype);
    if (!rows) return undefined;
    if (!common) common = rows;
    else if (rows !== common) common = common.map((r, i) => r & rows[i]);
  }
  return common;
}

/**
 * Per-instance mean of importance·(x − out)² over `samples` fresh samples: the training kernel's loss on
 * one batch of them (so the softmax family over the batch dimension sees all of them at once, as in the
 * PyTorch reference). The kernel's gradients are computed and dropped: the WebAssembly kernel costs less
 * with them than the reference forward pass did without (≈ 0.1 s per seed-study cell). Runs that share a
 * spec, seed and dtype (a lockstep group) can share one `batch` from evaluationBatch: the kernels only
 * read it, and sampling 8192 samples costs about as much as evaluating them.
 */
export function evaluateLoss(
  spec: ModelSpec,
  activationId: string,
  params: Params,
  seed: number,
  softmaxDim: SoftmaxDim,
  samples = EVAL_SAMPLES,
  batch?: SparseBatch,
): Float64Array {
  const act = getActivation(activationId);
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  batch ??= evaluationBatch(
    spec,
    seed,
    params.dtype,
    samples,
    evaluationRowsOnly(spec, [{ activation: activationId, softmaxDim }], params.dtype),
  );
  if (batch.batchSize !== samples || batch.nFeatures !== F || batch.nInstances !== I)
    throw new Error("evaluateLoss: the batch does not fit this spec and sample count");
  const grads = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
  const losses = new Float64Array(I);
  chooseKernel(act, softmaxDim)(spec, act, params, batch, grads, losses);
  return losses;
}
