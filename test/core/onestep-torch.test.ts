// One training step against PyTorch, exactly: the loss and the gradients of reference/tms_torch.py's step on
// fixed W, b and x (fixtures/onestep.json, scripts/fixtures/make_onestep_fixture.py: B = 16, I = 3, F = 5,
// H = 2, per-instance importance, all-zero samples in two instances), for every activation of
// src/core/activations.ts, through the readable reference kernel and the fast WebAssembly kernel (both of its
// algorithms, dense and Gram), in float64 and float32. The fidelity suites compare training in distribution
// over seeds; this pins the step itself.
//
// Tolerances, per element: |ours − torch| ≤ RTOL·|torch| + RTOL·scale, scale = the largest |value| of the same
// tensor and instance (an element that nearly cancels to 0 carries the rounding of its larger terms).
//  - float64: RTOL = 1e-12. Both sides compute the same sums in different orders; the observed worst is
//    1.7e-15. A wrong term (a missing importance factor, a derivative off at one branch) is ≥ 1e-3.
//  - float32: RTOL = 5e-6. PyTorch rounds every intermediate to float32 (ε = 6e-8) in its own order; the
//    reference kernel accumulates in float64. The observed worst is 5e-7 (≈ 9ε).
//  - hardsigmoid's gradient: PyTorch's backward multiplies by a float32 1/6 even in float64
//    (0.1666666716337204, fixtures/README.md), so its float64 gradients differ from the exact 1/6 by 3e-8
//    relative; RTOL 1e-7 for those (its loss stays at 1e-12).

import { afterEach, describe, expect, it } from "vitest";
import { ACTIVATION_IDS, getActivation } from "../../src/core/activations.js";
import { wasmEnabled } from "../../src/core/kernels/engine.js";
import { fastKernel, type InstancePath, setPathOverride } from "../../src/core/kernels/fast.js";
import { makeReferenceKernel } from "../../src/core/kernels/reference.js";
import type { StepKernel } from "../../src/core/kernels/types.js";
import { allocate, type DType, type ModelSpec, makeSpec, type Params } from "../../src/core/model.js";
import type { SparseBatch } from "../../src/core/sampling.js";
import { readFixture } from "../helpers/fixtures.js";

interface StepResult {
  loss: number[];
  gradW: number[][][];
  gradB: number[][];
}
interface StepCase {
  W: number[][][];
  b: number[][];
  /** [batch][instance][feature] */
  x: number[][][];
  importance: number[][];
  results: Record<string, StepResult>;
}
interface OneStepFixture {
  torch: string;
  shape: { batch: number; instances: number; features: number; hidden: number };
  featureProbability: number[];
  allZeroSamples: number[];
  activations: string[];
  float64: StepCase;
  float32: StepCase;
}

const fx = readFixture<OneStepFixture>("onestep.json");
const { batch: B, instances: I, features: F, hidden: H } = fx.shape;
const CASES: [DType, StepCase][] = [
  ["f64", fx.float64],
  ["f32", fx.float32],
];
const RTOL: Record<DType, number> = { f64: 1e-12, f32: 5e-6 };
/** PyTorch's hardsigmoid backward uses a float32 1/6 in float64 too. */
const RTOL_HARDSIGMOID_GRAD_F64 = 1e-7;

const KERNELS: [string, StepKernel, InstancePath | undefined][] = [
  ["reference", makeReferenceKernel("features"), undefined],
  ["fast, dense", fastKernel, "dense"],
  ["fast, Gram", fastKernel, "gram"],
];

afterEach(() => setPathOverride(undefined));

function specOf(c: StepCase): ModelSpec {
  return makeSpec(F, H, fx.featureProbability, c.importance);
}

function paramsOf(c: StepCase, dtype: DType): Params {
  const W = allocate(dtype, I * F * H);
  const b = allocate(dtype, I * F);
  W.set(c.W.flat(2));
  b.set(c.b.flat());
  return { dtype, W, b };
}

/** The fixture's dense x as a (plain JavaScript) sparse batch: the non-zeros of each sample, in feature order. */
function batchOf(c: StepCase, dtype: DType): SparseBatch {
  const rowStart = new Int32Array(I * (B + 1));
  const feature: number[] = [];
  const value: number[] = [];
  for (let i = 0; i < I; i++) {
    for (let s = 0; s < B; s++) {
      rowStart[i * (B + 1) + s] = feature.length;
      for (let f = 0; f < F; f++) {
        if (c.x[s][i][f] !== 0) {
          feature.push(f);
          value.push(c.x[s][i][f]);
        }
      }
    }
    rowStart[i * (B + 1) + B] = feature.length;
  }
  const nnz = feature.length;
  const values = allocate(dtype, nnz + 8);
  values.set(value);
  const features = new Int32Array(nnz + 8);
  features.set(feature);
  return { batchSize: B, nFeatures: F, nInstances: I, rowStart, feature: features, value: values, nnz };
}

/** Per element of one instance's slice: the worst |ours − torch| / (|torch| + scale). */
function worstError(ours: ArrayLike<number>, torch: ArrayLike<number>): number {
  let scale = 0;
  for (let j = 0; j < torch.length; j++) scale = Math.max(scale, Math.abs(torch[j]));
  let worst = 0;
  for (let j = 0; j < torch.length; j++) {
    const e = Math.abs(ours[j] - torch[j]) / (Math.abs(torch[j]) + scale || 1);
    worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(worst, e);
  }
  return worst;
}

describe("one training step = PyTorch's (fixtures/onestep.json)", () => {
  it("the fixture covers every activation of the table, and no other", () => {
    expect([...fx.activations].sort()).toEqual([...ACTIVATION_IDS].sort());
    for (const [, c] of CASES) expect(Object.keys(c.results).sort()).toEqual([...ACTIVATION_IDS].sort());
    expect(fx.allZeroSamples.slice(1).every((n) => n > 0)).toBe(true);
  });

  it("runs the fast kernel in WebAssembly", () => {
    expect(wasmEnabled()).toBe(true);
  });

  for (const [dtype, c] of CASES) {
    for (const [name, kernel, path] of KERNELS) {
      it.each([...ACTIVATION_IDS])(`${dtype}, ${name}: %s`, (id) => {
        const want = c.results[id];
        expect(want, `fixture has no ${dtype} result for ${id}`).toBeDefined();
        setPathOverride(path);
        const grads = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
        const losses = new Float64Array(I);
        kernel(specOf(c), getActivation(id), paramsOf(c, dtype), batchOf(c, dtype), grads, losses);
        const rtol = RTOL[dtype];
        const gradTol = dtype === "f64" && id === "hardsigmoid" ? RTOL_HARDSIGMOID_GRAD_F64 : rtol;
        const errors: string[] = [];
        for (let i = 0; i < I; i++) {
          const checks: [string, number, number][] = [
            ["loss", worstError([losses[i]], [want.loss[i]]), rtol],
            ["∇W", worstError(grads.W.subarray(i * F * H, (i + 1) * F * H), want.gradW[i].flat()), gradTol],
            ["∇b", worstError(grads.b.subarray(i * F, (i + 1) * F), want.gradB[i]), gradTol],
          ];
          for (const [what, err, tol] of checks) {
            if (!(err <= tol)) errors.push(`instance ${i} ${what}: error ${err.toExponential(2)} > ${tol}`);
          }
        }
        expect(errors).toEqual([]);
      });
    }
  }
});
