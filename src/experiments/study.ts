// A study is the cartesian product presets × activations × seeds (× dtypes × softmax dims): its cells.
// Planning is pure; running cells lives in sweep.ts, storing them in store.ts.

import { ACTIVATION_IDS, getActivation } from "../core/activations.js";
import type { SoftmaxDim } from "../core/kernels/types.js";
import { type DType, type ModelSpec, makeSpec } from "../core/model.js";
import { ConfigError, type ExperimentConfig, parseSeeds, type StudyConfig } from "./config.js";
import { PRESET_IDS, PRESETS } from "./presets.js";
import { RUN_DEFAULTS, type RunOptions } from "./run.js";

/** Study aliases: names that stand for several presets. */
export const PRESET_GROUPS: Record<string, string[]> = { "seed-study": ["intro", "demo"] };

/** Everything needed to train one cell, on this machine or another (it is what a queue job carries). */
export interface CellJob {
  key: string;
  preset: string;
  /** Present for user-defined experiments, so a remote worker can build the model without the config file. */
  experiment?: ExperimentConfig;
  activation: string;
  variant: string;
  options: RunOptions;
  snapshots: number;
}

/** Tags that distinguish cells beyond preset/activation/seed: "f64", "softmax-batch", an optimizer not AdamW. */
export function variantOf(dtype: DType, softmaxDim: SoftmaxDim, optimizer = "adamw"): string {
  const tags: string[] = [];
  if (dtype === "f64") tags.push("f64");
  if (softmaxDim === "batch") tags.push("softmax-batch");
  if (optimizer !== "adamw") tags.push(optimizer);
  return tags.join("+");
}

export function cellKey(preset: string, activation: string, variant: string, seed: number): string {
  return `${preset}/${activation}${variant ? `~${variant}` : ""}/seed-${seed}`;
}

export function expandPresets(ids: readonly string[], experiments: readonly ExperimentConfig[]): string[] {
  const known = new Set([...PRESET_IDS, ...experiments.map((e) => e.id)]);
  const out: string[] = [];
  for (const id of ids) {
    const group = PRESET_GROUPS[id];
    for (const p of group ?? [id]) {
      if (!known.has(p)) {
        throw new ConfigError(
          `presets: unknown preset '${p}'; choose from: ${[...PRESET_IDS, ...Object.keys(PRESET_GROUPS), ...experiments.map((e) => e.id)].join(", ")}`,
        );
      }
      if (!out.includes(p)) out.push(p);
    }
  }
  return out;
}

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

/** The cells of a study, in a stable order (preset, activation, variant, seed). */
export function planStudy(study: StudyConfig): CellJob[] {
  const presets = expandPresets(study.presets, study.experiments);
  const activations = study.activations === "all" ? [...ACTIVATION_IDS] : study.activations;
  activations.forEach(getActivation);
  const seeds = parseSeeds(study.seeds);
  const base: RunOptions = { ...RUN_DEFAULTS, ...study.train } as RunOptions;
  const dtypes: DType[] = study.dtypes ?? [base.dtype];
  const dims: SoftmaxDim[] = study.softmaxDims ?? [base.softmaxDim];
  const jobs: CellJob[] = [];
  for (const preset of presets) {
    const experiment = study.experiments.find((e) => e.id === preset);
    for (const activation of activations) {
      const isVector = getActivation(activation).kind === "vector";
      for (const dtype of dtypes) {
        for (const softmaxDim of dims) {
          // The batch-softmax variant only changes the softmax family; other activations would repeat.
          if (softmaxDim === "batch" && !isVector && dims.includes("features")) continue;
          add(preset, experiment, activation, dtype, softmaxDim);
        }
      }
      for (const extra of study.variants.filter((v) => v.activations.includes(activation))) {
        add(preset, experiment, activation, extra.dtype ?? dtypes[0], extra.softmaxDim ?? dims[0]);
      }
    }
  }
  return jobs;

  function add(
    preset: string,
    experiment: ExperimentConfig | undefined,
    activation: string,
    dtype: DType,
    softmaxDim: SoftmaxDim,
  ) {
    const opt = base.optimizer;
    const variant = variantOf(dtype, softmaxDim, typeof opt === "object" ? opt.name : opt);
    for (const seed of seeds) {
      const key = cellKey(preset, activation, variant, seed);
      if (jobs.some((j) => j.key === key)) continue;
      jobs.push({
        key,
        preset,
        ...(experiment ? { experiment } : {}),
        activation,
        variant,
        options: { ...base, dtype, softmaxDim, seed },
        snapshots: study.snapshots,
      });
    }
  }
}

/**
 * Splits jobs into lockstep groups: cells of one model whose runs share their data (same preset, seed,
 * steps, batch size and dtype; they differ in activation or softmax dim) train side by side on one sampled
 * batch per step. Each bucket is cut into near-equal groups of at most `maxSize`; plan order is kept.
 */
export function groupForLockstep(jobs: readonly CellJob[], maxSize: number): CellJob[][] {
  const buckets = new Map<string, CellJob[]>();
  for (const job of jobs) {
    const o = job.options;
    const key = [job.preset, o.seed, o.steps, o.batchSize, o.dtype].join("|");
    const bucket = buckets.get(key);
    if (bucket) bucket.push(job);
    else buckets.set(key, [job]);
  }
  const groups: CellJob[][] = [];
  const size = Math.max(1, Math.floor(maxSize));
  for (const bucket of buckets.values()) {
    const n = Math.ceil(bucket.length / size);
    for (let g = 0, start = 0; g < n; g++) {
      const end = start + Math.ceil((bucket.length - start) / (n - g));
      groups.push(bucket.slice(start, end));
      start = end;
    }
  }
  return groups;
}
