// The notebook's experiments and their successors, as data. Each preset fixes the model's shape and what
// its instances see; training options (steps, lr, …) come from the config with the notebook's defaults.

import { UnknownIdError } from "../core/activations.js";
import { type ModelSpec, makeSpec } from "../core/model.js";

export interface Preset {
  id: string;
  title: string;
  description: string;
  spec(): ModelSpec;
}

const range = (n: number) => Array.from({ length: n }, (_, k) => k);
const logSpace = (from: number, to: number, n: number) =>
  range(n).map((k) => from * (to / from) ** (n === 1 ? 0 : k / (n - 1)));

/** Grid size of the phase diagram: PHASE_GRID × PHASE_GRID instances. */
export const PHASE_GRID = 20;

/** Phase-diagram axes: relative importance of feature 2 (columns) and feature probability (rows). */
export const phaseAxes = () => ({
  relativeImportance: logSpace(0.1, 10, PHASE_GRID),
  featureProbability: logSpace(1, 0.01, PHASE_GRID),
});

const PRESET_LIST: Preset[] = [
  {
    id: "intro",
    title: "Introduction: 5 features in 2 dimensions",
    description: "The notebook's first experiment: 5 → 2, importance 0.9^f, p_i = 20^(−i/9), 10 instances.",
    spec: () =>
      makeSpec(
        5,
        2,
        range(10).map((i) => 20 ** -(i / 9)),
        range(5).map((f) => 0.9 ** f),
      ),
  },
  {
    id: "demo",
    title: "Demonstrating superposition: 20 features in 5 dimensions",
    description: "20 → 5, importance 0.7^f, p = 1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001.",
    spec: () =>
      makeSpec(
        20,
        5,
        [1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001],
        range(20).map((f) => 0.7 ** f),
      ),
  },
  {
    id: "sparsity",
    title: "Varying sparsity: 100 features in 20 dimensions",
    description: "100 → 20, importance 100^(−f/99), p_i = 20^(−i/19), 20 instances.",
    spec: () =>
      makeSpec(
        100,
        20,
        range(20).map((i) => 20 ** -(i / 19)),
        range(100).map((f) => 100 ** -(f / 99)),
      ),
  },
  {
    id: "geometry",
    title: "Feature geometry: 200 features in 20 dimensions",
    description: "200 → 20, equal importance, p_i = 20^(−i/19), 20 instances.",
    spec: () =>
      makeSpec(
        200,
        20,
        range(20).map((i) => 20 ** -(i / 19)),
        range(200).map(() => 1),
      ),
  },
  {
    id: "phase",
    title: "Phase diagram: 2 features in 1 dimension",
    description:
      "2 → 1; a 20 × 20 grid of instances over the relative importance of feature 2 (0.1…10, log) × feature probability (1…0.01, log). Instance index = row·20 + column.",
    spec: () => {
      const { relativeImportance, featureProbability } = phaseAxes();
      const probs: number[] = [];
      const importance: number[][] = [];
      for (const p of featureProbability) {
        for (const r of relativeImportance) {
          probs.push(p);
          importance.push([1, r]);
        }
      }
      return makeSpec(2, 1, probs, importance);
    },
  },
];

export const PRESETS: ReadonlyMap<string, Preset> = new Map(PRESET_LIST.map((p) => [p.id, p]));
export const PRESET_IDS = PRESET_LIST.map((p) => p.id);

export function getPreset(id: string): Preset {
  const p = PRESETS.get(id);
  if (!p) throw new UnknownIdError("preset", id, PRESET_IDS);
  return p;
}
