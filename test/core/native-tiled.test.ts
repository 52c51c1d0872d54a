// The native kernel's dense path for many features (native/tiled.cc), F > 32:
//  * it takes the dense-path instances of elementwise activations and the Gram path's with p·F ≥ 0.6·H, and
//    only those (not the sparser Gram instances, not the softmax family's, not float64), and what the fast
//    kernel returns for them is what it wrote;
//  * its losses and gradients equal the reference kernel's within the WebAssembly kernel's float32
//    tolerance, for several shapes, activations and feature probabilities: full rows (p = 1: transposed
//    eight at a time), scattered rows, a batch whose size is no multiple of 8 (padding lanes), chunks of
//    128 samples and a remainder;
//  * training the sparsity preset with it ends where training without it does (float32 rounding apart);
//  * bad arguments are exceptions, not crashes.

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Activation, getActivation } from "../../src/core/activations.js";
import { choosePath, fastKernel, setPathOverride } from "../../src/core/kernels/fast.js";
import {
  NATIVE_ARG,
  NATIVE_MAX_F,
  type NativeKernel,
  nativeInstances,
  setNativeKernel,
} from "../../src/core/kernels/native/native.js";
import { makeReferenceKernel } from "../../src/core/kernels/reference.js";
import type { Gradients } from "../../src/core/kernels/types.js";
import { initParams, type ModelSpec, makeSpec } from "../../src/core/model.js";
import { Rng } from "../../src/core/rng.js";
import { createBatch, sampleBatch } from "../../src/core/sampling.js";
import { TRAIN_DEFAULTS, train } from "../../src/core/train.js";
import { installNativeKernel, loadedNativeKernel } from "../../src/experiments/native-kernel.js";
import { getPreset } from "../../src/experiments/presets.js";
import { ensureBuilt } from "../helpers/cli.js";
import { nativeFailure, spyKernel, whyNoNativeBuild } from "../helpers/native.js";
import { bitEqual, relDiffPerInstance, stepDiffs } from "../helpers/numeric.js";

const SKIP = whyNoNativeBuild();
if (SKIP) console.warn(`native tiled path tests skipped: ${SKIP}`);

/** test/core/kernels-fast.test.ts's float32 tolerance for the WebAssembly kernel against the reference. */
const TOL_F32 = 2e-5;
const reference = makeReferenceKernel("features");

interface Result {
  grads: Gradients;
  losses: Float64Array;
}

function run(kernel: typeof fastKernel, spec: ModelSpec, act: Activation, B: number, seed = 3): Result {
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const params = initParams(spec, "f32", seed);
  for (let j = 0; j < params.b.length; j++) params.b[j] = 0.4 * Math.sin(1.7 * j + seed);
  const batch = createBatch(spec, B, "f32");
  sampleBatch(spec, new Rng(seed, "native-tiled"), batch);
  const grads = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
  const losses = new Float64Array(I);
  kernel(spec, act, params, batch, grads, losses);
  return { grads, losses };
}

const specOf = (F: number, H: number, ps: number[]) =>
  makeSpec(
    F,
    H,
    ps,
    Array.from({ length: F }, (_, f) => 0.9 ** (f / 4)),
  );

let addon: NativeKernel;

afterEach(() => {
  setNativeKernel(undefined);
  setPathOverride(undefined);
});

