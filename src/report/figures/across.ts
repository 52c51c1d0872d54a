// Figures that compare activations across sparsity levels: loss, its heat map, superposition vs loss,
// dimensions per feature and feature dimensionality, as small multiples (one panel per activation).

import type { ReportData, Series } from "../data.js";
import { isSparsityPreset, perInstance, sparsities, sparsityLabel, superpositionScore } from "../data.js";
import { num } from "../format.js";
import { finite, mean, meanCI, spearman, spearmanCI } from "../stats.js";
import {
  ACCENT,
  columnsFor,
  density,
  type FigureDef,
  levelFacet,
  logField,
  logScale,
  presetFigure,
  sparsityPanels,
  type VlSpec,
} from "./style.js";

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
  return presetFigure(
    preset,
    "loss-vs-sparsity",
    smallMultiples(cs, { xTitle: "1/(1−S)", yTitle: "loss", yLog: true, xLog: true }),
  );
}

export function lossHeatmapFigure(data: ReportData, preset: string): FigureDef | undefined {
  const panels = sparsityPanels(data, preset, (s, k, S, add) => {
    perInstance(s, (x) => x.loss).forEach((v, i) => {
      const m = mean(finite(v));
      if (Number.isFinite(m) && m > 0)
        add({
          activation: s.label,
          sorder: k,
          panel: sparsityLabel(S[i]),
          order: i,
          loss: m,
          text: num(m, 2),
        });
    });
  });
  if (!panels) return undefined;
  const { S, rows } = panels;
  const logs = rows.map((r) => Math.log10(r.loss));
  const mid = 10 ** ((Math.min(...logs) + Math.max(...logs)) / 2);
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
  return presetFigure(preset, "loss-heatmap", {
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
  });
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
  return presetFigure(preset, "superposition-vs-loss", {
    data: { values: rows },
    facet: levelFacet({ labelFontSize: 10 }),
    columns: columnsFor(levels.length, 5),
    spec: {
      width: 150,
      height: 120,
      mark: { type: "circle", size: 30, color: ACCENT, opacity: 0.8 },
      encoding: {
        x: { field: "sup", type: "quantitative", title: "superposition", axis: { tickCount: 4 } },
        y: logField(rows, "loss"),
        tooltip: [{ field: "activation" }, { field: "sup", format: ".3f" }, { field: "loss", format: ".3e" }],
      },
    },
  });
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
  return presetFigure(
    preset,
    "dims-per-feature",
    smallMultiples(cs, { xTitle: "1/(1−S)", yTitle: "D*", yLog: true, xLog: true, refY: 1 }),
  );
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
  return presetFigure(preset, "feature-dimensionality", {
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
            x: logField(rows, "x", "1/(1−S)"),
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
  });
}
