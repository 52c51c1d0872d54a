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
const COLUMN_TYPES = ["string", "int", "float", "bool"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

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

/** The values of the computed columns (`*` in the tables below), by column name. */
const COMPUTED: Record<string, (s: RowSource) => ExportValue> = {
  importance_max: (s) => extreme(importanceOf(s), Math.max),
  importance_min: (s) => extreme(importanceOf(s), Math.min),
  trivial_loss: (s) => trivialLoss(s.cell, s.i),
  loss_over_trivial: (s) => s.inst.loss / trivialLoss(s.cell, s.i),
  superposition: (s) => superpositionScore(s.inst),
  norm_mean: (s) => meanOf(s.inst.norms),
  norm_max: (s) => extreme(s.inst.norms, Math.max),
  importance_norm_rho: (s) => importanceNormRho(s.inst, s.cell, s.i),
  weight_change: (s) => optional(s.inst).weightChange ?? null,
  beats_zero_predictor: (s) => {
    const trivial = trivialLoss(s.cell, s.i);
    return Number.isFinite(s.inst.loss) && Number.isFinite(trivial) ? s.inst.loss < trivial : null;
  },
  importance: (s) => importanceOf(s)[s.f] ?? null,
  norm: (s) => s.inst.norms[s.f],
  feature_superposition: (s) => s.inst.superposition[s.f],
  feature_dimensionality: (s) => s.inst.featureDimensionality[s.f],
  represented: (s) => s.inst.norms[s.f] > REPRESENTED_NORM,
};

/**
 * Fixed columns as a table, one a line: name | type | unit ("" for identifiers) | value | doc — the README's
 * column table plus where the value comes from: a field of the cell's result (`cell.…`), of the series
 * (`series.…`) or of the instance's summary (`inst.…`), the instance or feature index (`i`, `f`), or `*`,
 * computed in COMPUTED.
 */
function columns(table: string): ColumnDef[] {
  return table
    .trim()
    .split("\n")
    .map((line) => {
      const [name, type, unit, value, ...doc] = line.split("|").map((field) => field.trim());
      if (!COLUMN_TYPES.includes(type as ColumnType)) throw new Error(`export column ${name}: type ${type}?`);
      return { name, type: type as ColumnType, unit, doc: doc.join("|"), get: getterOf(name, value) };
    });
}

function getterOf(name: string, value: string): (s: RowSource) => ExportValue {
  if (value === "*") {
    const get = COMPUTED[name];
    if (!get) throw new Error(`export column ${name} has no entry in COMPUTED`);
    return get;
  }
  if (value === "i" || value === "f") return (s) => s[value];
  const [from, field] = value.split(".");
  if (from !== "cell" && from !== "series" && from !== "inst")
    throw new Error(`export column ${name}: ${value}?`);
  return (s) => (s[from] as unknown as Record<string, ExportValue>)[field];
}

const IDENTITY = columns(`
  preset     | string |  | cell.preset     | experiment: intro, demo, sparsity, geometry, phase or a config's name
  activation | string |  | cell.activation | activation id (see \`tms activations\`)
  variant    | string |  | series.variant  | rerun setting: '' (the default), f64, softmax-batch, f64+softmax-batch
  series     | string |  | series.id       | activation[~variant]: the id of one curve in the report
  label      | string |  | series.label    | the report's display name, e.g. 'Sigmoid (f64)'
  seed       | int    |  | cell.seed       | random seed of the cell (initialisation and data)
  instance   | int    |  | i               | index of the instance within the cell (one sparsity level, or a phase-grid point)
  cell       | string |  | cell.key        | the cell's directory in the store: preset/series/seed-k (weights.safetensors is there)
`);

const RUN = columns(`
  dtype         | string |         | cell.dtype      | training precision: f32 or f64
  softmax_dim   | string |         | cell.softmaxDim | softmax family: normalised over features or batch
  n_features    | int    | count   | cell.nFeatures  | F, input features
  n_hidden      | int    | count   | cell.nHidden    | H, hidden dimensions
  steps         | int    | steps   | cell.steps      | training steps
  batch_size    | int    | samples | cell.batchSize  | samples per step
  lr            | float  |         | cell.lr         | AdamW learning rate
  lr_schedule   | string |         | cell.lrSchedule | learning-rate schedule
  train_seconds | float  | s       | cell.seconds    | wall time to train the whole cell (all its instances)
`);

/** Instance-level measures: the same numbers the report's tables and findings use. */
const INSTANCE = columns(`
  feature_probability  | float | probability          | inst.featureProbability  | p: chance that a feature is non-zero in a sample
  sparsity             | float | 0…1                  | inst.sparsity            | S = 1 − p
  importance_max       | float | loss weight          | *                        | largest feature importance of the instance
  importance_min       | float | loss weight          | *                        | smallest feature importance of the instance
  loss                 | float | weighted MSE         | inst.loss                | evaluation loss: importance-weighted mean squared error on 8 192 fresh samples
  train_loss           | float | weighted MSE         | inst.trainLoss           | loss of the last training batch that stepped
  trivial_loss         | float | weighted MSE         | *                        | loss of predicting 0: mean over features of importance · p/3
  loss_over_trivial    | float | ratio                | *                        | loss / trivial_loss (1 = learned nothing)
  diverged             | bool  |                      | inst.diverged            | the loss or a gradient became non-finite; the weights froze there
  diverged_at_step     | int   | step                 | inst.divergedAtStep      | step at which it diverged (empty if it did not)
  superposition        | float | ≥ 0                  | *                        | the report's superposition: per-feature superposition averaged with weights ‖W_f‖
  fraction_superposed  | float | 0…1                  | inst.fractionSuperposed  | of the represented features, the fraction with superposition > ${SUPERPOSED_THRESHOLD}
  features_represented | int   | count                | inst.featuresRepresented | features with ‖W_f‖ > ${REPRESENTED_NORM}
  dims_per_feature     | float | dimensions / feature | inst.dimsPerFeature      | D* = H / ‖W‖_F²
  norm_mean            | float | ‖W_f‖                | *                        | mean over features of ‖W_f‖
  norm_max             | float | ‖W_f‖                | *                        | largest ‖W_f‖
  importance_norm_rho  | float | −1…1                 | *                        | Spearman correlation of importance and ‖W_f‖ (> 0: important features get the larger norms)
  bias_mean            | float | output units         | inst.biasMean            | mean of the output bias b
  bias_min             | float | output units         | inst.biasMin             | smallest b_f
  bias_max             | float | output units         | inst.biasMax             | largest b_f
  weight_change        | float | ratio                | *                        | ‖W − W₀‖_F / ‖W₀‖_F: how far training moved W from its initialisation (empty where not recorded)
  beats_zero_predictor | bool  |                      | *                        | loss < trivial_loss: the model does better than predicting 0 (empty if either is missing)
`);

/** Per-feature measures (feature level). */
const FEATURE = columns(`
  feature                | int   |             | f | feature index f (0 = most important in the built-in presets)
  importance             | float | loss weight | * | importance of feature f in the loss
  norm                   | float | ‖W_f‖       | * | length of the feature's embedding W_f
  feature_superposition  | float | ≥ 0         | * | the notebook's polysemanticity ‖(Ŵ_f · W_g)_{g≠f}‖₂
  feature_dimensionality | float | dimensions  | * | D_f = ‖W_f‖² / Σ_g (Ŵ_f · W_g)²
  represented            | bool  |             | * | ‖W_f‖ > ${REPRESENTED_NORM}
`);

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
