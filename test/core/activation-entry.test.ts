// Adding an activation takes one table entry: an entry defined only here (not in src/core/activations.ts),
// with its vector form written with the vector-math emitter, gets the generated fast kernel, which agrees
// with the reference kernel (its JavaScript forward and derivative) on both algorithms and precisions.

import { afterEach, describe, expect, it } from "vitest";
import type { ElementwiseActivation } from "../../src/core/activations.js";
import { setFmaEnabled } from "../../src/core/kernels/engine.js";
import { fastKernel, type InstancePath, setPathOverride } from "../../src/core/kernels/fast.js";
import { makeReferenceKernel } from "../../src/core/kernels/reference.js";
import { buildKernel } from "../../src/core/kernels/wasm/kernel.js";
import { type DType, initParams, makeSpec } from "../../src/core/model.js";
import { Rng } from "../../src/core/rng.js";
import { createBatch, sampleBatch } from "../../src/core/sampling.js";
import { maxRelDiff } from "../helpers/numeric.js";

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** QuickGELU, x·σ(1.702x): heavy (an exponential per value), so the kernel runs it in a loop. */
const quickGelu: ElementwiseActivation = {
  kind: "elementwise",
  id: "test_quick_gelu",
  name: "QuickGELU",
  torch: "x * torch.sigmoid(1.702 * x)",
  formula: "x·σ(1.702x)",
  doc: "Defined in a test only.",
  forward: (x) => x * sigmoid(1.702 * x),
  derivative: (x) => {
    const s = sigmoid(1.702 * x);
    return s + 1.702 * x * s * (1 - s);
  },
  vector: {
    emit: (m, z) => {
      const { g, vt } = m;
      const { s } = m.sigmoid(vt.mul(z, vt.c(1.702)));
      const d = vt.add(s, vt.mul(vt.mul(z, vt.c(1.702)), vt.mul(s, vt.sub(vt.c(1), s))));
      return { y: g.letV(vt.mul(z, s)), d: g.letV(d) };
    },
  },
};

/** |x| with PyTorch's abs'(0) = 0: light (a few lane operations), so the kernel keeps it unrolled. */
const absolute: ElementwiseActivation = {
  kind: "elementwise",
  id: "test_abs",
  name: "Abs",
  torch: "torch.abs",
  formula: "|x|",
  doc: "Defined in a test only.",
  forward: Math.abs,
  derivative: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  vector: {
    light: true,
    emit: ({ g, vt }, z) => ({
      y: g.letV(vt.abs(z)),
      d: g.letV(vt.sel(vt.gt(z, vt.c(0)), vt.c(1), vt.sel(vt.lt(z, vt.c(0)), vt.c(-1), vt.c(0)))),
    }),
  },
};

const TOL: Record<DType, number> = { f64: 1e-11, f32: 2e-5 };

afterEach(() => {
  setPathOverride(undefined);
  setFmaEnabled(true);
});

describe("an activation defined only in a test gets the generated kernel", () => {
  const spec = makeSpec(
    7,
    3,
    [1, 0.3, 0.01],
    Array.from({ length: 7 }, (_, f) => 0.9 ** f),
  );
  const run = (kernel: typeof fastKernel, act: ElementwiseActivation, dtype: DType) => {
    const { nInstances: I, nFeatures: F, nHidden: H } = spec;
    const params = initParams(spec, dtype, 4);
    for (let j = 0; j < params.b.length; j++) params.b[j] = 0.4 * Math.sin(1.3 * j);
    const batch = createBatch(spec, 96, dtype);
    sampleBatch(spec, new Rng(4, "entry"), batch);
    const grads = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
    const losses = new Float64Array(I);
    kernel(spec, act, params, batch, grads, losses);
    return [losses, grads.W, grads.b];
  };

  for (const act of [quickGelu, absolute])
    for (const dtype of ["f32", "f64"] as DType[])
      it(`${act.id}, ${dtype}: inline vector code, = the reference kernel on both paths`, () => {
        // the vector form is inlined: no call back into JavaScript
        expect(buildKernel(7, 3, dtype, act).jsMid).toBe(false);
        const { vector: _, ...withoutVector } = act;
        expect(buildKernel(7, 3, dtype, withoutVector).jsMid).toBe(true);
        const ref = run(makeReferenceKernel("features"), act, dtype);
        for (const fma of [true, false]) {
          setFmaEnabled(fma);
          for (const path of ["dense", "gram"] as InstancePath[]) {
            setPathOverride(path);
            const fast = run(fastKernel, act, dtype);
            const diff = Math.max(...ref.map((r, k) => maxRelDiff(fast[k], r)));
            expect(diff, `${path}${fma ? ", fused" : ""}`).toBeLessThan(TOL[dtype]);
          }
        }
      });
});
