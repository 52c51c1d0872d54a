// Finite-difference check, in float64, of the gradient of the full loss Σ_i L_i with respect to every W and b
// coordinate, for every activation (and the softmax family also over the batch dimension) and both kernels.
// Then the two kernels against each other on identical batches, in f64 and f32.

import { describe, expect, it } from "vitest";
import { ACTIVATION_IDS, getActivation } from "../../src/core/activations.js";
import { choosePath } from "../../src/core/kernels/cost.js";
import { wasmEnabled } from "../../src/core/kernels/engine.js";
import { fastKernel, type InstancePath, setPathOverride } from "../../src/core/kernels/fast.js";
import { forwardInstance, makeReferenceKernel } from "../../src/core/kernels/reference.js";
import { sparseKernel } from "../../src/core/kernels/sparse.js";
import type { Gradients, SoftmaxDim, StepKernel } from "../../src/core/kernels/types.js";
import { cloneParams, type DType, type ModelSpec, type Params } from "../../src/core/model.js";
import { densify, type SparseBatch } from "../../src/core/sampling.js";
import {
  geometricSpec,
  paramsWithBias,
  SOFTMAX_FAMILY,
  sampledBatch,
  zeroSamples,
} from "../helpers/model.js";

// F = 8, H = 3 makes the sparse kernel take its direct path for p = 1 and its Gram path for p = 0.5 and 0.1
// (checked below), so both code paths are differentiated.
const SPEC = geometricSpec(8, 3, [1, 0.5, 0.1], 0.8);
const BATCH = 16;
const H_STEP = 1e-6;
// Central differences: truncation error ~h²·|L'''|/6 ≈ 1e-13 here; rounding error ~ε·|L|/h ≈ 2e-10·|L|.
// So |fd − g| ≤ RTOL·|g| + ATOL·max(1, |L|) with RTOL = 1e-6, ATOL = 1e-8 has ≥ 50× headroom on rounding
// while a wrong derivative (off by a factor, a sign, a missing term) is off by ≥ 1e-3 relative.
const RTOL = 1e-6;
const ATOL = 1e-8;

interface Evaluation {
  total: number;
  losses: Float64Array;
  grads: Gradients;
}

function evaluate(kernel: StepKernel, spec: ModelSpec, id: string, params: Params, batch: SparseBatch) {
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const grads: Gradients = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
  const losses = new Float64Array(I);
  kernel(spec, getActivation(id), params, batch, grads, losses);
  return { total: losses.reduce((a, b) => a + b, 0), losses, grads } satisfies Evaluation;
}

/** Coordinates where the analytic gradient disagrees with central differences. */
function gradcheck(kernel: StepKernel, id: string, seed: number): string[] {
  const params = paramsWithBias(SPEC, "f64", seed);
  const batch = sampledBatch(SPEC, BATCH, "f64", seed);
  const at = evaluate(kernel, SPEC, id, params, batch);
  const failures: string[] = [];
  expect(Number.isFinite(at.total)).toBe(true);
  for (const which of ["W", "b"] as const) {
    const analytic = at.grads[which];
    for (let j = 0; j < analytic.length; j++) {
      const p = cloneParams(params);
      const x0 = p[which][j];
      p[which][j] = x0 + H_STEP;
      const up = evaluate(kernel, SPEC, id, p, batch).total;
      p[which][j] = x0 - H_STEP;
      const down = evaluate(kernel, SPEC, id, p, batch).total;
      const fd = (up - down) / (2 * H_STEP);
      const g = analytic[j];
      if (!(Math.abs(fd - g) <= RTOL * Math.abs(g) + ATOL * Math.max(1, Math.abs(at.total))))
        failures.push(`${id} d/d${which}[${j}]: analytic ${g}, finite difference ${fd}`);
    }
  }
  return failures;
}

/** The fast (WebAssembly) kernel with every instance forced onto one algorithm. */
function fastOn(path: InstancePath): StepKernel {
  return (spec, act, params, batch, grads, losses) => {
    setPathOverride(path);
    try {
      fastKernel(spec, act, params, batch, grads, losses);
    } finally {
      setPathOverride(undefined);
    }
  };
}

const KERNELS: [string, (dim: SoftmaxDim) => StepKernel][] = [
  ["reference", (dim) => makeReferenceKernel(dim)],
  ["sparse", () => sparseKernel],
  ["fast (dense path)", () => fastOn("dense")],
  ["fast (Gram path)", () => fastOn("gram")],
  ["fast (automatic paths)", () => fastKernel],
];

