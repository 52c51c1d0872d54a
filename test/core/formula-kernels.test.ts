// User formulas in the fast WebAssembly kernel (src/core/kernels/wasm/formula-vact.ts): compiled to vector
// code (no JavaScript call per element), equal to the reference kernel on the same batch, and a formula
// equal to a built-in gives the built-in's losses and gradients within float32 reassociation.

import { afterEach, describe, expect, it } from "vitest";
import { getActivation } from "../../src/core/activations.js";
import { defineFormulaActivation } from "../../src/core/formula/activation.js";
import { setFmaEnabled } from "../../src/core/kernels/engine.js";
import { fastKernel, type InstancePath, setPathOverride } from "../../src/core/kernels/fast.js";
import { makeReferenceKernel } from "../../src/core/kernels/reference.js";
import { buildKernel } from "../../src/core/kernels/wasm/kernel.js";
import { type DType, initParams, makeSpec } from "../../src/core/model.js";
import { Rng } from "../../src/core/rng.js";
import { createBatch, sampleBatch } from "../../src/core/sampling.js";
import { train } from "../../src/core/train.js";
import { BUILTIN_FORMULAS } from "../helpers/builtin-formulas.js";
import { maxRelDiff } from "../helpers/numeric.js";

const reference = makeReferenceKernel("features");
const spec = makeSpec(
  7,
  3,
  [1, 0.3, 0.01],
  Array.from({ length: 7 }, (_, f) => 0.9 ** f),
);

afterEach(() => {
  setPathOverride(undefined);
  setFmaEnabled(true);
});

function step(kernel: typeof fastKernel, id: string, dtype: DType, seed = 1) {
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const params = initParams(spec, dtype, seed);
  for (let j = 0; j < params.b.length; j++) params.b[j] = 0.4 * Math.sin(1.7 * j + seed);
  const batch = createBatch(spec, 96, dtype);
  sampleBatch(spec, new Rng(seed, "formula-kernels"), batch);
  const grads = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
  const losses = new Float64Array(I);
  kernel(spec, getActivation(id), params, batch, grads, losses);
  return [...losses, ...grads.W, ...grads.b];
}

const TOL: Record<DType, number> = { f64: 1e-11, f32: 2e-5 };
const cases = Object.entries(BUILTIN_FORMULAS).map(([id, fs]) => [id, fs[0]] as const);

describe("formulas in the fast kernel", () => {
  it.each(cases)("%s = %s gets vector code in float32", (_id, formula) => {
    const act = defineFormulaActivation({ id: "vec", formula });
    expect(buildKernel(7, 3, "f32", act, true).jsMid).toBe(false);
  });

  it("float64 has vector code except where erf or GELU have none (as the built-in GELU)", () => {
    const silu = defineFormulaActivation({ id: "vec", formula: "x*sigmoid(x)" });
    expect(buildKernel(7, 3, "f64", silu, true).jsMid).toBe(false);
    const gelu = defineFormulaActivation({ id: "vec", formula: "x*0.5*(1 + erf(x/sqrt(2)))" });
    expect(buildKernel(7, 3, "f64", gelu, true).jsMid).toBe(true);
  });

  const paths: InstancePath[] = ["dense", "gram"];
  for (const dtype of ["f32", "f64"] as DType[])
    for (const path of paths)
      it.each(cases)(`= the reference kernel, ${dtype}, ${path}: %s = %s`, (_id, formula) => {
        defineFormulaActivation({ id: "k", formula });
        setPathOverride(path);
        expect(maxRelDiff(step(fastKernel, "k", dtype), step(reference, "k", dtype))).toBeLessThan(
          TOL[dtype],
        );
      });

  it.each([
    ["silu", "x*sigmoid(x)"],
    ["relu", "max(x, 0)"],
    ["gelu", "x*0.5*(1+erf(x/sqrt(2)))"],
  ])(
    "%s = %s: the built-in's losses and gradients in one step, f32 (within float32 reassociation)",
    (id, formula) => {
      defineFormulaActivation({ id: "same", formula });
      for (const path of paths) {
        setPathOverride(path);
        expect(maxRelDiff(step(fastKernel, "same", "f32"), step(fastKernel, id, "f32"))).toBeLessThan(2e-6);
      }
    },
  );

  it.each([
    ["silu", "x*sigmoid(x)"],
    ["relu", "max(x, 0)"],
    ["gelu", "x*0.5*(1+erf(x/sqrt(2)))"],
  ])("%s = %s: 300 training steps end at the built-in's losses", (id, formula) => {
    defineFormulaActivation({ id: "same", formula });
    const run = (activation: string) =>
      train({
        spec,
        activation,
        steps: 300,
        batchSize: 256,
        lr: 1e-2,
        lrSchedule: "constant",
        seed: 3,
        dtype: "f32",
        softmaxDim: "features",
      });
    const a = run("same");
    const b = run(id);
    expect(maxRelDiff([...a.trainLoss], [...b.trainLoss])).toBeLessThan(1e-3);
  });

  it("a formula that overflows is reported as diverged, like a built-in", () => {
    defineFormulaActivation({ id: "boom", formula: "exp(exp(4*x))" });
    const out = train({
      spec,
      activation: "boom",
      steps: 50,
      batchSize: 64,
      lr: 1,
      lrSchedule: "constant",
      seed: 0,
      dtype: "f32",
      softmaxDim: "features",
    });
    expect([...out.divergedAtStep].some((s) => s >= 0)).toBe(true);
    const builtin = train({
      spec,
      activation: "exp",
      steps: 50,
      batchSize: 64,
      lr: 100,
      lrSchedule: "constant",
      seed: 0,
      dtype: "f32",
      softmaxDim: "features",
    });
    expect([...builtin.divergedAtStep].some((s) => s >= 0)).toBe(true);
  });
});
