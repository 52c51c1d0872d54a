// One schema for everything a user can configure, validated once at the edge (config files and CLI flags
// alike); inside, values are trusted. Errors name the key path and what was expected.

// a namespace import, so the bundler can leave out what is unused (zod's 60-odd locales among it)
import * as z from "zod";
import { ACTIVATION_IDS } from "../core/activations.js";
import { LR_SCHEDULES, OPTIMIZER_NAMES } from "../core/optimizer.js";
import { TRAIN_DEFAULTS } from "../core/train.js";
import { ConfigError } from "./config-error.js";
import { activationSpecSchema, formulaFamilySchema } from "./formula-config.js";

export { ConfigError };

const positiveInt = z.number().int().positive();
const probability = z.number().gt(0, "a probability must be > 0").lte(1, "a probability must be ≤ 1");

export const runOptionsSchema = z
  .object({
    steps: positiveInt.default(TRAIN_DEFAULTS.steps),
    batchSize: positiveInt.default(TRAIN_DEFAULTS.batchSize),
    lr: z.number().positive().finite().default(TRAIN_DEFAULTS.lr),
    lrSchedule: z.enum(LR_SCHEDULES as [string, ...string[]]).default(TRAIN_DEFAULTS.lrSchedule),
    dtype: z.enum(["f32", "f64"]).default(TRAIN_DEFAULTS.dtype),
    softmaxDim: z.enum(["features", "batch"]).default(TRAIN_DEFAULTS.softmaxDim),
    optimizer: z.enum(OPTIMIZER_NAMES as [string, ...string[]]).default("adamw"),
  })
  .strict();

/** Importance per feature: a list, or a curve base^f (the notebook's 0.9^f, 0.7^f) or base^(−f/(F−1)). */
const importanceSchema = z.union([
  z.array(z.number().nonnegative().finite()),
  z.object({ geometric: z.number().positive() }).strict(),
  z.object({ power: z.number().positive() }).strict(),
]);

/** Feature probability per instance: a list, or base^(−i/(count−1)) for `count` instances (20^(−i/9)). */
const probabilitiesSchema = z.union([
  z.array(probability).min(1),
  z
    .object({ power: z.number().gte(1, "power must be ≥ 1 (probabilities ≤ 1)"), count: positiveInt })
    .strict(),
]);

/** `n` values log-spaced from `from` to `to`. */
const logRangeSchema = z
  .object({ from: z.number().positive().finite(), to: z.number().positive().finite(), n: positiveInt })
  .strict();
export type LogRange = z.infer<typeof logRangeSchema>;

/**
 * What an experiment's instances vary, and so the report's figures: sparsity levels (with the notebook's 2-D
 * feature diagrams, its Gram matrices, none, or the feature-dimensionality plot of the geometry study), or a
 * phase grid. Optional: without it the shape decides (experiment.ts, inferKind).
 */
export const EXPERIMENT_KINDS = ["sparsity-2d", "sparsity-gram", "sparsity", "geometry", "phase"] as const;
export type ExperimentKind = (typeof EXPERIMENT_KINDS)[number];

/** One schema for the built-in presets (presets.json) and a user's `[[experiments]]`. */
export const experimentSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "lower-case letters, digits, - and _"),
    title: z.string().optional(),
    description: z.string().optional(),
    kind: z.enum(EXPERIMENT_KINDS).optional(),
    nFeatures: positiveInt,
    nHidden: positiveInt,
    featureProbability: probabilitiesSchema.optional(),
    importance: importanceSchema.default({ geometric: 1 }),
    /** Instead of featureProbability and importance: a grid of p (rows) × importance [1, r] (columns). */
    phaseGrid: z
      .object({ relativeImportance: logRangeSchema, featureProbability: logRangeSchema })
      .strict()
      .optional(),
  })
  .strict()
  .refine((e) => (e.featureProbability === undefined) !== (e.phaseGrid === undefined), {
    message: "give featureProbability or phaseGrid (one of them)",
    path: ["featureProbability"],
  })
  .refine((e) => !e.phaseGrid || e.nFeatures === 2, {
    message: "a phase grid is a 2-feature model (nFeatures = 2)",
    path: ["nFeatures"],
  })
  .refine(
    (e) =>
      !e.phaseGrid ||
      [e.phaseGrid.featureProbability.from, e.phaseGrid.featureProbability.to].every((p) => p <= 1),
    { message: "a probability must be ≤ 1", path: ["phaseGrid", "featureProbability"] },
  )
  .refine((e) => !Array.isArray(e.importance) || e.importance.length === e.nFeatures, {
    message: "importance must list one value per feature (nFeatures)",
    path: ["importance"],
  });

