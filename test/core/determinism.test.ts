// Runs are reproducible bit for bit, seeds matter, and every activation trained with the same seed starts
// from the same weights and sees the same batches (common random numbers).

import { describe, expect, it } from "vitest";
import { getActivation } from "../../src/core/activations.js";
import { makeReferenceKernel } from "../../src/core/kernels/reference.js";
import { initParams } from "../../src/core/model.js";
import { createOptimizer, lrScale } from "../../src/core/optimizer.js";
import { Rng } from "../../src/core/rng.js";
import { createBatch, MASK_MIN_P, sampleBatch } from "../../src/core/sampling.js";
import { type TrainConfig, Trainer, train } from "../../src/core/train.js";
import { getPreset } from "../../src/experiments/presets.js";
import { bitEqual } from "../helpers/numeric.js";

const intro = getPreset("intro").spec();

function config(over: Partial<TrainConfig> = {}): TrainConfig {
  return {
    spec: intro,
    activation: "relu",
    steps: 50,
    batchSize: 256,
    lr: 1e-3,
    lrSchedule: "constant",
    seed: 0,
    dtype: "f32",
    softmaxDim: "features",
    ...over,
  };
}

const sameFloats = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).every((v, j) => Object.is(v, b[j])) && a.length === b.length;

describe("train() is deterministic", () => {
  for (const dtype of ["f32", "f64"] as const) {
    for (const activation of ["relu", "softmin"]) {
      it(`same config twice ⇒ bit-identical params, losses and curve (${dtype}, ${activation})`, () => {
        const a = train(config({ dtype, activation }));
        const b = train(config({ dtype, activation }));
        expect(bitEqual(a.params.W, b.params.W)).toBe(true);
        expect(bitEqual(a.params.b, b.params.b)).toBe(true);
        expect(sameFloats(a.trainLoss, b.trainLoss)).toBe(true);
        expect(a.curve).toEqual(b.curve);
        // and training happened: the weights moved away from the init.
        expect(bitEqual(a.params.W, initParams(intro, dtype, 0).W)).toBe(false);
      });
    }
  }

  it("different seeds ⇒ different init, batches and result", () => {
    const a = train(config({ seed: 1 }));
    const b = train(config({ seed: 2 }));
    expect(bitEqual(a.params.W, b.params.W)).toBe(false);
    expect(sameFloats(a.trainLoss, b.trainLoss)).toBe(false);
  });

  it("the softmax family over the batch dimension (reference kernel) is deterministic too", () => {
    const a = train(config({ activation: "softmax", softmaxDim: "batch", steps: 10 }));
    const b = train(config({ activation: "softmax", softmaxDim: "batch", steps: 10 }));
    expect(bitEqual(a.params.W, b.params.W)).toBe(true);
  });

  it("training in slices (Trainer.advance) equals training in one go", () => {
    const whole = train(config({ dtype: "f64" }));
    const t = new Trainer(config({ dtype: "f64" }));
    for (const n of [1, 7, 13, 100]) t.advance(n);
    expect(t.done).toBe(true);
    expect(t.step).toBe(50);
    expect(bitEqual(t.params.W, whole.params.W)).toBe(true);
    expect(bitEqual(t.params.b, whole.params.b)).toBe(true);
  });

  it("Rng: same (seed, stream) ⇒ same numbers; other seed or stream ⇒ different", () => {
    const draw = (seed: number, stream: string) => {
      const r = new Rng(seed, stream);
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    expect(draw(5, "train")).toEqual(draw(5, "train"));
    expect(draw(5, "train")).not.toEqual(draw(6, "train"));
    expect(draw(5, "train")).not.toEqual(draw(5, "eval"));
    expect(draw(5, "train")).not.toEqual(draw(5, "init"));
  });
});

describe("common random numbers across activations", () => {
  it("two activations with the same seed start from identical W and b", () => {
    for (const dtype of ["f32", "f64"] as const) {
      const relu = new Trainer(config({ activation: "relu", dtype, seed: 9 }));
      const tanh = new Trainer(config({ activation: "tanh", dtype, seed: 9 }));
      expect(bitEqual(relu.params.W, tanh.params.W)).toBe(true);
      expect(bitEqual(relu.params.b, tanh.params.b)).toBe(true);
      expect(bitEqual(relu.params.W, initParams(intro, dtype, 9).W)).toBe(true);
    }
  });

  // The Trainer must consume the batches of Rng(seed, "train") in order, whatever the activation: replaying the
  // loop by hand from that stream reproduces it exactly, for two different activations.
  it.each(["relu", "gelu"])("%s trains on the batches of Rng(seed, 'train') + sampleBatch", (activation) => {
    const steps = 5;
    const cfg = config({ activation, dtype: "f64", seed: 4, steps, lr: 1e-2, lrSchedule: "linear" });
    const t = new Trainer({ ...cfg, kernel: "reference" });
    t.advance(steps);

    const { nInstances: I } = intro;
    // the JavaScript AdamW, one instance at a time (the trainer steps all together, in WebAssembly)
    const opt = createOptimizer("adamw", initParams(intro, "f64", 4), I, "js");
    const { params, grads } = opt;
    const rng = new Rng(4, "train");
    const batch = createBatch(intro, cfg.batchSize, "f64");
    const losses = new Float64Array(I);
    const kernel = makeReferenceKernel("features");
    for (let step = 0; step < steps; step++) {
      sampleBatch(intro, rng, batch);
      kernel(intro, getActivation(activation), params, batch, grads, losses);
      const lr = cfg.lr * lrScale("linear", step, steps);
      for (let i = 0; i < I; i++) opt.step(lr, i, i + 1);
    }
    expect(bitEqual(t.params.W, params.W)).toBe(true);
    expect(bitEqual(t.params.b, params.b)).toBe(true);
    expect(sameFloats(t.trainLoss, losses)).toBe(true);
  });

  it("the batches depend on the seed only: f32 and f64 runs see the same non-zero pattern and values", () => {
    const a = createBatch(intro, 64, "f64");
    const b = createBatch(intro, 64, "f32");
    sampleBatch(intro, new Rng(3, "train"), a);
    sampleBatch(intro, new Rng(3, "train"), b);
    expect(a.nnz).toBe(b.nnz);
    expect(Array.from(a.rowStart)).toEqual(Array.from(b.rowStart));
    expect(Array.from(a.feature.subarray(0, a.nnz))).toEqual(Array.from(b.feature.subarray(0, b.nnz)));
    // float32 values drop the low 8 of the 32 random bits: for p ≥ MASK_MIN_P (values u/T, T = p·2³²) that moves a
    // value by < 256/T ≤ 256/(MASK_MIN_P·2³²) (1e-6 at 0.06), below it (geometric scheme) by < 2⁻²⁴.
    let worst = 0;
    for (let j = 0; j < a.nnz; j++) worst = Math.max(worst, Math.abs(b.value[j] - a.value[j]));
    expect(worst).toBeLessThan(256 / (MASK_MIN_P * 2 ** 32) + 2 ** -24);
  });
});
