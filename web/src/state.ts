// The explorer's UI state logic, as pure functions (no DOM, no worker): reading the Train form into a run
// plan, which controls a run's status allows, the hash route, and the index of a results store's cells.
// Tested by vitest in Node (test/web/state.test.ts).

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
  steps: "10000",
  lr: "0.001",
  seed: "0",
  batchSize: "1024",
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
    values = Array.from({ length: n }, (_, k) => from * (to / from) ** (n === 1 ? 0 : k / (n - 1)));
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

// ---- a run's lifecycle ----

export type RunStatus = "idle" | "starting" | "running" | "paused" | "done" | "error";
export type RunEvent = "train" | "started" | "stop" | "resume" | "finished" | "failed";

/** The status after `event`; events that make no sense in a status leave it unchanged. */
export function nextStatus(status: RunStatus, event: RunEvent): RunStatus {
  switch (event) {
    case "train":
      return "starting";
    case "started":
      return status === "starting" ? "running" : status;
    case "stop":
      return status === "running" || status === "starting" ? "paused" : status;
    case "resume":
      return status === "paused" ? "running" : status;
    case "finished":
      return status === "running" || status === "paused" || status === "starting" ? "done" : status;
    case "failed":
      return "error";
  }
}

/** Combined status of the side-by-side runs: running if any runs, then paused, starting, error, done, idle. */
export function combinedStatus(statuses: readonly RunStatus[]): RunStatus {
  for (const s of ["running", "starting", "paused", "error", "done"] as const)
    if (statuses.includes(s)) return s;
  return "idle";
}

export interface Controls {
  train: boolean;
  stop: boolean;
  resume: boolean;
  export: boolean;
}

/** Which buttons are enabled in a status (Train always restarts from scratch). */
export function controlsFor(status: RunStatus, hasWeights: boolean): Controls {
  return {
    train: true,
    stop: status === "running" || status === "starting",
    resume: status === "paused",
    export: hasWeights && status !== "starting",
  };
}

// ---- the hash route ----

export type Tab = "train" | "browse";

export interface Route {
  tab: Tab;
  /** Browse: a cell key (preset/activation[~variant]/seed-k) and an instance index. */
  cell?: string;
  instance?: number;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== "browse") return { tab: "train" };
  if (parts.length >= 4) {
    const key = parts.slice(1, 4).join("/");
    const instance = parts[4] !== undefined && /^\d+$/.test(parts[4]) ? Number(parts[4]) : undefined;
    if (parseCellKey(key))
      return instance === undefined ? { tab: "browse", cell: key } : { tab: "browse", cell: key, instance };
  }
  return { tab: "browse" };
}

export function formatRoute(r: Route): string {
  if (r.tab === "train") return "#train";
  if (!r.cell) return "#browse";
  const path = r.cell.split("/").map(encodeURIComponent).join("/");
  return `#browse/${path}${r.instance !== undefined ? `/${r.instance}` : ""}`;
}

// ---- a results store's cells ----

export interface CellKey {
  key: string;
  preset: string;
  /** Activation id with the variant suffix (relu~f64), as a grid row label. */
  row: string;
  activation: string;
  variant: string;
  seed: number;
}

/** Parses `preset/activation[~variant]/seed-k`. */
export function parseCellKey(key: string): CellKey | undefined {
  const m = key.match(/^([^/]+)\/(([^/~]+)(?:~([^/]+))?)\/seed-(\d+)$/);
  if (!m) return undefined;
  return { key, preset: m[1], row: m[2], activation: m[3], variant: m[4] ?? "", seed: Number(m[5]) };
}

export interface PresetIndex {
  preset: string;
  rows: string[];
  seeds: number[];
  /** row → seed → key */
  keys: Map<string, Map<number, string>>;
}

