// The optimizers' updates in JavaScript: the readable specification that the WebAssembly versions
// (kernels/wasm/optimizer.ts) reproduce bit for bit, each matching torch.optim's single-tensor code (torch 1.13).
// Every update is computed in float64 and each stored value rounds to the buffer's precision, as torch's
// in-place operations round to the tensor's.
//
//   AdamW  p ← p·(1 − lr·wd);  m ← m + (g − m)·(1 − β₁);  v ← β₂·v + (1 − β₂)·g²
//          p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
//   Adam   g ← g + wd·p (L2, coupled);  m ← β₁·m + (1 − β₁)·g;  v and p as AdamW
//   SGD    g ← g + wd·p;  u ← μ·u + (1 − dampening)·g (u ← g at the first step);  p ← p − lr·u
//          (Nesterov: p ← p − lr·(g + μ·u))

import type { Buffer } from "../activations.js";
import { allocate, type DType } from "../model.js";

export type OptimizerName = "adamw" | "adam" | "sgd";
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ["adamw", "adam", "sgd"];

export interface AdamHyper {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}
export interface SgdHyper {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}
/** An optimizer and its hyper-parameters (the learning rate is the run's, per step). */
export type OptimizerSettings =
  | ({ name: "adamw" } & AdamHyper)
  | ({ name: "adam" } & AdamHyper)
  | ({ name: "sgd" } & SgdHyper);

/** torch.optim's defaults; SGD with the momentum 0.9 of the notebooks that use it (torch's default is 0). */
export const TORCH_DEFAULTS: { [N in OptimizerName]: Extract<OptimizerSettings, { name: N }> } = {
  adamw: { name: "adamw", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
  adam: { name: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
  sgd: { name: "sgd", momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
};

/** One tensor's optimizer state: Adam's moments m and v (SGD: m is the momentum buffer, v is empty). */
export interface OptimizerState {
  m: Buffer;
  v: Buffer;
}

export function createState(name: OptimizerName, dtype: DType, length: number): OptimizerState {
  return { m: allocate(dtype, length), v: allocate(dtype, name === "sgd" ? 0 : length) };
}

/** The per-step numbers of an update, shared by every element (and passed to WebAssembly as they are). */
export type StepScalars =
  | {
      name: "adamw";
      decay: number;
      stepSize: number;
      bias2Sqrt: number;
      c1: number;
      beta2: number;
      c2: number;
      eps: number;
    }
  | {
      name: "adam";
      wd: number;
      beta1: number;
      c1: number;
      beta2: number;
      c2: number;
      stepSize: number;
      bias2Sqrt: number;
      eps: number;
    }
  | { name: "sgd"; wd: number; mu: number; c: number; a: number; b: number; negLr: number };

/** The scalars of step t (1-based) at learning rate lr. */
export function stepScalars(s: OptimizerSettings, t: number, lr: number): StepScalars {
  if (s.name === "sgd") {
    // the first step sets u = g: the same formula with μ = 0, 1 − dampening = 1
    const first = t === 1;
    return {
      name: "sgd",
      wd: s.weightDecay,
      mu: first ? 0 : s.momentum,
      c: first ? 1 : 1 - s.dampening,
      // p ← p − lr·(a·g + b·u): plain a = 0, b = 1; Nesterov a = 1, b = μ
      a: s.nesterov ? 1 : 0,
      b: s.nesterov ? s.momentum : 1,
      negLr: -lr,
    };
  }
  const { beta1, beta2, eps, weightDecay } = s;
  const stepSize = lr / (1 - beta1 ** t);
  const bias2Sqrt = Math.sqrt(1 - beta2 ** t);
  if (s.name === "adam")
    return {
      name: "adam",
      wd: weightDecay,
      beta1,
      c1: 1 - beta1,
      beta2,
      c2: 1 - beta2,
      stepSize,
      bias2Sqrt,
      eps,
    };
  return {
    name: "adamw",
    decay: 1 - lr * weightDecay,
    stepSize,
    bias2Sqrt,
    c1: 1 - beta1,
    beta2,
    c2: 1 - beta2,
    eps,
  };
}

/** Updates p[from, to) with gradients g by one step of the scalars' optimizer. */
export function update(
  s: StepScalars,
  p: Buffer,
  g: Float64Array,
  st: OptimizerState,
  from: number,
  to: number,
): void {
  const { m, v } = st;
  if (s.name === "adamw") {
    const { decay, stepSize, bias2Sqrt, c1, beta2, c2, eps } = s;
    for (let j = from; j < to; j++) {
      const gj = g[j];
      p[j] *= decay;
      m[j] += (gj - m[j]) * c1;
      v[j] = v[j] * beta2 + c2 * gj * gj;
      p[j] -= (stepSize * m[j]) / (Math.sqrt(v[j]) / bias2Sqrt + eps);
    }
  } else if (s.name === "adam") {
    const { wd, beta1, c1, beta2, c2, stepSize, bias2Sqrt, eps } = s;
    for (let j = from; j < to; j++) {
      const gj = g[j] + wd * p[j];
      m[j] = m[j] * beta1 + c1 * gj;
      v[j] = v[j] * beta2 + c2 * gj * gj;
      p[j] -= (stepSize * m[j]) / (Math.sqrt(v[j]) / bias2Sqrt + eps);
    }
  } else {
    const { wd, mu, c, a, b, negLr } = s;
    for (let j = from; j < to; j++) {
      const gj = g[j] + wd * p[j];
      m[j] = m[j] * mu + c * gj;
      p[j] += negLr * (a * gj + b * m[j]);
    }
  }
}
