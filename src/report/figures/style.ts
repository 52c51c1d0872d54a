// The figures' one style and the helpers every figure family uses: a Vega-Lite spec with the shared config,
// log scales framed by decades, the palettes (viridis for ordered quantities, blue–orange for signed ones,
// Okabe–Ito for categories). DejaVu Sans throughout (render.ts loads it).

import { type ReportData, type Series, sparsitySeries, type Weights } from "../data.js";
import { slug } from "../format.js";
import FIGURE_TEXTS from "./texts.json" with { type: "json" };

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

/**
 * The rows of a figure with one panel per series of a sparsity preset: `each` adds the rows of series s (its
 * order k, the levels S). Undefined when the preset is no sparsity sweep or no series added a row.
 */
export function sparsityPanels(
  data: ReportData,
  preset: string,
  each: (s: Series, k: number, S: number[], add: (row: VlSpec) => void) => void,
): { series: Series[]; S: number[]; rows: VlSpec[] } | undefined {
  const found = sparsitySeries(data, preset);
  if (!found) return undefined;
  const rows: VlSpec[] = [];
  const add = (row: VlSpec) => {
    rows.push(row);
  };
  found.series.forEach((s, k) => {
    each(s, k, found.S, add);
  });
  return rows.length ? { ...found, rows } : undefined;
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
export const ACCENT = "#0072B2";

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

export function spec(title: string, subtitle: string, body: VlSpec): VlSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle: wrap(subtitle, 120) },
    config: STYLE,
    ...body,
  };
}

/** The name of a figure drawn once per preset, whose words (title, subtitle, caption) are in texts.json. */
export type PresetFigureName = keyof typeof FIGURE_TEXTS;

/**
 * A key figure of one preset: the words from texts.json (the title gains " — preset"), the id from the preset
 * and the name, and `body`, the Vega-Lite spec of the drawing.
 */
export function presetFigure(preset: string, name: PresetFigureName, body: VlSpec): FigureDef {
  const text = FIGURE_TEXTS[name];
  const title = `${text.title} — ${preset}`;
  const group = text.group as FigureDef["group"];
  return {
    id: `${slug(preset)}-${name}`,
    group,
    title,
    caption: text.caption,
    key: true,
    spec: spec(title, text.subtitle, body),
  };
}

/** The facet of one panel per sparsity level: field `panel`, in the order of field `order`, no title. */
export function levelFacet(header?: VlSpec): VlSpec {
  return {
    field: "panel",
    type: "ordinal",
    sort: { field: "order" },
    title: null,
    ...(header ? { header } : {}),
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

export const W = (w: Weights, i: number, f: number, k: number) => w.W[(i * w.F + f) * w.H + k];
export const density = (S: number) => 1 / Math.max(1e-12, 1 - S);
export const columnsFor = (n: number, max = 6) => Math.min(max, Math.max(1, Math.ceil(Math.sqrt(n * 1.5))));

/** A log scale framed by whole decades, with one labelled grid line per decade (plus 2 and 5 when short). */
/** A quantitative channel for `field` of the rows on a log scale framed by decades (logScale). */
export function logField(rows: readonly VlSpec[], field: string, title: string = field): VlSpec {
  return {
    field,
    type: "quantitative",
    ...logScale(
      rows.map((r) => r[field]),
      title,
    ),
  };
}

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

export const VIRIDIS = { name: "viridis", extent: [0, 0.88] };
