// The t and F critical values of the fidelity suites against published tables and closed forms.

import { describe, expect, it } from "vitest";
import { betaInc, fCritical, fUpper, tCritical, tTwoSided } from "./student.js";

describe("Student's t and F", () => {
  it("matches closed forms: t₁ is Cauchy, t₂ has P(|T| > t) = 1 − t/√(2 + t²), I_x(1, 1) = x", () => {
    for (const t of [0.1, 1, 3, 30, 3000]) {
      expect(tTwoSided(t, 1)).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(t), 13);
      expect(tTwoSided(t, 2)).toBeCloseTo(1 - t / Math.sqrt(2 + t * t), 13);
    }
    for (const x of [0.01, 0.3, 0.77]) expect(betaInc(x, 1, 1)).toBeCloseTo(x, 14);
    for (const a of [1e-2, 1e-4, 1.7e-4])
      expect(tCritical(a, 1) / (1 / Math.tan((Math.PI * a) / 2))).toBeCloseTo(1, 9);
  });

  it("matches table values of t and F quantiles", () => {
    // two-sided alpha, nu, critical value (scipy.stats.t.ppf(1 − alpha/2, nu), scipy 1.17)
    const t: [number, number, number][] = [
      [0.05, 1, 12.706204736],
      [0.05, 10, 2.228138852],
      [0.001, 4, 8.610301581],
      [0.001, 30, 3.645958635],
      [1e-4, 100, 4.053336701],
    ];
    for (const [alpha, nu, k] of t) expect(tCritical(alpha, nu)).toBeCloseTo(k, 7);
    // upper alpha, d1, d2, critical value (scipy.stats.f.ppf(1 − alpha, d1, d2))
    const f: [number, number, number, number][] = [
      [0.05, 10, 10, 2.978237016],
      [0.01, 5, 20, 4.102684631],
    ];
    for (const [alpha, d1, d2, v] of f) {
      expect(fCritical(alpha, d1, d2)).toBeCloseTo(v, 7);
      expect(fUpper(v, d1, d2)).toBeCloseTo(alpha, 9);
    }
  });
});
