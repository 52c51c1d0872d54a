// The Train form read into a run plan: the preset or custom model, activations and training options, each
// field checked with a message for the form. Pure (no DOM); tested in Node (test/web/state.test.ts).

import { TRAIN_DEFAULTS } from "../../src/core/train.js";
import { logSpace } from "../../src/experiments/experiment.js";

export const TRAIN_PRESETS = ["intro", "demo", "phase", "custom"] as const;
export type TrainPresetChoice = (typeof TRAIN_PRESETS)[number];

/** The model a run trains, as plain data (posted to the worker, which builds a ModelSpec from it). */
export interface SpecData {
  nFeatures: number;
  nHidden: number;
  /** Per instance. */
  featureProbability: number[];
  /** [instance][feature], flat. */
  importance: number[];
}

export interface RunPlan {
  preset: string;
  spec: SpecData;
  /** One or two activation ids (two: trained side by side). */
  activations: string[];
  steps: number;
  lr: number;
  seed: number;
  batchSize: number;
}

/** The Train form's raw values. */
export interface TrainForm {
  preset: string;
  activationA: string;
  /** "" for none. */
  activationB: string;
  steps: string;
  lr: string;
  seed: string;
  batchSize: string;
  features: string;
  hidden: string;
  probabilities: string;
  importance: string;
}

export const FORM_DEFAULTS: TrainForm = {
  preset: "intro",
  activationA: "relu",
  activationB: "",
  steps: String(TRAIN_DEFAULTS.steps),
  lr: String(TRAIN_DEFAULTS.lr),
  seed: String(TRAIN_DEFAULTS.seed),
  batchSize: String(TRAIN_DEFAULTS.batchSize),
  features: "5",
  hidden: "2",
  probabilities: "1:0.05:10",
  importance: "0.9",
};

export const LIMITS = {
  steps: 1_000_000,
  batchSize: 8192,
  features: 200,
  hidden: 64,
  instances: 400,
  /** I·F·H parameters: keeps a custom model trainable at interactive speed. */
  weights: 200_000,
};

export type FormErrors = Partial<Record<keyof TrainForm, string>>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

function intIn(raw: string, min: number, max: number, what: string): ParseResult<number> {
  const s = raw.trim();
  if (!/^\d+$/.test(s)) return { ok: false, error: `${what}: a whole number from ${min} to ${max}` };
  const v = Number(s);
  if (v < min || v > max) return { ok: false, error: `${what}: a whole number from ${min} to ${max}` };
  return { ok: true, value: v };
}

function numbers(raw: string): number[] | undefined {
  const parts = raw
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0) return undefined;
  const out = parts.map(Number);
  return out.every(Number.isFinite) ? out : undefined;
}

/**
 * Feature probabilities, one per instance: a list ("1, 0.3, 0.1") or `from:to:n`, n values log-spaced from
 * `from` to `to` (the notebook's `20 ** -linspace(0, 1, n)` is `1:0.05:n`). Each in (0, 1].
 */
export function parseProbabilities(raw: string): ParseResult<number[]> {
  const range = raw.trim().match(/^([^:]+):([^:]+):([^:]+)$/);
  let values: number[] | undefined;
  if (range) {
    const [from, to, n] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (!Number.isInteger(n) || n < 1 || n > LIMITS.instances || !(from > 0) || !(to > 0))
      return { ok: false, error: `from:to:n needs from, to > 0 and 1 ≤ n ≤ ${LIMITS.instances}` };
    values = logSpace(from, to, n);
  } else {
    values = numbers(raw);
  }
  if (!values) return { ok: false, error: "a list of probabilities like 1, 0.3, 0.1, or from:to:n" };
  if (values.length > LIMITS.instances) return { ok: false, error: `at most ${LIMITS.instances} instances` };
  if (values.some((p) => !(p > 0 && p <= 1))) return { ok: false, error: "each probability in (0, 1]" };
  return { ok: true, value: values };
}

