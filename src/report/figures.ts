// The report's figures, each a pure function from the store's results to a Vega-Lite spec (plain JSON), one
// file per family in figures/; render.ts turns a spec into SVG (vega's headless renderer) and PNG (resvg).
// This file is the plan: which figures a store supports, by each preset's kind.

import { isSparsityPreset, presetKind, type ReportData } from "./data.js";
import {
  dimsPerFeatureFigure,
  featureDimensionalityFigure,
  lossHeatmapFigure,
  lossVsSparsityFigure,
  superpositionLossFigure,
} from "./figures/across.js";
import { demoFigure, introFigure, introOverviewFigure } from "./figures/features.js";
import { trainingCurvesFigure } from "./figures/loss-curves.js";
import { phaseFigure } from "./figures/phase.js";
import type { FigureDef, FigurePlan } from "./figures/style.js";
import { slug } from "./format.js";

export * from "./figures/across.js";
export * from "./figures/features.js";
export * from "./figures/loss-curves.js";
export * from "./figures/phase.js";
export * from "./figures/phase-classes.js";
export * from "./figures/style.js";

/** Every figure the store supports, by each preset's kind, built lazily (one at a time while rendering). */
export function planFigures(data: ReportData): FigurePlan[] {
  const plans: FigurePlan[] = [];
  const add = (id: string, group: FigureDef["group"], build: () => FigureDef | undefined) =>
    plans.push({ id, group, build });
  for (const p of data.presets) {
    const series = data.seriesOf(p).filter((s) => s.cells.length);
    if (!series.length) continue;
    const kind = presetKind(p, series);
    if (kind === "phase") {
      add(`${slug(p)}-phase-diagrams`, "across", () => phaseFigure(data, p));
      continue;
    }
    if (!isSparsityPreset(p, series)) continue;
    add(`${slug(p)}-loss-vs-sparsity`, "across", () => lossVsSparsityFigure(data, p));
    add(`${slug(p)}-loss-heatmap`, "across", () => lossHeatmapFigure(data, p));
    if (series.filter((s) => s.variant === "").length >= 3)
      add(`${slug(p)}-superposition-vs-loss`, "across", () => superpositionLossFigure(data, p));
    add(`${slug(p)}-dims-per-feature`, "across", () => dimsPerFeatureFigure(data, p));
    if (kind === "geometry")
      add(`${slug(p)}-feature-dimensionality`, "across", () => featureDimensionalityFigure(data, p));
    add(`${slug(p)}-training-curves`, "training", () => trainingCurvesFigure(data, p));
    if (kind === "sparsity-2d") {
      add(`${slug(p)}-features-overview`, "across", () => introOverviewFigure(data, p));
      for (const s of series)
        add(`${slug(p)}-features-${slug(s.id)}`, "per-activation", () => introFigure(data, s));
    } else if (kind === "sparsity-gram") {
      for (const s of series)
        add(`${slug(p)}-features-${slug(s.id)}`, "per-activation", () => demoFigure(data, s));
    }
  }
  return plans;
}
