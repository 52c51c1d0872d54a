// The report's family view (issue #18): when a formula parameter was swept (`[[formulas]]` with params),
// superposition and loss against the parameter, one line per sparsity, with the built-in activations the
// family passes through marked (found by comparing values and derivatives, not by name), and the built-in's
// own measured numbers drawn there when the store has them.

import { ACTIVATION_IDS, getActivation } from "../core/activations.js";
import { compileFormulaActivation, type FormulaDefinition } from "../core/formula/activation.js";
import type { ReportData, Series } from "./data.js";
import { perInstance, sparsities, sparsityLabel, superpositionScore } from "./data.js";
import { type FigureDef, type FigurePlan, STYLE, type VlSpec } from "./figures.js";
import { slug } from "./format.js";
import { finite, mean } from "./stats.js";

interface Member {
  series: Series;
  value: number;
  def: FormulaDefinition;
}

interface Family {
  preset: string;
  id: string;
  name: string;
  param: string;
  members: Member[];
}

/** The one-parameter families of a preset with at least two swept values. */
export function familiesOf(data: ReportData, preset: string): Family[] {
  const byId = new Map<string, Family>();
  for (const s of data.seriesOf(preset)) {
    const def = s.cells[0]?.formula;
    const params = Object.entries(def?.params ?? {});
    if (!def || params.length !== 1 || s.variant !== "") continue;
    const [param, value] = params[0];
    const id = def.id.split("~")[0];
    let fam = byId.get(id);
    if (!fam) {
      const name = def.name?.replace(/ \(.*\)$/, "") ?? id;
      fam = { preset, id, name, param, members: [] };
      byId.set(id, fam);
    }
    if (fam.param === param) fam.members.push({ series: s, value, def });
  }
  const out = [...byId.values()].filter((f) => f.members.length >= 2);
  for (const f of out) f.members.sort((a, b) => a.value - b.value);
  return out;
}

const GRID = Array.from({ length: 97 }, (_, k) => -6 + k / 8);

/** The element-wise built-ins equal to this formula (values and derivatives on [−6, 6]). */
export function builtinsEqualTo(def: FormulaDefinition): string[] {
  const act = compileFormulaActivation(def);
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * (1 + Math.abs(b));
  return ACTIVATION_IDS.filter((id) => {
    const b = getActivation(id);
    if (b.kind !== "elementwise") return false;
    return GRID.every((x) => {
      const y = b.forward(x);
      return close(act.forward(x), y) && close(act.derivative(x, 0), b.derivative(x, y));
    });
  });
}

const METRICS = [
  { key: "loss", title: "eval loss", log: true, of: (s: Series) => perInstance(s, (x) => x.loss) },
  {
    key: "superposition",
    title: "superposition",
    log: false,
    of: (s: Series) => perInstance(s, superpositionScore),
  },
] as const;

function familyFigure(data: ReportData, fam: Family): FigureDef | undefined {
  const S = sparsities(data.seriesOf(fam.preset));
  const values = fam.members.map((m) => m.value);
  const logX = values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) >= 10;
  const lines: VlSpec[] = [];
  const marks: VlSpec[] = [];
  const builtinSeries = new Map(
    data
      .seriesOf(fam.preset)
      .filter((s) => s.variant === "")
      .map((s) => [s.activation, s]),
  );
  for (const metric of METRICS) {
    for (const m of fam.members) {
      metric.of(m.series).forEach((seeds, i) => {
        const v = mean(finite(seeds));
        if (Number.isFinite(v) && (!metric.log || v > 0))
          lines.push({
            metric: metric.key,
            param: m.value,
            sparsity: sparsityLabel(S[i]),
            order: i,
            value: v,
          });
      });
      for (const id of builtinsEqualTo(m.def)) {
        const s = builtinSeries.get(id);
        const measured = s ? metric.of(s).map((seeds) => mean(finite(seeds))) : [];
        const label = getActivation(id).name;
        if (!measured.length) marks.push({ metric: metric.key, param: m.value, value: null, label });
        measured.forEach((v, i) => {
          if (Number.isFinite(v) && (!metric.log || v > 0))
            marks.push({
              metric: metric.key,
              param: m.value,
              value: v,
              label: i === 0 ? label : "",
              sparsity: sparsityLabel(S[i]),
            });
        });
      }
    }
  }
  if (!lines.length) return undefined;
  const labels: VlSpec[] = marks.filter((r) => r.label).map((r, k) => ({ ...r, row: 12 + 12 * (k % 3) }));
  const x = {
    field: "param",
    type: "quantitative",
    title: fam.param,
    scale: logX ? { type: "log" } : { zero: false },
  };
  const panel = (metric: (typeof METRICS)[number]): VlSpec => ({
    width: 420,
    height: 220,
    layer: [
      {
        data: { values: lines.filter((r) => r.metric === metric.key) },
        mark: { type: "line", point: { size: 28 }, strokeWidth: 1.6 },
        encoding: {
          x,
          y: {
            field: "value",
            type: "quantitative",
            title: metric.title,
            scale: metric.log ? { type: "log" } : { zero: false },
          },
          color: {
            field: "sparsity",
            type: "ordinal",
            sort: { field: "order" },
            scale: { scheme: "viridis" },
            title: "sparsity",
          },
        },
      },
      {
        data: { values: marks.filter((r) => r.metric === metric.key && r.value !== null) },
        mark: { type: "point", shape: "diamond", size: 110, filled: false, color: "black", strokeWidth: 1.3 },
        encoding: { x, y: { field: "value", type: "quantitative" } },
      },
      {
        // labels staggered in height, so neighbouring built-ins (ReLU, LeakyReLU) stay readable
        data: { values: labels.filter((r) => r.metric === metric.key) },
        mark: { type: "text", fontSize: 10, color: "black", baseline: "bottom", align: "left", dx: 3 },
        encoding: { x, y: { field: "row", type: "quantitative", scale: null }, text: { field: "label" } },
      },
      {
        data: { values: labels.filter((r) => r.metric === metric.key) },
        mark: { type: "rule", strokeDash: [3, 3], color: "#777" },
        encoding: { x },
      },
    ],
  });
  const title = `${fam.name}: loss and superposition against ${fam.param} — ${fam.preset}`;
  const subtitle =
    `Mean over seeds per sparsity (colour). Dashed: where ${fam.name} equals a built-in activation (named); ` +
    "black diamonds: that built-in's own cells in this store.";
  return {
    id: `${slug(fam.preset)}-family-${slug(fam.id)}`,
    group: "across",
    title,
    caption:
      `The formula family ${fam.name} (${fam.members[0].def.formula}) swept over ${fam.param} = ` +
      `${values.join(", ")}: evaluation loss (log axis) and superposition, mean over seeds, one line per sparsity. ` +
      "Built-ins the family passes through are found by comparing values and derivatives on [−6, 6].",
    key: true,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: { text: title, subtitle: [subtitle] },
      config: STYLE,
      data: { values: [] },
      vconcat: METRICS.map(panel),
      resolve: { scale: { color: "shared" } },
    },
  };
}

/** A figure per one-parameter formula family of every preset. */
export function familyFigurePlans(data: ReportData): FigurePlan[] {
  return data.presets.flatMap((p) =>
    familiesOf(data, p).map((fam) => ({
      id: `${slug(p)}-family-${slug(fam.id)}`,
      group: "across" as const,
      build: () => familyFigure(data, fam),
    })),
  );
}
