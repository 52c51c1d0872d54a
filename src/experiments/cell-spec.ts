// The model a cell trains: a built-in preset's, or a user-defined experiment's. Apart from the study planner
// (study.ts) so that workers, which only train cells, do not load the config schema and its validator.

import type { ModelSpec } from "../core/model.js";
import type { ExperimentConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { experimentSpec } from "./experiment.js";
import { PRESETS } from "./presets.js";

/** A cell job (study.ts CellJob) as far as its model goes. */
export function specOf(job: { preset: string; experiment?: ExperimentConfig }): ModelSpec {
  const experiment = job.experiment ?? PRESETS.get(job.preset)?.config;
  if (!experiment) throw new ConfigError(`unknown preset '${job.preset}'`);
  return experimentSpec(experiment);
}
