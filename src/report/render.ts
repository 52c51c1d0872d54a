// Vega-Lite spec → SVG (vega's headless renderer, no browser) → PNG (resvg, with DejaVu Sans from the
// dejavu-fonts-ttf package loaded explicitly, so text renders the same on every machine).

import { renderAsync } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { VlSpec } from "./figures.js";
import { FONT_FILES, installFontMetrics } from "./font-metrics.js";

/** Renders a Vega-Lite spec to a standalone SVG string; ids are prefixed so many SVGs can share a page. */
export async function renderSvg(spec: VlSpec, idPrefix: string): Promise<string> {
  // vega re-exports vega-scenegraph's textMetrics (untyped in vega's .d.ts).
  installFontMetrics((vega as unknown as { textMetrics: { width: unknown } }).textMetrics);
  const vg = compile(spec as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vg), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    return uniqueIds(compactSvg(svg), idPrefix);
  } finally {
    view.finalize();
  }
}

const hex2 = (v: string) => Number(v).toString(16).padStart(2, "0");

/**
 * Smaller SVG, same picture: drops vega's empty background/foreground paths and accessibility roles (aria
 * is off), and writes rgb() colours as hex.
 */
export function compactSvg(svg: string): string {
  return svg
    .replace(/<path class="(?:background|foreground)" aria-hidden="true" d="(?:M0,0h0v0h0Z)?"[^>]*\/>/g, "")
    .replace(/ aria-hidden="true"| role="[^"]*"| aria-roledescription="[^"]*"| pointer-events="none"/g, "")
    .replace(/rgb\((\d+), ?(\d+), ?(\d+)\)/g, (_, r, g, b) => `#${hex2(r)}${hex2(g)}${hex2(b)}`);
}

/** Makes the SVG's element ids (clip paths, gradients) unique to this figure. */
export function uniqueIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (!ids.size) return svg;
  const p = prefix.replace(/[^A-Za-z0-9_-]/g, "-");
  return svg
    .replace(/\sid="([^"]+)"/g, (_, id) => ` id="${p}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (all, id) => (ids.has(id) ? `url(#${p}-${id})` : all))
    .replace(/href="#([^"]+)"/g, (all, id) => (ids.has(id) ? `href="#${p}-${id}"` : all));
}

export interface Png {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Rasterises an SVG (off the main thread: resvg's async render runs in libuv's pool). */
export async function renderPng(
  svg: string,
  options: { scale?: number; maxWidth?: number } = {},
): Promise<Png> {
  const widthMatch = /<svg[^>]*\swidth="([\d.]+)"/.exec(svg);
  const width = widthMatch ? Number(widthMatch[1]) : 800;
  const scale = Math.min(options.scale ?? 2, (options.maxWidth ?? 2400) / width);
  const img = await renderAsync(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: {
      fontFiles: [FONT_FILES.regular, FONT_FILES.bold],
      loadSystemFonts: false,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
    },
  });
  return { data: new Uint8Array(img.asPng()), width: img.width, height: img.height };
}

/** Width and height of a PNG from its IHDR chunk (undefined if the bytes are not a PNG). */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || sig.some((b, k) => bytes[k] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") return undefined;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
