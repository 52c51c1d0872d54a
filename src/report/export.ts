// The tidy table of a results store, for pandas, R or DuckDB: one row per preset × activation × variant ×
// seed × instance (or × feature), with the numbers the report uses, computed by the report's own measures.
// Pure: report data in, columns and rows out (the file formats are in export-formats.ts).

import { BOOLEAN_PROPERTIES, PROPERTY_LABELS } from "../core/activation-properties.js";
import { REPRESENTED_NORM, SUPERPOSED_THRESHOLD } from "../core/metrics.js";
import type { InstanceSummary } from "../experiments/run.js";
import type { CellResult } from "../experiments/store-format.js";
import { activationName, type ReportData, type Series, superpositionScore, trivialLoss } from "./data.js";
import { activationProperties } from "./property-analysis.js";
import { seriesActivation } from "./series-activation.js";
import { importanceNormRho } from "./tables.js";

export const EXPORT_LEVELS = ["instance", "feature"] as const;
export type ExportLevel = (typeof EXPORT_LEVELS)[number];

export type ExportValue = string | number | boolean | null;
export type ExportRow = Record<string, ExportValue>;
export type ColumnType = "string" | "int" | "float" | "bool";

export interface ExportColumn {
  name: string;
  type: ColumnType;
  /** Unit or range, as the README's column table shows it ("" for identifiers). */
  unit: string;
  doc: string;
}

export interface ExportTable {
  level: ExportLevel;
  columns: ExportColumn[];
  rows: ExportRow[];
}

/** Where a value comes from: one instance of one cell (and one feature of it, at the feature level). */
interface RowSource {
  series: Series;
  cell: CellResult;
  i: number;
  inst: InstanceSummary;
  f: number;
}

interface ColumnDef extends ExportColumn {
  get(src: RowSource): ExportValue;
}

const col = (
  name: string,
  type: ColumnType,
  unit: string,
  doc: string,
  get: (src: RowSource) => ExportValue,
): ColumnDef => ({ name, type, unit, doc, get });

/** Fields that newer stores record per instance; older result.json files lack them (the column is empty). */
interface OptionalInstanceFields {
  /** ‖W − W₀‖_F / ‖W₀‖_F. */
  weightChange?: number;
}

const optional = (inst: InstanceSummary): OptionalInstanceFields => inst as OptionalInstanceFields;

/** What result.json records of a formula activation (a user's `name=formula`, or a parameter family member). */
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

interface FormulaFields {
  formula?: { id: string; name?: string; formula: string; params?: Record<string, number> };
}

const importanceOf = ({ cell, i }: RowSource): readonly number[] => cell.config?.importance?.[i] ?? [];

const IDENTITY: ColumnDef[] = [
  col(
    "preset",
    "string",
    "",
    "experiment: intro, demo, sparsity, geometry, phase or a config's name",
    (s) => s.cell.preset,
  ),
  col("activation", "string", "", "activation id (see `tms activations`)", (s) => s.cell.activation),
  col(
    "variant",
    "string",
    "",
    "rerun setting: '' (the default), f64, softmax-batch, f64+softmax-batch",
    (s) => s.series.variant,
  ),
  col("series", "string", "", "activation[~variant]: the id of one curve in the report", (s) => s.series.id),
  col("label", "string", "", "the report's display name, e.g. 'Sigmoid (f64)'", (s) => s.series.label),
  col("seed", "int", "", "random seed of the cell (initialisation and data)", (s) => s.cell.seed),
  col(
    "instance",
    "int",
    "",
    "index of the instance within the cell (one sparsity level, or a phase-grid point)",
    (s) => s.i,
  ),
  col(
    "cell",
    "string",
    "",
    "the cell's directory in the store: preset/series/seed-k (weights.safetensors is there)",
    (s) => s.cell.key,
  ),
];