describe("gradient check (float64, central differences)", () => {
  it("WebAssembly SIMD is available here, so the fast kernel is tested, not its JavaScript fallback", () => {
    expect(wasmEnabled()).toBe(true);
  });

  it("the spec exercises both sparse-kernel paths and includes all-zero samples", () => {
    expect(choosePath(1, 8, 3, "f64")).toBe("dense");
    expect(choosePath(0.1, 8, 3, "f64")).toBe("gram");
    const batch = sampledBatch(SPEC, BATCH, "f64", 1);
    expect(zeroSamples(batch, 2)).toBeGreaterThan(0);
    expect(zeroSamples(batch, 2)).toBeLessThan(BATCH);
  });

  for (const [name, make] of KERNELS) {
    it.each([...ACTIVATION_IDS])(`${name} kernel: %s`, (id) => {
      expect(gradcheck(make("features"), id, 1)).toEqual([]);
    });
  }

  it.each(SOFTMAX_FAMILY)("reference kernel, softmax over the batch dimension: %s", (id) => {
    expect(gradcheck(makeReferenceKernel("batch"), id, 2)).toEqual([]);
  });

  it("the check can fail: a gradient scaled by 1.01 is caught", () => {
    const wrong: StepKernel = (spec, act, params, batch, grads, losses) => {
      sparseKernel(spec, act, params, batch, grads, losses);
      grads.W[5] *= 1.01;
    };
    expect(gradcheck(wrong, "gelu", 1)).toHaveLength(1);
  });
});

/**
 * Per instance, the scale of the floating-point error of the gradient: a first-order bound in which every
 * quantity is replaced by the sum of the magnitudes it is computed from.
 *   y = act(z) carries the error of z: |δy| ≲ u·(|y| + |J|·|z|)  (cancellation inside act, e.g. softshrink's
 *     z + 0.5 near −0.5, costs relative accuracy of y but not absolute);
 *   e = y − x:   e_abs = |y| + |x| + |J|·|z|;  dY_abs = 2·imp·e_abs/(B·F);  dZ_abs = |J|ᵀ dY_abs;
 *   ∇W_abs = dZ_absᵀ|Hd| + |X|ᵀ(dZ_abs |W|);  ∇b_abs = Σ_samples dZ_abs.
 * A kernel computing in precision u is then off by ≲ c·u·(this scale), with c of the order of the number of
 * operations in a chain, however much the sums cancel (in an instance with p = 0.001 the gradient comes from
 * two or three samples and can be far smaller than its terms).
 */
function gradientErrorScale(spec: ModelSpec, id: string, params: Params, batch: SparseBatch) {
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const B = batch.batchSize;
  const act = getActivation(id);
  const X = new Float64Array(B * F);
  const x = new Float64Array(F);
  const Hd = new Float64Array(B * H);
  const Z = new Float64Array(B * F);
  const Y = new Float64Array(B * F);
  const dYabs = new Float64Array(F);
  const dZabs = new Float64Array(B * F);
  const J = new Float64Array(F * F); // |∂y_i/∂z_j| of one sample
  const p64: Params = { dtype: "f64", W: Float64Array.from(params.W), b: Float64Array.from(params.b) };
  const unit = new Float64Array(F);
  const row = new Float64Array(F);
  const out: { W: number; b: number }[] = [];
  for (let i = 0; i < I; i++) {
    for (let s = 0; s < B; s++) {
      densify(batch, i, s, x);
      X.set(x, s * F);
    }
    forwardInstance(spec, act, p64, i, X, B, Hd, Z, Y, "features");
    for (let s = 0; s < B; s++) {
      const o = s * F;
      J.fill(0);
      if (act.kind === "elementwise") {
        for (let f = 0; f < F; f++) J[f * F + f] = Math.abs(act.derivative(Z[o + f], Y[o + f]));
      } else {
        const z = Z.subarray(o, o + F);
        const y = Y.subarray(o, o + F);
        for (let r = 0; r < F; r++) {
          unit.fill(0);
          unit[r] = 1;
          act.vjp(z, y, unit, row, 0, 1, F);
          for (let c = 0; c < F; c++) J[r * F + c] = Math.abs(row[c]);
        }
      }
      for (let f = 0; f < F; f++) {
        let jz = 0;
        for (let c = 0; c < F; c++) jz += J[f * F + c] * Math.abs(Z[o + c]);
        const eAbs = Math.abs(Y[o + f]) + Math.abs(X[o + f]) + jz;
        dYabs[f] = (2 * spec.importance[i * F + f] * eAbs) / (B * F);
      }
      for (let c = 0; c < F; c++) {
        let acc = 0;
        for (let r = 0; r < F; r++) acc += J[r * F + c] * dYabs[r];
        dZabs[o + c] = acc;
      }
    }
    const W = p64.W.subarray(i * F * H, (i + 1) * F * H);
    let maxW = 0;
    let maxB = 0;
    for (let f = 0; f < F; f++) {
      let sb = 0;
      for (let s = 0; s < B; s++) sb += dZabs[s * F + f];
      maxB = Math.max(maxB, sb);
      for (let k = 0; k < H; k++) {
        let sw = 0;
        for (let s = 0; s < B; s++) {
          let dh = 0;
          for (let g = 0; g < F; g++) dh += dZabs[s * F + g] * Math.abs(W[g * H + k]);
          sw += dZabs[s * F + f] * Math.abs(Hd[s * H + k]) + Math.abs(X[s * F + f]) * dh;
        }
        maxW = Math.max(maxW, sw);
      }
    }
    out.push({ W: maxW, b: maxB });
  }
  return out;
}

