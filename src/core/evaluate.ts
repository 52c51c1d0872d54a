// Evaluation loss: the training loss on fresh samples from the separate "eval" stream of the run's seed.

import { getActivation } from "./activations.js";
import type { SoftmaxDim } from "./kernels/types.js";
import type { ModelSpec, Params } from "./model.js";
import { Rng } from "./rng.js";
import { createBatch, sampleBatch } from "./sampling.js";
import { chooseKernel } from "./train.js";

export const EVAL_SAMPLES = 8192;

/**
 * Per-instance mean of importance·(x − out)² over `samples` fresh samples: the training kernel's loss on
 * one batch of them (so the softmax family over the batch dimension sees all of them at once, as in the
 * PyTorch reference). The kernel's gradients are computed and dropped: the WebAssembly kernel costs less
 * with them than the reference forward pass did without (≈ 0.1 s per seed-study cell).
 */
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
  const batch = createBatch(spec, samples, params.dtype);
  sampleBatch(spec, new Rng(seed, "eval"), batch);
  const grads = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
  const losses = new Float64Array(I);
  chooseKernel(act, softmaxDim)(spec, act, params, batch, grads, losses);
  return losses;
}