const RUN: ColumnDef[] = [
  col("dtype", "string", "", "training precision: f32 or f64", (s) => s.cell.dtype),
  col(
    "softmax_dim",
    "string",
    "",
    "softmax family: normalised over features or batch",
    (s) => s.cell.softmaxDim,
  ),
  col("n_features", "int", "count", "F, input features", (s) => s.cell.nFeatures),
  col("n_hidden", "int", "count", "H, hidden dimensions", (s) => s.cell.nHidden),
  col("steps", "int", "steps", "training steps", (s) => s.cell.steps),
  col("batch_size", "int", "samples", "samples per step", (s) => s.cell.batchSize),
  col("lr", "float", "", "AdamW learning rate", (s) => s.cell.lr),
  col("lr_schedule", "string", "", "learning-rate schedule", (s) => s.cell.lrSchedule),
  col(
    "train_seconds",
    "float",
    "s",
    "wall time to train the whole cell (all its instances)",
    (s) => s.cell.seconds,
  ),
];

/** Instance-level measures: the same numbers the report's tables and findings use. */
const INSTANCE: ColumnDef[] = [
  col(
    "feature_probability",
    "float",
    "probability",
    "p: chance that a feature is non-zero in a sample",
    (s) => s.inst.featureProbability,
  ),
  col("sparsity", "float", "0…1", "S = 1 − p", (s) => s.inst.sparsity),
  col("importance_max", "float", "loss weight", "largest feature importance of the instance", (s) =>
    extreme(importanceOf(s), Math.max),
  ),
  col("importance_min", "float", "loss weight", "smallest feature importance of the instance", (s) =>
    extreme(importanceOf(s), Math.min),
  ),
  col(
    "loss",
    "float",
    "weighted MSE",
    "evaluation loss: importance-weighted mean squared error on 8 192 fresh samples",
    (s) => s.inst.loss,
  ),
  col(
    "train_loss",
    "float",
    "weighted MSE",
    "loss of the last training batch that stepped",
    (s) => s.inst.trainLoss,
  ),
  col(
    "trivial_loss",
    "float",
    "weighted MSE",
    "loss of predicting 0: mean over features of importance · p/3",
    (s) => trivialLoss(s.cell, s.i),
  ),
  col(
    "loss_over_trivial",
    "float",
    "ratio",
    "loss / trivial_loss (1 = learned nothing)",
    (s) => s.inst.loss / trivialLoss(s.cell, s.i),
  ),
  col(
    "diverged",
    "bool",
    "",
    "the loss or a gradient became non-finite; the weights froze there",
    (s) => s.inst.diverged,
  ),
  col(
    "diverged_at_step",
    "int",
    "step",
    "step at which it diverged (empty if it did not)",
    (s) => s.inst.divergedAtStep,
  ),
  col(
    "superposition",
    "float",
    "≥ 0",
    "the report's superposition: per-feature superposition averaged with weights ‖W_f‖",
    (s) => superpositionScore(s.inst),
  ),
  col(
    "fraction_superposed",
    "float",
    "0…1",
    `of the represented features, the fraction with superposition > ${SUPERPOSED_THRESHOLD}`,
    (s) => s.inst.fractionSuperposed,
  ),
  col(
    "features_represented",
    "int",
    "count",
    `features with ‖W_f‖ > ${REPRESENTED_NORM}`,
    (s) => s.inst.featuresRepresented,
  ),
  col("dims_per_feature", "float", "dimensions / feature", "D* = H / ‖W‖_F²", (s) => s.inst.dimsPerFeature),
  col("norm_mean", "float", "‖W_f‖", "mean over features of ‖W_f‖", (s) => meanOf(s.inst.norms)),
  col("norm_max", "float", "‖W_f‖", "largest ‖W_f‖", (s) => extreme(s.inst.norms, Math.max)),
  col(
    "importance_norm_rho",
    "float",
    "−1…1",
    "Spearman correlation of importance and ‖W_f‖ (> 0: important features get the larger norms)",
    (s) => importanceNormRho(s.inst, s.cell, s.i),
  ),
  col("bias_mean", "float", "output units", "mean of the output bias b", (s) => s.inst.biasMean),
  col("bias_min", "float", "output units", "smallest b_f", (s) => s.inst.biasMin),
  col("bias_max", "float", "output units", "largest b_f", (s) => s.inst.biasMax),
  col(
    "weight_change",
    "float",
    "ratio",
    "‖W − W₀‖_F / ‖W₀‖_F: how far training moved W from its initialisation (empty where not recorded)",
    (s) => optional(s.inst).weightChange ?? null,
  ),
  col(
    "beats_zero_predictor",
    "bool",
    "",
    "loss < trivial_loss: the model does better than predicting 0 (empty if either is missing)",
    (s) => {
      const trivial = trivialLoss(s.cell, s.i);
      return Number.isFinite(s.inst.loss) && Number.isFinite(trivial) ? s.inst.loss < trivial : null;
    },
  ),
];

