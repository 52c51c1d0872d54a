// The toy model of superposition, as in Anthropic's notebook (Elhage et al., 2022):
//   for each instance i (one per feature probability), with W[i] of shape [F, H] and b[i] of shape [F],
//   h = W[i]ᵀ x            (compress F features into H hidden dimensions)
//   out = act(W[i] h + b[i])  (reconstruct with the tied weights)
// Parameters of all instances live in flat buffers: W[i, f, k] at (i·F + f)·H + k, b[i, f] at i·F + f.

import type { Buffer } from "./activations.js";
import { Rng } from "./rng.js";

export type DType = "f32" | "f64";

export interface ModelShape {
  nInstances: number;
  nFeatures: number;
  nHidden: number;
}

/** What the data look like for each instance: how often each feature is present and how much it matters. */
export interface ModelSpec extends ModelShape {
  /** Per instance: the probability p_i that a feature is non-zero (sparsity S = 1 − p). */
  featureProbability: Float64Array;
  /** [instance, feature] importance weights of the loss. */
  importance: Float64Array;
}

export interface Params {
  dtype: DType;
  /** [I, F, H] */
  W: Buffer;
  /** [I, F] */
  b: Buffer;
}

export function allocate(dtype: DType, length: number): Buffer {
  return dtype === "f32" ? new Float32Array(length) : new Float64Array(length);
}

export function makeSpec(
  nFeatures: number,
  nHidden: number,
  featureProbability: readonly number[],
  importance: readonly number[] | readonly (readonly number[])[],
): ModelSpec {
  const nInstances = featureProbability.length;
  const imp = new Float64Array(nInstances * nFeatures);
  for (let i = 0; i < nInstances; i++) {
    const row = (Array.isArray(importance[0]) ? importance[i] : importance) as readonly number[];
    for (let f = 0; f < nFeatures; f++) imp[i * nFeatures + f] = row[f];
  }
  return {
    nInstances,
    nFeatures,
    nHidden,
    featureProbability: Float64Array.from(featureProbability),
    importance: imp,
  };
}

/**
 * The notebook's init: `torch.nn.init.xavier_normal_` on the whole [I, F, H] tensor. PyTorch's fan rule for a
 * 3-D tensor takes fan_in = F·H and fan_out = I·H, so the std is sqrt(2 / (F·H + I·H)): the initial scale
 * depends on how many instances are trained together. We keep that, to match the notebook. b = 0.
 */
export function xavierStd(shape: ModelShape): number {
  return Math.sqrt(2 / (shape.nFeatures * shape.nHidden + shape.nInstances * shape.nHidden));
}

export function initParams(shape: ModelShape, dtype: DType, seed: number): Params {
  const { nInstances: I, nFeatures: F, nHidden: H } = shape;
  const rng = new Rng(seed, "init");
  const std = xavierStd(shape);
  const W = allocate(dtype, I * F * H);
  for (let j = 0; j < W.length; j++) W[j] = std * rng.normal();
  return { dtype, W, b: allocate(dtype, I * F) };
}

export function cloneParams(p: Params): Params {
  return { dtype: p.dtype, W: p.W.slice(), b: p.b.slice() };
}
