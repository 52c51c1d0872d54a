// The report's figures, each a pure function from the store's results to a Vega-Lite spec (plain JSON).
// render.ts turns a spec into SVG (vega's headless renderer) and PNG (resvg). One style for all: DejaVu
// Sans, viridis for ordered quantities, blue–orange for signed ones, Okabe–Ito for categories.

import { scheme } from "vega";
import { classifyPhaseRows, PHASE_LABELS } from "../core/metrics.js";
import {
  isSparsityPreset,
  perInstance,
  type ReportData,
  type Series,
  sparsities,
  sparsityLabel,
  superpositionScore,
  type Weights,
} from "./data.js";
import { num, slug } from "./format.js";
import { finite, mean, meanCI, spearman, spearmanCI } from "./stats.js";

// biome-ignore lint/suspicious/noExplicitAny: Vega-Lite specs are plain JSON here.
export type VlSpec = Record<string, any>;

export interface FigureDef {
  id: string;
  group: "across" | "training" | "per-activation";
  title: string;
  caption: string;
  /** Included (as PNG) in the Word document. */
  key: boolean;
  spec: VlSpec;
}

export interface FigurePlan {
  id: string;
  group: FigureDef["group"];
  build(): FigureDef | undefined;
}

export const FONT = "DejaVu Sans";
/** Okabe & Ito (2008), a colour-blind-safe categorical palette. */
export const OKABE_ITO = [
  "#E69F00",
  "#56B4E9",
  "#009E73",
  "#0072B2",
  "#D55E00",
  "#CC79A7",
  "#F0E442",
  "#000000",
];
const ACCENT = "#0072B2";

export const STYLE = {
  font: FONT,
  aria: false,
  background: "white",
  padding: 12,
  title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: "#333", anchor: "start", offset: 10 },
  axis: { labelFontSize: 10, titleFontSize: 11, titleFontWeight: "normal", gridColor: "#e8e8e8" },
  header: { labelFontSize: 11, titleFontSize: 12, labelFontWeight: "bold" },
  legend: { labelFontSize: 10, titleFontSize: 11, titleFontWeight: "normal" },
  view: { stroke: "#bbb" },
  facet: { spacing: 14 },
  concat: { spacing: 18 },
};

function spec(title: string, subtitle: string, body: VlSpec): VlSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle: wrap(subtitle, 120) },
    config: STYLE,
    ...body,
  };
}

/** Splits a long subtitle into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const W = (w: Weights, i: number, f: number, k: number) => w.W[(i * w.F + f) * w.H + k];
const density = (S: number) => 1 / Math.max(1e-12, 1 - S);
const columnsFor = (n: number, max = 6) => Math.min(max, Math.max(1, Math.ceil(Math.sqrt(n * 1.5))));

/** A log scale framed by whole decades, with one labelled grid line per decade (plus 2 and 5 when short). */
export function logScale(values: readonly number[], title: string): VlSpec {
  const v = values.filter((x) => x > 0 && Number.isFinite(x));
  const lo = v.length ? Math.floor(Math.log10(Math.min(...v)) + 1e-9) : 0;
  let hi = v.length ? Math.ceil(Math.log10(Math.max(...v)) - 1e-9) : 1;
  if (hi <= lo) hi = lo + 1;
  const ticks: number[] = [];
  const step = Math.max(1, Math.ceil((hi - lo) / 6));
  for (let k = lo; k <= hi; k += step) ticks.push(10 ** k);
  if (hi - lo <= 1) for (let k = lo; k < hi; k++) ticks.push(2 * 10 ** k, 5 * 10 ** k);
  ticks.sort((a, b) => a - b);
  return {
    scale: { type: "log", domain: [10 ** lo, 10 ** hi], nice: false },
    axis: {
      values: ticks,
      title,
      grid: true,
      labelExpr:
        "datum.value < 0.01 || datum.value >= 10000 ? format(datum.value, '.0e') : format(datum.value, '~g')",
    },
  };
}

const VIRIDIS = { name: "viridis", extent: [0, 0.88] };

// ---- 1. intro: the 2-D feature diagrams ---------------------------------------------------------------

function introRows(s: Series, w: Weights, cellIndex: number) {
  const c = s.cells[cellIndex];
  const rows: VlSpec[] = [];
  for (let i = 0; i < Math.min(w.I, c.instances.length); i++) {
    const imp = c.config?.importance?.[i] ?? [];
    for (let f = 0; f < w.F; f++) {
      rows.push({
        panel: sparsityLabel(c.instances[i].sparsity),
        order: i,
        feature: f,
        importance: imp[f] ?? 1,
        x: W(w, i, f, 0),
        y: W(w, i, f, 1),
        x0: 0,
        y0: 0,
      });
    }
  }
  return rows;
}