/** Per-feature measures (feature level). */
const FEATURE: ColumnDef[] = [
  col("feature", "int", "", "feature index f (0 = most important in the built-in presets)", (s) => s.f),
  col(
    "importance",
    "float",
    "loss weight",
    "importance of feature f in the loss",
    (s) => importanceOf(s)[s.f] ?? null,
  ),
  col("norm", "float", "‖W_f‖", "length of the feature's embedding W_f", (s) => s.inst.norms[s.f]),
  col(
    "feature_superposition",
    "float",
    "≥ 0",
    "the notebook's polysemanticity ‖(Ŵ_f · W_g)_{g≠f}‖₂",
    (s) => s.inst.superposition[s.f],
  ),
  col(
    "feature_dimensionality",
    "float",
    "dimensions",
    "D_f = ‖W_f‖² / Σ_g (Ŵ_f · W_g)²",
    (s) => s.inst.featureDimensionality[s.f],
  ),
  col("represented", "bool", "", `‖W_f‖ > ${REPRESENTED_NORM}`, (s) => s.inst.norms[s.f] > REPRESENTED_NORM),
];

/** The instance columns a feature row repeats, so that one file answers most questions without a join. */
const FEATURE_CONTEXT = ["feature_probability", "sparsity", "loss", "diverged"];

/**
 * The activation's own columns for one cell, the same on every row of the cell at both levels: its name,
 * then (formulaColumns) a formula activation's formula and parameter values. Further per-activation columns
 * (e.g. its properties) belong here too.
 */
export function activationColumns(cell: CellResult): ExportRow {
  const formula = (cell as FormulaFields).formula;
  return {
    activation_name: formula?.name ?? activationName(cell.activation),
    ...formulaColumns(cell),
    ...propertyColumns(cell),
  };
}

const propertyColumnCache = new Map<string, ExportRow>();
/**
 * One `prop_<name>` per property of src/core/activation-properties.ts, computed from the activation's
 * definition (a formula's is rebuilt from result.json), the same numbers as the report's property table.
 */
export function propertyColumns(cell: CellResult): ExportRow {
  const key = `${cell.activation}\u0000${(cell as FormulaFields).formula?.formula ?? ""}`;
  const cached = propertyColumnCache.get(key);
  if (cached) return cached;
  const act = seriesActivation({ activation: cell.activation, cells: [cell] });
  const row: ExportRow = Object.fromEntries(ACTIVATION_COLUMNS.slice(1).map((c) => [c.name, null]));
  if (act) {
    const p = activationProperties(act);
    for (const k of BOOLEAN_PROPERTIES) row[`prop_${snake(k)}`] = p[k];
    row.prop_f0 = p.f0;
    row.prop_f_prime0 = p.fPrime0;
    row.prop_min_negative = p.minNegative;
    row.prop_saturation = p.saturation;
  }
  propertyColumnCache.set(key, row);
  return row;
}

/** `formula` and one `param_<name>` per parameter, for a cell whose result.json records a formula. */
export function formulaColumns(cell: CellResult): ExportRow {
  const formula = (cell as FormulaFields).formula;
  if (!formula) return {};
  const params = Object.entries(formula.params ?? {}).map(([k, v]) => [`param_${k}`, v]);
  return { formula: formula.formula, ...Object.fromEntries(params) };
}

