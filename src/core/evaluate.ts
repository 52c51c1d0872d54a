// Evaluation loss: the training loss on fresh samples from the separate "eval" stream of the run's seed.

import { getActivation } from "./activations.js";
import { forwardInstance } from "./kernels/reference.js";
import type { SoftmaxDim } from "./kernels/types.js";
import { allocate, type ModelSpec, type Params } from "./model.js";
import { Rng } from "./rng.js";
import { createBatch, densify, sampleBatch } from "./sampling.js";

export const EVAL_SAMPLES = 8192;

/** Per-instance mean of importance·(x − out)² over `samples` fresh samples (one batch, so the softmax
 *  family over the batch dimension sees all of them at once, as in the PyTorch reference). */
export function evaluateLoss(
  spec: ModelSpec,
  activationId: string,
  params: Params,
  seed: number,
  softmaxDim: SoftmaxDim,
  samples = EVAL_SAMPLES,
): Float64Array {
  const act = getActivation(activationId);
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const dt = params.dtype;
  const batch = createBatch(spec, samples, dt);
  sampleBatch(spec, new Rng(seed, "eval"), batch);
  const X = allocate(dt, samples * F);
  const x = allocate(dt, F);
  const Hd = allocate(dt, samples * H);
  const Z = allocate(dt, samples * F);
  const Y = allocate(dt, samples * F);
  const losses = new Float64Array(I);
  for (let i = 0; i < I; i++) {
    for (let s = 0; s < samples; s++) {
      densify(batch, i, s, x);
      X.set(x, s * F);
    }
    forwardInstance(spec, act, params, i, X, samples, Hd, Z, Y, softmaxDim);
    let sum = 0;
    for (let s = 0; s < samples; s++) {
      for (let f = 0; f < F; f++) {
        const e = X[s * F + f] - Y[s * F + f];
        sum += spec.importance[i * F + f] * e * e;
      }
    }
    losses[i] = sum / (samples * F);
  }
  return losses;
}
