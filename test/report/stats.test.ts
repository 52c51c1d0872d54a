import { describe, expect, it } from "vitest";
import {
  betaInc,
  bootstrap,
  chiSquareSf,
  cliffsDelta,
  cliffsMagnitude,
  cohensD,
  fSf,
  gammaP,
  gammaQ,
  geometricMean,
  kruskalWallis,
  lnGamma,
  mean,
  meanCI,
  oneWayAnova,
  quantile,
  ranks,
  sd,
  seededRandom,
  spearman,
  spearmanCI,
  tCdf,
  tQuantile,
  variance,
} from "../../src/report/stats.js";

const ERFC_SQRT_50 = 1.5239706048321994e-23;

describe("descriptive statistics", () => {
  it("mean, variance, sd, quantile (type 7), geometric mean", () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(variance([1, 2, 3, 4])).toBeCloseTo(5 / 3, 12);
    expect(sd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.138089935, 8);
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 12);
    expect(geometricMean([1, 100])).toBeCloseTo(10, 12);
    expect(Number.isNaN(mean([]))).toBe(true);
  });

  it("ranks share ties", () => {
    expect(ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });
});

describe("distributions", () => {
  it("ln Γ and the incomplete beta", () => {
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 10);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 10);
    expect(betaInc(0.5, 2, 3)).toBeCloseTo(11 / 16, 10);
  });

  it("incomplete gamma both ways, and upper tails far below 1e-16 (no 1 − P cancellation)", () => {
    expect(gammaP(1, 1)).toBeCloseTo(1 - Math.exp(-1), 12);
    expect(gammaQ(3, 10)).toBeCloseTo(61 * Math.exp(-10), 12); // e^-10 (1 + 10 + 10²/2)
    // chi-square(1) tail at 100 = erfc(√50)
    expect(chiSquareSf(100, 1) / ERFC_SQRT_50).toBeCloseTo(1, 8);
  });

  it("Student t quantiles match tables", () => {
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.7062047, 5);
    expect(tQuantile(0.975, 2)).toBeCloseTo(4.30265273, 6);
    expect(tQuantile(0.975, 10)).toBeCloseTo(2.22813885, 6);
    expect(tQuantile(0.975, 30)).toBeCloseTo(2.04227246, 6);
    expect(tQuantile(0.025, 5)).toBeCloseTo(-2.57058184, 6);
    expect(tCdf(0, 7)).toBeCloseTo(0.5, 12);
  });

  it("chi-square and F upper tails at their 5 % critical values", () => {
    expect(chiSquareSf(3.841459, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSf(5.991465, 2)).toBeCloseTo(0.05, 6);
    expect(chiSquareSf(18.307038, 10)).toBeCloseTo(0.05, 6);
    expect(fSf(3.354131, 2, 27)).toBeCloseTo(0.05, 5);
    expect(fSf(4.964603, 1, 10)).toBeCloseTo(0.05, 5);
  });
});

describe("intervals", () => {
  it("95 % t-interval of the mean", () => {
    const ci = meanCI([1, 2, 3]);
    expect(ci.mean).toBe(2);
    expect(ci.half).toBeCloseTo(4.30265273 / Math.sqrt(3), 6);
    expect(Number.isNaN(meanCI([5]).half)).toBe(true);
    expect(meanCI([1, Number.NaN, 3]).n).toBe(2);
  });

  it("bootstrap is deterministic for a seed and brackets the estimate", () => {
    const xs = Array.from({ length: 40 }, (_, i) => Math.sin(i) + i / 10);
    const a = bootstrap(xs.length, (ix) => mean(ix.map((i) => xs[i])), { seed: 3, reps: 500 });
    const b = bootstrap(xs.length, (ix) => mean(ix.map((i) => xs[i])), { seed: 3, reps: 500 });
    expect(a).toEqual(b);
    expect(a.lo).toBeLessThan(a.estimate);
    expect(a.hi).toBeGreaterThan(a.estimate);
    // The bootstrap SE of a mean is close to sd/√n: the interval is about ±1.96 of it.
    const se = sd(xs) / Math.sqrt(xs.length);
    expect((a.hi - a.lo) / (2 * 1.96 * se)).toBeGreaterThan(0.8);
    expect((a.hi - a.lo) / (2 * 1.96 * se)).toBeLessThan(1.2);
  });

  it("seeded uniforms are in [0, 1) and reproducible", () => {
    const r1 = seededRandom(42);
    const r2 = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => r1());
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => r2()));
    expect(mean(xs)).toBeCloseTo(0.5, 1);
  });
});

describe("correlation and tests", () => {
  it("Spearman ρ with ties (hand-computed 8/√95)", () => {
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(8 / Math.sqrt(95), 12);
    expect(spearman([1, 2, 3], [30, 20, 10])).toBe(-1);
    const ci = spearmanCI([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 4, 3, 6, 5, 8, 7], { seed: 1, reps: 300 });
    expect(ci.estimate).toBeCloseTo(0.9047619, 6);
    expect(ci.hi).toBeLessThanOrEqual(1);
  });

  it("Kruskal–Wallis: R's kruskal.test example (H = 0.7714, p = 0.68)", () => {
    const kw = kruskalWallis([
      [2.9, 3.0, 2.5, 2.6, 3.2],
      [3.8, 2.7, 4.0, 2.4],
      [2.8, 3.4, 3.7, 2.2, 2.0],
    ]);
    expect(kw.statistic).toBeCloseTo(0.771429, 5);
    expect(kw.df).toBe(2);
    expect(kw.p).toBeCloseTo(0.68, 2);
  });

  it("Kruskal–Wallis with ties and clearly separated groups", () => {
    const kw = kruskalWallis([
      [1, 1, 2],
      [5, 5, 6],
      [9, 9, 10],
    ]);
    expect(kw.p).toBeLessThan(0.05);
  });

  it("one-way ANOVA F", () => {
    // Groups with means 2, 5, 8 and within-group variance 1: F = (3·9·2/2)/1 = 27.
    const a = oneWayAnova([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    expect(a.statistic).toBeCloseTo(27, 10);
    expect(a.df).toBe(2);
    expect(a.dfWithin).toBe(6);
    // For F(2, d) the tail is exactly (1 + 2f/d)^(−d/2): (1 + 9)^−3 = 0.001.
    expect(a.p).toBeCloseTo(0.001, 10);
  });
});

describe("effect sizes", () => {
  it("Cohen's d with the pooled SD", () => {
    expect(cohensD([1, 2, 3, 4, 5], [3, 4, 5, 6, 7])).toBeCloseTo(-2 / Math.sqrt(2.5), 12);
  });

  it("Cliff's δ (hand-counted: 3 greater, 19 smaller of 25 pairs)", () => {
    expect(cliffsDelta([1, 2, 3, 4, 5], [3, 4, 5, 6, 7])).toBeCloseTo(-16 / 25, 12);
    expect(cliffsDelta([10, 11], [1, 2])).toBe(1);
    expect(cliffsMagnitude(0.1)).toBe("negligible");
    expect(cliffsMagnitude(-0.5)).toBe("large");
  });
});
