// The measures every finding, table and figure uses, defined once. Per instance (one sparsity level of one
// cell), from its learned W [F, H]:
//   represented          features with ‖W_f‖ > 0.5 (REPRESENTED_NORM)
//   superposition_f      the notebook's per-feature superposition ‖(Ŵ_f·W_g)_{g≠f}‖ = sqrt Σ_{g≠f} (Ŵ_f·W_g)²
//   superposition        Σ_f ‖W_f‖·superposition_f / Σ_f ‖W_f‖ (features the model ignores do not count)
//   fraction superposed  of the represented features, the share with superposition_f > 0.1
//   D*                   H / ‖W‖²_F, dimensions per feature
//   importance preference  Spearman ρ(importance_f, ‖W_f‖): > 0 important features get the larger weights
// and a guard against structure that was never learned: ‖W − W₀‖_F/‖W₀‖_F and loss / loss of predicting 0.

import { REPRESENTED_NORM, SUPERPOSED_THRESHOLD } from "../core/metrics.js";
import type { InstanceSummary } from "../experiments/run.js";
import type { CellResult } from "../experiments/store-format.js";
import { THRESHOLDS } from "./findings/types.js";
import { spearman } from "./stats.js";

export { REPRESENTED_NORM, SUPERPOSED_THRESHOLD };

/** An instance counts as trained if it did not diverge, its loss is below this share of the trivial loss … */
export const TRAINED_MAX_LOSS_SHARE = THRESHOLDS.trainedMaxLossShare;
/** … and its weights moved at least this far from the init (relative Frobenius distance), when recorded. */
export const TRAINED_MIN_WEIGHT_CHANGE = THRESHOLDS.trainedMinWeightChange;

/** The ‖W_f‖-weighted mean of the notebook's per-feature superposition (the report's headline number). */
export function superpositionScore(inst: InstanceSummary): number {
  let num = 0;
  let den = 0;
  for (let f = 0; f < inst.norms.length; f++) {
    const n = inst.norms[f];
    if (!Number.isFinite(n) || !Number.isFinite(inst.superposition[f])) continue;
    num += n * inst.superposition[f];
    den += n;
  }
  return den > 0 ? num / den : 0;
}

export const featuresRepresented = (inst: InstanceSummary): number => inst.featuresRepresented;
export const fractionSuperposed = (inst: InstanceSummary): number => inst.fractionSuperposed;
export const dimsPerFeature = (inst: InstanceSummary): number => inst.dimsPerFeature;

/** Represented features whose superposition exceeds SUPERPOSED_THRESHOLD (a count, out of F). */
export function featuresSuperposed(inst: InstanceSummary): number {
  let k = 0;
  for (let f = 0; f < inst.norms.length; f++)
    if (inst.norms[f] > REPRESENTED_NORM && inst.superposition[f] > SUPERPOSED_THRESHOLD) k++;
  return k;
}

/** Mean superposition_f of the superposed features: how strong the sharing is where it happens (0 if none). */
export function superpositionAmplitude(inst: InstanceSummary): number {
  let s = 0;
  let k = 0;
  for (let f = 0; f < inst.norms.length; f++)
    if (inst.norms[f] > REPRESENTED_NORM && inst.superposition[f] > SUPERPOSED_THRESHOLD) {
      s += inst.superposition[f];
      k++;
    }
  return k ? s / k : 0;
}

/** Importance preference: ρ(importance, ‖W_f‖) of instance i; NaN without importances. */
export function importanceNormRho(inst: InstanceSummary, cell: CellResult, i: number): number {
  const imp = cell.config?.importance?.[i];
  if (!imp || imp.length !== inst.norms.length) return Number.NaN;
  return spearman(imp, inst.norms);
}

/**
 * ‖W_f‖-weighted superposition of the less important and the more important half of the features
 * (importance order of instance i). low > high: superposition sits on the unimportant features.
 */
export function superpositionByImportance(
  inst: InstanceSummary,
  cell: CellResult,
  i: number,
): { low: number; high: number } {
  const imp = cell.config?.importance?.[i];
  if (!imp || imp.length !== inst.norms.length) return { low: Number.NaN, high: Number.NaN };
  const order = imp.map((v, f) => [v, f] as const).sort((a, b) => b[0] - a[0]);
  const half = Math.floor(order.length / 2);
  const weighted = (fs: readonly (readonly [number, number])[]) => {
    let n = 0;
    let d = 0;
    for (const [, f] of fs) {
      n += inst.norms[f] * inst.superposition[f];
      d += inst.norms[f];
    }
    return d > 0 ? n / d : 0;
  };
  return { low: weighted(order.slice(half)), high: weighted(order.slice(0, half)) };
}

