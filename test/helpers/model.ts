import { VECTOR_ACTIVATION_IDS } from "../../src/core/activations.js";
// Small models, parameters and batches for the engine tests.

import type { SoftmaxDim } from "../../src/core/kernels/types.js";
import { type DType, initParams, type ModelSpec, makeSpec, type Params } from "../../src/core/model.js";
import { Rng } from "../../src/core/rng.js";
import { createBatch, type SparseBatch, sampleBatch } from "../../src/core/sampling.js";

export const range = (n: number): number[] => Array.from({ length: n }, (_, k) => k);

/** A spec with importance base^f for every instance. */
export function geometricSpec(F: number, H: number, probs: number[], base: number): ModelSpec {
  return makeSpec(
    F,
    H,
    probs,
    range(F).map((f) => base ** f),
  );
}

/** initParams plus a random non-zero bias b ~ U(−0.5, 0.5) (keeps z = b of all-zero samples off the kinks). */
export function paramsWithBias(spec: ModelSpec, dtype: DType, seed: number, biasScale = 1): Params {
  const p = initParams(spec, dtype, seed);
  const rng = new Rng(seed, "test-bias");
  for (let j = 0; j < p.b.length; j++) p.b[j] = biasScale * (rng.uniform() - 0.5);
  return p;
}

export function sampledBatch(spec: ModelSpec, batchSize: number, dtype: DType, seed: number): SparseBatch {
  const batch = createBatch(spec, batchSize, dtype);
  sampleBatch(spec, new Rng(seed, "test-batch"), batch);
  return batch;
}

/** Number of all-zero samples of instance i. */
export function zeroSamples(batch: SparseBatch, i: number): number {
  const base = i * (batch.batchSize + 1);
  let n = 0;
  for (let s = 0; s < batch.batchSize; s++)
    if (batch.rowStart[base + s] === batch.rowStart[base + s + 1]) n++;
  return n;
}

export const SOFTMAX_FAMILY = [...VECTOR_ACTIVATION_IDS];
export const SOFTMAX_DIMS: SoftmaxDim[] = ["features", "batch"];