export type ExperimentConfig = z.infer<typeof experimentSchema>;

const seedSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const seedsSchema = z.union([z.array(seedSchema).min(1), z.string()]);

/** More seeds than any study needs: a typo like 0-1000000000 is refused instead of planned. */
export const MAX_SEEDS = 10_000;

export const studySchema = z
  .object({
    presets: z.array(z.string()).min(1).default(["seed-study"]),
    activations: z.union([z.literal("all"), z.array(activationSpecSchema).min(1)]).default("all"),
    /** Formula activations with parameters: one cell per value (src/core/formula/). */
    formulas: z.array(formulaFamilySchema).default([]),
    seeds: seedsSchema.default([0]),
    softmaxDims: z
      .array(z.enum(["features", "batch"]))
      .min(1)
      .optional(),
    dtypes: z
      .array(z.enum(["f32", "f64"]))
      .min(1)
      .optional(),
    snapshots: z.number().int().nonnegative().default(0),
    /** Extra cells for some activations only, e.g. float64 reruns of sigmoid, or the batch-softmax variant. */
    variants: z
      .array(
        z
          .object({
            activations: z.array(z.enum(ACTIVATION_IDS as [string, ...string[]])).min(1),
            dtype: z.enum(["f32", "f64"]).optional(),
            softmaxDim: z.enum(["features", "batch"]).optional(),
          })
          .strict(),
      )
      .default([]),
    experiments: z.array(experimentSchema).default([]),
    train: runOptionsSchema.partial().default({}),
  })
  .strict();

export type StudyConfigInput = z.input<typeof studySchema>;
export type StudyConfig = z.infer<typeof studySchema>;

type Issue = z.core.$ZodIssue;

/** For a union that failed, the branch that got furthest (longest path) explains the problem best. */
function explain(issue: Issue): Issue[] {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [issue];
  const depth = (branch: Issue[]) => Math.max(...branch.map((i) => i.path.length));
  const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  if (depth(best) === 0) return [issue];
  return best.flatMap((i) => explain({ ...i, path: [...issue.path, ...i.path] } as Issue));
}

/** Formats a zod error as one line, problems separated by "; ": `where: key.path: message`. */
export function formatZodError(error: z.ZodError, where: string): string {
  return error.issues
    .flatMap(explain)
    .map((issue) => {
      const path = issue.path.length ? issue.path.join(".") : "(top level)";
      return `${where}: ${path}: ${issue.message}`;
    })
    .join("; ");
}

export function parseWith<T extends z.ZodTypeAny>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ConfigError(formatZodError(result.error, where));
  return result.data;
}

/** "0-4" → [0,1,2,3,4]; "0,3,7" → [0,3,7]; "2" → [2]. */
export function parseSeeds(spec: string | number[]): number[] {
  if (Array.isArray(spec)) return spec;
  const out: number[] = [];
  for (const part of spec.split(",").map((s) => s.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new ConfigError(`seeds: '${part}' is not a seed or a range like 0-4`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (!Number.isSafeInteger(to))
      throw new ConfigError(`seeds: '${part}' is larger than ${Number.MAX_SAFE_INTEGER}`);
    if (to < from) throw new ConfigError(`seeds: range '${part}' is empty`);
    if (to - from + out.length >= MAX_SEEDS)
      throw new ConfigError(`seeds: '${spec}' lists more than ${MAX_SEEDS} seeds`);
    for (let s = from; s <= to; s++) out.push(s);
  }
  return [...new Set(out)];
}
