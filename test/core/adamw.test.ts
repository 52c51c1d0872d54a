// AdamW against torch.optim.AdamW (fixtures/adamw.json, scripts/fixtures/make_adamw_fixture.py): six steps
// from given parameters and gradients, float64 and float32, with a constant and a per-step learning rate.
// Then the notebook's learning-rate schedules.

import { describe, expect, it } from "vitest";
import { allocate } from "../../src/core/model.js";
import {
  createOptimizer,
  LR_SCHEDULES,
  lrScale,
  type OptimizerBackend,
  type OptimizerSettings,
  TORCH_DEFAULTS,
} from "../../src/core/optimizer.js";
import { type AdamWCase, readFixture } from "../helpers/fixtures.js";
import { trajectory } from "../helpers/optimizer.js";

const fx = readFixture<{ cases: AdamWCase[] }>("adamw.json");

// Tolerances relative to |torch| with a floor for parameters that stay at ~0. float64: our update is the same
// sequence of float64 operations as torch's single-tensor path (lerp, mul/addcmul, sqrt/div/add, addcdiv);
// the results are in fact bit-identical, and 1e-14 only allows for a reordering of those operations.
// float32: torch computes in float32 while we compute each update in float64 and round on store, so each step
// may differ by ~1 ulp (6e-8); observed ≤ 3e-7 (5 ulp) after 6 steps; 1e-6 (~16 ulp) is the brief's bound.
const TOL = { float64: { rtol: 1e-14, atol: 1e-16 }, float32: { rtol: 1e-6, atol: 1e-9 } } as const;

function runCase(c: AdamWCase, backend: OptimizerBackend = "js"): number[][] {
  const settings: OptimizerSettings = {
    name: "adamw",
    beta1: c.betas[0],
    beta2: c.betas[1],
    eps: c.eps,
    weightDecay: c.weightDecay,
  };
  return trajectory(settings, c.dtype === "float32" ? "f32" : "f64", c, backend);
}

describe("AdamW vs torch.optim.AdamW", () => {
  it("the fixture has f32 and f64 cases with constant and per-step lr", () => {
    const names = fx.cases.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(["constant-f64", "constant-f32", "linear-f64", "linear-f32"]),
    );
    const linear = fx.cases.find((c) => c.name === "linear-f64")!;
    expect(new Set(linear.lr).size).toBe(linear.lr.length);
  });

  it("TORCH_DEFAULTS.adamw holds torch's defaults (the fixture's hyper-parameters)", () => {
    const d = TORCH_DEFAULTS.adamw;
    for (const c of fx.cases) {
      expect(d.beta1).toBe(c.betas[0]);
      expect(d.beta2).toBe(c.betas[1]);
      expect(d.eps).toBe(c.eps);
      expect(d.weightDecay).toBe(c.weightDecay);
    }
  });

  it.each(fx.cases.flatMap((c) => (["js", "wasm"] as const).map((b) => [c.name, b, c] as const)))(
    "%s, %s: parameters after every step",
    (_name, backend, c) => {
      const ours = runCase(c, backend);
      const { rtol, atol } = TOL[c.dtype];
      const failures: string[] = [];
      c.params.forEach((expected, k) => {
        expected.forEach((t, j) => {
          const o = ours[k][j];
          if (!(Math.abs(o - t) <= atol + rtol * Math.abs(t)))
            failures.push(
              `step ${k} param ${j}: ours ${o}, torch ${t}, rel ${Math.abs(o - t) / Math.abs(t)}`,
            );
        });
      });
      expect(failures).toEqual([]);
      // The parameters did move (the comparison is not trivially satisfied).
      expect(ours.at(-1)).not.toEqual(c.initial);
    },
  );

  it("the per-step lr of the fixture's linear case is the notebook's linear schedule", () => {
    const c = fx.cases.find((x) => x.name === "linear-f64")!;
    c.lr.forEach((lr, k) => {
      expect(lr).toBeCloseTo(1e-3 * lrScale("linear", k, c.lr.length), 15);
    });
  });

  it("the step counter is per group: a group that skipped steps gets the bias correction of its own count", () => {
    const g = [0.3, -0.2, 0.05, 1];
    const W = Float64Array.from([1, 2, 3, 4, 1, 2, 3, 4]);
    const opt = createOptimizer("adamw", { dtype: "f64", W, b: allocate("f64", 0) }, 2, "js");
    opt.grads.W.set([...g, ...g]);
    for (let k = 0; k < 3; k++) opt.step(1e-2, 0, 1);
    opt.step(1e-2, 1, 2);
    expect(Array.from(opt.steps)).toEqual([3, 1]);
    // Group 1 after one step equals a fresh single-group run's first step, bit for bit.
    const fresh = trajectory(TORCH_DEFAULTS.adamw, "f64", { initial: [1, 2, 3, 4], grads: [g], lr: [1e-2] });
    expect(Array.from(W.subarray(4))).toEqual(fresh[0]);
    // and group 0 (three steps) is elsewhere.
    expect(Array.from(W.subarray(0, 4))).not.toEqual(fresh[0]);
  });

  it("groups at different steps cannot step together (a named error)", () => {
    const opt = createOptimizer(
      "adamw",
      { dtype: "f64", W: allocate("f64", 4), b: allocate("f64", 2) },
      2,
      "js",
    );
    opt.step(1e-2, 0, 1);
    expect(() => opt.step(1e-2)).toThrow(/different steps/);
  });

  it("only the stepped groups' parameters are touched", () => {
    const W = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float64Array.from([7, 8, 9]);
    const opt = createOptimizer("adamw", { dtype: "f64", W, b }, 3, "js");
    opt.grads.W.fill(1);
    opt.grads.b.fill(1);
    opt.step(1e-2, 1, 2);
    expect([W[0], W[1], W[4], W[5], b[0], b[2]]).toEqual([1, 2, 5, 6, 7, 9]);
    expect(W[2]).not.toBe(3);
    expect(W[3]).not.toBe(4);
    expect(b[1]).not.toBe(8);
  });
});

