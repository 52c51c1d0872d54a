// The explorer's figures as SVG text (pure: no DOM), so the same code draws the live view, the exported
// SVG/PNG and the unit tests. Styles follow the notebook and the report (src/report/figures/): 2-D feature
// arrows coloured by importance (viridis), W Wᵀ heat maps on a diverging scale centred at 0 (blue −1 …
// orange +1), norm bars coloured by superposition (viridis, 0 … 1), log-log loss curves, Okabe–Ito phases.

import { PHASE_COLOURS, phaseClass } from "../../src/report/figures/phase-classes.js";

export interface Figure {
  width: number;
  height: number;
  /** SVG elements, in a coordinate system with the origin at the figure's top left. */
  body: string;
}

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";

/** matplotlib's viridis at 10 evenly spaced stops. */
const VIRIDIS = [
  "#440154",
  "#482878",
  "#3e4989",
  "#31688e",
  "#26828e",
  "#1f9e89",
  "#35b779",
  "#6ece58",
  "#b5de2b",
  "#fde725",
];
/** vega's "blueorange" (the report's scheme for signed values), from −1 (blue) to +1 (orange). */
const BLUE_ORANGE = [
  "#134b85",
  "#2f78b3",
  "#5da2cb",
  "#9dcae1",
  "#d2e5ef",
  "#f2f0eb",
  "#fce0ba",
  "#fbbf74",
  "#e8932f",
  "#c5690d",
  "#994a07",
];

function hexToRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const clamp01 = (t: number) => (Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0);

export function interpolate(stops: readonly string[], t: number): string {
  const x = clamp01(t) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(x));
  const f = x - k;
  const a = hexToRgb(stops[k]);
  const b = hexToRgb(stops[k + 1]);
  const c = a.map((v, j) => Math.round(v + (b[j] - v) * f));
  return `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

export const viridis = (t: number) => interpolate(VIRIDIS, t);
/** Diverging colour of a value in [−1, 1] (clamped). */
export const diverging = (v: number) => interpolate(BLUE_ORANGE, ((Number.isFinite(v) ? v : 0) + 1) / 2);
/** RGB of the diverging scale, for rasterised heat maps. */
export const divergingRgb = (v: number) => hexToRgb(diverging(v));

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const n3 = (x: number) => (Math.round(x * 100) / 100).toString();

/** A complete SVG document for a figure. */
export function toSvg(fig: Figure, attrs: Record<string, string> = {}): string {
  const extra = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n3(fig.width)} ${n3(fig.height)}" ` +
    `width="${n3(fig.width)}" height="${n3(fig.height)}" font-family="${FONT}"${extra}>${fig.body}</svg>`
  );
}

function text(x: number, y: number, s: string, attrs = ""): string {
  return `<text x="${n3(x)}" y="${n3(y)}"${attrs ? ` ${attrs}` : ""}>${escapeXml(s)}</text>`;
}

/** One instance's weights: W [I, F, H] and b [I, F] flat, as the core stores them. */
export interface InstanceView {
  W: ArrayLike<number>;
  instance: number;
  nFeatures: number;
  nHidden: number;
  /** Importance of each feature of this instance (length F). */
  importance: ArrayLike<number>;
  /** ‖W_f‖ and superposition per feature (from src/core/metrics.ts), for the bars. */
  norms: readonly number[];
  superposition: readonly number[];
}

export interface DiagramOptions {
  /** Side of the arrow plot, or of the heat map, in px. */
  size?: number;
  /** Small multiple: no axes labels, no tooltips. */
  compact?: boolean;
  /** Caption under the plot. */
  caption?: string;
  /** Draws an F×F heat map as an image (data URL) instead of F² rectangles, when F > rasterizeAbove. */
  rasterize?: (values: Float64Array, n: number) => string;
  /** Default 48: exported figures keep small heat maps as vector rectangles; the live view passes 0. */
  rasterizeAbove?: number;
}

