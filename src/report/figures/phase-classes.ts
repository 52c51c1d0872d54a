// The phase of one instance of the 2-feature model and the colour each phase has, in the report's phase
// diagrams and in the explorer alike (web/ imports this file; it has no heavy imports).

import { classifyPhaseRows, PHASE_LABELS, type PhaseSolution } from "../../core/metrics.js";

/** A phase's label, as shown in legends (core's PHASE_LABELS). */
export type PhaseClass = string;

export const PHASE_CLASSES: PhaseClass[] = Object.values(PHASE_LABELS);

/** Okabe–Ito colours for the represented cases, greys for the others. */
const COLOUR_OF: Record<PhaseSolution, string> = {
  none: "#F2F2F2",
  "feature2-absent": "#BDBDBD",
  "feature2-alone": "#56B4E9",
  superposition: "#D55E00",
  "both-aligned": "#F0E442",
};

/** Phase label → colour. */
export const PHASE_COLOURS: Record<PhaseClass, string> = Object.fromEntries(
  Object.entries(PHASE_LABELS).map(([k, label]) => [label, COLOUR_OF[k as PhaseSolution]]),
);

/**
 * Phase of one instance of the 2-feature model. With one hidden dimension (the phase preset) it is core's
 * classifyPhase: a feature is represented if |w_f| > 0.5; only feature 1 → "not represented"; only feature 2
 * → "alone"; both with opposite signs → "antipodal (superposition)"; both with the same sign → "same
 * direction"; neither → "neither". With more dimensions the same rule on ‖W_f‖ and the sign of cos(W_1, W_2).
 */
export function phaseClass(w1: readonly number[], w2: readonly number[]): PhaseClass {
  return PHASE_LABELS[classifyPhaseRows(w1, w2)];
}
