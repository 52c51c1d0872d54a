// The one cost model choosing an instance's algorithm, dense (direct form) or Gram, for the fast kernel and
// its JavaScript fallback alike.

import { GRAM_LOOPED_MIN_F, TILED_DENSE_MIN_F } from "./wasm/kernel/layout.js";

export type InstancePath = "dense" | "gram";

/**
 * Which algorithm an instance uses, from its feature probability alone (so results never depend on timing):
 * estimated nanoseconds per non-zero sample, fitted to measurements of both paths of the generated kernel on
 * the presets' shapes (docs/speed.md), with n = expected non-zeros in a non-zero sample and V = vectors per
 * feature row. Many features' dense path (dense_tiled) measured 0.64–0.70 of the unrolled one's time.
 */
export function choosePath(p: number, F: number, H: number, dtype: "f32" | "f64"): InstancePath {
  if (pathOverride) return pathOverride;
  const L = dtype === "f32" ? 4 : 2;
  const q = Math.min(1, Math.max(p, 1e-12));
  const n = (q * F) / (1 - (1 - q) ** F);
  const V = Math.ceil(F / L);
  const dense =
    F >= TILED_DENSE_MIN_F ? ((0.4 * F * H + 0.33 * F) * 4) / L + 5 : ((0.6 * F * H + 0.5 * F) * 4) / L + 8;
  const gram = F >= GRAM_LOOPED_MIN_F ? loopedGram(q, F, H, n, V) : (1 + V / 25) * n * V + 6 * V + 10;
  return dense <= gram ? "dense" : "gram";
}

/**
 * The Gram path generated as loops (many features, gram-looped.ts), in the same units: its rows cost per
 * non-zero and feature vector, and its setup and finish (M = W Wᵀ, (C + Cᵀ) W: ≈ F·V·H multiply-adds a
 * step) spread over the non-empty samples of a batch of the default size (the model does not see B).
 */
function loopedGram(q: number, F: number, H: number, n: number, V: number): number {
  const nonEmpty = 1024 * (1 - (1 - q) ** F);
  return n * V + (3 * F * V * H) / nonEmpty + 6 * V + 10;
}

let pathOverride: InstancePath | undefined;
/** Forces one algorithm for every instance (tests compare both against the reference). */
export function setPathOverride(path: InstancePath | undefined): void {
  pathOverride = path;
}
export function currentPathOverride(): InstancePath | undefined {
  return pathOverride;
}