/** The notebook's intro diagram for H = 2: a line from the origin to each W_f, coloured by importance. */
export function featureArrows(v: InstanceView, o: DiagramOptions = {}): Figure {
  const size = o.size ?? 240;
  const pad = o.compact ? 4 : 8;
  const captionH = o.caption ? (o.compact ? 14 : 18) : 0;
  const extent = 1.5;
  const c = size / 2;
  const scale = (size / 2 - pad) / extent;
  const { W, instance: i, nFeatures: F, nHidden: H } = v;
  let maxImp = 0;
  for (let f = 0; f < F; f++) maxImp = Math.max(maxImp, v.importance[f]);
  const parts: string[] = [
    `<rect class="plot-bg" x="0" y="0" width="${size}" height="${size}" fill="#fff" stroke="#ddd"/>`,
    `<line x1="${pad}" y1="${c}" x2="${size - pad}" y2="${c}" stroke="#ccc" stroke-width="1"/>`,
    `<line x1="${c}" y1="${pad}" x2="${c}" y2="${size - pad}" stroke="#ccc" stroke-width="1"/>`,
    `<circle cx="${c}" cy="${c}" r="${n3(scale)}" fill="none" stroke="#e4e4e4" stroke-dasharray="3 3"/>`,
  ];
  if (!o.compact) {
    parts.push(
      text(size - pad, c - 4, "h₁", `font-size="11" fill="#888" text-anchor="end"`),
      text(c + 4, pad + 10, "h₂", `font-size="11" fill="#888"`),
    );
  }
  const width = o.compact ? 1.6 : 2.5;
  const head = o.compact ? 5 : 9;
  // least important first, so the most important features are drawn on top
  const order = Array.from({ length: F }, (_, f) => f).sort((a, b) => v.importance[a] - v.importance[b]);
  for (const f of order) {
    const x = W[(i * F + f) * H];
    const y = W[(i * F + f) * H + 1];
    const colour = viridis(maxImp > 0 ? (0.92 * v.importance[f]) / maxImp : 0);
    const x2 = c + Math.max(-extent, Math.min(extent, x)) * scale;
    const y2 = c - Math.max(-extent, Math.min(extent, y)) * scale;
    const len = Math.hypot(x2 - c, y2 - c);
    const tip: string[] = [];
    if (len > head * 0.8) {
      const ux = (x2 - c) / len;
      const uy = (y2 - c) / len;
      const bx = x2 - ux * head;
      const by = y2 - uy * head;
      const w = head * 0.45;
      tip.push(
        `<line x1="${c}" y1="${c}" x2="${n3(bx)}" y2="${n3(by)}" stroke="${colour}" stroke-width="${width}" stroke-linecap="round"/>`,
        `<polygon points="${n3(x2)},${n3(y2)} ${n3(bx - uy * w)},${n3(by + ux * w)} ${n3(bx + uy * w)},${n3(by - ux * w)}" fill="${colour}"/>`,
      );
    } else {
      tip.push(`<circle cx="${n3(x2)}" cy="${n3(y2)}" r="${width * 1.2}" fill="${colour}"/>`);
    }
    const title = o.compact
      ? ""
      : `<title>feature ${f}: importance ${n3(v.importance[f])}, W_f = (${x.toFixed(3)}, ${y.toFixed(3)}), ‖W_f‖ = ${v.norms[f].toFixed(3)}</title>`;
    parts.push(`<g class="feature" data-feature="${f}">${title}${tip.join("")}</g>`);
  }
  if (o.caption) parts.push(caption(size / 2, size + captionH - 4, o.caption, o.compact));
  return { width: size, height: size + captionH, body: parts.join("") };
}

function caption(x: number, y: number, s: string, compact?: boolean): string {
  return text(x, y, s, `font-size="${compact ? 10 : 12}" fill="#333" text-anchor="middle"`);
}

/** W Wᵀ (the paper's WᵀW) of instance i: [F, F] Gram matrix of the feature directions. */
export function gram(W: ArrayLike<number>, i: number, F: number, H: number): Float64Array {
  const g = new Float64Array(F * F);
  for (let f = 0; f < F; f++) {
    for (let e = f; e < F; e++) {
      let s = 0;
      for (let k = 0; k < H; k++) s += W[(i * F + f) * H + k] * W[(i * F + e) * H + k];
      g[f * F + e] = s;
      g[e * F + f] = s;
    }
  }
  return g;
}

