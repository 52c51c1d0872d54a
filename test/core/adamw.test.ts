// AdamW against torch.optim.AdamW (fixtures/adamw.json, scripts/fixtures/make_adamw_fixture.py): six steps
// from given parameters and gradients, float64 and float32, with a constant and a per-step learning rate.
// Then the notebook's learning-rate schedules.

import { describe, expect, it } from "vitest";
import { createFastAdamW } from "../../src/core/kernels/optimizer-fast.js";
import { allocate } from "../../src/core/model.js";
import { adamWStep, createAdamWState, LR_SCHEDULES, lrScale, TORCH_ADAMW } from "../../src/core/optimizer.js";
import { Rng } from "../../src/core/rng.js";
import { type AdamWCase, readFixture } from "../helpers/fixtures.js";

const fx = readFixture<{ cases: AdamWCase[] }>("adamw.json");

// Tolerances relative to |torch| with a floor for parameters that stay at ~0. float64: our update is the same
// sequence of float64 operations as torch's single-tensor path (lerp, mul/addcmul, sqrt/div/add, addcdiv);
// the results are in fact bit-identical, and 1e-14 only allows for a reordering of those operations.
// float32: torch computes in float32 while we compute each update in float64 and round on store, so each step
// may differ by ~1 ulp (6e-8); observed ≤ 3e-7 (5 ulp) after 6 steps; 1e-6 (~16 ulp) is the brief's bound.
const TOL = { float64: { rtol: 1e-14, atol: 1e-16 }, float32: { rtol: 1e-6, atol: 1e-9 } } as const;

function runCase(c: AdamWCase): number[][] {
  const n = c.initial.length;
  const dtype = c.dtype === "float32" ? "f32" : "f64";
  const params = dtype === "f32" ? Float32Array.from(c.initial) : Float64Array.from(c.initial);
  const state = createAdamWState(dtype, n, 1);
  const hyper = { beta1: c.betas[0], beta2: c.betas[1], eps: c.eps, weightDecay: c.weightDecay };
  const out: number[][] = [];
  c.grads.forEach((g, k) => {
    adamWStep(params, Float64Array.from(g), state, 0, 0, n, c.lr[k], hyper);
    out.push(Array.from(params));
  });
  return out;
}