function featureLayers(domain: number, size: number, pointSize: number, axes: boolean, impDomain: number[]) {
  const scale = { domain: [-domain, domain], nice: false };
  const axis = axes ? { tickCount: 5, grid: true } : null;
  const color = {
    field: "importance",
    type: "quantitative",
    title: "importance",
    scale: { scheme: VIRIDIS, domain: impDomain },
    legend: { type: "gradient", gradientLength: 120 },
  };
  return {
    width: size,
    height: size,
    layer: [
      {
        mark: { type: "rule", strokeWidth: axes ? 2 : 1.5 },
        encoding: {
          x: { field: "x0", type: "quantitative", scale, axis, title: "W_f[0]" },
          y: { field: "y0", type: "quantitative", scale, axis, title: "W_f[1]" },
          x2: { field: "x" },
          y2: { field: "y" },
          color,
        },
      },
      {
        mark: { type: "circle", size: pointSize, opacity: 1 },
        encoding: {
          x: { field: "x", type: "quantitative", scale },
          y: { field: "y", type: "quantitative", scale },
          // The same colours, precomputed (no scale, no legend): a legend drawn from both layers would merge
          // fill and stroke and show symbols instead of a gradient.
          color: { field: "hex", type: "nominal", scale: null },
        },
      },
    ],
  };
}

/** Adds each row's importance colour (the legend's viridis range) as `hex`, for the points layer. */
function withColours(rows: VlSpec[], domain: number[]): VlSpec[] {
  const interp = scheme("viridis") as (t: number) => string;
  const [lo, hi] = domain;
  for (const r of rows) {
    const t = Math.min(1, Math.max(0, (r.importance - lo) / (hi - lo || 1)));
    r.hex = interp(VIRIDIS.extent[0] + t * (VIRIDIS.extent[1] - VIRIDIS.extent[0]));
  }
  return rows;
}

function axisRange(rows: VlSpec[]): number {
  let m = 0;
  for (const r of rows) m = Math.max(m, Math.abs(r.x), Math.abs(r.y));
  return Math.max(1.5, Number.isFinite(m) ? m * 1.1 : 1.5);
}