/** The notebook's render_features: W Wᵀ heat map and, row by row, bars of ‖W_f‖ coloured by superposition. */
export function gramWithBars(v: InstanceView, o: DiagramOptions = {}): Figure {
  const { nFeatures: F } = v;
  const size = o.size ?? 220;
  const cell = size / F;
  const gap = o.compact ? 4 : 10;
  const barW = o.compact ? Math.round(size * 0.4) : Math.round(size * 0.55);
  const top = o.compact ? 0 : 16;
  const captionH = o.caption ? (o.compact ? 14 : 18) : 0;
  const g = gram(v.W, v.instance, F, v.nHidden);
  const parts: string[] = [];
  if (!o.compact) {
    parts.push(
      text(0, 11, "W Wᵀ", `font-size="11" fill="#555"`),
      text(size + gap, 11, "‖W_f‖", `font-size="11" fill="#555"`),
    );
  }
  if (o.rasterize && F > (o.rasterizeAbove ?? 48)) {
    parts.push(
      `<image class="heat" x="0" y="${top}" width="${size}" height="${size}" preserveAspectRatio="none" ` +
        `style="image-rendering:pixelated" href="${o.rasterize(g, F)}"/>`,
    );
  } else {
    const cells: string[] = [];
    for (let f = 0; f < F; f++) {
      for (let e = 0; e < F; e++) {
        cells.push(
          `<rect x="${n3(e * cell)}" y="${n3(top + f * cell)}" width="${n3(cell + 0.3)}" height="${n3(cell + 0.3)}" fill="${diverging(g[f * F + e])}"/>`,
        );
      }
    }
    parts.push(`<g class="heat">${cells.join("")}</g>`);
  }
  parts.push(
    `<rect x="0" y="${top}" width="${n3(size)}" height="${n3(size)}" fill="none" stroke="#bbb" stroke-width="0.5"/>`,
  );
  const maxNorm = Math.max(1, ...v.norms.filter(Number.isFinite));
  const bars: string[] = [];
  for (let f = 0; f < F; f++) {
    const len = (clamp01(v.norms[f] / maxNorm) || 0) * barW;
    const title = o.compact
      ? ""
      : `<title>feature ${f}: ‖W_f‖ = ${v.norms[f].toFixed(3)}, superposition ${v.superposition[f].toFixed(3)}</title>`;
    bars.push(
      `<rect class="norm-bar" data-feature="${f}" x="${size + gap}" y="${n3(top + f * cell + cell * 0.1)}" width="${n3(len)}" height="${n3(Math.max(0.5, cell * 0.8))}" fill="${viridis(v.superposition[f])}">${title}</rect>`,
    );
  }
  parts.push(`<g class="bars">${bars.join("")}</g>`);
  const x1 = size + gap + barW / maxNorm;
  if (maxNorm > 1 || !o.compact) {
    parts.push(
      `<line x1="${n3(x1)}" y1="${top}" x2="${n3(x1)}" y2="${top + size}" stroke="#999" stroke-dasharray="2 2"/>`,
    );
    if (!o.compact)
      parts.push(text(x1, top + size + 12, "1", `font-size="10" fill="#777" text-anchor="middle"`));
  }
  const width = size + gap + barW + (o.compact ? 0 : 8);
  let legendH = 0;
  if (!o.compact) {
    // the bars' colour scale: superposition 0 … 1
    const lx = size + gap;
    const ly = top + size + 18;
    const stops = Array.from({ length: 11 }, (_, k) => k / 10);
    const lw = Math.min(barW, 110);
    parts.push(
      ...stops
        .slice(0, -1)
        .map(
          (t, k) =>
            `<rect x="${n3(lx + (k * lw) / 10)}" y="${ly}" width="${n3(lw / 10 + 0.3)}" height="7" fill="${viridis(t + 0.05)}"/>`,
        ),
      text(lx, ly + 17, "0", `font-size="9" fill="#666"`),
      text(lx + lw, ly + 17, "1", `font-size="9" fill="#666" text-anchor="end"`),
      text(lx + lw / 2, ly + 17, "superposition", `font-size="9" fill="#666" text-anchor="middle"`),
    );
    legendH = 24;
  }
  const height = top + size + (o.compact ? 0 : 14) + legendH + captionH;
  if (o.caption) parts.push(caption(width / 2, height - 4, o.caption, o.compact));
  return { width, height, body: parts.join("") };
}

