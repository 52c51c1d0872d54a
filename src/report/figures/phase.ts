// Phase diagrams of the 2-feature, 1-dimension model: each instance's class (majority over seeds) on the
// grid of relative importance × feature density.

import type { ReportData, Series } from "../data.js";
import { PHASE_CLASSES, PHASE_COLOURS, type PhaseClass, phaseClass } from "./phase-classes.js";
import { columnsFor, type FigureDef, presetFigure, type VlSpec, W } from "./style.js";

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
  return presetFigure(preset, "phase-diagrams", {
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
            range: PHASE_CLASSES.map((c) => PHASE_COLOURS[c]),
          },
          legend: { orient: "bottom", columns: 2, labelLimit: 320 },
        },
      },
    },
  });
}
