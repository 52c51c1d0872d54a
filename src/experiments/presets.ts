// The notebook's experiments and their successors, as data (presets.json) in the same schema as a user's
// experiments (config.ts; test/experiments/study.test.ts validates them with it). Each fixes the model's
// shape, what its instances see and its kind; training options (steps, lr, …) come from the study's config.

import { UnknownIdError } from "../core/activations.js";
import type { ModelSpec } from "../core/model.js";
import type { ExperimentConfig, ExperimentKind } from "./config.js";
import { experimentSpec, kindOf, phaseGridAxes } from "./experiment.js";
import PRESET_DATA from "./presets.json" with { type: "json" };

export interface Preset {
  id: string;
  title: string;
  description: string;
  kind: ExperimentKind;
  config: ExperimentConfig;
  spec(): ModelSpec;
}

const PRESET_LIST: Preset[] = (PRESET_DATA as ExperimentConfig[]).map((config) => ({
  id: config.id,
  title: config.title ?? config.id,
  description: config.description ?? "",
  kind: kindOf(config),
  config,
  spec: () => experimentSpec(config),
}));

export const PRESETS: ReadonlyMap<string, Preset> = new Map(PRESET_LIST.map((p) => [p.id, p]));
export const PRESET_IDS = PRESET_LIST.map((p) => p.id);

export function getPreset(id: string): Preset {
  const p = PRESETS.get(id);
  if (!p) throw new UnknownIdError("preset", id, PRESET_IDS);
  return p;
}

/** The phase preset's axes: relative importance of feature 2 (columns) and feature probability (rows). */
export const phaseAxes = () => phaseGridAxes(getPreset("phase").config);

/** Grid size of the phase diagram: PHASE_GRID × PHASE_GRID instances. */
export const PHASE_GRID = phaseAxes().featureProbability.length;