/** Largest |a − b| of each instance's block, relative to that instance's scale. */
function blockwiseRelDiff(a: Float64Array, b: Float64Array, scales: number[]): number {
  const n = a.length / scales.length;
  let worst = 0;
  scales.forEach((scale, i) => {
    let diff = 0;
    for (let j = i * n; j < (i + 1) * n; j++) diff = Math.max(diff, Math.abs(a[j] - b[j]));
    worst = Math.max(worst, scale === 0 ? diff : diff / scale);
  });
  return worst;
}

const relDiff = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-300));

/** Kernel `kernel` against the reference kernel on one batch: worst relative differences of the losses and of the
 *  gradients (per instance, relative to its error scale, see gradientErrorScale). */
function compareKernels(
  kernel: StepKernel,
  spec: ModelSpec,
  dtype: DType,
  batchSize: number,
  id: string,
  seed: number,
) {
  const params = paramsWithBias(spec, dtype, seed);
  const batch = sampledBatch(spec, batchSize, dtype, seed);
  const ref = evaluate(makeReferenceKernel("features"), spec, id, params, batch);
  const other = evaluate(kernel, spec, id, params, batch);
  const scale = gradientErrorScale(spec, id, params, batch);
  let lossDiff = 0;
  for (let i = 0; i < spec.nInstances; i++)
    lossDiff = Math.max(lossDiff, relDiff(other.losses[i], ref.losses[i]));
  return {
    lossDiff,
    gradW: blockwiseRelDiff(
      other.grads.W,
      ref.grads.W,
      scale.map((s) => s.W),
    ),
    gradB: blockwiseRelDiff(
      other.grads.b,
      ref.grads.b,
      scale.map((s) => s.b),
    ),
  };
}

const FAST_KERNELS = KERNELS.slice(1);

// f64: every kernel computes the same sums in a different order (Gram form, zero-sample shortcut, SIMD lanes),
// so they agree to rounding, ~1e-15 relative; 1e-12 is the brief's bound.
const F64_TOL = 1e-12;
// f32: the reference kernel rounds every intermediate (h, z, y, dY, dZ, dh) to float32; the sparse kernel only
// z and y, accumulating in float64; the fast kernel computes in float32 SIMD arithmetic. Each rounding is
// ≤ u = 2⁻²⁴ ≈ 6e-8 relative; sums of up to F + H = 25 terms and a chain of ~6 rounded stages bound the
// disagreement by ~(F + H + 6)·u ≈ 2e-6 of the gradient's error scale (gradientErrorScale; the losses are sums
// of non-negative terms, so they are compared relative to themselves). Observed: ≤ 3.8e-7 (solu); f64 ≤ 3e-14.
// A genuine bug (a missing term) is ≥ 1e-3.
const F32_TOL = 2e-6;

