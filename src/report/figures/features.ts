// Per-activation feature figures: the notebook's 2-D feature diagrams (H = 2, intro) and its render_features
// (WᵀW and feature norms, demo), plus the overview of every activation's 2-D geometry.

import { scheme } from "vega";
import { type ReportData, type Series, sparsityLabel, type Weights } from "../data.js";
import { num, slug } from "../format.js";
import { type FigureDef, levelFacet, presetFigure, spec, VIRIDIS, type VlSpec, W } from "./style.js";

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
        facet: levelFacet(),
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
  return presetFigure(preset, "features-overview", {
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
      column: levelFacet({ labelFontSize: 9 }),
    },
    spacing: 4,
    spec: featureLayers(1.1, 46, 10, false, impDomain(rows)),
  });
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
  const gradient = (field: string, title: string, scale: VlSpec) => ({
    field,
    type: "quantitative",
    title,
    scale,
    legend: { orient: "right", gradientLength: 100 },
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
          facet: { column: levelFacet({}) },
          spec: {
            width: 110,
            height: 110,
            mark: { type: "rect" },
            encoding: {
              x: { field: "g", type: "ordinal", axis: null },
              y: { field: "f", type: "ordinal", axis: null },
              color: gradient("v", "W_f · W_g", { scheme: "blueorange", domain: [-m, m], domainMid: 0 }),
            },
          },
        },
        {
          data: { values: bars },
          facet: { column: levelFacet({ labels: false }) },
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
              color: gradient("sup", "superposition", { scheme: "viridis", domain: [0, 1] }),
            },
          },
        },
      ],
      resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
    }),
  };
}
