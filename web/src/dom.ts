// Small DOM helpers: element creation, downloads, SVG → PNG, rasterised heat maps.

import { divergingRgb } from "./figures.js";

type Attrs = Record<string, string | number | boolean | undefined>;

/** Creates an element; attributes with value false/undefined are left out, `text` sets textContent. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs & { text?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = String(v);
    else if (v !== undefined && v !== false) el.setAttribute(k, v === true ? "" : String(v));
  }
  el.append(...children);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

export function download(data: Blob, name: string): void {
  const url = URL.createObjectURL(data);
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Renders an SVG document to a PNG at `scale`× its size. */
export async function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error("the browser could not render the figure"));
      img.src = url;
    });
    const canvas = h("canvas", { width: Math.ceil(width * scale), height: Math.ceil(height * scale) });
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2-D canvas");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("PNG encoding failed"))), "image/png"),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** An n×n matrix on the diverging scale as a PNG data URL (one pixel per entry), for large heat maps. */
export function rasterizeHeat(values: Float64Array, n: number): string {
  const canvas = h("canvas", { width: n, height: n });
  const ctx = canvas.getContext("2d");
  if (!ctx) return "";
  const img = ctx.createImageData(n, n);
  for (let k = 0; k < n * n; k++) {
    const [r, g, b] = divergingRgb(values[k]);
    img.data[4 * k] = r;
    img.data[4 * k + 1] = g;
    img.data[4 * k + 2] = b;
    img.data[4 * k + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL("image/png");
}

/** A roving-tabindex helper: moves focus among `items` with the arrow keys, Home and End. */
export function arrowKeys(
  e: KeyboardEvent,
  items: readonly HTMLElement[],
  current: number,
  columns = items.length,
): number | undefined {
  const last = items.length - 1;
  const moves: Record<string, number> = {
    ArrowRight: current + 1,
    ArrowLeft: current - 1,
    ArrowDown: current + columns,
    ArrowUp: current - columns,
    Home: 0,
    End: last,
  };
  const next = moves[e.key];
  if (next === undefined || next < 0 || next > last) return undefined;
  e.preventDefault();
  return next;
}
