// The report's figures, each a pure function from the store's results to a Vega-Lite spec (plain JSON), one
// file per family in figures/; render.ts turns a spec into SVG (vega's headless renderer) and PNG (resvg).
// This file is the plan: which figures a store supports, by each preset's kind.

import { isSparsityPreset, type ReportData } from "./data.js";
import {
  dimsPerFeatureFigure,
  featureDimensionalityFigure,
  lossHeatmapFigure,
  lossVsSparsityFigure,
  superpositionLossFigure,
} from "./figures/across.js";
import { demoFigure, introFigure, introOverviewFigure } from "./figures/features.js";
import { phaseFigure } from "./figures/phase.js";
import type { FigureDef, FigurePlan } from "./figures/style.js";
import { trainingCurvesFigure } from "./figures/training.js";
import { slug } from "./format.js";

export * from "./figures/across.js";
export * from "./figures/features.js";
export * from "./figures/phase.js";
export * from "./figures/phase-classes.js";
export * from "./figures/style.js";
export * from "./figures/training.js";

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
