// Text widths from the DejaVu Sans font files themselves (advance widths read by opentype.js), so vega lays
// out labels, legends and headers for the font the SVG and PNG actually use. Without a canvas, vega would
// guess 0.8 × font size per character, which misplaces right-aligned headers. The font files come from the
// dejavu-fonts-ttf package, so every machine measures and renders with the same font.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import opentype from "opentype.js";

const require = createRequire(import.meta.url);

/** DejaVu Sans, regular and bold (resvg renders the PNGs with these; vega measures with them). */
export const FONT_FILES = {
  regular: require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf"),
  bold: require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf"),
};

export interface FontMetrics {
  unitsPerEm: number;
  /** Advance width of a character in font units (the missing glyph's for a character the font lacks). */
  advance(codePoint: number): number;
}

/** Advance widths of a TrueType or OpenType font file. */
export function loadFontMetrics(path: string): FontMetrics {
  const bytes = readFileSync(path);
  const font = opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const cache = new Map<number, number>();
  return {
    unitsPerEm: font.unitsPerEm,
    advance(c: number) {
      let w = cache.get(c);
      if (w === undefined) {
        w = font.charToGlyph(String.fromCodePoint(c)).advanceWidth ?? 0;
        cache.set(c, w);
      }
      return w;
    },
  };
}

export interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
  ellipsis?: string;
}

/** A vega textMetrics.width replacement measuring with the given regular and bold fonts. */
export function widthFunction(regular: FontMetrics, bold: FontMetrics) {
  const measure = (item: TextItem, text: string) => {
    const size = item.fontSize != null ? +item.fontSize || 0 : 11;
    const w = item.fontWeight;
    const font = w === "bold" || w === "bolder" || (typeof w === "number" && w >= 600) ? bold : regular;
    let units = 0;
    for (const ch of text) units += font.advance(ch.codePointAt(0)!);
    return (units / font.unitsPerEm) * size;
  };
  return (item: TextItem, line: unknown): number => {
    const text = line == null ? "" : String(line).trim();
    if (!(+(item.limit ?? 0) > 0) || !text) return measure(item, text);
    const limit = +item.limit!;
    if (measure(item, text) < limit) return measure(item, text);
    // Truncated as vega does: the longest prefix that fits with the ellipsis.
    const ellipsis = item.ellipsis ?? "…";
    const room = limit - measure(item, ellipsis);
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = 1 + ((lo + hi) >>> 1);
      if (measure(item, text.slice(0, mid)) > room) hi = mid - 1;
      else lo = mid;
    }
    return measure(item, text.slice(0, lo) + ellipsis);
  };
}

let installed = false;

/** Points vega's text measurement at DejaVu Sans (once per process). */
export function installFontMetrics(textMetrics: { width: unknown }): void {
  if (installed) return;
  textMetrics.width = widthFunction(loadFontMetrics(FONT_FILES.regular), loadFontMetrics(FONT_FILES.bold));
  installed = true;
}
