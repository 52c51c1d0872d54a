// Synthetic data: each feature of each sample of instance i is U(0, 1) with probability p_i, else 0.
// Batches are stored sparse (CSR per instance), since at high sparsity almost every sample is all-zero and
// the kernels skip those exactly. The sampler is separate from the kernels, so any two kernels can be
// compared on the very same batch.
//
// Scheme: for instance i the B·F (sample, feature) slots are one long run of Bernoulli(p_i) trials; the gap
// to the next non-zero slot is Geometric(p_i) = floor(ln U / ln(1 − p_i)), and the value is a fresh U(0, 1).
// This draws ≈ 2·p·B·F numbers instead of 2·B·F, and gives exactly the notebook's distribution.

import type { Buffer } from "./activations.js";
import { allocate, type DType, type ModelSpec } from "./model.js";
import type { Rng } from "./rng.js";

export interface SparseBatch {
  batchSize: number;
  nFeatures: number;
  nInstances: number;
  /** rowStart[i·(B+1) + s] .. rowStart[i·(B+1) + s + 1]: the non-zeros of sample s of instance i. */
  rowStart: Int32Array;
  feature: Int32Array;
  value: Buffer;
  /** Number of non-zeros in use. */
  nnz: number;
}

export function createBatch(spec: ModelSpec, batchSize: number, dtype: DType): SparseBatch {
  const expected = spec.featureProbability.reduce((sum, p) => sum + Math.min(1, p), 0);
  const capacity = Math.max(64, Math.ceil(expected * batchSize * spec.nFeatures * 1.1) + 64);
  return {
    batchSize,
    nFeatures: spec.nFeatures,
    nInstances: spec.nInstances,
    rowStart: new Int32Array(spec.nInstances * (batchSize + 1)),
    feature: new Int32Array(capacity),
    value: allocate(dtype, capacity),
    nnz: 0,
  };
}

function grow(batch: SparseBatch): void {
  const feature = new Int32Array(batch.feature.length * 2);
  feature.set(batch.feature);
  const value =
    batch.value instanceof Float32Array ? new Float32Array(feature.length) : new Float64Array(feature.length);
  value.set(batch.value);
  batch.feature = feature;
  batch.value = value;
}

/** Fills `batch` with a fresh sample of every instance, drawing from `rng`. */
export function sampleBatch(spec: ModelSpec, rng: Rng, batch: SparseBatch): void {
  const B = batch.batchSize;
  const F = spec.nFeatures;
  const slots = B * F;
  let nnz = 0;
  for (let i = 0; i < spec.nInstances; i++) {
    const p = spec.featureProbability[i];
    const rowBase = i * (B + 1);
    const logQ = Math.log1p(-p);
    let slot = p >= 1 ? 0 : Math.floor(Math.log(1 - rng.uniform()) / logQ);
    let sample = 0;
    batch.rowStart[rowBase] = nnz;
    while (slot < slots) {
      const s = (slot / F) | 0;
      while (sample < s) batch.rowStart[rowBase + ++sample] = nnz;
      if (nnz === batch.feature.length) grow(batch);
      batch.feature[nnz] = slot - s * F;
      batch.value[nnz] = rng.uniform();
      nnz++;
      slot += p >= 1 ? 1 : 1 + Math.floor(Math.log(1 - rng.uniform()) / logQ);
    }
    while (sample < B) batch.rowStart[rowBase + ++sample] = nnz;
  }
  batch.nnz = nnz;
}

/** Writes sample s of instance i as a dense vector (for the readable kernel and for evaluation). */
export function densify(batch: SparseBatch, i: number, s: number, x: Buffer): void {
  x.fill(0);
  const r = i * (batch.batchSize + 1) + s;
  for (let j = batch.rowStart[r]; j < batch.rowStart[r + 1]; j++) x[batch.feature[j]] = batch.value[j];
}