describe("learning-rate schedules (the notebook's)", () => {
  const steps = 10_000;
  const probe = [0, 1, 2_500, 5_000, 9_998, 9_999];

  it("lists constant, linear and cosine", () => {
    expect([...LR_SCHEDULES].sort()).toEqual(["constant", "cosine", "linear"]);
  });

  it("constant is 1 at every step", () => {
    for (const s of probe) expect(lrScale("constant", s, steps)).toBe(1);
  });

  it("linear is 1 − step/steps", () => {
    for (const s of probe) expect(lrScale("linear", s, steps)).toBeCloseTo(1 - s / steps, 14);
    expect(lrScale("linear", 0, steps)).toBe(1);
    expect(lrScale("linear", 5_000, steps)).toBe(0.5);
  });

  it("cosine is cos(π/2 · step/(steps − 1)): 1 at the first step, 0 at the last", () => {
    for (const s of probe)
      expect(lrScale("cosine", s, steps)).toBeCloseTo(Math.cos((Math.PI / 2) * (s / (steps - 1))), 14);
    expect(lrScale("cosine", 0, steps)).toBe(1);
    expect(Math.abs(lrScale("cosine", steps - 1, steps))).toBeLessThan(1e-15);
    expect(lrScale("cosine", (steps - 1) / 2, steps)).toBeCloseTo(Math.SQRT1_2, 14);
  });

  it("schedules are monotone non-increasing over a run", () => {
    for (const schedule of LR_SCHEDULES) {
      let prev = Number.POSITIVE_INFINITY;
      for (let s = 0; s < 100; s++) {
        const v = lrScale(schedule, s, 100);
        expect(v).toBeLessThanOrEqual(prev);
        // cosine's last value is cos(π/2) up to rounding: ±2e-16 (ours evaluates (π/2·step)/(steps − 1), which
        // gives −1.6e-16 at step 99 of 100; the notebook's π/2·(step/(steps − 1)) gives +6e-17).
        expect(v).toBeGreaterThanOrEqual(-1e-15);
        prev = v;
      }
    }
  });
});
