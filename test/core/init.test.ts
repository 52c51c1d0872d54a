// The notebook's init: xavier_normal_ on the [I, F, H] tensor (PyTorch's fan rule for 3-D tensors), b = 0.
// Our generator differs from PyTorch's, so the draws are compared in distribution, the std exactly.

import { describe, expect, it } from "vitest";
import { initParams, xavierStd } from "../../src/core/model.js";
import { type InitCase, readFixture } from "../helpers/fixtures.js";
import { bitEqual, mean, std } from "../helpers/numeric.js";

const fx = readFixture<{ cases: InitCase[] }>("init.json");
const shapeOf = ([I, F, H]: [number, number, number]) => ({ nInstances: I, nFeatures: F, nHidden: H });

describe("xavierStd", () => {
  it.each(fx.cases.map((c) => [c.shape.join("×"), c] as const))("%s equals PyTorch's", (_s, c) => {
    const s = xavierStd(shapeOf(c.shape));
    expect(s).toBeCloseTo(c.theoreticalStd, 15);
    // torch.nn.init._calculate_fan_in_and_fan_out on [I, F, H]: fan_in = F·H, fan_out = I·H; gain 1.
    expect(s).toBeCloseTo(Math.sqrt(2 / (c.torchFanIn + c.torchFanOut)), 15);
    const [I, F, H] = c.shape;
    expect(c.torchFanIn).toBe(F * H);
    expect(c.torchFanOut).toBe(I * H);
  });
});

describe("initParams", () => {
  // Large enough for tight statistics: n = 20·200·20 = 80 000 draws.
  const shape = shapeOf([20, 200, 20]);
  const n = 20 * 200 * 20;
  const sigma = xavierStd(shape);
  const W = initParams(shape, "f64", 7).W;

  it("has the Xavier std (within 4 standard errors: SE(s) ≈ σ/√(2n))", () => {
    expect(W.length).toBe(n);
    expect(Math.abs(std(W) - sigma)).toBeLessThan((4 * sigma) / Math.sqrt(2 * n));
  });

  it("has mean ≈ 0 (within 4 SE = 4σ/√n)", () => {
    expect(Math.abs(mean(W))).toBeLessThan((4 * sigma) / Math.sqrt(n));
  });

  it("is normal: P(|w| < σ), P(|w| < 2σ) and the kurtosis match N(0, σ²) (4 SE each)", () => {
    for (const [k, p] of [
      [1, 0.6826894921370859],
      [2, 0.9544997361036416],
    ]) {
      let inside = 0;
      for (const w of W) if (Math.abs(w) < k * sigma) inside++;
      expect(Math.abs(inside / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    }
    // Kurtosis E[w⁴]/σ⁴ = 3 for a normal; the SE of the sample 4th moment ratio is √(96/n).
    let m4 = 0;
    for (const w of W) m4 += w ** 4;
    expect(Math.abs(m4 / n / sigma ** 4 - 3)).toBeLessThan(4 * Math.sqrt(96 / n));
  });

  it("agrees with PyTorch's own empirical std on the same shapes (within 4 SE of the difference)", () => {
    for (const c of fx.cases) {
      const ours = std(initParams(shapeOf(c.shape), "f64", 0).W);
      // Both are estimates of σ from c.numel draws: SE of their difference ≈ σ·√(2/(2n)) = σ/√n.
      expect(Math.abs(ours - c.empiricalStd), c.shape.join("×")).toBeLessThan(
        (4 * c.theoreticalStd) / Math.sqrt(c.numel),
      );
    }
  });

  it("has b = 0", () => {
    const p = initParams(shapeOf([10, 5, 2]), "f32", 3);
    expect(p.b.length).toBe(50);
    expect(p.b.every((v) => v === 0)).toBe(true);
  });

  it("same seed ⇒ bit-identical W, different seed ⇒ different W", () => {
    const shape5 = shapeOf([10, 5, 2]);
    for (const dtype of ["f32", "f64"] as const) {
      const a = initParams(shape5, dtype, 42).W;
      const b = initParams(shape5, dtype, 42).W;
      const c = initParams(shape5, dtype, 43).W;
      expect(bitEqual(a, b)).toBe(true);
      expect(bitEqual(a, c)).toBe(false);
      let equal = 0;
      for (let j = 0; j < a.length; j++) if (a[j] === c[j]) equal++;
      expect(equal).toBe(0);
    }
  });

  it("f32 and f64 draw the same numbers: W32 = fround(W64)", () => {
    const shape5 = shapeOf([7, 20, 5]);
    const w32 = initParams(shape5, "f32", 11).W;
    const w64 = initParams(shape5, "f64", 11).W;
    expect(w32).toBeInstanceOf(Float32Array);
    expect(w64).toBeInstanceOf(Float64Array);
    for (let j = 0; j < w64.length; j++) expect(w32[j]).toBe(Math.fround(w64[j]));
  });
});
