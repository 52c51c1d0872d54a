// One schema for everything a user can configure, validated once at the edge (config files and CLI flags
// alike); inside, values are trusted. Errors name the key path and what was expected.

import { z } from "zod";
import { ACTIVATION_IDS } from "../core/activations.js";
import { LR_SCHEDULES, OPTIMIZER_NAMES } from "../core/optimizer.js";
import { PRESET_IDS } from "./presets.js";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const positiveInt = z.number().int().positive();
const probability = z.number().gt(0, "a probability must be > 0").lte(1, "a probability must be ≤ 1");

export const runOptionsSchema = z
  .object({
    steps: positiveInt.default(10_000),
    batchSize: positiveInt.default(1024),
    lr: z.number().positive().finite().default(1e-3),
    lrSchedule: z.enum(LR_SCHEDULES as [string, ...string[]]).default("constant"),
    dtype: z.enum(["f32", "f64"]).default("f32"),
    softmaxDim: z.enum(["features", "batch"]).default("features"),
    optimizer: z.enum(OPTIMIZER_NAMES as [string, ...string[]]).default("adamw"),
  })
  .strict();

/** Importance per feature: a list, or a curve base^f (the notebook's 0.9^f, 0.7^f) or base^(−f/(F−1)). */
const importanceSchema = z.union([
  z.array(z.number().nonnegative().finite()),
  z.object({ geometric: z.number().positive() }).strict(),
  z.object({ power: z.number().positive() }).strict(),
]);

export const experimentSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "lower-case letters, digits, - and _"),
    title: z.string().optional(),
    nFeatures: positiveInt,
    nHidden: positiveInt,
    featureProbability: z.array(probability).min(1),
    importance: importanceSchema.default({ geometric: 1 }),
  })
  .strict()
  .refine((e) => !Array.isArray(e.importance) || e.importance.length === e.nFeatures, {
    message: "importance must list one value per feature (nFeatures)",
    path: ["importance"],
  })
  .refine((e) => !PRESET_IDS.includes(e.id), { message: "id clashes with a built-in preset", path: ["id"] });

export type ExperimentConfig = z.infer<typeof experimentSchema>;

const seedsSchema = z.union([z.array(z.number().int().nonnegative()).min(1), z.string()]);

export const studySchema = z
  .object({
    presets: z.array(z.string()).min(1).default(["seed-study"]),
    activations: z
      .union([z.literal("all"), z.array(z.enum(ACTIVATION_IDS as [string, ...string[]])).min(1)])
      .default("all"),
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

/** Formats a zod error as one line per problem: `where: key.path: message`. */
export function formatZodError(error: z.ZodError, where: string): string {
  return error.issues
    .flatMap(explain)
    .map((issue) => {
      const path = issue.path.length ? issue.path.join(".") : "(top level)";
      return `${where}: ${path}: ${issue.message}`;
    })
    .join("\n");
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
    if (to < from) throw new ConfigError(`seeds: range '${part}' is empty`);
    for (let s = from; s <= to; s++) out.push(s);
  }
  return [...new Set(out)];
}