/** Groups a manifest's cells by preset: the grid rows (activations, in manifest order) and seeds. */
export function indexCells(cells: readonly string[]): PresetIndex[] {
  const byPreset = new Map<string, PresetIndex>();
  for (const key of cells) {
    const c = parseCellKey(key);
    if (!c) continue;
    let p = byPreset.get(c.preset);
    if (!p) byPreset.set(c.preset, (p = { preset: c.preset, rows: [], seeds: [], keys: new Map() }));
    if (!p.keys.has(c.row)) {
      p.keys.set(c.row, new Map());
      p.rows.push(c.row);
    }
    p.keys.get(c.row)?.set(c.seed, key);
    if (!p.seeds.includes(c.seed)) p.seeds.push(c.seed);
  }
  for (const p of byPreset.values()) p.seeds.sort((a, b) => a - b);
  return [...byPreset.values()];
}

/** What a grid cell shows: one instance of one stored run. */
export interface GridCell {
  key: string;
  instance: number;
  loss: number | undefined;
  diverged: boolean;
}

export interface GridModel {
  /** Column headers: each instance's sparsity (1 − p). */
  sparsity: number[];
  rows: { row: string; key: string | undefined; cells: GridCell[]; missing: boolean }[];
  /** log10 of the smallest and largest finite loss over the grid. */
  logRange: [number, number];
  /** The same per column (sparsity level): the colour scale compares activations at one sparsity. */
  columnRange: [number, number][];
}

interface ResultLike {
  instances: { sparsity: number; loss: number; diverged: boolean }[];
}

/** The activation × sparsity grid of one preset and seed, from the results loaded so far. */
export function gridModel(
  index: PresetIndex,
  seed: number,
  results: ReadonlyMap<string, ResultLike | undefined>,
): GridModel {
  let sparsity: number[] = [];
  for (const row of index.rows) {
    const r = results.get(index.keys.get(row)?.get(seed) ?? "");
    if (r && r.instances.length > sparsity.length) sparsity = r.instances.map((i) => i.sparsity);
  }
  let lo = Infinity;
  let hi = -Infinity;
  const rows = index.rows.map((row) => {
    const key = index.keys.get(row)?.get(seed);
    const r = key ? results.get(key) : undefined;
    const cells: GridCell[] = sparsity.map((_, i) => {
      const inst = r?.instances[i];
      const loss = inst && Number.isFinite(inst.loss) ? inst.loss : undefined;
      if (loss !== undefined && loss > 0) {
        lo = Math.min(lo, Math.log10(loss));
        hi = Math.max(hi, Math.log10(loss));
      }
      return { key: key ?? "", instance: i, loss, diverged: inst?.diverged ?? false };
    });
    return { row, key, cells, missing: !r };
  });
  if (!Number.isFinite(lo)) [lo, hi] = [0, 0];
  const columnRange = sparsity.map((_, i): [number, number] => {
    const logs = rows.map((r) => r.cells[i].loss).filter((l): l is number => l !== undefined && l > 0);
    return logs.length > 0 ? [Math.min(...logs.map(Math.log10)), Math.max(...logs.map(Math.log10))] : [0, 0];
  });
  return { sparsity, rows, logRange: [lo, hi], columnRange };
}

// ---- small helpers shared by the views ----

/** Position in [0, 1] of `loss` on the grid's log colour scale. */
export function lossPosition(loss: number, [lo, hi]: [number, number]): number {
  if (!(loss > 0)) return 0;
  return hi > lo ? Math.min(1, Math.max(0, (Math.log10(loss) - lo) / (hi - lo))) : 0.5;
}

export function formatLoss(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return "—";
  return x === 0 ? "0" : x.toExponential(2);
}

/** Sparsity label: S = 1 − p, with enough digits to tell the notebook's levels apart. */
export function formatSparsity(p: number): string {
  const s = 1 - p;
  if (s === 0) return "0";
  return s >= 0.99 ? s.toFixed(4) : s.toFixed(2);
}

/** Mean of the finite values, or undefined. */
export function finiteMean(values: ArrayLike<number>): number | undefined {
  let sum = 0;
  let n = 0;
  for (let k = 0; k < values.length; k++) {
    if (Number.isFinite(values[k])) {
      sum += values[k];
      n++;
    }
  }
  return n > 0 ? sum / n : undefined;
}
