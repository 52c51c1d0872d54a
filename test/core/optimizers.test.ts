// The optimizers a run can choose besides AdamW, against torch.optim (fixtures/optimizers.json, written by
// scripts/fixtures/make_optimizer_fixture.py): Adam and SGD with momentum, six steps from given parameters
// and gradients, float64 and float32. Then every optimizer's WebAssembly implementation against its
// JavaScript one, bit for bit, over groups that step together and apart.

import { describe, expect, it } from "vitest";
import { getActivation } from "../../src/core/activations.js";
import { makeReferenceKernel } from "../../src/core/kernels/reference.js";
import { allocate, type DType, initParams, makeSpec } from "../../src/core/model.js";
import {
  createOptimizer,
  OPTIMIZER_NAMES,
  type OptimizerSettings,
  TORCH_DEFAULTS,
} from "../../src/core/optimizer.js";
import { Rng } from "../../src/core/rng.js";
import { createBatch, sampleBatch } from "../../src/core/sampling.js";
import { Trainer } from "../../src/core/train.js";
import { readFixture } from "../helpers/fixtures.js";
import { trajectory } from "../helpers/optimizer.js";

interface OptimizerCase {
  name: string;
  dtype: "float32" | "float64";
  settings: OptimizerSettings;
  lr: number[];
  initial: number[];
  grads: number[][];
  params: number[][];
}
const fx = readFixture<{ cases: OptimizerCase[] }>("optimizers.json");

// float64: the same operations as torch's single-tensor code, so equal up to a reordering (observed equal).
// float32: torch rounds every intermediate to float32, we round only what is stored (as for AdamW).
const TOL = { float64: { rtol: 1e-14, atol: 1e-16 }, float32: { rtol: 1e-6, atol: 1e-9 } } as const;

describe("Adam and SGD with momentum vs torch.optim", () => {
  it("the fixture covers Adam, Adam with weight decay, SGD, Nesterov SGD and dampening, f32 and f64", () => {
    const names = new Set(fx.cases.map((c) => c.name.replace(/-(constant|linear)-f(32|64)$/, "")));
    expect([...names].sort()).toEqual(["adam", "adam-wd", "sgd", "sgd-dampening", "sgd-nesterov-wd"]);
    expect(fx.cases).toHaveLength(20);
  });

  it("TORCH_DEFAULTS.adam and .sgd are the fixture's 'adam' and 'sgd' settings", () => {
    expect(fx.cases.find((c) => c.name.startsWith("adam-"))?.settings).toEqual(TORCH_DEFAULTS.adam);
    expect(fx.cases.find((c) => c.name.startsWith("sgd-constant"))?.settings).toEqual(TORCH_DEFAULTS.sgd);
  });

  const backends = ["js", "wasm"] as const;
  it.each(fx.cases.flatMap((c) => backends.map((b) => [c.name, b, c] as const)))(
    "%s, %s: parameters after every step",
    (_name, backend, c) => {
      const dtype: DType = c.dtype === "float32" ? "f32" : "f64";
      const ours = trajectory(c.settings, dtype, c, backend);
      const { rtol, atol } = TOL[c.dtype];
      const failures: string[] = [];
      c.params.forEach((expected, k) => {
        expected.forEach((t, j) => {
          const o = ours[k][j];
          // relative to the parameter's size before the step too: p − update cancels where the update is
          // nearly p (adam's param 5 at step 0: 0.01 − 0.0099), and a float32 rounding of p's operands is an
          // ulp of 0.01, not of the small difference
          const before = k === 0 ? c.initial[j] : c.params[k - 1][j];
          const scale = Math.max(Math.abs(t), c.dtype === "float32" ? Math.abs(before) : 0);
          if (!(Math.abs(o - t) <= atol + rtol * scale))
            failures.push(`step ${k} param ${j}: ours ${o}, torch ${t}`);
        });
      });
      expect(failures).toEqual([]);
      expect(ours.at(-1)).not.toEqual(c.initial);
    },
  );
});