describe("adamWStep vs torch.optim.AdamW", () => {
  it("the fixture has f32 and f64 cases with constant and per-step lr", () => {
    const names = fx.cases.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(["constant-f64", "constant-f32", "linear-f64", "linear-f32"]),
    );
    const linear = fx.cases.find((c) => c.name === "linear-f64")!;
    expect(new Set(linear.lr).size).toBe(linear.lr.length);
  });

  it("TORCH_ADAMW holds torch's defaults (the fixture's hyper-parameters)", () => {
    for (const c of fx.cases) {
      expect(TORCH_ADAMW.beta1).toBe(c.betas[0]);
      expect(TORCH_ADAMW.beta2).toBe(c.betas[1]);
      expect(TORCH_ADAMW.eps).toBe(c.eps);
      expect(TORCH_ADAMW.weightDecay).toBe(c.weightDecay);
    }
  });

  it.each(fx.cases.map((c) => [c.name, c] as const))("%s: parameters after every step", (_name, c) => {
    const ours = runCase(c);
    const { rtol, atol } = TOL[c.dtype];
    const failures: string[] = [];
    c.params.forEach((expected, k) => {
      expected.forEach((t, j) => {
        const o = ours[k][j];
        if (!(Math.abs(o - t) <= atol + rtol * Math.abs(t)))
          failures.push(`step ${k} param ${j}: ours ${o}, torch ${t}, rel ${Math.abs(o - t) / Math.abs(t)}`);
      });
    });
    expect(failures).toEqual([]);
    // The parameters did move (the comparison is not trivially satisfied).
    expect(ours.at(-1)).not.toEqual(c.initial);
  });

  it("the per-step lr of the fixture's linear case is the notebook's linear schedule", () => {
    const c = fx.cases.find((x) => x.name === "linear-f64")!;
    c.lr.forEach((lr, k) => {
      expect(lr).toBeCloseTo(1e-3 * lrScale("linear", k, c.lr.length), 15);
    });
  });

  it("the step counter is per group: a group that skipped steps gets the bias correction of its own count", () => {
    const g = Float64Array.from([0.3, -0.2, 0.05, 1]);
    const fresh = Float64Array.from([1, 2, 3, 4]);
    const state = createAdamWState("f64", 8, 2);
    const params = Float64Array.from([1, 2, 3, 4, 1, 2, 3, 4]);
    const grads = Float64Array.from([...g, ...g]);
    for (let k = 0; k < 3; k++) adamWStep(params, grads, state, 0, 0, 4, 1e-2);
    adamWStep(params, grads, state, 1, 4, 8, 1e-2);
    expect(Array.from(state.step)).toEqual([3, 1]);
    // Group 1 after one step equals a fresh single-group run's first step, bit for bit.
    const single = createAdamWState("f64", 4, 1);
    adamWStep(fresh, g, single, 0, 0, 4, 1e-2);
    expect(Array.from(params.subarray(4))).toEqual(Array.from(fresh));
    // and group 0 (three steps) is elsewhere.
    expect(Array.from(params.subarray(0, 4))).not.toEqual(Array.from(fresh));
  });

  it("groups [group, groupEnd) stepping together equal one call per group, bit for bit (JS and WebAssembly)", () => {
    // 3 groups of 5 (odd: the WebAssembly pairs then straddle group boundaries), f32 and f64
    for (const dtype of ["f32", "f64"] as const) {
      const n = 15;
      const rng = new Rng(9, "test-adamw-groups");
      const initial = allocate(dtype, n).map(() => rng.uniform() - 0.5);
      const perGroup = allocate(dtype, n);
      perGroup.set(initial);
      const together = allocate(dtype, n);
      together.set(initial);
      const s1 = createAdamWState(dtype, n, 3);
      const s2 = createAdamWState(dtype, n, 3);
      const fast = createFastAdamW(dtype, n, 1, 3);
      expect(fast).toBeDefined();
      if (!fast) return;
      const fastParams = fast.adopt({ dtype, W: initial, b: allocate(dtype, 1) });
      for (let step = 0; step < 5; step++) {
        const grads = Float64Array.from({ length: n }, () => rng.uniform() - 0.5);
        for (let g = 0; g < 3; g++) adamWStep(perGroup, grads, s1, g, 5 * g, 5 * g + 5, 1e-2);
        adamWStep(together, grads, s2, 0, 0, n, 1e-2, TORCH_ADAMW, 3);
        fast.grads.W.set(grads);
        fast.step(fastParams.W, fast.grads.W, fast.optW, 0, 0, n, 1e-2, TORCH_ADAMW, 3);
      }
      expect(Array.from(together)).toEqual(Array.from(perGroup));
      expect(Array.from(fastParams.W)).toEqual(Array.from(perGroup));
      expect(Array.from(s2.step)).toEqual([5, 5, 5]);
      expect(Array.from(fast.optW.step)).toEqual([5, 5, 5]);
      expect(Array.from(together)).not.toEqual(Array.from(initial));
    }
  });

  it("groups at different steps cannot step together (a named error)", () => {
    const state = createAdamWState("f64", 4, 2);
    const params = Float64Array.from([1, 2, 3, 4]);
    const grads = Float64Array.from([1, 1, 1, 1]);
    adamWStep(params, grads, state, 0, 0, 2, 1e-2);
    expect(() => adamWStep(params, grads, state, 0, 0, 4, 1e-2, TORCH_ADAMW, 2)).toThrow(/different steps/);
  });

  it("only params[from, to) are touched", () => {
    const params = Float64Array.from([1, 2, 3, 4, 5]);
    const state = createAdamWState("f64", 5, 1);
    adamWStep(params, Float64Array.from([1, 1, 1, 1, 1]), state, 0, 1, 3, 1e-2);
    expect(params[0]).toBe(1);
    expect(params[3]).toBe(4);
    expect(params[4]).toBe(5);
    expect(params[1]).not.toBe(2);
    expect(params[2]).not.toBe(3);
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

describe("AdamW in WebAssembly (createFastAdamW) equals adamWStep bit for bit", () => {
  // random parameters and gradients of mixed scales (including exact zeros), several groups, some of which
  // skip steps (as frozen instances do), odd and even group lengths (the vector loop's scalar tail)
  const other = { beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 };
  it.each([
    ["f32", TORCH_ADAMW],
    ["f64", TORCH_ADAMW],
    ["f32", other],
    ["f64", other],
  ] as const)("%s, %o: 40 steps, 3 groups of lengths 7, 10 and 1", (dtype, hyper) => {
    const lengths = [7, 10, 1];
    const n = lengths.reduce((a, b) => a + b, 0);
    const fast = createFastAdamW(dtype, n, 1, lengths.length);
    expect(fast).toBeDefined();
    if (!fast) return;
    const rng = new Rng(5, "test-adamw");
    const initial = allocate(dtype, n).map(() => (rng.uniform() - 0.5) * 2);
    const params = fast.adopt({ dtype, W: initial, b: allocate(dtype, 1) });
    const reference = Float64Array.from(initial);
    const refParams = dtype === "f32" ? Float32Array.from(reference) : reference;
    const refState = createAdamWState(dtype, n, lengths.length);
    for (let step = 0; step < 40; step++) {
      for (let j = 0; j < n; j++) {
        const u = rng.uniform();
        fast.grads.W[j] = u < 0.1 ? 0 : (rng.uniform() - 0.5) * 10 ** Math.floor(u * 6 - 3);
      }
      const lr = 1e-3 * (1 - step / 40);
      let from = 0;
      lengths.forEach((len, group) => {
        // group 1 skips every third step
        if (!(group === 1 && step % 3 === 2)) {
          fast.step(params.W, fast.grads.W, fast.optW, group, from, from + len, lr, hyper);
          adamWStep(refParams, fast.grads.W, refState, group, from, from + len, lr, hyper);
        }
        from += len;
      });
    }
    expect(Array.from(fast.optW.step)).toEqual(Array.from(refState.step));
    expect(Array.from(params.W)).toEqual(Array.from(refParams));
    expect(Array.from(fast.optW.m)).toEqual(Array.from(refState.m));
    expect(Array.from(fast.optW.v)).toEqual(Array.from(refState.v));
    // and it moved: the test compares updated values, not the initial ones
    expect(Array.from(params.W)).not.toEqual(Array.from(initial));
  });
});
