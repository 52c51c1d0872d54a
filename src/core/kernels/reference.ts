// The readable reference kernel: the model's forward and backward pass written as batch matrix products,
// top to bottom, with shapes. It is the documentation of the math and the oracle the fast kernel is tested
// against; it is also the only kernel for `softmaxDim: "batch"`, where samples are not independent.
//
// Per instance (X is the dense batch, [B, F]):
//   Hd = X W            [B, H]
//   Z  = Hd Wᵀ + b      [B, F]
//   Y  = act(Z)         [B, F]      (softmax family: over features of each row, or over the batch column)
//   L  = Σ imp·(X − Y)² / (B·F)
//   dY = 2·imp·(Y − X) / (B·F)
//   dZ = act'ᵀ dY       [B, F]      (element-wise product, or the vector-Jacobian product)
//   db = Σ_rows dZ      [F]
//   dHd = dZ W          [B, H]
//   dW = dZᵀ Hd + Xᵀ dHd  [F, H]    (W appears twice: decoder and encoder)

import type { Activation, Buffer } from "../activations.js";
import { allocate, type ModelSpec, type Params } from "../model.js";
import { densify } from "../sampling.js";
import type { SoftmaxDim, StepKernel } from "./types.js";

/** out[s, :] = A[s, :] · W for one row s (A [rows, F], W [F, H], out [rows, H]), summed over f in order. */
function projectRow(A: Buffer, W: Buffer, s: number, F: number, H: number, out: Buffer): void {
  for (let k = 0; k < H; k++) {
    let acc = 0;
    for (let f = 0; f < F; f++) acc += A[s * F + f] * W[f * H + k];
    out[s * H + k] = acc;
  }
}

/** Applies the activation to Z [rows, F] in place of Y; the softmax family over `dim`. */
export function applyActivation(
  act: Activation,
  Z: Buffer,
  Y: Buffer,
  rows: number,
  F: number,
  dim: SoftmaxDim,
) {
  if (act.kind === "elementwise") {
    for (let j = 0; j < rows * F; j++) Y[j] = act.forward(Z[j]);
  } else if (dim === "features") {
    for (let s = 0; s < rows; s++) act.forward(Z, Y, s * F, 1, F);
  } else {
    for (let f = 0; f < F; f++) act.forward(Z, Y, f, F, rows);
  }
}

function activationVjp(
  act: Activation,
  Z: Buffer,
  Y: Buffer,
  dY: Buffer,
  dZ: Buffer,
  rows: number,
  F: number,
  dim: SoftmaxDim,
) {
  if (act.kind === "elementwise") {
    for (let j = 0; j < rows * F; j++) dZ[j] = dY[j] * act.derivative(Z[j], Y[j]);
  } else if (dim === "features") {
    for (let s = 0; s < rows; s++) act.vjp(Z, Y, dY, dZ, s * F, 1, F);
  } else {
    for (let f = 0; f < F; f++) act.vjp(Z, Y, dY, dZ, f, F, rows);
  }
}

/** Forward pass of instance i on the dense batch X [B, F]: fills Hd [B, H], Z and Y [B, F]. */
export function forwardInstance(
  spec: ModelSpec,
  act: Activation,
  params: Params,
  i: number,
  X: Buffer,
  rows: number,
  Hd: Buffer,
  Z: Buffer,
  Y: Buffer,
  dim: SoftmaxDim,
): void {
  const { nFeatures: F, nHidden: H } = spec;
  const W = params.W.subarray(i * F * H, (i + 1) * F * H);
  const b = params.b.subarray(i * F, (i + 1) * F);
  for (let s = 0; s < rows; s++) {
    projectRow(X, W, s, F, H, Hd);
    for (let f = 0; f < F; f++) {
      let acc = b[f];
      for (let k = 0; k < H; k++) acc += W[f * H + k] * Hd[s * H + k];
      Z[s * F + f] = acc;
    }
  }
  applyActivation(act, Z, Y, rows, F, dim);
}

export function makeReferenceKernel(dim: SoftmaxDim): StepKernel {
  return function referenceKernel(spec, act, params, batch, grads, losses) {
    const { nFeatures: F, nHidden: H, nInstances: I } = spec;
    const B = batch.batchSize;
    const dt = params.dtype;
    const X = allocate(dt, B * F);
    const Hd = allocate(dt, B * H);
    const Z = allocate(dt, B * F);
    const Y = allocate(dt, B * F);
    const dY = allocate(dt, B * F);
    const dZ = allocate(dt, B * F);
    const dHd = allocate(dt, B * H);
    const x = allocate(dt, F);
    grads.W.fill(0);
    grads.b.fill(0);
    const scale = 1 / (B * F);
    for (let i = 0; i < I; i++) {
      for (let s = 0; s < B; s++) {
        densify(batch, i, s, x);
        X.set(x, s * F);
      }
      forwardInstance(spec, act, params, i, X, B, Hd, Z, Y, dim);
      const imp = spec.importance.subarray(i * F, (i + 1) * F);
      let loss = 0;
      for (let s = 0; s < B; s++) {
        for (let f = 0; f < F; f++) {
          const e = Y[s * F + f] - X[s * F + f];
          loss += imp[f] * e * e;
          dY[s * F + f] = 2 * imp[f] * e * scale;
        }
      }
      losses[i] = loss * scale;
      activationVjp(act, Z, Y, dY, dZ, B, F, dim);
      const W = params.W.subarray(i * F * H, (i + 1) * F * H);
      const gW = grads.W.subarray(i * F * H, (i + 1) * F * H);
      const gb = grads.b.subarray(i * F, (i + 1) * F);
      for (let s = 0; s < B; s++) {
        projectRow(dZ, W, s, F, H, dHd);
        for (let f = 0; f < F; f++) {
          const dz = dZ[s * F + f];
          const xf = X[s * F + f];
          gb[f] += dz;
          for (let k = 0; k < H; k++) gW[f * H + k] += dz * Hd[s * H + k] + xf * dHd[s * H + k];
        }
      }
    }
  };
}
