// AdamW with torch.optim.AdamW's exact update order (PyTorch ≥ 2, single-tensor path):
//   p ← p·(1 − lr·wd)                 decoupled weight decay, before the Adam step
//   m ← m + (g − m)·(1 − β₁)          (torch's lerp)
//   v ← β₂·v + (1 − β₂)·g²
//   p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

import type { Buffer } from "./activations.js";
import { allocate, type DType } from "./model.js";

export interface AdamWHyper {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const TORCH_ADAMW: AdamWHyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

export interface AdamWState {
  m: Buffer;
  v: Buffer;
  /** Steps taken by each group (instances frozen after divergence stop counting). */
  step: Int32Array;
}

export function createAdamWState(dtype: DType, length: number, groups: number): AdamWState {
  return { m: allocate(dtype, length), v: allocate(dtype, length), step: new Int32Array(groups) };
}

/**
 * Updates params[from, to) with their gradients; `group` indexes the step counter (one per instance, so a
 * frozen instance's bias correction is not advanced). With `groupEnd`, groups [group, groupEnd) — whose
 * counters must agree — take one step together over [from, to): the same numbers as one call per group,
 * with the scalars computed once.
 */
export function adamWStep(
  params: Buffer,
  grads: Float64Array,
  state: AdamWState,
  group: number,
  from: number,
  to: number,
  lr: number,
  hyper: AdamWHyper = TORCH_ADAMW,
  groupEnd = group + 1,
): void {
  const { stepSize, bias2Sqrt, decay } = adamWScalars(state, group, lr, hyper, groupEnd);
  const { beta1, beta2, eps } = hyper;
  const { m, v } = state;
  for (let j = from; j < to; j++) {
    // Each store rounds to the buffer's precision, as torch's in-place ops do.
    const g = grads[j];
    params[j] *= decay;
    m[j] += (g - m[j]) * (1 - beta1);
    v[j] = v[j] * beta2 + (1 - beta2) * g * g;
    params[j] -= (stepSize * m[j]) / (Math.sqrt(v[j]) / bias2Sqrt + eps);
  }
}

/**
 * Advances the step counter t of groups [group, groupEnd) and returns this step's scalars (shared with the
 * WebAssembly version).
 */
export function adamWScalars(
  state: AdamWState,
  group: number,
  lr: number,
  hyper: AdamWHyper,
  groupEnd = group + 1,
): { stepSize: number; bias2Sqrt: number; decay: number } {
  for (let k = group + 1; k < groupEnd; k++)
    if (state.step[k] !== state.step[group])
      throw new Error(`adamW: groups ${group}…${groupEnd - 1} are at different steps`);
  const t = ++state.step[group];
  for (let k = group + 1; k < groupEnd; k++) state.step[k] = t;
  const { beta1, beta2, weightDecay } = hyper;
  const bias1 = 1 - beta1 ** t;
  return { stepSize: lr / bias1, bias2Sqrt: Math.sqrt(1 - beta2 ** t), decay: 1 - lr * weightDecay };
}

/** An AdamW update of params[from, to) for one group: adamWStep or its WebAssembly twin. */
export type AdamWStepper = typeof adamWStep;

export type LrSchedule = "constant" | "linear" | "cosine";
export const LR_SCHEDULES: readonly LrSchedule[] = ["constant", "linear", "cosine"];

/** The notebook's learning-rate multipliers at step (0-based) of `steps`. */
export function lrScale(schedule: LrSchedule, step: number, steps: number): number {
  if (schedule === "linear") return 1 - step / steps;
  if (schedule === "cosine") return Math.cos(0.5 * Math.PI * (step / Math.max(1, steps - 1)));
  return 1;
}