function impDomain(rows: VlSpec[]): number[] {
  const v = rows.map((r) => r.importance as number);
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

export function introFigure(data: ReportData, s: Series): FigureDef | undefined {
  const c = s.cells[0];
  const w = c && data.weights(c.key);
  if (w?.H !== 2) return undefined;
  const rows = introRows(s, w, 0).filter((r) => Number.isFinite(r.x) && Number.isFinite(r.y));
  const L = axisRange(rows);
  const title = `${s.label}: learned feature directions W_f in 2-D, by sparsity — ${s.preset}`;
  return {
    id: `${slug(s.preset)}-features-${slug(s.id)}`,
    group: "per-activation",
    title,
    caption:
      `The notebook's 2-D feature diagram: each line runs from the origin to W_f (one line per feature, ` +
      `${w.F} features in ${w.H} dimensions), coloured by importance; one panel per sparsity S. Seed ${c.seed}. ` +
      `Axes span ±${num(L, 2)}.`,
    key: false,
    spec: spec(
      title,
      `Seed ${c.seed}. Lines from the origin to each feature's weight vector; colour = importance.`,
      {
        data: { values: withColours(rows, impDomain(rows)) },
        facet: { field: "panel", type: "ordinal", sort: { field: "order" }, title: null },
        columns: 5,
        spec: featureLayers(L, 130, 40, true, impDomain(rows)),
      },
    ),
  };
}

export function introOverviewFigure(data: ReportData, preset: string): FigureDef | undefined {
  const series = data.seriesOf(preset).filter((s) => s.cells.length);
  const rows: VlSpec[] = [];
  series.forEach((s, k) => {
    const w = data.weights(s.cells[0].key);
    if (w?.H !== 2) return;
    for (const r of introRows(s, w, 0)) {
      if (!Number.isFinite(r.x) || !Number.isFinite(r.y)) continue;
      // Each panel scaled to its own largest vector so shapes stay visible; the scale is noted below.
      rows.push({ ...r, activation: s.label, sorder: k });
    }
  });
  if (!rows.length) return undefined;
  // Normalise per panel so that every diagram fills its cell (the geometry, not the scale, is compared).
  const maxOf = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.activation}|${r.order}`;
    maxOf.set(key, Math.max(maxOf.get(key) ?? 0, Math.hypot(r.x, r.y)));
  }
  for (const r of rows) {
    const m = maxOf.get(`${r.activation}|${r.order}`) ?? 1;
    r.x = m > 0 ? r.x / m : 0;
    r.y = m > 0 ? r.y / m : 0;
  }
  const title = `Feature geometry of every activation (rows) at every sparsity (columns) — ${preset}`;
  return {
    id: `${slug(preset)}-features-overview`,
    group: "across",
    title,
    caption:
      "The 2-D feature diagram for each activation and sparsity (seed of the lowest number), each panel scaled " +
      "to its longest W_f so the arrangement (antipodal pairs, pentagons, dropped features) is comparable; see " +
      "the per-activation figures for the actual lengths.",
    key: true,
    spec: spec(
      title,
      "Lines from the origin to each W_f, coloured by importance; each panel scaled to its longest vector.",
      {
        data: { values: withColours(rows, impDomain(rows)) },
        facet: {
          row: {
            field: "activation",
            type: "nominal",
            sort: { field: "sorder" },
            title: null,
            header: {
              labelAngle: 0,
              labelAlign: "left",
              labelOrient: "left",
              labelLimit: 220,
              labelFontSize: 10,
              labelFontWeight: "normal",
            },
          },
          column: {
            field: "panel",
            type: "ordinal",
            sort: { field: "order" },
            title: null,
            header: { labelFontSize: 9 },
          },
        },
        spacing: 4,
        spec: featureLayers(1.1, 46, 10, false, impDomain(rows)),
      },
    ),
  };
}

// ---- 2. demo: the notebook's render_features ----------------------------------------------------------

export function demoFigure(data: ReportData, s: Series): FigureDef | undefined {
  const c = s.cells[0];
  const w = c && data.weights(c.key);
  if (!w || w.H < 2 || w.F > 40) return undefined;
  const heat: VlSpec[] = [];
  const bars: VlSpec[] = [];
  let m = 0;
  for (let i = 0; i < Math.min(w.I, c.instances.length); i++) {
    const inst = c.instances[i];
    const panel = sparsityLabel(inst.sparsity);
    for (let f = 0; f < w.F; f++) {
      for (let g = 0; g < w.F; g++) {
        let v = 0;
        for (let k = 0; k < w.H; k++) v += W(w, i, f, k) * W(w, i, g, k);
        if (!Number.isFinite(v)) continue;
        m = Math.max(m, Math.abs(v));
        heat.push({ panel, order: i, f, g, v: Number(v.toPrecision(4)) });
      }
      bars.push({
        panel,
        order: i,
        f,
        norm: inst.norms[f],
        sup: Math.min(1, Math.max(0, inst.superposition[f])),
      });
    }
  }
  if (!heat.length) return undefined;
  m = m || 1;
  const facet = (labels: boolean) => ({
    field: "panel",
    type: "ordinal",
    sort: { field: "order" },
    title: null,
    header: labels ? {} : { labels: false },
  });
  const title = `${s.label}: WᵀW and feature norms by sparsity — ${s.preset}`;
  return {
    id: `${slug(s.preset)}-features-${slug(s.id)}`,
    group: "per-activation",
    title,
    caption:
      `The notebook's render_features for ${w.F} features in ${w.H} dimensions (seed ${c.seed}). Top: the Gram ` +
      "matrix WᵀW (entry f, g = W_f · W_g; diagonal = ‖W_f‖²), diverging colour centred at 0. Bottom: ‖W_f‖ per " +
      "feature (most important at the top), coloured by superposition ‖(Ŵ_f · W_g)_{g≠f}‖ clipped to 0…1 " +
      "(0 = a dedicated direction, 1 = fully shared).",
    key: false,
    spec: spec(title, `Seed ${c.seed}. Feature 0 is the most important; columns are sparsity levels.`, {
      vconcat: [
        {
          data: { values: heat },
          facet: { column: facet(true) },
          spec: {
            width: 110,
            height: 110,
            mark: { type: "rect" },
            encoding: {
              x: { field: "g", type: "ordinal", axis: null },
              y: { field: "f", type: "ordinal", axis: null },
              color: {
                field: "v",
                type: "quantitative",
                title: "W_f · W_g",
                scale: { scheme: "blueorange", domain: [-m, m], domainMid: 0 },
                legend: { orient: "right", gradientLength: 100 },
              },
            },
          },
        },
        {
          data: { values: bars },
          facet: { column: facet(false) },
          spec: {
            width: 110,
            height: 120,
            mark: { type: "bar" },
            encoding: {
              y: {
                field: "f",
                type: "ordinal",
                title: "feature",
                axis: { labelFontSize: 9, labelExpr: "datum.value % 5 === 0 ? datum.label : ''" },
              },
              x: { field: "norm", type: "quantitative", title: "‖W_f‖", axis: { tickCount: 3 } },
              color: {
                field: "sup",
                type: "quantitative",
                title: "superposition",
                scale: { scheme: "viridis", domain: [0, 1] },
                legend: { orient: "right", gradientLength: 100 },
              },
            },
          },
        },
      ],
      resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
    }),
  };
}

// ---- 3. across activations -----------------------------------------------------------------------------

interface Curve {
  label: string;
  order: number;
  points: { x: number; mean: number; lo: number; hi: number }[];
}