describe.skipIf(SKIP !== undefined)("the native kernel's tiled dense path (F > 32)", () => {
  beforeAll(() => {
    ensureBuilt();
    expect(installNativeKernel()).toBe("native");
    addon = loadedNativeKernel() as NativeKernel;
    expect(addon.tiledMaxF).toBeGreaterThanOrEqual(400);
  });

  const cases: [number, number, string, number[], number][] = [
    [33, 3, "relu", [1, 0.5], 1024],
    [40, 10, "gelu", [1, 0.7, 0.3], 1024],
    [100, 20, "relu", [1, 0.5, 0.28], 1024],
    [100, 20, "mish", [1, 0.45], 300], // 300 samples: a chunk of 128 twice, a remainder, padding lanes
    [100, 20, "sigmoid", [1, 0.3], 1024],
    [200, 20, "tanh", [1, 0.3], 512],
    [200, 20, "exp", [1], 256],
    [64, 33, "softplus", [1, 0.6], 1000], // H not a multiple of the tiles' 4
    [401, 7, "elu", [1, 0.5], 256], // F neither a multiple of 4 nor of 8
  ];
  it.each(cases)(
    "F = %i, H = %i, %s at p = %j, B = %i: = the reference kernel, natively",
    (F, H, id, ps, B) => {
      setPathOverride("dense");
      const spec = specOf(F, H, ps);
      const act = getActivation(id);
      const spy = spyKernel(addon);
      setNativeKernel(spy.kernel);
      expect(nativeInstances(spec, act, "f32")?.tiled, "every dense instance on the tiled path").toEqual(
        ps.map((_, i) => i),
      );
      const got = run(fastKernel, spec, act, B);
      expect(spy.tiledCalls(), "one call for the instances").toBe(1);
      spy.tiledRecords.forEach((r, i) => {
        expect(got.losses[i], `instance ${i}'s loss is what the addon wrote`).toBe(r.loss);
        expect(bitEqual(got.grads.W.subarray(i * F * H, (i + 1) * F * H), r.gradW), `∇W ${i}`).toBe(true);
      });
      const ref = run(reference, spec, act, B);
      const I = spec.nInstances;
      for (const [what, diff] of stepDiffs(ref, got, I)) expect(diff, what).toBeLessThan(TOL_F32);
      // and it is the native code: WebAssembly's sums round differently
      setNativeKernel(undefined);
      const wasm = run(fastKernel, spec, act, B);
      expect(bitEqual(wasm.grads.W, got.grads.W), "native ∇W ≠ WebAssembly's").toBe(false);
    },
  );

  it("takes only elementwise activations' dense instances above 32 features", () => {
    const spy = spyKernel(addon);
    setNativeKernel(spy.kernel);
    const spec = specOf(100, 20, [1, 0.5, 0.05]);
    // the Gram path's instance (p = 0.05) stays in WebAssembly
    expect(nativeInstances(spec, getActivation("relu"), "f32")?.tiled).toEqual([0, 1]);
    // … unless it has p·F ≥ 0.6·H non-zeros a sample (the Gram path's instances at p = 0.15 and 0.13, not 0.1)
    const gram = specOf(100, 20, [0.15, 0.13, 0.1]);
    expect(Array.from(gram.featureProbability, (p) => choosePath(p, 100, 20, "f32"))).toEqual([
      "gram",
      "gram",
      "gram",
    ]);
    expect(nativeInstances(gram, getActivation("gelu"), "f32")?.tiled).toEqual([0, 1]);
    const wide = specOf(100, 40, [0.15, 0.13, 0.1]);
    expect(
      nativeInstances(wide, getActivation("gelu"), "f32"),
      "at H = 40 it takes 24 a sample",
    ).toBeUndefined();
    for (const id of ["softmax", "log_softmax", "solu"]) {
      expect(nativeInstances(spec, getActivation(id), "f32"), id).toBeUndefined();
      run(fastKernel, spec, getActivation(id), 256);
    }
    expect(nativeInstances(spec, getActivation("relu"), "f64"), "float64").toBeUndefined();
    expect(spy.tiledCalls()).toBe(0);
    // F = 32 and below: the other native paths, never this one
    run(fastKernel, specOf(NATIVE_MAX_F, 3, [1, 0.5]), getActivation("gelu"), 256);
    expect(spy.tiledCalls()).toBe(0);
    expect(
      nativeInstances(specOf(addon.tiledMaxF + 1, 3, [1]), getActivation("relu"), "f32"),
    ).toBeUndefined();
  });

  it("training the sparsity preset (100 → 20), 60 steps: = without it (1e-3)", () => {
    const config = { ...TRAIN_DEFAULTS, spec: getPreset("sparsity").spec(), activation: "gelu", steps: 60 };
    const spy = spyKernel(addon);
    setNativeKernel(spy.kernel);
    const native = train(config);
    expect(spy.tiledCalls(), "a call a step").toBe(60);
    setNativeKernel(undefined);
    const wasm = train(config);
    const I = config.spec.nInstances;
    expect(relDiffPerInstance(wasm.trainLoss, native.trainLoss, I)).toBeLessThan(1e-3);
    expect(relDiffPerInstance(wasm.params.W, native.params.W, I)).toBeLessThan(1e-3);
  });

  describe("bad arguments are exceptions, not crashes", () => {
    // one instance, F = 40, H = 4, B = 4 samples of which two non-empty, in CSR
    const F = 40;
    const H = 4;
    const B = 4;
    const make = () => {
      const memory = new ArrayBuffer(1 << 16);
      const W = 0;
      const bias = 1024;
      const rows = 2048;
      const feat = 4096;
      const val = 8192;
      const gW = 16384;
      const gB = 32768;
      new Float32Array(memory, W, F * H).fill(0.1);
      new Int32Array(memory, rows, B + 1).set([0, 2, 2, 3, 3]);
      new Int32Array(memory, feat, 3).set([1, 7, 39]);
      new Float32Array(memory, val, 3).set([0.5, 0.25, 1]);
      const args = new Int32Array(NATIVE_ARG.COUNT);
      args.set([0, F, H, B, W, bias, rows, feat, val, gW, gB, 0, 0]);
      // (importance for the largest F a case below sets)
      return { memory, args, imp: new Float64Array(4096).fill(1), losses: new Float64Array(1) };
    };
    type Input = ReturnType<typeof make>;
    const call = (x: Input) => () => addon.tiled(x.memory, x.args, x.imp, x.losses);
    it("a well-formed call runs", () => {
      const x = make();
      call(x)();
      expect(Number.isFinite(x.losses[0]) && x.losses[0] > 0).toBe(true);
    });
    const broken: [string, RegExp, (x: Input) => void][] = [
      [
        "the softmax family",
        /softmax family has no tiled path/,
        (x) => (x.args[0] = addon.ids.indexOf("softmax")),
      ],
      ["F past tiledMaxF", /bad model shape/, (x) => (x.args[1] = 4096)],
      ["H past the tiled path's", /bad model shape/, (x) => (x.args[2] = addon.tiledMaxH + 1)],
      [
        "a feature index = F",
        /names a feature outside/,
        (x) => new Int32Array(x.memory, 4096, 3).set([1, 7, 40]),
      ],
      [
        "rows out of order",
        /out of order/,
        (x) => new Int32Array(x.memory, 2048, B + 1).set([0, 2, 1, 3, 3]),
      ],
      ["values outside the memory", /outside the memory/, (x) => (x.args[8] = (1 << 16) - 4)],
    ];
    it.each(broken)("%s", (_, message, breakIt) => {
      const x = make();
      breakIt(x);
      expect(nativeFailure(call(x))).toBe("TMS_NATIVE: true");
      expect(call(x)).toThrow(message);
    });
  });
});
