// What the Train and Browse tabs draw for one run (a live one or a stored one): the selected instance's
// diagram and metrics, one small diagram per instance, the loss curve, and the composite figure exported as
// SVG/PNG. Pure: tested in Node.

import { type InstanceMetrics, instanceMetrics } from "../../src/core/metrics.js";
import {
  type CurveData,
  type Figure,
  grid,
  type InstanceView,
  instanceClass,
  instanceDiagram,
  lossCurve,
  overviewGrid,
  stack,
} from "./figures.js";
import { formatSparsity } from "./format.js";

/** Runs with more instances than this show an overview grid instead of one small diagram each. */
export const MAX_MINIS = 24;

export interface RunData {
  title: string;
  nFeatures: number;
  nHidden: number;
  featureProbability: readonly number[];
  /** [instance][feature], flat. */
  importance: ArrayLike<number>;
  W: ArrayLike<number>;
  b: ArrayLike<number>;
  curve: CurveData;
  totalSteps: number;
  /** How to read the overview grid (runs with more than MAX_MINIS instances). */
  overviewNote?: string;
}

/** The phase preset's overview: its instances are a 20 × 20 grid, row = probability, column = importance. */
export const PHASE_NOTE =
  "Rows: feature probability 1 → 0.01 (top to bottom); columns: importance of feature 2, 0.1 → 10 (left to right).";

export const instanceCount = (r: RunData) => r.featureProbability.length;

export function metricsOf(r: RunData, i: number): InstanceMetrics {
  return instanceMetrics(r.W as Float64Array, r.b as Float64Array, i, r.nFeatures, r.nHidden);
}

export function viewOf(r: RunData, i: number, m: InstanceMetrics = metricsOf(r, i)): InstanceView {
  const F = r.nFeatures;
  const importance = Array.from({ length: F }, (_, f) => r.importance[i * F + f]);
  return {
    W: r.W,
    instance: i,
    nFeatures: F,
    nHidden: r.nHidden,
    importance,
    norms: m.norms,
    superposition: m.superposition,
  };
}

export const sparsityCaption = (r: RunData, i: number) => `S = ${formatSparsity(r.featureProbability[i])}`;

/** Columns of the overview grid: the phase preset's 20 × 20, else about square. */
export const overviewColumns = (n: number) => Math.ceil(Math.sqrt(n));

export function overviewClasses(r: RunData): { label: string; colour: string }[] {
  return Array.from({ length: instanceCount(r) }, (_, i) => instanceClass(r.W, i, r.nFeatures, r.nHidden));
}

export function overviewFigure(
  r: RunData,
  selected?: number,
  classes: { label: string; colour: string }[] = overviewClasses(r),
): Figure {
  return overviewGrid(classes, { columns: overviewColumns(instanceCount(r)), cell: 14, selected });
}

/** The distinct classes of an overview, in order of first appearance (its legend). */
export function legendOf(
  classes: readonly { label: string; colour: string }[],
): { label: string; colour: string }[] {
  const seen = new Map<string, { label: string; colour: string }>();
  for (const c of classes) if (!seen.has(c.label)) seen.set(c.label, c);
  return [...seen.values()];
}

/** The figure a user exports: title, loss curve, and every instance's diagram (or the overview grid). */
export function exportFigure(
  r: RunData,
  selected: number,
  rasterize?: (values: Float64Array, n: number) => string,
): Figure {
  const n = instanceCount(r);
  const curve = lossCurve(r.curve, {
    width: 560,
    height: 240,
    totalSteps: r.totalSteps,
    highlight: selected,
    title: "Training loss (one line per sparsity level)",
  });
  let diagrams: Figure;
  if (n <= MAX_MINIS) {
    const size = r.nHidden === 2 ? 150 : Math.max(120, Math.min(200, r.nFeatures * 8));
    diagrams = grid(
      Array.from({ length: n }, (_, i) =>
        instanceDiagram(viewOf(r, i), { size, compact: true, caption: sparsityCaption(r, i), rasterize }),
      ),
      r.nHidden === 2 ? 5 : 4,
    );
  } else {
    const m = metricsOf(r, selected);
    diagrams = grid(
      [
        overviewFigure(r, selected),
        instanceDiagram(viewOf(r, selected, m), {
          size: 220,
          caption: `instance ${selected}: ${sparsityCaption(r, selected)}`,
          rasterize,
        }),
      ],
      2,
      24,
    );
  }
  return stack(r.title, [diagrams, curve]);
}
