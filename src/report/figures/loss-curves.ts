// Training curves: the sampled batch loss against the step, one line per sparsity level.

import type { ReportData } from "../data.js";
import { finite, mean } from "../stats.js";
import { columnsFor, type FigureDef, logField, presetFigure, sparsityPanels, VIRIDIS } from "./style.js";

export function trainingCurvesFigure(data: ReportData, preset: string): FigureDef | undefined {
  const panels = sparsityPanels(data, preset, (s, k, S, add) => {
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
          add({
            panel: s.label,
            porder: k,
            step,
            loss: Number(m.toPrecision(4)),
            sparsity: Number(S[i].toFixed(3)),
          });
      }
    });
  });
  if (!panels) return undefined;
  const { series, rows } = panels;
  return presetFigure(preset, "training-curves", {
    data: { values: rows },
    facet: { field: "panel", type: "nominal", sort: { field: "porder" }, title: null },
    columns: columnsFor(series.length),
    spec: {
      width: 150,
      height: 110,
      mark: { type: "line", strokeWidth: 1.2 },
      encoding: {
        x: logField(rows, "step"),
        y: logField(rows, "loss"),
        color: { field: "sparsity", type: "ordinal", title: "sparsity S", scale: { scheme: VIRIDIS } },
      },
    },
  });
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
