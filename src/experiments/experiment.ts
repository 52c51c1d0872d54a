// From an experiment's description (config.ts's schema: the built-in presets in presets.json and a user's
// experiments in TOML or JSON alike) to the model it trains, and to its kind, which decides the report's
// figures. No zod here: the explorer imports this file.

import { type ModelSpec, makeSpec } from "../core/model.js";
import type { ExperimentConfig, ExperimentKind, LogRange } from "./config.js";

/** n values from `from` to `to`, evenly spaced in log (the notebook's log-spaced grids). */
export function logSpace(from: number, to: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => from * (to / from) ** (n === 1 ? 0 : k / (n - 1)));
}

const logRange = (r: LogRange) => logSpace(r.from, r.to, r.n);

/** Per feature: a list, base^f (`geometric`, the notebook's 0.9^f) or base^(−f/(F−1)) (`power`). */
function importanceOf(e: ExperimentConfig): number[] {
  const F = e.nFeatures;
  const imp = e.importance;
  if (Array.isArray(imp)) return imp;
  if ("geometric" in imp) return Array.from({ length: F }, (_, f) => imp.geometric ** f);
  return Array.from({ length: F }, (_, f) => imp.power ** -(f / Math.max(1, F - 1)));
}

/** Per instance: a list, or base^(−i/(n−1)) for n instances (the notebook's 20^(−i/9)). */
function probabilitiesOf(e: ExperimentConfig): number[] {
  const p = e.featureProbability ?? [];
  if (Array.isArray(p)) return p;
  return Array.from({ length: p.count }, (_, i) => p.power ** -(i / Math.max(1, p.count - 1)));
}

/** The model of an experiment. A phase grid: instance row·n + column sees p[row] and importance [1, r[column]]. */
export function experimentSpec(e: ExperimentConfig): ModelSpec {
  if (!e.phaseGrid) return makeSpec(e.nFeatures, e.nHidden, probabilitiesOf(e), importanceOf(e));
  const relativeImportance = logRange(e.phaseGrid.relativeImportance);
  const probs: number[] = [];
  const importance: number[][] = [];
  for (const p of logRange(e.phaseGrid.featureProbability)) {
    for (const r of relativeImportance) {
      probs.push(p);
      importance.push([1, r]);
    }
  }
  return makeSpec(e.nFeatures, e.nHidden, probs, importance);
}

/** The phase grid's axes: relative importance of feature 2 (columns) and feature probability (rows). */
export function phaseGridAxes(e: ExperimentConfig): {
  relativeImportance: number[];
  featureProbability: number[];
} {
  if (!e.phaseGrid) throw new Error(`experiment '${e.id}' has no phase grid`);
  return {
    relativeImportance: logRange(e.phaseGrid.relativeImportance),
    featureProbability: logRange(e.phaseGrid.featureProbability),
  };
}

/**
 * The kind of an experiment that names none, from its shape: a 2-feature, 1-dimension model with many
 * instances is a phase grid; otherwise instances are sparsity levels, drawn as 2-D feature diagrams when
 * H = 2, as the notebook's Gram matrices when the model is small enough to read them.
 */
export function inferKind(shape: { nFeatures: number; nHidden: number; nInstances: number }): ExperimentKind {
  const { nFeatures: F, nHidden: H, nInstances: I } = shape;
  if (F === 2 && H === 1 && I > 40) return "phase";
  if (H === 2 && F <= 50) return "sparsity-2d";
  if (H > 2 && F <= 40 && I <= 12) return "sparsity-gram";
  return "sparsity";
}

export function kindOf(e: ExperimentConfig): ExperimentKind {
  if (e.kind) return e.kind;
  const nInstances = e.phaseGrid
    ? e.phaseGrid.featureProbability.n * e.phaseGrid.relativeImportance.n
    : probabilitiesOf(e).length;
  return inferKind({ nFeatures: e.nFeatures, nHidden: e.nHidden, nInstances });
}
