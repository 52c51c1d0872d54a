// A study is the cartesian product presets × activations × seeds (× dtypes × softmax dims): its cells.
// Planning is pure; running cells lives in sweep.ts, storing them in store.ts.

import { ACTIVATION_IDS, getActivation } from "../core/activations.js";
import { defineFormulaActivation, type FormulaDefinition } from "../core/formula/activation.js";
import type { SoftmaxDim } from "../core/kernels/types.js";
import type { DType } from "../core/model.js";
import { cellKey, variantOf } from "./cell-key.js";
import { ConfigError, type ExperimentConfig, parseSeeds, type StudyConfig } from "./config.js";
import { studyFormulas } from "./formula-jobs.js";
import { PRESET_IDS, PRESETS } from "./presets.js";
import { RUN_DEFAULTS, type RunOptions } from "./run.js";

export { specOf } from "./cell-spec.js";

/** Study aliases: names that stand for several presets. */
export const PRESET_GROUPS: Record<string, string[]> = { "seed-study": ["intro", "demo"] };

/** Everything needed to train one cell, on this machine or another (it is what a queue job carries). */
export interface CellJob {
  key: string;
  preset: string;
  /** Present for user-defined experiments, so a remote worker can build the model without the config file. */
  experiment?: ExperimentConfig;
  activation: string;
  /** Present for formula activations: what a worker needs to rebuild it (src/core/formula/). */
  formula?: FormulaDefinition;
  variant: string;
  options: RunOptions;
  snapshots: number;
}

export function expandPresets(ids: readonly string[], experiments: readonly ExperimentConfig[]): string[] {
  for (const e of experiments) {
    if (PRESETS.has(e.id)) throw new ConfigError(`experiments: id '${e.id}' clashes with a built-in preset`);
  }
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

/** The cells of a study, in a stable order (preset, activation, variant, seed). */
export function planStudy(study: StudyConfig): CellJob[] {
  const presets = expandPresets(study.presets, study.experiments);
  const listed = study.activations === "all" ? [...ACTIVATION_IDS] : study.activations;
  const formulas = new Map(studyFormulas(listed, study.formulas).map((d) => [d.id, d]));
  for (const def of formulas.values()) defineFormulaActivation(def);
  const activations = [...new Set([...listed.filter((a) => !a.includes("=")), ...formulas.keys()])];
  activations.forEach(getActivation);
  const seeds = parseSeeds(study.seeds);
  const base: RunOptions = { ...RUN_DEFAULTS, ...study.train } as RunOptions;
  const dtypes: DType[] = study.dtypes ?? [base.dtype];
  const dims: SoftmaxDim[] = study.softmaxDims ?? [base.softmaxDim];
  const jobs: CellJob[] = [];
  const planned = new Set<string>();
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
      if (planned.has(key)) continue;
      planned.add(key);
      const formula = formulas.get(activation);
      jobs.push({
        key,
        preset,
        ...(experiment ? { experiment } : {}),
        activation,
        ...(formula ? { formula } : {}),
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