describe("WebAssembly optimizers = their JavaScript specification, bit for bit", () => {
  // random parameters and gradients of mixed scales (including exact zeros); 3 groups of 7 values of W (odd:
  // the vector loop's pairs straddle groups) and 3 of b; group 1 skips every third step (a frozen instance)
  const other: OptimizerSettings[] = [
    { name: "adamw", beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 },
    { name: "adam", beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.05 },
    { name: "sgd", momentum: 0.7, dampening: 0.2, weightDecay: 0.01, nesterov: true },
  ];
  const settings = [...OPTIMIZER_NAMES.map((n) => TORCH_DEFAULTS[n]), ...other];
  it.each(settings.flatMap((s) => (["f32", "f64"] as const).map((d) => [s.name, d, s] as const)))(
    "%s, %s: 40 steps",
    (_name, dtype, s) => {
      const rng = new Rng(5, "test-optimizers");
      const W = allocate(dtype, 21).map(() => (rng.uniform() - 0.5) * 2);
      const b = allocate(dtype, 3).map(() => rng.uniform() - 0.5);
      const js = createOptimizer(s, { dtype, W: W.slice(), b: b.slice() }, 3, "js");
      const wasm = createOptimizer(s, { dtype, W, b }, 3, "wasm");
      for (let step = 0; step < 40; step++) {
        for (const g of [js.grads.W, js.grads.b])
          for (let j = 0; j < g.length; j++) {
            const u = rng.uniform();
            g[j] = u < 0.1 ? 0 : (rng.uniform() - 0.5) * 10 ** Math.floor(u * 6 - 3);
          }
        wasm.grads.W.set(js.grads.W);
        wasm.grads.b.set(js.grads.b);
        const lr = 1e-2 * (1 - step / 40);
        for (const opt of [js, wasm]) {
          if (step % 3 === 2) {
            opt.step(lr, 0, 1);
            opt.step(lr, 2, 3);
          } else if (step < 2) opt.step(lr);
          else for (let g = 0; g < 3; g++) opt.step(lr, g, g + 1);
        }
      }
      expect(Array.from(wasm.steps)).toEqual(Array.from(js.steps));
      expect(Array.from(wasm.params.W)).toEqual(Array.from(js.params.W));
      expect(Array.from(wasm.params.b)).toEqual(Array.from(js.params.b));
      expect(Array.from(wasm.state.W.m)).toEqual(Array.from(js.state.W.m));
      expect(Array.from(wasm.state.W.v)).toEqual(Array.from(js.state.W.v));
      expect(Array.from(js.params.W)).not.toEqual(Array.from(W.map(() => 0)));
      expect(Array.from(wasm.params.W)).not.toEqual(Array.from(W));
    },
  );

  it("groups stepping together equal one step per group, bit for bit", () => {
    for (const name of OPTIMIZER_NAMES) {
      const rng = new Rng(9, "test-optimizer-groups");
      const W = allocate("f32", 15).map(() => rng.uniform() - 0.5);
      const b = allocate("f32", 3);
      const together = createOptimizer(name, { dtype: "f32", W: W.slice(), b: b.slice() }, 3, "wasm");
      const apart = createOptimizer(name, { dtype: "f32", W: W.slice(), b: b.slice() }, 3, "js");
      for (let step = 0; step < 5; step++) {
        const g = Float64Array.from({ length: 15 }, () => rng.uniform() - 0.5);
        together.grads.W.set(g);
        apart.grads.W.set(g);
        together.step(1e-2);
        for (let k = 0; k < 3; k++) apart.step(1e-2, k, k + 1);
      }
      expect(Array.from(together.params.W), name).toEqual(Array.from(apart.params.W));
      expect(Array.from(together.steps)).toEqual([5, 5, 5]);
    }
  });
});

describe("the optimizer is a setting of a run", () => {
  it.each(["adam", "sgd"] as const)(
    "Trainer with optimizer %s = the kernel + that optimizer by hand",
    (name) => {
      const spec = makeSpec(
        5,
        2,
        [1, 0.3, 0.05],
        Array.from({ length: 5 }, (_, f) => 0.9 ** f),
      );
      const steps = 6;
      const config = {
        spec,
        activation: "relu",
        steps,
        batchSize: 32,
        lr: 1e-2,
        lrSchedule: "constant" as const,
        seed: 2,
        dtype: "f64" as const,
        softmaxDim: "features" as const,
        kernel: "reference" as const,
        optimizer: name,
      };
      const t = new Trainer(config);
      t.advance(steps);
      const opt = createOptimizer(name, initParams(spec, "f64", 2), spec.nInstances, "js");
      const rng = new Rng(2, "train");
      const batch = createBatch(spec, 32, "f64");
      const losses = new Float64Array(spec.nInstances);
      for (let step = 0; step < steps; step++) {
        sampleBatch(spec, rng, batch);
        makeReferenceKernel("features")(spec, getActivation("relu"), opt.params, batch, opt.grads, losses);
        opt.step(1e-2);
      }
      expect(Array.from(t.params.W)).toEqual(Array.from(opt.params.W));
      expect(Array.from(t.params.b)).toEqual(Array.from(opt.params.b));
      // and it is not AdamW's run
      const adamw = new Trainer({ ...config, optimizer: "adamw" });
      adamw.advance(steps);
      expect(Array.from(adamw.params.W)).not.toEqual(Array.from(t.params.W));
    },
  );
});