/** Small multiples: one panel per series, its mean and 95 % CI band, all others in grey behind. */
function smallMultiples(
  curves: Curve[],
  o: { xTitle: string; yTitle: string; yLog: boolean; xLog: boolean; refY?: number },
): VlSpec {
  const rows: VlSpec[] = [];
  for (const panel of curves) {
    for (const c of curves) {
      for (const p of c.points) {
        if (!Number.isFinite(p.mean) || (o.yLog && p.mean <= 0)) continue;
        const own = c === panel;
        rows.push({
          panel: panel.label,
          porder: panel.order,
          series: c.label,
          own,
          x: p.x,
          mean: p.mean,
          ...(own && Number.isFinite(p.lo) && (!o.yLog || p.lo > 0) ? { lo: p.lo, hi: p.hi } : {}),
        });
      }
    }
  }
  const ownRows = rows.filter((r) => r.own);
  const xs = o.xLog
    ? logScale(
        ownRows.map((r) => r.x),
        o.xTitle,
      )
    : { scale: {}, axis: { title: o.xTitle, tickCount: 4 } };
  const x = { field: "x", type: "quantitative", ...xs };
  const ys = o.yLog
    ? logScale([...ownRows.map((r) => r.mean), ...(o.refY ? [o.refY] : [])], o.yTitle)
    : { scale: { zero: false }, axis: { title: o.yTitle } };
  const yScale = ys.scale;
  const layers: VlSpec[] = [
    {
      transform: [{ filter: "!datum.own" }],
      mark: { type: "line", strokeWidth: 1, color: "#c8c8c8" },
      encoding: { x, y: { field: "mean", type: "quantitative", ...ys }, detail: { field: "series" } },
    },
    {
      transform: [{ filter: "datum.own && isValid(datum.lo)" }],
      mark: { type: "area", opacity: 0.25, color: ACCENT },
      encoding: { x, y: { field: "lo", type: "quantitative", scale: yScale }, y2: { field: "hi" } },
    },
    {
      transform: [{ filter: "datum.own" }],
      mark: { type: "line", strokeWidth: 2, color: ACCENT, point: { size: 16, color: ACCENT } },
      encoding: { x, y: { field: "mean", type: "quantitative", scale: yScale } },
    },
  ];
  if (o.refY !== undefined)
    layers.push({
      data: { values: [{ ref: o.refY }] },
      mark: { type: "rule", strokeDash: [4, 3], color: "#555" },
      encoding: { y: { field: "ref", type: "quantitative" } },
    });
  return {
    data: { values: rows },
    facet: { field: "panel", type: "nominal", sort: { field: "porder" }, title: null },
    columns: columnsFor(curves.length),
    spec: { width: 150, height: 110, layer: layers },
  };
}

function curves(
  series: Series[],
  metric: (x: Series["cells"][number]["instances"][number]) => number,
  xOf: (S: number) => number,
): Curve[] {
  const S = sparsities(series);
  return series
    .filter((s) => s.cells.length)
    .map((s, k) => ({
      label: s.label,
      order: k,
      points: perInstance(s, (x) => metric(x)).map((v, i) => {
        const ci = meanCI(v);
        return { x: xOf(S[i]), mean: ci.mean, lo: ci.lo, hi: ci.hi };
      }),
    }));
}

export function lossVsSparsityFigure(data: ReportData, preset: string): FigureDef | undefined {
  const series = data.seriesOf(preset);
  if (!isSparsityPreset(preset, series)) return undefined;
  const cs = curves(series, (x) => x.loss, density);
  if (!cs.length) return undefined;
  const title = `Evaluation loss vs feature density 1/(1−S), one panel per activation — ${preset}`;
  return {
    id: `${slug(preset)}-loss-vs-sparsity`,
    group: "across",
    title,
    caption:
      "Mean evaluation loss over seeds (blue line) with its 95 % t-interval (band), against 1/(1−S) on a log " +
      "axis (S = sparsity; 1 = dense); log loss axis. Grey: every other activation, for comparison.",
    key: true,
    spec: spec(
      title,
      "Blue: this activation, mean and 95 % CI over seeds. Grey: all other activations. Both axes log.",
      {
        ...smallMultiples(cs, { xTitle: "1/(1−S)", yTitle: "loss", yLog: true, xLog: true }),
      },
    ),
  };
}