/** Documentation of the columns activationColumns may produce (the README's table repeats it). */
export const ACTIVATION_COLUMNS: ExportColumn[] = [
  { name: "activation_name", type: "string", unit: "", doc: "the activation's display name, e.g. 'GELU'" },
  ...BOOLEAN_PROPERTIES.map(
    (k): ExportColumn => ({
      name: `prop_${snake(k)}`,
      type: "bool",
      unit: "",
      doc: `property computed from the definition: ${PROPERTY_LABELS[k]} (tms activations --properties)`,
    }),
  ),
  { name: "prop_f0", type: "float", unit: "", doc: "f(0)" },
  { name: "prop_f_prime0", type: "float", unit: "", doc: "f′(0)" },
  { name: "prop_min_negative", type: "float", unit: "", doc: "inf of f on x < 0 (empty when −∞)" },
  { name: "prop_saturation", type: "string", unit: "", doc: "sides where |f′| → 0: none, left, right, both" },
];

/** Columns that exist only when a store has formula activations (documented in the README's text). */
const FORMULA_COLUMN_DOCS: Record<string, string> = {
  formula: "the activation's formula in x and its parameters (formula activations; empty for built-ins)",
};

/** The columns of a level for a store without formula activations, in table order (the README's table). */
export function documentedColumns(level: ExportLevel): ExportColumn[] {
  return [...IDENTITY, ...ACTIVATION_COLUMNS, ...fixedColumns(level).slice(IDENTITY.length)].map(bare);
}

function fixedColumns(level: ExportLevel): ColumnDef[] {
  if (level === "instance") return [...IDENTITY, ...RUN, ...INSTANCE];
  const context = INSTANCE.filter((c) => FEATURE_CONTEXT.includes(c.name));
  return [...IDENTITY, ...RUN, ...context, ...FEATURE];
}

const bare = ({ name, type, unit, doc }: ExportColumn): ExportColumn => ({ name, type, unit, doc });

/** Told after each cell: `done` of `total` cells read. */
export type Progress = (done: number, total: number) => void;

/** The tidy table of a store at one level; `onCell` is told after each cell (for a progress bar). */
export function buildExport(data: ReportData, level: ExportLevel, onCell?: Progress): ExportTable {
  const fixed = fixedColumns(level);
  const rows: ExportRow[] = [];
  const extra = new Map<string, ExportColumn>(ACTIVATION_COLUMNS.map((c) => [c.name, c]));
  const total = data.series.reduce((n, s) => n + s.cells.length, 0);
  let done = 0;
  for (const series of data.series) {
    for (const cell of series.cells) {
      const own = activationColumns(cell);
      for (const [name, v] of Object.entries(own))
        if (!extra.has(name)) extra.set(name, { name, type: typeOf(v), unit: "", doc: dynamicDoc(name) });
      cell.instances.forEach((inst, i) => {
        const features = level === "feature" ? inst.norms.length : 1;
        for (let f = 0; f < features; f++) rows.push(rowOf(fixed, { series, cell, i, inst, f }, own));
      });
      onCell?.(++done, total);
    }
  }
  const columns = [...IDENTITY.map(bare), ...extra.values(), ...fixed.slice(IDENTITY.length).map(bare)];
  for (const row of rows) for (const c of extra.keys()) row[c] ??= null;
  return { level, columns, rows };
}

function rowOf(columns: readonly ColumnDef[], src: RowSource, own: ExportRow): ExportRow {
  const row: ExportRow = {};
  for (const c of columns) row[c.name] = normalise(c.get(src), c.type);
  return Object.assign(row, own);
}

/** Not-finite numbers are missing values in every format (JSON has no NaN; a diverged loss is one). */
function normalise(v: ExportValue, type: ColumnType): ExportValue {
  if (typeof v !== "number") return v;
  if (!Number.isFinite(v)) return null;
  return type === "int" ? Math.round(v) : v;
}

function dynamicDoc(name: string): string {
  if (name.startsWith("param_")) return `value of the formula's parameter ${name.slice(6)} (empty elsewhere)`;
  if (name.startsWith("prop_"))
    return `property of the activation function: ${name.slice(5).replace(/_/g, " ")}`;
  return FORMULA_COLUMN_DOCS[name] ?? "";
}

function typeOf(v: ExportValue): ColumnType {
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "float";
  return "string";
}

function extreme(xs: readonly number[], pick: (...v: number[]) => number): number | null {
  const ok = xs.filter(Number.isFinite);
  return ok.length ? pick(...ok) : null;
}

function meanOf(xs: readonly number[]): number | null {
  const ok = xs.filter(Number.isFinite);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null;
}
