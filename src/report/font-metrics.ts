// Text widths from the DejaVu Sans font files themselves (advance widths via the TrueType cmap and hmtx
// tables), so vega lays out labels, legends and headers for the font the SVG and PNG actually use. Without a
// canvas, vega would guess 0.8 × font size per character, which misplaces right-aligned headers.

import { existsSync, readFileSync } from "node:fs";

export interface FontMetrics {
  unitsPerEm: number;
  /** Advance width of a character in font units (0 for a missing glyph). */
  advance(codePoint: number): number;
}

/** Parses the parts of a TrueType file needed for advance widths (cmap format 4, hmtx). */
export function parseTrueType(bytes: Uint8Array): FontMetrics {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = new Map<string, number>();
  const numTables = view.getUint16(4);
  for (let k = 0; k < numTables; k++) {
    const rec = 12 + 16 * k;
    const tag = String.fromCharCode(...bytes.subarray(rec, rec + 4));
    tables.set(tag, view.getUint32(rec + 8));
  }
  const need = (tag: string) => {
    const at = tables.get(tag);
    if (at === undefined) throw new Error(`font has no '${tag}' table`);
    return at;
  };
  const unitsPerEm = view.getUint16(need("head") + 18);
  const numberOfHMetrics = view.getUint16(need("hhea") + 34);
  const hmtx = need("hmtx");
  const cmap = need("cmap");
  let sub = -1;
  const nSub = view.getUint16(cmap + 2);
  for (let k = 0; k < nSub; k++) {
    const platform = view.getUint16(cmap + 4 + 8 * k);
    const encoding = view.getUint16(cmap + 6 + 8 * k);
    const offset = cmap + view.getUint32(cmap + 8 + 8 * k);
    if (view.getUint16(offset) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) {
      sub = offset;
      break;
    }
  }
  if (sub < 0) throw new Error("font has no format-4 Unicode cmap");
  const segCount = view.getUint16(sub + 6) / 2;
  const endCodes = sub + 14;
  const startCodes = endCodes + 2 * segCount + 2;
  const idDeltas = startCodes + 2 * segCount;
  const idRangeOffsets = idDeltas + 2 * segCount;
  const glyph = (c: number): number => {
    for (let s = 0; s < segCount; s++) {
      if (view.getUint16(endCodes + 2 * s) < c) continue;
      const start = view.getUint16(startCodes + 2 * s);
      if (start > c) return 0;
      const delta = view.getInt16(idDeltas + 2 * s);
      const ro = view.getUint16(idRangeOffsets + 2 * s);
      if (ro === 0) return (c + delta) & 0xffff;
      const g = view.getUint16(idRangeOffsets + 2 * s + ro + 2 * (c - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  return {
    unitsPerEm,
    advance(c: number) {
      let w = cache.get(c);
      if (w === undefined) {
        const g = c > 0xffff ? 0 : glyph(c);
        const m = Math.min(g, numberOfHMetrics - 1);
        w = view.getUint16(hmtx + 4 * m);
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

/**
 * Points vega's text measurement at DejaVu Sans (once per process). Returns false, leaving vega's estimate,
 * when the font files are absent.
 */
export function installFontMetrics(
  textMetrics: { width: unknown },
  regularPath: string,
  boldPath: string,
): boolean {
  if (installed) return true;
  if (!existsSync(regularPath)) return false;
  const regular = parseTrueType(new Uint8Array(readFileSync(regularPath)));
  const bold = existsSync(boldPath) ? parseTrueType(new Uint8Array(readFileSync(boldPath))) : regular;
  textMetrics.width = widthFunction(regular, bold);
  installed = true;
  return true;
}