export function lossHeatmapFigure(data: ReportData, preset: string): FigureDef | undefined {
  const series = data.seriesOf(preset).filter((s) => s.cells.length);
  if (!isSparsityPreset(preset, series)) return undefined;
  const S = sparsities(series);
  const rows: VlSpec[] = [];
  series.forEach((s, k) => {
    perInstance(s, (x) => x.loss).forEach((v, i) => {
      const m = mean(finite(v));
      if (Number.isFinite(m) && m > 0)
        rows.push({
          activation: s.label,
          sorder: k,
          panel: sparsityLabel(S[i]),
          order: i,
          loss: m,
          text: num(m, 2),
        });
    });
  });
  if (!rows.length) return undefined;
  const logs = rows.map((r) => Math.log10(r.loss));
  const mid = 10 ** ((Math.min(...logs) + Math.max(...logs)) / 2);
  const title = `Evaluation loss by activation and sparsity — ${preset}`;
  const y = {
    field: "activation",
    type: "nominal",
    sort: { field: "sorder" },
    title: null,
    axis: { labelLimit: 260 },
  };
  const x = {
    field: "panel",
    type: "ordinal",
    sort: { field: "order" },
    title: "sparsity",
    axis: { labelAngle: -40 },
  };
  return {
    id: `${slug(preset)}-loss-heatmap`,
    group: "across",
    title,
    caption: "Seed-mean evaluation loss, log colour scale (darker = lower loss). The number is the loss.",
    key: true,
    spec: spec(title, "Seed-mean loss; log colour scale, dark = low loss.", {
      data: { values: rows },
      width: Math.max(300, 62 * S.length),
      height: { step: 18 },
      layer: [
        {
          mark: { type: "rect" },
          encoding: {
            x,
            y,
            color: {
              field: "loss",
              type: "quantitative",
              title: "loss",
              scale: { type: "log", scheme: "viridis" },
            },
          },
        },
        {
          mark: { type: "text", fontSize: 9 },
          encoding: {
            x,
            y,
            text: { field: "text" },
            color: { condition: { test: `datum.loss < ${mid}`, value: "white" }, value: "black" },
          },
        },
      ],
    }),
  };
}

/** Per sparsity level, over base-variant activations: seed-mean superposition vs loss, with Spearman ρ. */
export function superpositionLossPoints(data: ReportData, preset: string) {
  const series = data.seriesOf(preset).filter((s) => s.variant === "" && s.cells.length);
  const S = sparsities(series);
  const sup = series.map((s) => perInstance(s, superpositionScore).map((v) => mean(finite(v))));
  const loss = series.map((s) => perInstance(s, (x) => x.loss).map((v) => mean(finite(v))));
  return S.map((sp, i) => {
    const pts = series
      .map((s, k) => ({ activation: s.label, sup: sup[k][i], loss: loss[k][i] }))
      .filter((p) => Number.isFinite(p.sup) && p.loss > 0);
    return {
      sparsity: sp,
      points: pts,
      rho: spearman(
        pts.map((p) => p.sup),
        pts.map((p) => p.loss),
      ),
    };
  });
}

export function superpositionLossFigure(data: ReportData, preset: string): FigureDef | undefined {
  const series = data.seriesOf(preset);
  if (!isSparsityPreset(preset, series)) return undefined;
  const levels = superpositionLossPoints(data, preset);
  const rows: VlSpec[] = [];
  levels.forEach((l, i) => {
    const ci =
      l.points.length >= 4
        ? spearmanCI(
            l.points.map((p) => p.sup),
            l.points.map((p) => p.loss),
            { reps: 500, seed: 7 + i },
          )
        : undefined;
    const panel = `${sparsityLabel(l.sparsity)}  ρ = ${Number.isFinite(l.rho) ? num(l.rho, 2) : "NA"}${ci && Number.isFinite(ci.lo) ? ` [${num(ci.lo, 2)}, ${num(ci.hi, 2)}]` : ""}`;
    for (const p of l.points) rows.push({ ...p, panel, order: i });
  });
  if (!rows.length) return undefined;
  const title = `Superposition vs loss across activations, per sparsity — ${preset}`;
  return {
    id: `${slug(preset)}-superposition-vs-loss`,
    group: "across",
    title,
    caption:
      "One point per activation (base variants, seed means): superposition (‖W_f‖-weighted polysemanticity) " +
      "against evaluation loss (log). Panel titles give Spearman's ρ with a bootstrap 95 % CI (500 resamples " +
      "here; the Findings use 2 000).",
    key: true,
    spec: spec(
      title,
      "One point per activation, mean over seeds. ρ: Spearman rank correlation with bootstrap 95 % CI.",
      {
        data: { values: rows },
        facet: {
          field: "panel",
          type: "ordinal",
          sort: { field: "order" },
          title: null,
          header: { labelFontSize: 10 },
        },
        columns: columnsFor(levels.length, 5),
        spec: {
          width: 150,
          height: 120,
          mark: { type: "circle", size: 30, color: ACCENT, opacity: 0.8 },
          encoding: {
            x: { field: "sup", type: "quantitative", title: "superposition", axis: { tickCount: 4 } },
            y: {
              field: "loss",
              type: "quantitative",
              ...logScale(
                rows.map((r) => r.loss),
                "loss",
              ),
            },
            tooltip: [
              { field: "activation" },
              { field: "sup", format: ".3f" },
              { field: "loss", format: ".3e" },
            ],
          },
        },
      },
    ),
  };
}

