// Measures of superposition computed from the learned weights of one instance (W [F, H], b [F]).
// Definitions follow the notebook (polysemanticity, dimensions per feature) and Elhage et al. (2022),
// "Toy Models of Superposition", §4 (feature dimensionality).

import type { Buffer } from "./activations.js";

/** Norm of W_f above which a feature counts as represented (the notebook's figures use ~0.5 by eye). */
export const REPRESENTED_NORM = 0.5;
/** Superposition (interference norm) above which a represented feature counts as sharing its direction. */
export const SUPERPOSED_THRESHOLD = 0.1;

export interface InstanceMetrics {
  /** ‖W_f‖ per feature. */
  norms: number[];
  /** The notebook's polysemanticity: ‖(Ŵ_f · W_g)_{g≠f}‖₂ with Ŵ_f = W_f / (1e-5 + ‖W_f‖). */
  superposition: number[];
  /** D* = H / ‖W‖_F². */
  dimsPerFeature: number;
  /** D_f = ‖W_f‖² / Σ_g (Ŵ_f · W_g)² (0 for a zero row). */
  featureDimensionality: number[];
  /** Features with ‖W_f‖ > REPRESENTED_NORM. */
  featuresRepresented: number;
  /** Of the represented features, the fraction whose superposition exceeds SUPERPOSED_THRESHOLD. */
  fractionSuperposed: number;
  biasMean: number;
  biasMin: number;
  biasMax: number;
}

/** Metrics of instance i of flat W [I, F, H] and b [I, F]. */
export function instanceMetrics(W: Buffer, b: Buffer, i: number, F: number, H: number): InstanceMetrics {
  // the Gram matrix W_f · W_g, each pair once (a product commutes, so the sums are the same either way)
  const gram = new Float64Array(F * F);
  for (let f = 0; f < F; f++)
    for (let g = f; g < F; g++) {
      let acc = 0;
      for (let k = 0, a = (i * F + f) * H, c = (i * F + g) * H; k < H; k++) acc += W[a + k] * W[c + k];
      gram[f * F + g] = acc;
      gram[g * F + f] = acc;
    }
  const norms: number[] = [];
  let frob = 0;
  for (let f = 0; f < F; f++) {
    const sq = gram[f * F + f];
    frob += sq;
    norms.push(Math.sqrt(sq));
  }
  const superposition: number[] = [];
  const featureDimensionality: number[] = [];
  for (let f = 0; f < F; f++) {
    let interference = 0;
    let overlapExact = 0;
    for (let g = 0; g < F; g++) {
      const d = gram[f * F + g];
      if (g !== f) interference += (d / (1e-5 + norms[f])) ** 2;
      overlapExact += norms[f] > 0 ? (d / norms[f]) ** 2 : 0;
    }
    superposition.push(Math.sqrt(interference));
    featureDimensionality.push(overlapExact > 0 ? norms[f] ** 2 / overlapExact : 0);
  }
  const represented = norms.map((n, f) => (n > REPRESENTED_NORM ? f : -1)).filter((f) => f >= 0);
  const superposed = represented.filter((f) => superposition[f] > SUPERPOSED_THRESHOLD).length;
  let biasSum = 0;
  let biasMin = Infinity;
  let biasMax = -Infinity;
  for (let f = 0; f < F; f++) {
    const v = b[i * F + f];
    biasSum += v;
    biasMin = Math.min(biasMin, v);
    biasMax = Math.max(biasMax, v);
  }
  return {
    norms,
    superposition,
    dimsPerFeature: frob > 0 ? H / frob : Infinity,
    featureDimensionality,
    featuresRepresented: represented.length,
    fractionSuperposed: represented.length > 0 ? superposed / represented.length : 0,
    biasMean: biasSum / F,
    biasMin,
    biasMax,
  };
}

/** The solution a 2-feature, 1-neuron instance learned (the paper's phase diagram, Elhage et al. §3). */
export type PhaseSolution = "feature2-absent" | "feature2-alone" | "superposition" | "none" | "both-aligned";

/**
 * Classifies W = [w₁, w₂] (H = 1): a feature is represented when |w_f| > REPRESENTED_NORM.
 * Only feature 1 → "feature2-absent"; only feature 2 → "feature2-alone" (it took the dimension);
 * both with opposite signs → "superposition" (antipodal pair); both with the same sign → "both-aligned"
 * (not seen in the paper); neither → "none".
 */
export function classifyPhase(w1: number, w2: number): PhaseSolution {
  const rep1 = Math.abs(w1) > REPRESENTED_NORM;
  const rep2 = Math.abs(w2) > REPRESENTED_NORM;
  if (rep1 && rep2) return w1 * w2 < 0 ? "superposition" : "both-aligned";
  if (rep2) return "feature2-alone";
  if (rep1) return "feature2-absent";
  return "none";
}

/** Display names of the phase solutions, in legend order. */
export const PHASE_LABELS: Record<PhaseSolution, string> = {
  none: "neither feature represented",
  "feature2-absent": "feature 2 not represented",
  "feature2-alone": "feature 2 alone (dedicated dimension)",
  superposition: "both, antipodal (superposition)",
  "both-aligned": "both, same direction",
};

/** classifyPhase for rows W_1, W_2 of any width: lengths, with the sign of their overlap. */
export function classifyPhaseRows(w1: readonly number[], w2: readonly number[]): PhaseSolution {
  if (w1.length === 1) return classifyPhase(w1[0], w2[0]);
  let dot = 0;
  for (let k = 0; k < w1.length; k++) dot += w1[k] * w2[k];
  const n2 = Math.hypot(...w2);
  return classifyPhase(Math.hypot(...w1), dot < 0 ? -n2 : n2);
}