/** Importance per feature: one number r (importance r^f, as the notebook's 0.9^f) or a list of F weights ≥ 0. */
export function parseImportance(raw: string, nFeatures: number): ParseResult<number[]> {
  const values = numbers(raw);
  if (!values) return { ok: false, error: "a decay r (importance r^f) or one weight per feature" };
  if (values.some((v) => v < 0)) return { ok: false, error: "weights must be ≥ 0" };
  if (values.length === 1)
    return { ok: true, value: Array.from({ length: nFeatures }, (_, f) => values[0] ** f) };
  if (values.length !== nFeatures)
    return { ok: false, error: `${values.length} weights for ${nFeatures} features` };
  return { ok: true, value: values };
}

/** The model of a built-in preset (the same numbers as src/experiments/presets.ts, which tests check). */
export function presetSpecData(
  preset: string,
  specOf: (id: string) => {
    nFeatures: number;
    nHidden: number;
    featureProbability: Float64Array;
    importance: Float64Array;
  },
): SpecData {
  const s = specOf(preset);
  return {
    nFeatures: s.nFeatures,
    nHidden: s.nHidden,
    featureProbability: Array.from(s.featureProbability),
    importance: Array.from(s.importance),
  };
}

/**
 * Validates the form. `specOf` gives a built-in preset's spec (the caller passes getPreset(id).spec(), which
 * keeps this module free of the preset table's construction); `activationIds` the known activations.
 */
export function parseTrainForm(
  form: TrainForm,
  activationIds: readonly string[],
  specOf: Parameters<typeof presetSpecData>[1],
): { ok: true; plan: RunPlan } | { ok: false; errors: FormErrors } {
  const errors: FormErrors = {};
  const known = new Set(activationIds);
  if (!(TRAIN_PRESETS as readonly string[]).includes(form.preset)) errors.preset = "pick a preset";
  if (!known.has(form.activationA)) errors.activationA = "pick an activation";
  if (form.activationB !== "" && !known.has(form.activationB)) errors.activationB = "unknown activation";
  const steps = intIn(form.steps, 1, LIMITS.steps, "steps");
  if (!steps.ok) errors.steps = steps.error;
  const seed = intIn(form.seed, 0, 2 ** 31 - 1, "seed");
  if (!seed.ok) errors.seed = seed.error;
  const batch = intIn(form.batchSize, 1, LIMITS.batchSize, "batch size");
  if (!batch.ok) errors.batchSize = batch.error;
  const lr = Number(form.lr.trim());
  if (form.lr.trim() === "" || !Number.isFinite(lr) || lr <= 0 || lr > 10)
    errors.lr = "lr: a number in (0, 10]";
  let spec: SpecData | undefined;
  if (form.preset === "custom") {
    const F = intIn(form.features, 1, LIMITS.features, "features");
    const H = intIn(form.hidden, 1, LIMITS.hidden, "hidden dimensions");
    const probs = parseProbabilities(form.probabilities);
    if (!F.ok) errors.features = F.error;
    if (!H.ok) errors.hidden = H.error;
    if (!probs.ok) errors.probabilities = probs.error;
    if (F.ok) {
      const imp = parseImportance(form.importance, F.value);
      if (!imp.ok) errors.importance = imp.error;
      if (H.ok && probs.ok && imp.ok) {
        const I = probs.value.length;
        if (I * F.value * H.value > LIMITS.weights) {
          errors.features = `instances × features × hidden = ${I * F.value * H.value}; at most ${LIMITS.weights}`;
        } else {
          spec = {
            nFeatures: F.value,
            nHidden: H.value,
            featureProbability: probs.value,
            importance: probs.value.flatMap(() => imp.value),
          };
        }
      }
    }
  } else if (!errors.preset) {
    spec = presetSpecData(form.preset, specOf);
  }
  if (Object.keys(errors).length > 0 || !spec || !steps.ok || !seed.ok || !batch.ok)
    return { ok: false, errors };
  const activations = [form.activationA, ...(form.activationB ? [form.activationB] : [])];
  return {
    ok: true,
    plan: {
      preset: form.preset,
      spec,
      activations,
      steps: steps.value,
      lr,
      seed: seed.value,
      batchSize: batch.value,
    },
  };
}