export function dimsPerFeatureFigure(data: ReportData, preset: string): FigureDef | undefined {
  const series = data.seriesOf(preset);
  if (!isSparsityPreset(preset, series)) return undefined;
  const cs = curves(
    series,
    (x) => (Number.isFinite(x.dimsPerFeature) ? x.dimsPerFeature : Number.NaN),
    density,
  );
  if (!cs.length) return undefined;
  const title = `Dimensions per feature D* = H/‖W‖²_F vs 1/(1−S), one panel per activation — ${preset}`;
  return {
    id: `${slug(preset)}-dims-per-feature`,
    group: "across",
    title,
    caption:
      "The paper's geometry plot: D* = H / ‖W‖²_F (hidden dimensions per embedded feature; 1 = one feature per " +
      "dimension, < 1 = superposition) against 1/(1−S), mean and 95 % CI over seeds; both axes log. Dashed: D* = 1.",
    key: true,
    spec: spec(title, "Blue: mean and 95 % CI over seeds; grey: other activations; dashed: D* = 1.", {
      ...smallMultiples(cs, { xTitle: "1/(1−S)", yTitle: "D*", yLog: true, xLog: true, refY: 1 }),
    }),
  };
}

export const FRACTIONS: [number, string][] = [
  [1, "1"],
  [3 / 4, "3/4"],
  [2 / 3, "2/3"],
  [1 / 2, "1/2"],
  [2 / 5, "2/5"],
  [1 / 3, "1/3"],
];