/**
 * Loss of the trivial predictor out = 0 for instance i: mean over features of importance·E[x²], with
 * x = 0 w.p. 1 − p and U[0, 1] w.p. p, so E[x²] = p/3.
 */
export function trivialLoss(cell: CellResult, i: number): number {
  const p = cell.config?.featureProbability?.[i] ?? cell.instances[i].featureProbability;
  const imp = cell.config?.importance?.[i];
  if (!imp?.length) return Number.NaN;
  let s = 0;
  for (const v of imp) s += (v * p) / 3;
  return s / imp.length;
}

export type TrainingStatus = "trained" | "untrained" | "unknown";

export interface TrainingCheck {
  status: TrainingStatus;
  /** ‖W − W₀‖_F / ‖W₀‖_F, or undefined for stores written before it was recorded. */
  weightChange: number | undefined;
  lossOverTrivial: number;
  /** Why it counts as untrained (empty when trained). */
  why: string;
}

/**
 * Did instance i learn anything? Untrained if it diverged, if its loss is not below TRAINED_MAX_LOSS_SHARE of
 * the all-zero predictor's, or if its weights stayed within TRAINED_MIN_WEIGHT_CHANGE of the init. "unknown"
 * when the loss test passes but the store predates the weight-change record.
 */
export function trainingCheck(inst: InstanceSummary, cell: CellResult, i: number): TrainingCheck {
  const lossOverTrivial = inst.loss / trivialLoss(cell, i);
  const weightChange = typeof inst.weightChange === "number" ? inst.weightChange : undefined;
  const why: string[] = [];
  if (inst.diverged) why.push("diverged");
  if (!Number.isFinite(inst.loss) || lossOverTrivial >= TRAINED_MAX_LOSS_SHARE)
    why.push("loss not below the all-zero predictor's");
  if (weightChange !== undefined && !(weightChange >= TRAINED_MIN_WEIGHT_CHANGE))
    why.push("weights still at their init");
  const status: TrainingStatus = why.length
    ? "untrained"
    : weightChange === undefined
      ? "unknown"
      : "trained";
  return { status, weightChange, lossOverTrivial, why: why.join(", ") };
}

/** True unless the instance is known not to have trained (unknown counts: old stores stay usable). */
export const learned = (inst: InstanceSummary, cell: CellResult, i: number): boolean =>
  trainingCheck(inst, cell, i).status !== "untrained";

/** A superposition-type measure that is NaN for an instance that did not train (so it is left out). */
export function guarded(
  measure: (inst: InstanceSummary, cell: CellResult, i: number) => number,
): (inst: InstanceSummary, cell: CellResult, i: number) => number {
  return (inst, cell, i) => (learned(inst, cell, i) ? measure(inst, cell, i) : Number.NaN);
}

/** The measures' definitions, for the report's method section (and the README). */
export const MEASURE_DEFINITIONS: { name: string; definition: string }[] = [
  {
    name: "Features represented",
    definition: `number of features with ‖W_f‖ > ${REPRESENTED_NORM}.`,
  },
  {
    name: "Per-feature superposition",
    definition:
      "the notebook's bar length ‖(Ŵ_f·W_g)_{g≠f}‖ = (Σ_{g≠f} (Ŵ_f·W_g)²)^½ with Ŵ_f = W_f/(10⁻⁵ + ‖W_f‖): how " +
      "much of the other features lies along feature f's direction (its square is the interference sum; rank-based " +
      "tests are the same for both).",
  },
  {
    name: "Superposition (scalar)",
    definition:
      "per-feature superposition averaged with weights ‖W_f‖, so features the model ignores (tiny W_f whose " +
      "direction is noise) do not count.",
  },
  {
    name: "Fraction superposed",
    definition: `of the represented features, the share whose per-feature superposition exceeds ${SUPERPOSED_THRESHOLD}.`,
  },
  { name: "Dimensions per feature D*", definition: "H / ‖W‖²_F (Elhage et al. 2022, §4)." },
  {
    name: "Importance preference",
    definition:
      "Spearman ρ between feature importance and ‖W_f‖ (> 0: important features get the larger weights, as with " +
      "ReLU; < 0: reversed).",
  },
  {
    name: "Trained (guard)",
    definition:
      `an instance is untrained if it diverged, if its loss is ≥ ${TRAINED_MAX_LOSS_SHARE} × the all-zero predictor's ` +
      `(mean importance·p/3), or if ‖W − W₀‖_F/‖W₀‖_F < ${TRAINED_MIN_WEIGHT_CHANGE} (weights still their init); ` +
      "stores written before the weight change was recorded show it as unknown. Superposition measures of " +
      "untrained instances are left out of every finding.",
  },
];
