// The one cost model choosing an instance's algorithm, dense (direct form) or Gram, for the fast kernel and
// its JavaScript fallback alike.

import { TILED_DENSE_MIN_F } from "./wasm/kernel/layout.js";

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
  const gram = (1 + V / 25) * n * V + 6 * V + 10;
  return dense <= gram ? "dense" : "gram";
}

let pathOverride: InstancePath | undefined;
/** Forces one algorithm for every instance (tests compare both against the reference). */
export function setPathOverride(path: InstancePath | undefined): void {
  pathOverride = path;
}
export function currentPathOverride(): InstancePath | undefined {
  return pathOverride;
}
