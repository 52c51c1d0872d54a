// Reading a results store for the report: every readable cell, grouped into series (one preset × activation
// × variant, its cells over seeds), what is missing, and lazy access to the weights. Reads files only; no
// training code is imported here or anywhere in src/report.

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ACTIVATION_IDS, ACTIVATIONS } from "../core/activations.js";
import type { ExperimentConfig, ExperimentKind } from "../experiments/config.js";
import { inferKind } from "../experiments/experiment.js";
import { PRESET_IDS, PRESETS } from "../experiments/presets.js";
import type { InstanceSummary } from "../experiments/run.js";
import { decodeSafetensors } from "../experiments/safetensors.js";
import { cellDir, readManifest, StoreError } from "../experiments/store.js";
import { type CellResult, type Manifest, reviveResult } from "../experiments/store-format.js";

export interface Series {
  /** activation[~variant], unique within a preset. */
  id: string;
  preset: string;
  activation: string;
  variant: string;
  /** Display name, e.g. "Sigmoid (f64)". */
  label: string;
  /** Complete cells, by seed. */
  cells: CellResult[];
}

export interface Weights {
  /** [I, F, H] */
  W: Float32Array | Float64Array;
  /** [I, F] */
  b: Float32Array | Float64Array;
  I: number;
  F: number;
  H: number;
}

export interface ReportData {
  dir: string;
  manifest: Manifest;
  results: CellResult[];
  /** Cells the manifest lists that have no result.json (never trained, or interrupted). */
  missing: string[];
  /** Cells whose result.json exists but could not be read. */
  unreadable: { key: string; error: string }[];
  /** Presets with at least one complete cell, in the built-in order then the others. */
  presets: string[];
  series: Series[];
  seriesOf(preset: string): Series[];
  /** Weights of one cell (cached); undefined, with the reason in `problems`, if the file is absent or bad. */
  weights(key: string): Weights | undefined;
  /** Things the report could not do, collected while it runs (shown in the report). */
  problems: string[];
}

/** Built-in presets first, in their table's order. */
const PRESET_ORDER = PRESET_IDS;

const VARIANT_LABELS: Record<string, string> = {
  f64: "f64",
  "softmax-batch": "batch softmax",
  "f64+softmax-batch": "f64, batch softmax",
};

export function activationName(id: string): string {
  return ACTIVATIONS.get(id)?.name ?? id;
}

export function seriesLabel(activation: string, variant: string): string {
  const name = activationName(activation);
  return variant ? `${name} (${VARIANT_LABELS[variant] ?? variant})` : name;
}

export function seriesId(activation: string, variant: string): string {
  return variant ? `${activation}~${variant}` : activation;
}

/** Sort key for series: the write-up's activation order, then base before variants. */
function seriesOrder(a: { activation: string; variant: string }): [number, string, string] {
  const k = ACTIVATION_IDS.indexOf(a.activation);
  return [k < 0 ? ACTIVATION_IDS.length : k, a.activation, a.variant];
}

export function compareSeries(a: Series, b: Series): number {
  const [ka, aa, va] = seriesOrder(a);
  const [kb, ab, vb] = seriesOrder(b);
  return ka - kb || aa.localeCompare(ab) || (va === "" ? -1 : vb === "" ? 1 : va.localeCompare(vb));
}

function isResult(x: unknown): x is CellResult {
  const r = x as CellResult;
  return (
    typeof r === "object" &&
    r !== null &&
    typeof r.preset === "string" &&
    typeof r.activation === "string" &&
    Array.isArray(r.instances) &&
    typeof r.seed === "number"
  );
}

/** Groups results into series. Exposed for tests that build results in memory. */
export function groupSeries(results: readonly CellResult[]): Series[] {
  const map = new Map<string, Series>();
  for (const r of results) {
    const variant = r.variant ?? "";
    const key = `${r.preset}/${seriesId(r.activation, variant)}`;
    let s = map.get(key);
    if (!s) {
      s = {
        id: seriesId(r.activation, variant),
        preset: r.preset,
        activation: r.activation,
        variant,
        // a formula's own name ("x·σ(βx) (beta=4)"), else the table's
        label: r.formula?.name ? seriesLabel(r.formula.name, variant) : seriesLabel(r.activation, variant),
        cells: [],
      };
      map.set(key, s);
    }
    s.cells.push(r);
  }
  const all = [...map.values()];
  for (const s of all) s.cells.sort((a, b) => a.seed - b.seed);
  return all.sort((a, b) => presetRank(a.preset) - presetRank(b.preset) || compareSeries(a, b));
}

function presetRank(p: string): number {
  const k = PRESET_ORDER.indexOf(p);
  return k < 0 ? PRESET_ORDER.length : k;
}

export function orderPresets(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort((a, b) => presetRank(a) - presetRank(b) || a.localeCompare(b));
}