export function featureDimensionalityFigure(data: ReportData, preset: string): FigureDef | undefined {
  const series = data.seriesOf(preset).filter((s) => s.cells.length);
  if (!series.length) return undefined;
  const rows: VlSpec[] = [];
  series.forEach((s, k) => {
    const c = s.cells[0];
    const counts = new Map<string, number>();
    for (const x of c.instances) {
      for (const d of x.featureDimensionality) {
        if (!Number.isFinite(d)) continue;
        const key = `${x.sparsity}|${Math.round(d * 100) / 100}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    for (const [key, n] of counts) {
      const [sp, d] = key.split("|").map(Number);
      rows.push({ panel: s.label, porder: k, x: density(sp), d, n });
    }
  });
  if (!rows.length) return undefined;
  const refs = FRACTIONS.map(([v, t]) => ({ ref: v, label: t }));
  const title = `Feature dimensionality D_f vs 1/(1−S), one panel per activation — ${preset}`;
  return {
    id: `${slug(preset)}-feature-dimensionality`,
    group: "across",
    title,
    caption:
      "D_f = ‖W_f‖² / Σ_g (Ŵ_f · W_g)² for every feature (seed of the lowest number), against 1/(1−S) (log). " +
      "Point size: how many features share the value (rounded to 0.01). Dashed: the fractions 1, 3/4, 2/3, 1/2, " +
      "2/5, 1/3 at which the paper finds features sticking (tegum products of digons, triangles, pentagons, …).",
    key: true,
    spec: spec(
      title,
      "Each point: features with this D_f (size = count). Dashed lines: 1, 3/4, 2/3, 1/2, 2/5, 1/3.",
      {
        facet: { field: "panel", type: "nominal", sort: { field: "porder" }, title: null },
        columns: columnsFor(series.length),
        data: { values: rows },
        spec: {
          width: 170,
          height: 130,
          layer: [
            {
              data: { values: refs },
              mark: { type: "rule", strokeDash: [4, 3], color: "#888", strokeWidth: 1 },
              encoding: { y: { field: "ref", type: "quantitative" } },
            },
            {
              data: { values: refs },
              mark: { type: "text", align: "right", dx: -2, dy: -5, fontSize: 8, color: "#555" },
              encoding: {
                y: { field: "ref", type: "quantitative" },
                x: { value: 170 },
                text: { field: "label" },
              },
            },
            {
              mark: { type: "circle", color: ACCENT, opacity: 0.6 },
              encoding: {
                x: {
                  field: "x",
                  type: "quantitative",
                  ...logScale(
                    rows.map((r) => r.x),
                    "1/(1−S)",
                  ),
                },
                y: {
                  field: "d",
                  type: "quantitative",
                  title: "D_f",
                  scale: { domain: [0, 1.05], clamp: true },
                },
                size: { field: "n", type: "quantitative", title: "features", scale: { range: [8, 160] } },
              },
            },
          ],
        },
      },
    ),
  };
}

// ---- phase diagrams ---------------------------------------------------------------------------------

export const PHASE_CLASSES = Object.values(PHASE_LABELS);
export type PhaseClass = string;
const PHASE_COLOURS = ["#F2F2F2", "#BDBDBD", OKABE_ITO[1], OKABE_ITO[4], OKABE_ITO[6]];

/**
 * Phase of one instance of the 2-feature model. With one hidden dimension (the phase preset) it is core's
 * classifyPhase: a feature is represented if |w_f| > 0.5; only feature 1 → "not represented"; only feature 2
 * → "alone"; both with opposite signs → "antipodal (superposition)"; both with the same sign → "same
 * direction"; neither → "neither". With more dimensions the same rule on ‖W_f‖ and the sign of cos(W_1, W_2).
 */
export function phaseClass(w1: readonly number[], w2: readonly number[]): PhaseClass {
  return PHASE_LABELS[classifyPhaseRows(w1, w2)];
}

/** Majority class over seeds per instance (ties: the lowest seed's class). */
export function phaseGrid(data: ReportData, s: Series): PhaseClass[] | undefined {
  const votes: PhaseClass[][] = [];
  for (const c of s.cells) {
    const w = data.weights(c.key);
    if (w?.F !== 2) continue;
    for (let i = 0; i < w.I; i++) {
      const row = (f: number) => Array.from({ length: w.H }, (_, k) => W(w, i, f, k));
      (votes[i] ??= []).push(phaseClass(row(0), row(1)));
    }
  }
  if (!votes.length) return undefined;
  return votes.map((v) => {
    const count = new Map<PhaseClass, number>();
    for (const x of v) count.set(x, (count.get(x) ?? 0) + 1);
    let best = v[0];
    for (const [k, n] of count) if (n > (count.get(best) ?? 0)) best = k;
    return best;
  });
}

/** A log-scaled axis for rect cells spanning [lo, hi] fields, with the domain fitted to the cells. */
function logCellAxis(rows: readonly VlSpec[], lo: string, hi: string, ticks: number[], title: string) {
  return {
    field: lo,
    type: "quantitative" as const,
    scale: {
      type: "log" as const,
      nice: false,
      domain: [Math.min(...rows.map((x) => x[lo] as number)), Math.max(...rows.map((x) => x[hi] as number))],
    },
    axis: { values: ticks, grid: false, title },
  };
}
export function phaseFigure(data: ReportData, preset: string, grid = 20): FigureDef | undefined {
  const series = data.seriesOf(preset).filter((s) => s.cells.length);
  const rows: VlSpec[] = [];
  series.forEach((s, k) => {
    const classes = phaseGrid(data, s);
    if (!classes) return;
    const c = s.cells[0];
    classes.forEach((cls, i) => {
      const row = Math.floor(i / grid);
      const col = i % grid;
      const r = c.config?.importance?.[i]?.[1] ?? Number.NaN;
      const p = c.config?.featureProbability?.[i] ?? c.instances[i]?.featureProbability;
      if (!Number.isFinite(r) || !(p > 0)) return;
      rows.push({ panel: s.label, porder: k, row, col, r, p, cls });
    });
  });
  if (!rows.length) return undefined;
  // Cell edges: geometric midpoints between neighbouring grid values.
  const rs = [...new Set(rows.map((x) => x.r as number))].sort((a, b) => a - b);
  const ps = [...new Set(rows.map((x) => x.p as number))].sort((a, b) => a - b);
  const edges = (v: number[], x: number) => {
    const k = v.indexOf(x);
    const step = v.length > 1 ? (k > 0 ? x / v[k - 1] : v[k + 1] / x) : 2;
    return [
      x / Math.sqrt(k > 0 ? x / v[k - 1] : step),
      x * Math.sqrt(k < v.length - 1 ? v[k + 1] / x : step),
    ];
  };
  for (const x of rows) {
    [x.r0, x.r1] = edges(rs, x.r);
    [x.p0, x.p1] = edges(ps, x.p);
  }
  const title = `Phase diagrams of the 2-feature, 1-dimension model, one panel per activation — ${preset}`;
  return {
    id: `${slug(preset)}-phase-diagrams`,
    group: "across",
    title,
    caption:
      "Each cell is one instance: relative importance of feature 2 (x, log) × feature density p = 1−S (y, log). " +
      "Rule (core's classifyPhase): feature f is represented if |w_f| > 0.5; only feature 1 → “feature 2 not " +
      "represented”; only feature 2 → “alone”; both with opposite signs → “antipodal (superposition)”; both " +
      "with the same sign → “same direction”; neither → “neither”. Majority over seeds (ties: lowest seed).",
    key: true,
    spec: spec(
      title,
      "Cell = one instance; colour = what the model does with feature 2 (majority over seeds).",
      {
        data: { values: rows },
        facet: { field: "panel", type: "nominal", sort: { field: "porder" }, title: null },
        columns: columnsFor(series.length),
        spacing: 24,
        spec: {
          width: 160,
          height: 160,
          mark: { type: "rect" },
          encoding: {
            x: logCellAxis(rows, "r0", "r1", [0.1, 0.3, 1, 3, 10], "rel. importance of feature 2"),
            x2: { field: "r1" },
            y: logCellAxis(rows, "p0", "p1", [0.01, 0.03, 0.1, 0.3, 1], "feature density p = 1−S"),
            y2: { field: "p1" },
            color: {
              field: "cls",
              type: "nominal",
              title: "phase",
              scale: {
                domain: [...PHASE_CLASSES],
                range: PHASE_COLOURS,
              },
              legend: { orient: "bottom", columns: 2, labelLimit: 320 },
            },
          },
        },
      },
    ),
  };
}

// ---- 4. training curves ----------------------------------------------------------------------------

export function trainingCurvesFigure(data: ReportData, preset: string): FigureDef | undefined {
  const series = data.seriesOf(preset).filter((s) => s.cells.length);
  if (!isSparsityPreset(preset, series)) return undefined;
  const S = sparsities(series);
  const rows: VlSpec[] = [];
  series.forEach((s, k) => {
    const curvesOk = s.cells.filter((c) => c.lossCurve?.step?.length);
    if (!curvesOk.length) return;
    const steps = curvesOk[0].lossCurve.step;
    const same = curvesOk.filter((c) => c.lossCurve.step.length === steps.length);
    const keep = thinLogSteps(steps, 40);
    steps.forEach((step, t) => {
      if (step <= 0 || !keep.has(t)) return;
      for (let i = 0; i < S.length; i++) {
        const v = finite(same.map((c) => c.lossCurve.loss[t]?.[i]).filter((x) => x !== undefined));
        const m = mean(v);
        if (m > 0)
          rows.push({
            panel: s.label,
            porder: k,
            step,
            loss: Number(m.toPrecision(4)),
            sparsity: Number(S[i].toFixed(3)),
          });
      }
    });
  });
  if (!rows.length) return undefined;
  const title = `Training loss vs step (log–log), one panel per activation — ${preset}`;
  return {
    id: `${slug(preset)}-training-curves`,
    group: "training",
    title,
    caption:
      "Training loss (mean over seeds of the sampled batch loss) against the step, both axes log; one line per " +
      "sparsity level (colour).",
    key: true,
    spec: spec(title, "One line per sparsity level (mean over seeds); both axes log.", {
      data: { values: rows },
      facet: { field: "panel", type: "nominal", sort: { field: "porder" }, title: null },
      columns: columnsFor(series.length),
      spec: {
        width: 150,
        height: 110,
        mark: { type: "line", strokeWidth: 1.2 },
        encoding: {
          x: {
            field: "step",
            type: "quantitative",
            ...logScale(
              rows.map((r) => r.step),
              "step",
            ),
          },
          y: {
            field: "loss",
            type: "quantitative",
            ...logScale(
              rows.map((r) => r.loss),
              "loss",
            ),
          },
          color: { field: "sparsity", type: "ordinal", title: "sparsity S", scale: { scheme: VIRIDIS } },
        },
      },
    }),
  };
}

/** Indices of at most ~n steps, evenly spaced in log(step), always keeping the first and last. */
export function thinLogSteps(steps: readonly number[], n: number): Set<number> {
  const keep = new Set<number>();
  if (steps.length <= n) return new Set(steps.map((_, k) => k));
  const lo = Math.log(Math.max(1, steps[0]));
  const hi = Math.log(Math.max(1, steps[steps.length - 1]));
  let next = lo;
  steps.forEach((s, k) => {
    const l = Math.log(Math.max(1, s));
    if (k === 0 || k === steps.length - 1 || l >= next) {
      keep.add(k);
      next = l + (hi - lo) / n;
    }
  });
  return keep;
}

// ---- the plan ---------------------------------------------------------------------------------------

/** Every figure the store supports, built lazily (one at a time while rendering). */
export function planFigures(data: ReportData): FigurePlan[] {
  const plans: FigurePlan[] = [];
  const add = (id: string, group: FigureDef["group"], build: () => FigureDef | undefined) =>
    plans.push({ id, group, build });
  for (const p of data.presets) {
    const series = data.seriesOf(p).filter((s) => s.cells.length);
    const first = series[0]?.cells[0];
    if (!first) continue;
    const sparse = isSparsityPreset(p, series);
    if (p === "phase" || (first.nFeatures === 2 && first.nHidden === 1 && first.nInstances > 40)) {
      add(`${slug(p)}-phase-diagrams`, "across", () => phaseFigure(data, p));
      continue;
    }
    if (!sparse) continue;
    add(`${slug(p)}-loss-vs-sparsity`, "across", () => lossVsSparsityFigure(data, p));
    add(`${slug(p)}-loss-heatmap`, "across", () => lossHeatmapFigure(data, p));
    if (series.filter((s) => s.variant === "").length >= 3)
      add(`${slug(p)}-superposition-vs-loss`, "across", () => superpositionLossFigure(data, p));
    add(`${slug(p)}-dims-per-feature`, "across", () => dimsPerFeatureFigure(data, p));
    if (p === "geometry")
      add(`${slug(p)}-feature-dimensionality`, "across", () => featureDimensionalityFigure(data, p));
    add(`${slug(p)}-training-curves`, "training", () => trainingCurvesFigure(data, p));
    if (first.nHidden === 2 && first.nFeatures <= 50) {
      add(`${slug(p)}-features-overview`, "across", () => introOverviewFigure(data, p));
      for (const s of series)
        add(`${slug(p)}-features-${slug(s.id)}`, "per-activation", () => introFigure(data, s));
    } else if (first.nHidden > 2 && first.nFeatures <= 40 && first.nInstances <= 12) {
      for (const s of series)
        add(`${slug(p)}-features-${slug(s.id)}`, "per-activation", () => demoFigure(data, s));
    }
  }
  return plans;
}
