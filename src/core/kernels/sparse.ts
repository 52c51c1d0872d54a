// The sparse kernel, in plain JavaScript (the fast kernel's fallback where WebAssembly SIMD is unavailable):
// the same gradients as the reference kernel, computed with three exact shortcuts (docs/speed.md):
//  1. All-zero samples have h = 0 and z = b: together they add n₀·Σ imp·act(b)² to the loss and n₀ times
//     one VJP to ∇b, and nothing to ∇W. They cost nothing per sample.
//  2. Sparse samples use the Gram form: with M = W Wᵀ (once per step), z = b + M[:, S] x_S costs F·|S|;
//     the W-gradient is (C + Cᵀ) W with C = Σ_samples dz xᵀ, applied once per step.
//  3. Dense samples (|S| large relative to H) use the direct form h = Wᵀx, z = W h + b.
// Which of 2 and 3 an instance uses is the fast kernel's choice (cost.ts).
// Work is done in float64 buffers; for f32 runs z and act(z) are rounded to float32, like the reference.
// Only for activations acting per sample (not the softmax family over the batch).

import { rowOps } from "./activation-rows.js";
import { choosePath } from "./cost.js";
import type { StepKernel } from "./types.js";

class Workspace {
  w: Float64Array;
  M: Float64Array;
  C: Float64Array;
  Hd: Float64Array;
  dh: Float64Array;
  Z: Float64Array;
  Y: Float64Array;
  dY: Float64Array;
  dZ: Float64Array;
  constructor(
    readonly F: number,
    readonly H: number,
    readonly B: number,
  ) {
    this.w = new Float64Array(F * H);
    this.M = new Float64Array(F * F);
    this.C = new Float64Array(F * F);
    this.Hd = new Float64Array((B + 1) * H);
    this.dh = new Float64Array(H);
    this.Z = new Float64Array((B + 1) * F);
    this.Y = new Float64Array((B + 1) * F);
    this.dY = new Float64Array((B + 1) * F);
    this.dZ = new Float64Array((B + 1) * F);
  }
}

let workspace: Workspace | undefined;

export const sparseKernel: StepKernel = (spec, act, params, batch, grads, losses) => {
  const { nFeatures: F, nHidden: H, nInstances: I } = spec;
  const B = batch.batchSize;
  if (!workspace || workspace.F !== F || workspace.H !== H || workspace.B !== B)
    workspace = new Workspace(F, H, B);
  const { w, M, C, Hd, dh, Z, Y, dY, dZ } = workspace;
  const ops = rowOps(act);
  const f32 = params.dtype === "f32";
  const scale = 1 / (B * F);
  const rowStart = batch.rowStart;
  const feature = batch.feature;
  const value = batch.value;
  const imp = spec.importance;
  const gW = grads.W;
  const gb = grads.b;
  gW.fill(0);
  gb.fill(0);

  for (let i = 0; i < I; i++) {
    const wOff = i * F * H;
    const bOff = i * F;
    for (let j = 0; j < F * H; j++) w[j] = params.W[wOff + j];
    const gram = choosePath(spec.featureProbability[i], F, H, params.dtype) === "gram";
    if (gram) {
      for (let f = 0; f < F; f++) {
        for (let g = f; g < F; g++) {
          let acc = 0;
          for (let k = 0; k < H; k++) acc += w[f * H + k] * w[g * H + k];
          M[f * F + g] = acc;
          M[g * F + f] = acc;
        }
      }
      C.fill(0);
    }

    // Forward: row r of Z holds the r-th non-zero sample; the last row is z = b for all the all-zero ones.
    const rowBase = i * (B + 1);
    let rows = 0;
    for (let s = 0; s < B; s++) {
      const start = rowStart[rowBase + s];
      const end = rowStart[rowBase + s + 1];
      if (start === end) continue;
      const zr = rows * F;
      if (gram) {
        for (let f = 0; f < F; f++) {
          let acc = params.b[bOff + f];
          for (let j = start; j < end; j++) acc += M[f * F + feature[j]] * value[j];
          Z[zr + f] = acc;
        }
      } else {
        const hr = rows * H;
        for (let k = 0; k < H; k++) {
          let acc = 0;
          for (let j = start; j < end; j++) acc += value[j] * w[feature[j] * H + k];
          Hd[hr + k] = f32 ? Math.fround(acc) : acc;
        }
        for (let f = 0; f < F; f++) {
          let acc = params.b[bOff + f];
          for (let k = 0; k < H; k++) acc += w[f * H + k] * Hd[hr + k];
          Z[zr + f] = acc;
        }
      }
      rows++;
    }
    const zeroSamples = B - rows;
    for (let f = 0; f < F; f++) Z[rows * F + f] = params.b[bOff + f];
    const n = (rows + 1) * F;
    if (f32) for (let j = 0; j < n; j++) Z[j] = Math.fround(Z[j]);
    ops.forward(Z, Y, rows + 1, F);
    if (f32) for (let j = 0; j < n; j++) Y[j] = Math.fround(Y[j]);

    // Loss and dL/dY, first as if x were 0, then corrected at the non-zeros.
    let loss = 0;
    for (let r = 0; r <= rows; r++) {
      const weight = r === rows ? zeroSamples : 1;
      for (let f = 0; f < F; f++) {
        const y = Y[r * F + f];
        loss += weight * imp[bOff + f] * y * y;
        dY[r * F + f] = 2 * imp[bOff + f] * y * scale;
      }
    }
    for (let s = 0, r = 0; s < B; s++) {
      const start = rowStart[rowBase + s];
      const end = rowStart[rowBase + s + 1];
      if (start === end) continue;
      for (let j = start; j < end; j++) {
        const f = feature[j];
        const y = Y[r * F + f];
        const e = y - value[j];
        loss += imp[bOff + f] * (e * e - y * y);
        dY[r * F + f] = 2 * imp[bOff + f] * e * scale;
      }
      r++;
    }
    losses[i] = loss * scale;
    ops.backward(Z, Y, dY, dZ, rows + 1, F);

    // Backward into ∇b and ∇W.
    for (let r = 0; r <= rows; r++) {
      const weight = r === rows ? zeroSamples : 1;
      for (let f = 0; f < F; f++) gb[bOff + f] += weight * dZ[r * F + f];
    }
    for (let s = 0, r = 0; s < B; s++) {
      const start = rowStart[rowBase + s];
      const end = rowStart[rowBase + s + 1];
      if (start === end) continue;
      const zr = r * F;
      if (gram) {
        for (let j = start; j < end; j++) {
          const col = feature[j];
          const xv = value[j];
          for (let f = 0; f < F; f++) C[f * F + col] += dZ[zr + f] * xv;
        }
      } else {
        const hr = r * H;
        for (let k = 0; k < H; k++) dh[k] = 0;
        for (let f = 0; f < F; f++) {
          const d = dZ[zr + f];
          for (let k = 0; k < H; k++) {
            gW[wOff + f * H + k] += d * Hd[hr + k];
            dh[k] += d * w[f * H + k];
          }
        }
        for (let j = start; j < end; j++) {
          const row = wOff + feature[j] * H;
          const xv = value[j];
          for (let k = 0; k < H; k++) gW[row + k] += xv * dh[k];
        }
      }
      r++;
    }
    if (gram) {
      // ∇W = (C + Cᵀ) W
      for (let f = 0; f < F; f++) {
        for (let k = 0; k < H; k++) {
          let acc = 0;
          for (let g = 0; g < F; g++) acc += (C[f * F + g] + C[g * F + f]) * w[g * H + k];
          gW[wOff + f * H + k] = acc;
        }
      }
    }
  }
};