/** The diagram of an instance: arrows for H = 2, the heat map with norm bars otherwise. */
export function instanceDiagram(v: InstanceView, o: DiagramOptions = {}): Figure {
  return v.nHidden === 2 ? featureArrows(v, o) : gramWithBars(v, o);
}

export interface CurveData {
  step: readonly number[];
  /** [point][instance] */
  loss: readonly (readonly number[])[];
}

export interface CurveOptions {
  width?: number;
  height?: number;
  /** Last step of the x axis (the run's length), so a live curve grows into a fixed frame. */
  totalSteps?: number;
  /** Colour of instance i. */
  colour?: (i: number, n: number) => string;
  highlight?: number;
  title?: string;
}

function niceLogTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of hi - lo < 1.2 ? [1, 2, 5] : [1]) {
      const t = Math.log10(m) + e;
      if (t >= lo - 1e-9 && t <= hi + 1e-9) ticks.push(t);
    }
  }
  return ticks;
}

function tickLabel(t: number): string {
  const v = 10 ** t;
  if (v >= 1 && v < 1e5) return String(Math.round(v));
  const e = Math.round(t);
  return Math.abs(t - e) < 1e-9 ? `1e${e}` : v.toExponential(0).replace("+", "");
}

/** Training loss against step, both on log scales, one line per instance. */
export function lossCurve(curve: CurveData, o: CurveOptions = {}): Figure {
  const width = o.width ?? 480;
  const height = o.height ?? 220;
  const m = { left: 52, right: 10, top: o.title ? 22 : 10, bottom: 30 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const nInst = curve.loss[0]?.length ?? 0;
  const colour = o.colour ?? ((i: number, n: number) => viridis(n > 1 ? (0.9 * i) / (n - 1) : 0.3));
  const lastStep = Math.max(o.totalSteps ?? 1, curve.step[curve.step.length - 1] ?? 1, 10);
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of curve.loss) {
    for (const l of row) {
      if (l > 0 && Number.isFinite(l)) {
        lo = Math.min(lo, Math.log10(l));
        hi = Math.max(hi, Math.log10(l));
      }
    }
  }
  if (!Number.isFinite(lo)) [lo, hi] = [-3, 0];
  if (hi - lo < 0.3) [lo, hi] = [lo - 0.15, hi + 0.15];
  const xLo = 0;
  const xHi = Math.log10(lastStep);
  const X = (step: number) => m.left + ((Math.log10(Math.max(1, step)) - xLo) / (xHi - xLo)) * pw;
  const Y = (lg: number) => m.top + (1 - (lg - lo) / (hi - lo)) * ph;
  const parts: string[] = [`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`];
  if (o.title) parts.push(text(m.left, 15, o.title, `font-size="12" fill="#333" font-weight="600"`));
  for (const t of niceLogTicks(lo, hi)) {
    const y = Y(t);
    parts.push(
      `<line x1="${m.left}" y1="${n3(y)}" x2="${width - m.right}" y2="${n3(y)}" stroke="#eee"/>`,
      text(m.left - 5, y + 3.5, tickLabel(t), `font-size="10" fill="#666" text-anchor="end"`),
    );
  }
  for (const t of niceLogTicks(xLo, xHi)) {
    const x = X(10 ** t);
    parts.push(
      `<line x1="${n3(x)}" y1="${m.top}" x2="${n3(x)}" y2="${m.top + ph}" stroke="#eee"/>`,
      text(x, m.top + ph + 13, tickLabel(t), `font-size="10" fill="#666" text-anchor="middle"`),
    );
  }
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#bbb"/>`,
    text(m.left + pw / 2, height - 3, "step", `font-size="10" fill="#666" text-anchor="middle"`),
    text(
      12,
      m.top + ph / 2,
      "loss",
      `font-size="10" fill="#666" text-anchor="middle" transform="rotate(-90 12 ${n3(m.top + ph / 2)})"`,
    ),
  );
  const lines: string[] = [];
  const order = Array.from({ length: nInst }, (_, i) => i).filter((i) => i !== o.highlight);
  if (o.highlight !== undefined && o.highlight < nInst) order.push(o.highlight);
  for (const i of order) {
    let d = "";
    let pen = false;
    for (let k = 0; k < curve.step.length; k++) {
      const l = curve.loss[k][i];
      if (!(l > 0 && Number.isFinite(l))) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${n3(X(curve.step[k]))} ${n3(Y(Math.log10(l)))}`;
      pen = true;
    }
    if (!d) continue;
    const hl = o.highlight === i;
    const dim = o.highlight !== undefined && !hl;
    lines.push(
      `<path class="loss-line" data-instance="${i}" d="${d}" fill="none" stroke="${colour(i, nInst)}" ` +
        `stroke-width="${hl ? 2.6 : 1.4}" stroke-opacity="${dim ? 0.45 : 1}" stroke-linejoin="round"/>`,
    );
  }
  parts.push(`<g class="curves">${lines.join("")}</g>`);
  return { width, height, body: parts.join("") };
}

/**
 * What an instance looks like at a glance, for the overview of runs with many instances: the phase class
 * for 2 features, else how many features are represented (‖W_f‖ > 0.5), on viridis.
 */
export function instanceClass(
  W: ArrayLike<number>,
  i: number,
  F: number,
  H: number,
  represented = 0.5,
): { label: string; colour: string } {
  const row = (f: number) => Array.from({ length: H }, (_, k) => W[(i * F + f) * H + k]);
  if (F === 2) {
    const label = phaseClass(row(0), row(1));
    return { label, colour: PHASE_COLOURS[label] };
  }
  let rep = 0;
  for (let f = 0; f < F; f++) if (Math.hypot(...row(f)) > represented) rep++;
  return { label: `${rep} of ${F} features represented`, colour: viridis(rep / Math.max(1, F)) };
}

/** A grid of small squares, one per instance (row-major), for runs with too many instances to draw each. */
export function overviewGrid(
  classes: readonly { label: string; colour: string }[],
  o: { columns: number; cell?: number; selected?: number },
): Figure {
  const cell = o.cell ?? 14;
  const rows = Math.ceil(classes.length / o.columns);
  const parts = classes.map((c, i) => {
    const x = (i % o.columns) * cell;
    const y = Math.floor(i / o.columns) * cell;
    const sel = i === o.selected ? ` stroke="#000" stroke-width="2"` : ` stroke="#fff" stroke-width="0.5"`;
    return `<rect class="instance-cell" data-instance="${i}" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${c.colour}"${sel}><title>instance ${i}: ${escapeXml(c.label)}</title></rect>`;
  });
  return { width: o.columns * cell, height: rows * cell, body: parts.join("") };
}

