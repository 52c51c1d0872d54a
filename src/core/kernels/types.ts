import type { Activation } from "../activations.js";
import type { ModelSpec, Params } from "../model.js";
import type { SparseBatch } from "../sampling.js";

/** Over which axis the softmax family normalises: each sample's features (correct), or the batch (what
 *  `nn.Softmax()` without `dim` does on the notebook's [batch, instance, feature] tensor). */
export type SoftmaxDim = "features" | "batch";

export interface Gradients {
  /** [I, F, H], float64 accumulators whatever the parameter dtype. */
  W: Float64Array;
  /** [I, F] */
  b: Float64Array;
}

/**
 * One training step's forward and backward pass: fills `grads` (overwriting) and `losses` (per instance,
 * mean over batch and features of importance·(x − out)²). All kernels share this signature, so any two can
 * be run on the same batch and compared.
 */
export type StepKernel = (
  spec: ModelSpec,
  activation: Activation,
  params: Params,
  batch: SparseBatch,
  grads: Gradients,
  losses: Float64Array,
) => void;
