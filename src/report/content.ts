// What every document (HTML, Markdown, Word) shows, assembled once: the store's overview and gaps, the
// findings, the tables and the rendered figures.

import type { ReportData } from "./data.js";
import type { FigureDef } from "./figures.js";
import { type Finding, THRESHOLDS } from "./findings/index.js";
import { MEASURE_DEFINITIONS } from "./measures.js";
import type { Png } from "./render.js";
import type { ReportTable } from "./tables.js";

export interface RenderedFigure {
  def: FigureDef;
  svg: string;
  /** Kept only for figures the Word document embeds. */
  png?: Png;
}

export interface ReportContent {
  title: string;
  dir: string;
  generatedAt: string;
  overview: string[];
  /** Missing or unreadable cells, and anything the report could not draw. */
  gaps: string[];
  findings: Finding[];
  tables: ReportTable[];
  figures: RenderedFigure[];
  /** Which figure files exist next to the documents (for Markdown links). */
  figureFiles: "svg" | "png" | null;
}

export const VERDICT_LABEL: Record<Finding["verdict"], string> = {
  supported: "Supported",
  "not supported": "Not supported",
  inconclusive: "Inconclusive",
};

export const FIGURE_GROUPS: { group: FigureDef["group"]; title: string }[] = [
  { group: "across", title: "Across activations" },
  { group: "training", title: "Training curves" },
  { group: "per-activation", title: "Per activation" },
];

const MAX_LISTED = 40;

/** Overview lines and gaps of a store. */
export function describeStore(data: ReportData): { overview: string[]; gaps: string[] } {
  const overview: string[] = [];
  const total = data.manifest.cells.length;
  overview.push(
    `${data.results.length} of ${total} cells complete` +
      (data.missing.length ? `, ${data.missing.length} missing` : "") +
      (data.unreadable.length ? `, ${data.unreadable.length} unreadable` : "") +
      ".",
  );
  for (const p of data.presets) {
    const series = data.seriesOf(p);
    const base = series.filter((s) => s.variant === "");
    const variants = series.filter((s) => s.variant !== "");
    const seeds = [...new Set(series.flatMap((s) => s.cells.map((c) => c.seed)))].sort((a, b) => a - b);
    const steps = [...new Set(series.flatMap((s) => s.cells.map((c) => c.steps)))];
    const first = series.find((s) => s.cells.length)?.cells[0];
    overview.push(
      `${p}: ${base.length} activations` +
        (variants.length
          ? ` + ${variants.length} variant series (${variants.map((s) => s.id).join(", ")})`
          : "") +
        `; seeds ${seeds.join(", ")}; ${steps.join("/")} steps` +
        (first
          ? `; ${first.nFeatures} features in ${first.nHidden} dimensions, ${first.nInstances} instances`
          : "") +
        ".",
    );
  }
  const gaps: string[] = [];
  if (data.results.length === 0) gaps.push("The store has no complete cells: nothing to report yet.");
  if (data.missing.length) {
    gaps.push(
      `Missing cells (listed in the manifest, not trained yet; run the same tms sweep again to finish them): ` +
        data.missing.slice(0, MAX_LISTED).join(", ") +
        (data.missing.length > MAX_LISTED ? `, … (${data.missing.length - MAX_LISTED} more)` : "") +
        ".",
    );
  }
  for (const u of data.unreadable) gaps.push(`Unreadable cell ${u.key}: ${u.error}.`);
  for (const p of data.presets) {
    const series = data.seriesOf(p);
    const most = Math.max(...series.map((s) => s.cells.length));
    const short = series.filter((s) => s.cells.length < most);
    if (short.length)
      gaps.push(
        `${p}: fewer seeds for ${short.map((s) => `${s.id} (${s.cells.length}/${most})`).join(", ")}; their intervals are wider.`,
      );
  }
  return { overview, gaps };
}

/** The first sentence of a finding's summary (the "What we found" table), at most `max` characters. */
export function oneSentence(f: Finding, max = 240): string {
  const m = /^(.*?[.!?])(\s|$)/.exec(f.summary);
  const s = f.headline ?? (m ? m[1] : f.summary);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export interface ResolvedLink {
  id: string;
  kind: "figure" | "table";
  title: string;
}

/** A finding's links that exist in this report (figures and tables), in the finding's order. */
export function resolveLinks(c: Pick<ReportContent, "figures" | "tables">, f: Finding): ResolvedLink[] {
  const out: ResolvedLink[] = [];
  for (const id of f.links ?? []) {
    const fig = c.figures.find((x) => x.def.id === id);
    if (fig) out.push({ id, kind: "figure", title: fig.def.title });
    const t = c.tables.find((x) => x.id === id);
    if (t) out.push({ id, kind: "table", title: t.title });
  }
  return out;
}

/** The method section: the measures (measures.ts) and every threshold a verdict depends on. */
export function methodSection(): {
  measures: { name: string; definition: string }[];
  thresholds: [string, string][];
} {
  return {
    measures: MEASURE_DEFINITIONS,
    thresholds: Object.entries(THRESHOLDS).map(([k, v]) => [k, String(v)]),
  };
}
