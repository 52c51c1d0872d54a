// The model a cell trains: a built-in preset's, or a user-defined experiment's. Apart from the study planner
// (study.ts) so that workers, which only train cells, do not load the config schema and its validator.

import { type ModelSpec, makeSpec } from "../core/model.js";
import type { ExperimentConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { PRESETS } from "./presets.js";
import type { CellJob } from "./study.js";

export function experimentSpec(e: ExperimentConfig): ModelSpec {
  const F = e.nFeatures;
  const imp = e.importance;
  const importance = Array.isArray(imp)
    ? imp
    : "geometric" in imp
      ? Array.from({ length: F }, (_, f) => imp.geometric ** f)
      : Array.from({ length: F }, (_, f) => imp.power ** -(f / Math.max(1, F - 1)));
  return makeSpec(F, e.nHidden, e.featureProbability, importance);
}

export function specOf(job: Pick<CellJob, "preset" | "experiment">): ModelSpec {
  if (job.experiment) return experimentSpec(job.experiment);
  const preset = PRESETS.get(job.preset);
  if (!preset) throw new ConfigError(`unknown preset '${job.preset}'`);
  return preset.spec();
}