/** Places figures in rows of at most `perRow`, with captions already inside them. */
export function grid(figs: readonly Figure[], perRow: number, gap = 12): Figure {
  let y = 0;
  let width = 0;
  const parts: string[] = [];
  for (let r = 0; r < figs.length; r += perRow) {
    const row = figs.slice(r, r + perRow);
    let x = 0;
    let h = 0;
    for (const f of row) {
      parts.push(`<g transform="translate(${n3(x)},${n3(y)})">${f.body}</g>`);
      x += f.width + gap;
      h = Math.max(h, f.height);
    }
    width = Math.max(width, x - gap);
    y += h + gap;
  }
  return { width, height: Math.max(0, y - gap), body: parts.join("") };
}

/** Stacks figures vertically under a title, on a white background, with a margin. */
export function stack(title: string, figs: readonly Figure[], margin = 16, gap = 16): Figure {
  let y = margin + 20;
  const parts: string[] = [text(margin, margin + 12, title, `font-size="15" font-weight="600" fill="#222"`)];
  let width = 0;
  for (const f of figs) {
    parts.push(`<g transform="translate(${margin},${n3(y)})">${f.body}</g>`);
    y += f.height + gap;
    width = Math.max(width, f.width);
  }
  const w = width + 2 * margin;
  const h = y - gap + margin;
  return { width: w, height: h, body: `<rect width="${w}" height="${n3(h)}" fill="#fff"/>${parts.join("")}` };
}
