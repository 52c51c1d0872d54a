// Figures from a synthetic store with known geometry: each spec renders to valid SVG, and the phase
// classification and helpers do what they say.

import { XMLValidator } from "fast-xml-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { loadReportData, type ReportData } from "../../src/report/data.js";
import type { FigureDef } from "../../src/report/figures.js";
import { logScale, phaseClass, phaseGrid, planFigures, thinLogSteps } from "../../src/report/figures.js";
import { FONT_FILES, loadFontMetrics, widthFunction } from "../../src/report/font-metrics.js";
import { compactSvg, renderSvg, uniqueIds } from "../../src/report/render.js";
import { tempDir } from "../helpers/cli.js";
import { syntheticStore } from "./synthetic.js";

describe("phase classification", () => {
  it("follows the documented rule", () => {
    expect(phaseClass([1], [0.2])).toBe("feature 2 not represented");
    expect(phaseClass([0.1], [-1])).toBe("feature 2 alone (dedicated dimension)");
    expect(phaseClass([1], [-0.9])).toBe("both, antipodal (superposition)");
    expect(phaseClass([-1], [-0.9])).toBe("both, same direction");
    expect(phaseClass([0.1], [0.2])).toBe("neither feature represented");
    // More dimensions: lengths, and the sign of the overlap.
    expect(phaseClass([1, 0], [-0.6, 0.6])).toBe("both, antipodal (superposition)");
    expect(phaseClass([1, 0], [0, 0.1])).toBe("feature 2 not represented");
  });
});

describe("helpers", () => {
  it("log scales are framed by decades", () => {
    const s = logScale([0.003, 0.5], "loss");
    expect(s.scale.domain).toEqual([1e-3, 1]);
    expect(s.axis.values).toEqual([1e-3, 1e-2, 1e-1, 1]);
  });

  it("thinning keeps the ends and about n log-spaced steps", () => {
    const steps = Array.from({ length: 1000 }, (_, k) => k + 1);
    const keep = thinLogSteps(steps, 20);
    expect(keep.has(0)).toBe(true);
    expect(keep.has(999)).toBe(true);
    expect(keep.size).toBeGreaterThan(15);
    expect(keep.size).toBeLessThan(40);
  });

  it("ids are made unique per figure and references follow", () => {
    const svg = '<svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"/></svg>';
    const out = uniqueIds(svg, "fig a");
    expect(out).toContain('id="fig-a-clip1"');
    expect(out).toContain("url(#fig-a-clip1)");
    expect(compactSvg('<path fill="rgb(255, 0, 16)"/>')).toBe('<path fill="#ff0010"/>');
  });
});

describe("figures of a synthetic store", () => {
  let data: ReportData;
  let defs: FigureDef[];
  beforeAll(() => {
    const dir = tempDir("tms-report-fig-");
    syntheticStore(dir);
    data = loadReportData(dir);
    defs = planFigures(data).map((p) => p.build()!);
  });

  it("plans every kind of figure the store supports", () => {
    const ids = defs.map((d) => d.id);
    for (const id of [
      "intro-loss-vs-sparsity",
      "intro-loss-heatmap",
      "intro-dims-per-feature",
      "intro-training-curves",
      "intro-features-overview",
      "intro-features-relu",
      "intro-features-gelu",
      "demo-features-relu",
      "geometry-feature-dimensionality",
      "phase-phase-diagrams",
    ])
      expect(ids).toContain(id);
    expect(defs.length).toBeGreaterThanOrEqual(10);
    for (const d of defs) {
      expect(d.title.length, d.id).toBeGreaterThan(10);
      expect(d.caption.length, d.id).toBeGreaterThan(10);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("classifies the phase grid by majority over seeds", () => {
    const relu = data.seriesOf("phase").find((s) => s.activation === "relu")!;
    // rows p = 1, 0.1, 0.01; columns r = 0.1, 1, 10 (see synthetic.ts).
    expect(phaseGrid(data, relu)).toEqual([
      "feature 2 not represented",
      "feature 2 not represented",
      "feature 2 alone (dedicated dimension)",
      "feature 2 not represented",
      "both, antipodal (superposition)",
      "feature 2 alone (dedicated dimension)",
      "feature 2 not represented",
      "both, antipodal (superposition)",
      "feature 2 alone (dedicated dimension)",
    ]);
  });

  it("the D_f figure puts the antipodal pairs at 1/2", () => {
    const df = defs.find((d) => d.id === "geometry-feature-dimensionality")!;
    const values = df.spec.data.values as { d: number; n: number }[];
    // 2 activations × 3 sparsities, each one point for its 6 features (seed 0 of each activation)
    expect(values).toHaveLength(6);
    expect(values.reduce((a, v) => a + v.n, 0)).toBe(2 * 3 * 6);
    for (const v of values) expect(v.d).toBeCloseTo(0.5, 2);
  });

  it("every figure renders to well-formed SVG with its title", async () => {
    for (const d of defs) {
      const svg = await renderSvg(d.spec, d.id);
      expect(XMLValidator.validate(svg), d.id).toBe(true);
      expect(svg.startsWith("<svg")).toBe(true);
      const text = svg.replace(/<[^>]+>/g, "");
      expect(text, d.id).toContain(d.title.slice(0, 20).replace(/&/g, "&amp;").replace(/</g, "&lt;"));
    }
  });
});

describe("font metrics", () => {
  it("measures text with DejaVu Sans' own advance widths (the font from its npm package)", () => {
    const r = loadFontMetrics(FONT_FILES.regular);
    const b = loadFontMetrics(FONT_FILES.bold);
    expect(r.unitsPerEm).toBe(2048);
    // DejaVu Sans 2.37's advances, in font units: W, i, the digits, the ellipsis; bold R is wider.
    expect(["W", "i", "0", "…"].map((c) => r.advance(c.codePointAt(0)!))).toEqual([2025, 569, 1303, 2048]);
    expect(b.advance("R".codePointAt(0)!)).toBeGreaterThan(r.advance("R".codePointAt(0)!));
    // Digits share one advance (tabular figures); 'i' is narrower than 'W'.
    expect(new Set([..."0123456789"].map((c) => r.advance(c.codePointAt(0)!))).size).toBe(1);
    expect(r.advance("i".codePointAt(0)!)).toBeLessThan(r.advance("W".codePointAt(0)!));
    const width = widthFunction(r, b);
    const w1 = width({ fontSize: 10 }, "ReLU");
    expect(width({ fontSize: 20 }, "ReLU")).toBeCloseTo(2 * w1, 10);
    expect(width({ fontSize: 10 }, "  ReLU ")).toBeCloseTo(w1, 10);
    expect(width({ fontSize: 10, fontWeight: "bold" }, "ReLU")).toBeGreaterThan(w1);
    // Vega's fallback guesses 0.8 × size per character (32 px here); DejaVu is narrower.
    expect(w1).toBeGreaterThan(20);
    expect(w1).toBeLessThan(30);
    const long = "Softmax (batch softmax)";
    expect(width({ fontSize: 10, limit: 60 }, long)).toBeLessThanOrEqual(60);
    expect(width({ fontSize: 10, limit: 1000 }, long)).toBeCloseTo(width({ fontSize: 10 }, long), 10);
  });
});