describe("every kernel = the reference kernel on the same batch", () => {
  // p = 1 (every sample dense), 0.05 (mostly all-zero samples), 0.001 (almost all samples all-zero);
  // F = 20, H = 5 as in the demo preset.
  const spec = geometricSpec(20, 5, [1, 0.05, 0.001], 0.7);
  const B = 256;

  it("the batch has dense, mixed and all-zero instances", () => {
    const batch = sampledBatch(spec, B, "f64", 3);
    expect(zeroSamples(batch, 0)).toBe(0);
    expect(zeroSamples(batch, 1)).toBeGreaterThan(B / 4);
    expect(zeroSamples(batch, 1)).toBeLessThan(B);
    expect(zeroSamples(batch, 2)).toBeGreaterThan(B * 0.9);
    expect(zeroSamples(batch, 2)).toBeLessThan(B);
  });

  for (const [name, make] of FAST_KERNELS) {
    const kernel = make("features");
    it.each([...ACTIVATION_IDS])(`${name}, f64: %s`, (id) => {
      const r = compareKernels(kernel, spec, "f64", B, id, 3);
      expect(r.lossDiff).toBeLessThan(F64_TOL);
      expect(r.gradW).toBeLessThan(F64_TOL);
      expect(r.gradB).toBeLessThan(F64_TOL);
    });
    it.each([...ACTIVATION_IDS])(`${name}, f32: %s`, (id) => {
      const r = compareKernels(kernel, spec, "f32", B, id, 3);
      expect(r.lossDiff).toBeLessThan(F32_TOL);
      expect(r.gradW).toBeLessThan(F32_TOL);
      expect(r.gradB).toBeLessThan(F32_TOL);
    });
  }

  // The fast kernel is generated per (F, H, dtype, activation): also check the intro preset's shape, 5 → 2.
  it.each([...ACTIVATION_IDS])("fast kernel at the intro shape (5 → 2), f64 and f32: %s", (id) => {
    const intro = geometricSpec(5, 2, [1, 0.3, 0.05], 0.9);
    const f64 = compareKernels(fastKernel, intro, "f64", 128, id, 6);
    expect(Math.max(f64.lossDiff, f64.gradW, f64.gradB)).toBeLessThan(F64_TOL);
    const f32 = compareKernels(fastKernel, intro, "f32", 128, id, 6);
    expect(Math.max(f32.lossDiff, f32.gradW, f32.gradB)).toBeLessThan(F32_TOL);
  });

  it.each(FAST_KERNELS.map(([name, make]) => [name, make("features")] as const))(
    "%s: p = 1 for every instance and p = 0.001 for every instance (f64)",
    (_name, kernel) => {
      for (const probs of [
        [1, 1],
        [0.001, 0.001],
      ]) {
        const s = geometricSpec(20, 5, probs, 0.7);
        for (const id of ["relu", "softmax", "exp", "hardshrink"]) {
          const r = compareKernels(kernel, s, "f64", 64, id, 4);
          expect(r.lossDiff, `${id} ${probs}`).toBeLessThan(F64_TOL);
          expect(r.gradW, `${id} ${probs}`).toBeLessThan(F64_TOL);
          expect(r.gradB, `${id} ${probs}`).toBeLessThan(F64_TOL);
        }
      }
    },
  );

  it.each(FAST_KERNELS.map(([name, make]) => [name, make("features")] as const))(
    "%s: an instance whose samples are all zero: ∇W = 0, ∇b and loss as the reference",
    (_name, kernel) => {
      const s = geometricSpec(6, 2, [1e-9, 1], 0.9);
      const params = paramsWithBias(s, "f64", 5);
      const batch = sampledBatch(s, 32, "f64", 5);
      expect(zeroSamples(batch, 0)).toBe(32);
      for (const id of ["relu", "gelu", "softmin"]) {
        const ref = evaluate(makeReferenceKernel("features"), s, id, params, batch);
        const other = evaluate(kernel, s, id, params, batch);
        for (let j = 0; j < 6 * 2; j++) {
          expect(ref.grads.W[j]).toBe(0);
          expect(other.grads.W[j]).toBe(0);
        }
        for (let f = 0; f < 6; f++) expect(relDiff(other.grads.b[f], ref.grads.b[f])).toBeLessThan(F64_TOL);
        expect(relDiff(other.losses[0], ref.losses[0])).toBeLessThan(F64_TOL);
      }
    },
  );
});
