// The explorer's figures (web/src/figures.ts, web/src/panels.ts): valid SVG with the right marks.

import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { initParams } from "../../src/core/model.js";
import { getPreset } from "../../src/experiments/presets.js";
import {
  diverging,
  featureArrows,
  gram,
  gramWithBars,
  instanceClass,
  lossCurve,
  toSvg,
  viridis,
} from "../../web/src/figures.js";
import { exportFigure, metricsOf, type RunData, viewOf } from "../../web/src/panels.js";

function run(preset: string): RunData {
  const spec = getPreset(preset).spec();
  const params = initParams(spec, "f32", 0);
  const I = spec.nInstances;
  return {
    title: `relu · ${preset}`,
    nFeatures: spec.nFeatures,
    nHidden: spec.nHidden,
    featureProbability: Array.from(spec.featureProbability),
    importance: spec.importance,
    W: params.W,
    b: params.b,
    curve: {
      step: [1, 10, 100],
      loss: [Array(I).fill(0.1), Array(I).fill(0.05), Array(I).fill(0.01)],
    },
    totalSteps: 100,
  };
}

const count = (svg: string, re: RegExp) => svg.match(re)?.length ?? 0;
const valid = (svg: string) => expect(XMLValidator.validate(svg)).toBe(true);

describe("figures", () => {
  it("draws one arrow per feature for H = 2 (intro: 5)", () => {
    const r = run("intro");
    for (const i of [0, 9]) {
      const svg = toSvg(featureArrows(viewOf(r, i)));
      valid(svg);
      expect(count(svg, /<g class="feature"/g)).toBe(5);
    }
  });

  it("draws W Wᵀ as F² cells and F norm bars otherwise (demo: 20 features)", () => {
    const r = run("demo");
    const svg = toSvg(gramWithBars(viewOf(r, 3)));
    valid(svg);
    expect(
      count(svg, /<rect x="[^"]*" y="[^"]*" width="[^"]*" height="[^"]*" fill="#[0-9a-f]{6}"\/>/g),
    ).toBeGreaterThanOrEqual(400);
    expect(count(svg, /class="norm-bar"/g)).toBe(20);
  });

  it("rasterises large heat maps when asked", () => {
    const r = { ...run("demo") };
    const v = {
      ...viewOf(r, 0),
      nFeatures: 60,
      nHidden: 1,
      W: new Float32Array(60),
      importance: Array(60).fill(1),
    };
    const m = { norms: Array(60).fill(1), superposition: Array(60).fill(0) };
    const svg = toSvg(gramWithBars({ ...v, ...m }, { rasterize: () => "data:image/png;base64,AA==" }));
    expect(svg).toContain('<image class="heat"');
  });

  it("computes the Gram matrix W Wᵀ", () => {
    // instance 1 of I = 2, F = 2, H = 2: W_0 = (1, 2), W_1 = (3, 4)
    const W = [0, 0, 0, 0, 1, 2, 3, 4];
    expect(Array.from(gram(W, 1, 2, 2))).toEqual([5, 11, 11, 25]);
  });

  it("draws one loss line per instance on log axes, skipping non-finite losses", () => {
    const svg = toSvg(
      lossCurve(
        {
          step: [1, 10, 100],
          loss: [
            [1, 0.5, Number.NaN],
            [0.1, 0.05, Number.NaN],
            [0.01, 0.005, Number.NaN],
          ],
        },
        { highlight: 1, totalSteps: 1000 },
      ),
    );
    valid(svg);
    expect(count(svg, /class="loss-line"/g)).toBe(2);
    expect(svg).toContain(">1000<");
  });

  it("exports a composite figure: every instance (intro) or the overview (phase)", () => {
    const intro = toSvg(exportFigure(run("intro"), 9));
    valid(intro);
    expect(count(intro, /<g class="feature"/g)).toBe(50);
    const phase = toSvg(exportFigure(run("phase"), 0));
    valid(phase);
    expect(count(phase, /class="instance-cell"/g)).toBe(400);
  });

  it("classifies 2-feature instances by the phase rule, in the report's colours", () => {
    const cases: [number[], number[], string, string][] = [
      [[1], [0.1], "feature 2 not represented", "#BDBDBD"],
      [[0.1], [1], "feature 2 alone (dedicated dimension)", "#56B4E9"],
      [[1], [-1], "both, antipodal (superposition)", "#D55E00"],
      [[1], [1], "both, same direction", "#F0E442"],
      [[0.2], [0.3], "neither feature represented", "#F2F2F2"],
      [[0.8, 0.1], [-0.7, -0.2], "both, antipodal (superposition)", "#D55E00"],
      [[0.8, 0], [0, 0.9], "both, same direction", "#F0E442"],
    ];
    for (const [w1, w2, label, colour] of cases) {
      expect(instanceClass([...w1, ...w2], 0, 2, w1.length)).toEqual({ label, colour });
    }
  });

  it("uses the metrics of src/core for the bars", () => {
    const r = run("demo");
    const m = metricsOf(r, 2);
    expect(viewOf(r, 2, m).norms).toBe(m.norms);
  });

  it("maps colour scales to the ends of their ranges", () => {
    expect(viridis(0)).toBe("#440154");
    expect(viridis(1)).toBe("#fde725");
    expect(viridis(Number.NaN)).toBe("#440154");
    expect(diverging(-5)).toBe("#134b85");
    expect(diverging(5)).toBe("#994a07");
  });
});
