// The property analysis' statistics against values computed by hand, the training guard, and the analysis on
// a store where one property decides superposition.

import { describe, expect, it } from "vitest";
import { ACTIVATION_IDS, ACTIVATIONS } from "../../src/core/activations.js";
import { reportDataFrom } from "../../src/report/data.js";
import { guarded, superpositionScore, trainingCheck } from "../../src/report/measures.js";
import { activationProperties, analyseProperties } from "../../src/report/property-analysis.js";
import {
  holm,
  permutationTest,
  rankBiserial,
  ridge,
  ridgeLoo,
  solve,
} from "../../src/report/property-stats.js";
import { inst, result } from "./synthetic.js";

describe("property statistics, by hand", () => {
  it("rank-biserial: P(a > b) − P(a < b), ties count half", () => {
    // pairs (a, b): 3>1, 3>2, 3=3, 5>1, 5>2, 5>3 → 5 greater, 0 less, 1 tie of 6
    expect(rankBiserial([3, 5], [1, 2, 3])).toBeCloseTo(5 / 6, 12);
    expect(rankBiserial([1, 2], [3, 4])).toBe(-1);
  });

  it("exact permutation test: fully separated groups of 2 and 3 give p = 2/10", () => {
    // C(5, 2) = 10 labellings; |r| = 1 only for {1, 2} and {4, 5}.
    const t = permutationTest([1, 2, 3, 4, 5], [false, false, false, true, true]);
    expect(t.exact).toBe(true);
    expect(t.permutations).toBe(10);
    expect(t.effect).toBe(1);
    expect(t.p).toBeCloseTo(0.2, 12);
  });

  it("the rank-sum form of the effect equals Cliff's δ with ties", () => {
    const v = [0.3, 0.1, 0.3, 0.7, 0.2, 0.3];
    const g = [true, false, false, true, true, false];
    const t = permutationTest(v, g);
    expect(t.effect).toBeCloseTo(rankBiserial([0.3, 0.7, 0.2], [0.1, 0.3, 0.3]), 12);
  });

  it("Monte Carlo permutation p for 27 items: a clean split is significant, a random one is not", () => {
    const values = Array.from({ length: 27 }, (_, k) => k);
    const clean = permutationTest(
      values,
      values.map((k) => k >= 18),
      { reps: 2000, seed: 3 },
    );
    expect(clean.exact).toBe(false);
    expect(clean.p).toBeCloseTo(1 / 2001, 12);
    const mixed = permutationTest(
      values,
      values.map((k) => k % 3 === 0),
      { reps: 2000, seed: 3 },
    );
    expect(mixed.p).toBeGreaterThan(0.5);
  });

  it("Holm: p sorted (0.01, 0.02, 0.04) → (0.03, 0.04, 0.04), in input order; NaN ignored", () => {
    const out = holm([0.04, 0.01, Number.NaN, 0.02]);
    expect(out[1]).toBeCloseTo(0.03, 12);
    expect(out[3]).toBeCloseTo(0.04, 12);
    expect(out[0]).toBeCloseTo(0.04, 12);
    expect(out[2]).toBeNaN();
  });

  it("solve and ridge: λ = 0 recovers an exact linear law; λ shrinks it by n·var/(n·var + λ)", () => {
    expect(
      solve(
        [
          [2, 1],
          [1, 3],
        ],
        [3, 5],
      ),
    ).toEqual([0.8, 1.4].map((v) => expect.closeTo(v, 12)));
    const X = [[0], [1], [2], [3]];
    const y = [1, 3, 5, 7]; // y = 1 + 2x; sd(x) = √1.25
    const exact = ridge(X, y, 0);
    expect(exact.predict([10])).toBeCloseTo(21, 10);
    expect(exact.coefficients[0]).toBeCloseTo(2 * Math.sqrt(1.25), 10);
    const shrunk = ridge(X, y, 4); // Σz² = n = 4 → β = 4/(4 + 4) of the exact one
    expect(shrunk.coefficients[0]).toBeCloseTo(Math.sqrt(1.25), 10);
    const loo = ridgeLoo(X, y, 0);
    expect(loo.rmse).toBeLessThan(1e-9);
    // leave-one-out mean of the others: errors 8/3, 8/9·… → baseline √(mean((y_j − mean_{-j})²))
    const base = y.map((v, _j) => v - (y.reduce((a, b) => a + b) - v) / 3);
    expect(loo.baselineRmse).toBeCloseTo(Math.sqrt(base.reduce((a, b) => a + b * b, 0) / 4), 12);
  });
});

describe("the training guard", () => {
  const cell = (weightChange: number | undefined, loss: number, diverged = false) =>
    result({
      preset: "intro",
      activation: "relu",
      seed: 0,
      F: 4,
      H: 2,
      instances: [inst({ p: 1, loss, sup: 0.5, weightChange, diverged }, 4)],
    });

  it("trained, untrained by weight change, by loss, by divergence, and unknown for old stores", () => {
    // trivial loss of p = 1, importance 0.9^f: mean(1, .9, .81, .729)/3 = 0.2866
    const ok = cell(1.5, 0.01);
    expect(trainingCheck(ok.instances[0], ok, 0).status).toBe("trained");
    const still = cell(0.1, 0.01);
    expect(trainingCheck(still.instances[0], still, 0)).toMatchObject({
      status: "untrained",
      why: "weights still at their init",
    });
    const noBetter = cell(2, 0.28);
    expect(trainingCheck(noBetter.instances[0], noBetter, 0).status).toBe("untrained");
    const old = cell(undefined, 0.01);
    expect(trainingCheck(old.instances[0], old, 0)).toMatchObject({
      status: "unknown",
      weightChange: undefined,
    });
    const div = cell(2, 0.01, true);
    expect(trainingCheck(div.instances[0], div, 0).why).toBe("diverged");
    const sup = guarded((x) => superpositionScore(x));
    expect(sup(old.instances[0], old, 0)).toBeCloseTo(0.5, 12);
    expect(sup(still.instances[0], still, 0)).toBeNaN();
  });
});

describe("the analysis on a store where non-negativity decides superposition", () => {
  it("non-negative has a large, Holm-significant effect on superposition and a fitted ridge", () => {
    const probs = [1, 0.1, 0.01];
    const results = ACTIVATION_IDS.flatMap((a) =>
      [0, 1, 2].map((seed) => {
        const nonneg = activationProperties(ACTIVATIONS.get(a)!).nonNegative;
        return result({
          preset: "intro",
          activation: a,
          seed,
          F: 4,
          H: 2,
          instances: probs.map((p, i) =>
            inst({ p, loss: 1e-2 * p, sup: (nonneg ? 0.8 : 0.2) + 0.01 * ((seed + i + a.length) % 5) }, 4),
          ),
        });
      }),
    );
    const a = analyseProperties(reportDataFrom(results));
    const e = a.effects.find(
      (x) => x.property === "nonNegative" && x.outcome === "superposition" && x.level === "all",
    )!;
    expect(e.effect).toBe(1);
    expect(e.nWith).toBe(9);
    expect(e.pHolm).toBeLessThan(0.01);
    expect(e.perSeed!.lo).toBeGreaterThan(0.9);
    const r = a.ridge.find((x) => x.outcome === "superposition")!;
    expect(r.looRmse).toBeLessThan(r.baselineRmse);
    expect(a.points).toHaveLength(27 * 3);
  });
});
