// The sampler's readable JavaScript form (spec.ts says what it computes): used where WebAssembly is
// unavailable, and the oracle the generated sampler is tested against.

import {
  BELOW_ONE_F32,
  type InstanceSampler,
  Lanes,
  lnOneMinus,
  maskThreshold,
  SLACK,
  type SparseBatch,
  usesMask,
} from "./spec.js";

/** The sampler's one step (spec.ts), in JavaScript. */
export const sampleInstanceJs: InstanceSampler = (batch, i, p, seeds, nnz) => {
  const B = batch.batchSize;
  const F = batch.nFeatures;
  const base = i * (B + 1);
  if (p <= 0) return closeEmpty(batch, i, nnz);
  const f32 = batch.value instanceof Float32Array;
  const cap = batch.feature.length - SLACK;
  const { rowStart, feature, value } = batch;
  const lanes = new Lanes(seeds);
  if (usesMask(p)) {
    const all = p >= 1;
    const T = all ? 0 : maskThreshold(p);
    const c = f32 ? Math.fround(all ? 2 ** -24 : 256 / T) : all ? 2 ** -32 : 1 / T;
    const slots = B * F;
    for (let q = 0; q < slots; q += 4) {
      if (nnz + 4 > cap) return -1;
      const u = lanes.step();
      for (let l = 0; l < 4 && q + l < slots; l++) {
        const slot = q + l;
        const f = slot % F;
        if (f === 0) rowStart[base + slot / F] = nnz;
        if (!(all || u[l] < T)) continue;
        feature[nnz] = f;
        value[nnz] = f32 ? Math.min(Math.fround((u[l] >>> 8) * c), BELOW_ONE_F32) : u[l] * c;
        nnz++;
      }
    }
    rowStart[base + B] = nnz;
    return nnz;
  }
  const logQ = Math.log1p(-p);
  const slots = B * F;
  let pos = -1;
  let s = 0;
  let sEnd = 0;
  for (;;) {
    const u = lanes.step();
    const gaps = [
      Math.min(Math.floor(lnOneMinus(u[0]) / logQ), slots),
      Math.min(Math.floor(lnOneMinus(u[1]) / logQ), slots),
    ];
    let done = false;
    for (let j = 0; j < 2; j++) {
      pos += gaps[j] + 1;
      if (pos >= slots) {
        done = true;
        break;
      }
      while (pos >= sEnd) {
        rowStart[base + s] = nnz;
        s++;
        sEnd += F;
      }
      if (nnz >= cap) return -1;
      feature[nnz] = pos - (sEnd - F);
      const x = u[2 + j];
      value[nnz] = f32 ? Math.fround((x >>> 8) * 2 ** -24) : x * 2 ** -32;
      nnz++;
    }
    if (done) break;
  }
  for (; s <= B; s++) rowStart[base + s] = nnz;
  return nnz;
};

/** Instance i has no non-zeros (p = 0): every sample's row is empty. */
export function closeEmpty(batch: SparseBatch, i: number, nnz: number): number {
  const base = i * (batch.batchSize + 1);
  batch.rowStart.fill(nnz, base, base + batch.batchSize + 1);
  return nnz;
}
