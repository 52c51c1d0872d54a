import { allocate, type DType } from "../../src/core/model.js";
import { createOptimizer, type OptimizerBackend, type OptimizerSettings } from "../../src/core/optimizer.js";

/** A single group of parameters `initial` (as W; b empty) after each step k with grads[k] at lr[k]. */
export function trajectory(
  settings: OptimizerSettings,
  dtype: DType,
  c: { initial: number[]; grads: number[][]; lr: number[] },
  backend: OptimizerBackend = "js",
): number[][] {
  const W = allocate(dtype, c.initial.length);
  W.set(c.initial);
  const opt = createOptimizer(settings, { dtype, W, b: allocate(dtype, 0) }, 1, backend);
  return c.grads.map((g, k) => {
    opt.grads.W.set(g);
    opt.step(c.lr[k]);
    return Array.from(opt.params.W);
  });
}
