// Superposition metrics on hand-made weights whose answers are known in closed form.

import { describe, expect, it } from "vitest";
import { instanceMetrics, REPRESENTED_NORM, SUPERPOSED_THRESHOLD } from "../../src/core/metrics.js";

const f64 = (rows: number[][]) => Float64Array.from(rows.flat());

describe("instanceMetrics", () => {
  it("orthogonal features: superposition 0, D_f = 1, D* = H/‖W‖_F²", () => {
    const W = f64([
      [2, 0, 0],
      [0, 0.7, 0],
      [0, 0, 1],
    ]);
    const m = instanceMetrics(W, new Float64Array(3), 0, 3, 3);
    expect(m.norms).toEqual([2, 0.7, 1]);
    for (const s of m.superposition) expect(s).toBe(0);
    for (const d of m.featureDimensionality) expect(d).toBeCloseTo(1, 14);
    expect(m.dimsPerFeature).toBeCloseTo(3 / (4 + 0.49 + 1), 14);
    expect(m.featuresRepresented).toBe(3);
    expect(m.fractionSuperposed).toBe(0);
  });

  it("two antipodal features in one dimension: D_f = 1/2 each, fully superposed", () => {
    const m = instanceMetrics(f64([[1], [-1]]), new Float64Array(2), 0, 2, 1);
    expect(m.featureDimensionality[0]).toBeCloseTo(0.5, 14);
    expect(m.featureDimensionality[1]).toBeCloseTo(0.5, 14);
    // |Ŵ_0 · W_1| with Ŵ_0 = W_0/(1e-5 + 1): the notebook's ε.
    expect(m.superposition[0]).toBeCloseTo(1 / (1 + 1e-5), 14);
    expect(m.dimsPerFeature).toBeCloseTo(0.5, 14);
    expect(m.featuresRepresented).toBe(2);
    expect(m.fractionSuperposed).toBe(1);
  });

  it("a regular pentagon of unit features in 2-D: D_f = 2/5 for each (Elhage et al. §4)", () => {
    const rows = Array.from({ length: 5 }, (_, k) => [
      Math.cos((2 * Math.PI * k) / 5),
      Math.sin((2 * Math.PI * k) / 5),
    ]);
    const m = instanceMetrics(f64(rows), new Float64Array(5), 0, 5, 2);
    for (const d of m.featureDimensionality) expect(d).toBeCloseTo(0.4, 12);
    expect(m.dimsPerFeature).toBeCloseTo(0.4, 12);
    // Σ_f D_f = H for a tight frame.
    expect(m.featureDimensionality.reduce((a, b) => a + b, 0)).toBeCloseTo(2, 12);
  });

  it("a zero feature has norm 0, D_f = 0, no superposition, and is not represented", () => {
    const W = f64([
      [0, 0],
      [1, 0],
      [0.6, 0.8],
    ]);
    const m = instanceMetrics(W, new Float64Array(3), 0, 3, 2);
    expect(m.norms[0]).toBe(0);
    expect(m.featureDimensionality[0]).toBe(0);
    expect(m.superposition[0]).toBe(0);
    expect(Number.isFinite(m.superposition[1])).toBe(true);
    expect(m.featuresRepresented).toBe(2);
    // Features 1 and 2 overlap by 0.6 > SUPERPOSED_THRESHOLD.
    expect(m.superposition[1]).toBeCloseTo(0.6 / (1 + 1e-5), 12);
    expect(m.fractionSuperposed).toBe(1);
  });

  it("all-zero W: D* is infinite, nothing represented, no NaN", () => {
    const m = instanceMetrics(new Float64Array(6), new Float64Array(3), 0, 3, 2);
    expect(m.dimsPerFeature).toBe(Number.POSITIVE_INFINITY);
    expect(m.featuresRepresented).toBe(0);
    expect(m.fractionSuperposed).toBe(0);
    for (const v of [...m.norms, ...m.superposition, ...m.featureDimensionality]) expect(v).toBe(0);
  });

  it("matches the notebook's formulas on random weights, and reads the right instance", () => {
    const I = 3;
    const F = 6;
    const H = 2;
    const W = Float64Array.from({ length: I * F * H }, (_, j) => Math.sin(1.7 * j + 0.3));
    const b = Float64Array.from({ length: I * F }, (_, j) => Math.cos(0.9 * j));
    const i = 1;
    const row = (f: number) => Array.from(W.subarray((i * F + f) * H, (i * F + f + 1) * H));
    const dot = (u: number[], v: number[]) => u.reduce((s, x, k) => s + x * v[k], 0);
    const m = instanceMetrics(W, b, i, F, H);
    let frob = 0;
    for (let f = 0; f < F; f++) {
      const n = Math.sqrt(dot(row(f), row(f)));
      frob += n * n;
      expect(m.norms[f]).toBeCloseTo(n, 14);
      let inter = 0;
      let all = 0;
      for (let g = 0; g < F; g++) {
        if (g !== f) inter += (dot(row(f), row(g)) / (1e-5 + n)) ** 2;
        all += (dot(row(f), row(g)) / n) ** 2;
      }
      expect(m.superposition[f]).toBeCloseTo(Math.sqrt(inter), 12);
      expect(m.featureDimensionality[f]).toBeCloseTo((n * n) / all, 12);
    }
    expect(m.dimsPerFeature).toBeCloseTo(H / frob, 14);
    const bias = Array.from(b.subarray(i * F, (i + 1) * F));
    expect(m.biasMean).toBeCloseTo(bias.reduce((a, c) => a + c, 0) / F, 14);
    expect(m.biasMin).toBe(Math.min(...bias));
    expect(m.biasMax).toBe(Math.max(...bias));
  });

  it("'represented' means a norm strictly above REPRESENTED_NORM", () => {
    const m = instanceMetrics(
      f64([[REPRESENTED_NORM], [REPRESENTED_NORM * 1.0001]]),
      new Float64Array(2),
      0,
      2,
      1,
    );
    expect(m.featuresRepresented).toBe(1);
    expect(SUPERPOSED_THRESHOLD).toBeGreaterThan(0);
  });
});
