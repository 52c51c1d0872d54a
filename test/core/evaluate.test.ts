import { describe, expect, it } from "vitest";
import { getActivation } from "../../src/core/activations.js";
import { EVAL_SAMPLES, evaluateLoss, evaluationBatch } from "../../src/core/evaluate.js";
import { forwardInstance } from "../../src/core/kernels/reference.js";
import type { SoftmaxDim } from "../../src/core/kernels/types.js";
import {
  allocate,
  type DType,
  initParams,
  type ModelSpec,
  makeSpec,
  type Params,
} from "../../src/core/model.js";
import { Rng } from "../../src/core/rng.js";
import { createBatch, densify, sampleBatch } from "../../src/core/sampling.js";

/** The definition: out = act(W Wᵀ x + b) by the reference forward pass, mean of imp·(x − out)² per instance. */
function lossByDefinition(spec: ModelSpec, id: string, params: Params, seed: number, dim: SoftmaxDim) {
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const n = EVAL_SAMPLES;
  const dt = params.dtype;
  const batch = createBatch(spec, n, dt);
  sampleBatch(spec, new Rng(seed, "eval"), batch);
  const [X, x, Hd, Z, Y] = [n * F, F, n * H, n * F, n * F].map((len) => allocate(dt, len));
  const losses = new Float64Array(I);
  for (let i = 0; i < I; i++) {
    for (let s = 0; s < n; s++) {
      densify(batch, i, s, x);
      X.set(x, s * F);
    }
    forwardInstance(spec, getActivation(id), params, i, X, n, Hd, Z, Y, dim);
    let sum = 0;
    for (let q = 0; q < n * F; q++) sum += spec.importance[i * F + (q % F)] * (X[q] - Y[q]) ** 2;
    losses[i] = sum / (n * F);
  }
  return losses;
}

describe("evaluation loss", () => {
  const spec = makeSpec(
    20,
    5,
    [1, 0.3, 0.03, 0.001],
    Array.from({ length: 20 }, (_, f) => 0.9 ** f),
  );
  const cases: [string, DType, SoftmaxDim][] = [
    ["relu", "f32", "features"],
    ["gelu", "f32", "features"],
    ["softmax", "f32", "features"],
    ["tanh", "f64", "features"],
    ["softmax", "f64", "batch"],
  ];
  it.each(cases)(
    "is the mean importance-weighted error of the model's output (%s, %s, softmax over %s)",
    (id, dt, dim) => {
      const params = initParams(spec, dt, 7);
      for (let j = 0; j < params.b.length; j++) params.b[j] = 0.3 * Math.cos(j);
      const ours = evaluateLoss(spec, id, params, 5, dim);
      const expected = lossByDefinition(spec, id, params, 5, dim);
      for (let i = 0; i < spec.nInstances; i++) {
        expect(expected[i]).toBeGreaterThan(0);
        expect(Math.abs(ours[i] - expected[i]) / expected[i], `instance ${i}`).toBeLessThan(
          dt === "f32" ? 1e-5 : 1e-12,
        );
      }
    },
  );

  it.each(["f32", "f64"] as DType[])(
    "gives each run the same losses from one shared batch as from its own (%s): the kernels only read it",
    (dt) => {
      const shared = evaluationBatch(spec, 5, dt);
      for (const id of ["relu", "gelu", "softmax", "mish", "relu"]) {
        const params = initParams(spec, dt, 11);
        for (let j = 0; j < params.b.length; j++) params.b[j] = 0.2 * Math.sin(j);
        const alone = evaluateLoss(spec, id, params, 5, "features");
        const fromShared = evaluateLoss(spec, id, params, 5, "features", EVAL_SAMPLES, shared);
        expect(Array.from(fromShared), id).toEqual(Array.from(alone));
      }
    },
  );

  it("rejects a shared batch of another shape", () => {
    const other = evaluationBatch(makeSpec(5, 2, [1], [1, 1, 1, 1, 1]), 5, "f32");
    const params = initParams(spec, "f32", 1);
    expect(() => evaluateLoss(spec, "relu", params, 5, "features", EVAL_SAMPLES, other)).toThrow(
      /does not fit/,
    );
  });
});