/** Builds report data from results held in memory (tests, or callers that already loaded a store). */
export function reportDataFrom(
  results: CellResult[],
  options: {
    dir?: string;
    manifest?: Manifest;
    missing?: string[];
    weights?: (key: string) => Weights | undefined;
  } = {},
): ReportData {
  const series = groupSeries(results);
  const presets = orderPresets(series.map((s) => s.preset));
  const byPreset = new Map<string, Series[]>();
  for (const s of series) byPreset.set(s.preset, [...(byPreset.get(s.preset) ?? []), s]);
  const problems: string[] = [];
  return {
    dir: options.dir ?? "(in memory)",
    manifest: options.manifest ?? {
      schema: "tms-lab/store@1",
      configHash: "",
      tmsLab: "",
      createdAt: "",
      study: null,
      cells: results.map((r) => r.key),
    },
    results,
    missing: options.missing ?? [],
    unreadable: [],
    presets,
    series,
    seriesOf: (p) => byPreset.get(p) ?? [],
    weights: options.weights ?? (() => undefined),
    problems,
  };
}

/** Reads a results store. Throws StoreError when `dir` is not a store; anything else is reported, not thrown. */
export function loadReportData(dir: string): ReportData {
  if (!existsSync(dir)) throw new StoreError(`${dir} does not exist`);
  if (!statSync(dir).isDirectory())
    throw new StoreError(`${dir} is not a directory (expected a results store)`);
  const manifest = readManifest(dir);
  if (!manifest) throw new StoreError(`${dir} is not a tms-lab results store (no manifest.json)`);
  if (!Array.isArray(manifest.cells)) throw new StoreError(`${dir}/manifest.json lists no cells`);
  const results: CellResult[] = [];
  const missing: string[] = [];
  const unreadable: { key: string; error: string }[] = [];
  for (const key of manifest.cells) {
    const path = join(cellDir(dir, key), "result.json");
    if (!existsSync(path)) {
      missing.push(key);
      continue;
    }
    try {
      const r = JSON.parse(readFileSync(path, "utf8"));
      if (!isResult(r)) throw new Error("not a tms-lab cell result");
      results.push(reviveResult(r));
    } catch (e) {
      unreadable.push({ key, error: (e as Error).message.split("\n")[0] });
    }
  }
  const cache = new Map<string, Weights | undefined>();
  const data = reportDataFrom(results, { dir, manifest, missing });
  data.unreadable = unreadable;
  data.weights = (key: string) => {
    if (cache.has(key)) return cache.get(key);
    let w: Weights | undefined;
    const path = join(cellDir(dir, key), "weights.safetensors");
    try {
      const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(path)));
      const W = tensors.W;
      const b = tensors.b;
      if (!W || !b || W.shape.length !== 3) throw new Error("no W [I, F, H] and b [I, F] tensors");
      w = { W: W.data, b: b.data, I: W.shape[0], F: W.shape[1], H: W.shape[2] };
    } catch (e) {
      data.problems.push(`weights of ${key} unreadable: ${(e as Error).message.split("\n")[0]}`);
      w = undefined;
    }
    cache.set(key, w);
    return w;
  };
  return data;
}

// ---- per-instance values ------------------------------------------------------------------------------

/** Per instance, the values over the series' seeds: out[instance][seedIndex]. */
export function perInstance(
  s: Series,
  metric: (inst: InstanceSummary, cell: CellResult, i: number) => number,
): number[][] {
  if (!s.cells.length) return [];
  const I = Math.min(...s.cells.map((c) => c.instances.length));
  const out: number[][] = [];
  for (let i = 0; i < I; i++) out.push(s.cells.map((c) => metric(c.instances[i], c, i)));
  return out;
}

/** Sparsity per instance of a preset, from its first cell. */
export function sparsities(series: readonly Series[]): number[] {
  const c = series.find((s) => s.cells.length)?.cells[0];
  return c ? c.instances.map((i) => i.sparsity) : [];
}

export const sparsityLabel = (s: number): string => `S=${s.toFixed(3)}`;

// The measures live in measures.ts; re-exported here for the modules that read them with the data.
export { superpositionScore, trivialLoss } from "./measures.js";

/** A sparsity preset's series that hold cells, and its sparsity levels; undefined for other presets. */
export function sparsitySeries(
  data: ReportData,
  preset: string,
): { series: Series[]; S: number[] } | undefined {
  const series = data.seriesOf(preset).filter((s) => s.cells.length);
  return isSparsityPreset(preset, series) ? { series, S: sparsities(series) } : undefined;
}

/**
 * What a preset's instances vary, which decides its figures and tables: a built-in preset's declared kind, a
 * user experiment's (as stored with its cells), or for one that names none, the kind its shape suggests.
 */
export function presetKind(preset: string, series: readonly Series[]): ExperimentKind {
  const builtIn = PRESETS.get(preset);
  if (builtIn) return builtIn.kind;
  const cell = series.find((s) => s.cells.length)?.cells[0];
  const declared = (cell?.config?.experiment as ExperimentConfig | undefined)?.kind;
  if (declared) return declared;
  return cell ? inferKind(cell) : "sparsity";
}

/** Presets whose instances are sparsity levels (every kind but the phase grid), at most 40 of them. */
export const isSparsityPreset = (preset: string, series: readonly Series[]): boolean => {
  if (presetKind(preset, series) === "phase") return false;
  const s = sparsities(series);
  return s.length > 0 && s.length <= 40;
};
