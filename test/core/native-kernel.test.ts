// The native kernel (native/kernel.cc, dist/native/tms_native.node) under the fast kernel:
//  * where it can be built (linux/x64 with a C++ compiler) it is built and loads: "native" is not optional;
//  * for every activation it has, the fast kernel with it = the reference kernel on the same batch, within
//    the tolerance of the WebAssembly kernel (test/core/kernels-fast.test.ts), and what the fast kernel
//    returns for the Gram instances is what the addon wrote (a spy records its calls);
//  * its dense path, for p = 1 instances from F = 8 on (H ≤ denseMaxH), the same;
//  * what it does not cover (softmax family, user formulas, a copy of a built-in entry, F > 32, float64,
//    other dense instances) runs in WebAssembly, never in the addon;
//  * bad arguments to the addon are exceptions, not crashes;
//  * training with it ends where training without it does, and is deterministic.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Activation, getActivation, VECTOR_ACTIVATION_IDS } from "../../src/core/activations.js";
import { compileFormulaActivation } from "../../src/core/formula/activation.js";
import { choosePath, fastKernel, setPathOverride } from "../../src/core/kernels/fast.js";
import {
  isLight,
  NATIVE_ARG,
  NATIVE_MAX_F,
  type NativeKernel,
  nativeTakes,
  SOFTMAX_DENSE_MIN_P,
  setNativeKernel,
} from "../../src/core/kernels/native/native.js";
import { makeReferenceKernel } from "../../src/core/kernels/reference.js";
import type { Gradients } from "../../src/core/kernels/types.js";
import { type DType, initParams, type ModelSpec, makeSpec } from "../../src/core/model.js";
import { Rng } from "../../src/core/rng.js";
import { DENSE_MAX_F } from "../../src/core/sampler/state.js";
import { createBatch, sampleBatch } from "../../src/core/sampling.js";
import { TRAIN_DEFAULTS, Trainer } from "../../src/core/train.js";
import {
  installNativeKernel,
  loadedNativeKernel,
  NATIVE_DIR,
  type NativeBuildInfo,
} from "../../src/experiments/native-kernel.js";
import { getPreset } from "../../src/experiments/presets.js";
import { ensureBuilt } from "../helpers/cli.js";
import { type GramRecord, spyKernel, whyNoNativeBuild } from "../helpers/native.js";
import { bitEqual, relDiffPerInstance } from "../helpers/numeric.js";

const SKIP = whyNoNativeBuild();
if (SKIP) console.warn(`native kernel tests skipped: ${SKIP}`);

const reference = makeReferenceKernel("features");
/** test/core/kernels-fast.test.ts's float32 tolerance for the WebAssembly kernel against the reference. */
const TOL_F32 = 2e-5;
const TOL: Record<DType, number> = { f64: 1e-11, f32: TOL_F32 };

const relDiff = relDiffPerInstance;

interface Result {
  grads: Gradients;
  losses: Float64Array;
}

/** One step of `kernel` on a fresh batch (kernels-fast.test.ts's `run`, with the activation object). */
function run(
  kernel: typeof fastKernel,
  spec: ModelSpec,
  act: Activation,
  dtype: DType,
  seed = 3,
  B = 512,
): Result {
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const params = initParams(spec, dtype, seed);
  for (let j = 0; j < params.b.length; j++) params.b[j] = 0.4 * Math.sin(1.7 * j + seed);
  const batch = createBatch(spec, B, dtype);
  sampleBatch(spec, new Rng(seed, "native-kernel"), batch);
  const grads = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
  const losses = new Float64Array(I);
  kernel(spec, act, params, batch, grads, losses);
  return { grads, losses };
}

function diffs(ref: Result, got: Result, I: number): number[] {
  return [
    relDiff(ref.losses, got.losses, I),
    relDiff(ref.grads.W, got.grads.W, I),
    relDiff(ref.grads.b, got.grads.b, I),
  ];
}
const fmt = (d: number[]) => `losses, ∇W, ∇b differ by ${d.map((x) => x.toExponential(1)).join(", ")}`;

/**
 * What the fast kernel returns for the instances the addon ran is what the addon wrote (nothing ran over
 * it): records[k] is instance instances[k]'s.
 */
function expectWhatTheAddonWrote(
  got: Result,
  records: readonly GramRecord[],
  instances: readonly number[],
  F: number,
  H: number,
  what: string,
): void {
  records.forEach((r, k) => {
    const i = instances[k];
    expect(got.losses[i], `${what}: instance ${i}'s loss`).toBe(r.loss);
    expect(bitEqual(got.grads.W.subarray(i * F * H, (i + 1) * F * H), r.gradW), `${what}: ∇W ${i}`).toBe(
      true,
    );
    expect(bitEqual(got.grads.b.subarray(i * F, (i + 1) * F), r.gradB), `${what}: ∇b ${i}`).toBe(true);
  });
}

const sameBits = (a: Result, b: Result) =>
  bitEqual(a.losses, b.losses) && bitEqual(a.grads.W, b.grads.W) && bitEqual(a.grads.b, b.grads.b);

const specOf = (F: number, H: number, ps: number[]) =>
  makeSpec(
    F,
    H,
    ps,
    Array.from({ length: F }, (_, f) => 0.9 ** f),
  );

let addon: NativeKernel;

afterEach(() => {
  setNativeKernel(undefined);
  setPathOverride(undefined);
});

describe.skipIf(SKIP !== undefined)("the native kernel", () => {
  beforeAll(() => {
    ensureBuilt();
  });

  it("is built and loads here (linux/x64 with a C++ compiler)", () => {
    const status = installNativeKernel();
    expect(status, "installNativeKernel() on a machine that can build the addon").toBe("native");
    const loaded = loadedNativeKernel();
    expect(loaded).toBeDefined();
    addon = loaded as NativeKernel;
    expect(typeof addon.gram).toBe("function");
    expect((addon as unknown as { lanes: number }).lanes).toBe(8);
    expect(addon.ids).toContain("relu");
    expect(addon.ids).toContain("gelu");
    // its elementwise activations are the generated ones (dist/native/build.json, emit-c.ts), in that order
    const built = JSON.parse(readFileSync(join(NATIVE_DIR, "build.json"), "utf8")) as NativeBuildInfo;
    expect(addon.ids.filter((id) => getActivation(id).kind === "elementwise")).toEqual(built.ids);
    // and the softmax family (hand-written, native/mid.h) after them: every activation of the table
    expect(new Set(addon.ids.slice(built.ids.length))).toEqual(new Set(VECTOR_ACTIVATION_IDS));
  });

  /** The addon, or the test fails (it is loaded by the test above, or here if run alone). */
  const theAddon = (): NativeKernel => {
    if (!addon) {
      expect(installNativeKernel()).toBe("native");
      addon = loadedNativeKernel() as NativeKernel;
    }
    return addon;
  };

  // Feature probabilities that take the Gram path where choosePath picks it; 5 → 2 never does (then it is
  // forced with setPathOverride, as the WebAssembly kernel's tests force it).
  const PS = [0.3, 0.05, 0.01];
  const SHAPES: [number, number][] = [
    [20, 5],
    [5, 2],
    [32, 3],
    [9, 4],
  ];

  describe.each(SHAPES)("F = %i, H = %i: fast kernel with it = reference kernel", (F, H) => {
    it("every activation it has", () => {
      const ids = theAddon().ids;
      const spec = specOf(F, H, PS);
      const natural = PS.every((p) => choosePath(p, F, H, "f32") === "gram");
      if (!natural) setPathOverride("gram");
      for (const p of PS) expect(choosePath(p, F, H, "f32")).toBe("gram");
      let differsFromWasm = 0;
      for (const id of ids) {
        const act = getActivation(id);
        const takenByGram = [...PS.keys()].filter((i) => nativeTakes(PS[i], F, act));
        // a light activation's instances of both kinds in every shape: some the addon takes, and some (p·F
        // below NATIVE_MIN_NONZEROS) it leaves to WebAssembly; the other activations' every one
        if (isLight(act)) {
          expect(takenByGram.length, id).toBeGreaterThan(0);
          expect(takenByGram.length, id).toBeLessThan(PS.length);
        } else expect(takenByGram.length, id).toBe(PS.length);
        const ref = run(reference, spec, act, "f32");
        const spy = spyKernel(theAddon());
        setNativeKernel(spy.kernel);
        const got = run(fastKernel, spec, act, "f32");
        setNativeKernel(undefined);
        const wasm = run(fastKernel, spec, act, "f32");
        // it ran, once, for the instances it takes (p·F ≥ NATIVE_MIN_NONZEROS), with the arguments of this
        // model and this activation; the others ran in WebAssembly, or for the softmax family from
        // SOFTMAX_DENSE_MIN_P on above the sampler's dense rows, on the native dense path
        const toDense = (i: number) =>
          act.kind === "vector" && PS[i] >= SOFTMAX_DENSE_MIN_P && F > DENSE_MAX_F;
        const taken = takenByGram.filter((i) => !toDense(i));
        expect(spy.denseRecords.length, `${id}: instances on the dense path`).toBe(
          takenByGram.filter(toDense).length,
        );
        expect(spy.calls(), `${id}: calls of the addon's gram`).toBe(taken.length > 0 ? 1 : 0);
        expect(spy.records.length).toBe(taken.length);
        for (const r of spy.records) {
          expect(r.args[NATIVE_ARG.ACT]).toBe(ids.indexOf(id));
          expect([r.args[NATIVE_ARG.F], r.args[NATIVE_ARG.H], r.args[NATIVE_ARG.B]]).toEqual([F, H, 512]);
        }
        expectWhatTheAddonWrote(got, spy.records, taken, F, H, id);
        const d = diffs(ref, got, spec.nInstances);
        expect(Math.max(...d), `${id}, native: ${fmt(d)}`).toBeLessThan(TOL_F32);
        if (!sameBits(got, wasm)) differsFromWasm++;
      }
      // 8 lanes sum in another order than WebAssembly's 4: the results are the addon's, not the fallback's
      expect(differsFromWasm, "activations whose native result differs from WebAssembly's").toBeGreaterThan(
        0,
      );
    });
  });

  // (batch sizes not a multiple of 8 end in a block filled sample by sample, after the transposed ones)
  describe.each([
    [8, 2, 512],
    [20, 5, 512],
    [32, 3, 512],
    [20, 5, 1020],
    [9, 3, 13],
  ])("p = 1 instances, F = %i, H = %i, B = %i: its dense path = reference kernel", (F, H, B) => {
    it("every activation it has", () => {
      const spec = specOf(F, H, [1, 1]);
      for (const p of spec.featureProbability) expect(choosePath(p, F, H, "f32")).toBe("dense");
      for (const id of theAddon().ids) {
        const act = getActivation(id);
        const spy = spyKernel(theAddon());
        setNativeKernel(spy.kernel);
        const got = run(fastKernel, spec, act, "f32", 3, B);
        expect(spy.denseCalls(), `${id}: calls of the addon's dense`).toBe(1);
        expect(spy.calls()).toBe(0);
        expect(spy.denseRecords.length).toBe(2);
        expectWhatTheAddonWrote(got, spy.denseRecords, [0, 1], F, H, id);
        const d = diffs(run(reference, spec, act, "f32", 3, B), got, spec.nInstances);
        expect(Math.max(...d), `${id}, native dense: ${fmt(d)}`).toBeLessThan(TOL_F32);
      }
    });
  });

  // Small models: every dense-path instance takes the blocks path, whichever way its blocks were prepared
  // (p ≥ MASK_MIN_P from the sampler's dense rows, below from the sparse rows; p = 1 too), and batch sizes
  // whose blocks come in odd numbers (the last eight-lane block half padding).
  describe.each([
    [5, 2, 512],
    [2, 1, 512],
    [3, 2, 13],
    [7, 3, 1020],
    [6, 1, 100],
  ])("small models, F = %i, H = %i, B = %i: the blocks path = reference kernel", (F, H, B) => {
    const PS_BLOCKS = [1, 0.7, 0.3, 0.1, 0.05, 0.01];
    it("every activation it has", () => {
      const spec = specOf(F, H, PS_BLOCKS);
      for (const p of PS_BLOCKS) expect(choosePath(p, F, H, "f32")).toBe("dense");
      let differsFromWasm = 0;
      const illConditioned: string[] = [];
      for (const id of theAddon().ids) {
        const act = getActivation(id);
        const spy = spyKernel(theAddon());
        setNativeKernel(spy.kernel);
        const got = run(fastKernel, spec, act, "f32", 3, B);
        expect(spy.blocksCalls(), `${id}: calls of the addon's blocks`).toBe(1);
        expect(spy.calls() + spy.denseCalls()).toBe(0);
        expect(spy.blocksRecords.length).toBe(PS_BLOCKS.length);
        for (const r of spy.blocksRecords) {
          expect([r.args[NATIVE_ARG.F], r.args[NATIVE_ARG.H], r.args[NATIVE_ARG.B]]).toEqual([F, H, B]);
          // at most ⌈B/4⌉ blocks of four samples
          expect(r.args[NATIVE_ARG.N_BLOCKS]).toBeLessThanOrEqual(Math.ceil(B / 4));
        }
        expectWhatTheAddonWrote(got, spy.blocksRecords, [...PS_BLOCKS.keys()], F, H, id);
        const ref = run(reference, spec, act, "f32", 3, B);
        const d = diffs(ref, got, spec.nInstances);
        setNativeKernel(undefined);
        const wasm = run(fastKernel, spec, act, "f32", 3, B);
        if (!sameBits(got, wasm)) differsFromWasm++;
        const dWasm = diffs(ref, wasm, spec.nInstances);
        if (Math.max(...dWasm) < TOL_F32 / 2) {
          expect(Math.max(...d), `${id}, native blocks: ${fmt(d)}`).toBeLessThan(TOL_F32);
        } else {
          // Ill-conditioned: the softmax family at F = 2, whose ∇b is a sum of terms that cancel (dz sums to 0
          // over the features), is off by 2.6e-5 in the WebAssembly kernel too. There the native kernel must be
          // as close as the WebAssembly one.
          illConditioned.push(`${id} at F = ${F}`);
          for (let q = 0; q < 3; q++)
            expect(d[q], `${id}, native blocks: ${fmt(d)}; WebAssembly: ${fmt(dWasm)}`).toBeLessThan(
              Math.max(TOL_F32, 1.5 * dWasm[q]),
            );
        }
      }
      expect(differsFromWasm, "activations whose native result differs from WebAssembly's").toBeGreaterThan(
        0,
      );
      for (const what of illConditioned)
        expect(what, "only the softmax family at F = 2").toMatch(/ at F = 2$/);
      expect(illConditioned.every((w) => VECTOR_ACTIVATION_IDS.includes(w.split(" ")[0]))).toBe(true);
    });
  });

  // Below p = 1 above the sampler's dense rows (F > 8), the dense path fills its blocks from the CSR
  // entries: the dense-path instances, and the softmax family's Gram-path ones from SOFTMAX_DENSE_MIN_P on.
  describe.each([
    [20, 5, 512],
    [9, 3, 13],
    [32, 2, 1020],
  ])("below p = 1, F = %i, H = %i, B = %i: the dense path from CSR entries = reference kernel", (F, H, B) => {
    it("every activation it has", () => {
      const ps = [0.7, 0.5, 0.3, 0.1];
      const spec = specOf(F, H, ps);
      for (const id of theAddon().ids) {
        const act = getActivation(id);
        const spy = spyKernel(theAddon());
        setNativeKernel(spy.kernel);
        const got = run(fastKernel, spec, act, "f32", 3, B);
        const csr = ps
          .map((p, i) => [p, i] as const)
          .filter(
            ([p]) =>
              choosePath(p, F, H, "f32") === "dense" || (act.kind === "vector" && p >= SOFTMAX_DENSE_MIN_P),
          )
          .map(([, i]) => i);
        expect(csr.length, `${id}: some instances on the dense path`).toBeGreaterThan(0);
        expect(spy.denseRecords.map((r) => r.loss)).toEqual(csr.map((i) => got.losses[i]));
        for (const r of spy.denseRecords) expect(r.args[NATIVE_ARG.CSR]).toBe(1);
        const d = diffs(run(reference, spec, act, "f32", 3, B), got, spec.nInstances);
        expect(Math.max(...d), `${id}, native dense from CSR: ${fmt(d)}`).toBeLessThan(TOL_F32);
      }
    });
  });

  it("dense instances beside Gram ones: each instance goes to the path and kernel that takes it, all = reference", () => {
    const spec = specOf(20, 5, [1, 0.3, 0.01, 0.5, 0.05]);
    const paths = Array.from(spec.featureProbability, (p) => choosePath(p, 20, 5, "f32"));
    expect(paths).toEqual(["dense", "gram", "gram", "dense", "gram"]);
    // p = 0.01: 0.2 expected non-zeros a sample, below NATIVE_MIN_NONZEROS: WebAssembly's for a light
    // activation (relu), the addon's for the others
    const relu = getActivation("relu");
    expect(Array.from(spec.featureProbability, (p) => nativeTakes(p, 20, relu))).toEqual([
      true,
      true,
      false,
      true,
      true,
    ]);
    for (const id of ["relu", "gelu", "softplus"]) {
      const act = getActivation(id);
      const spy = spyKernel(theAddon());
      setNativeKernel(spy.kernel);
      const got = run(fastKernel, spec, act, "f32");
      expect(spy.calls()).toBe(1);
      const gram = id === "relu" ? [1, 4] : [1, 2, 4];
      expect(spy.records.map((r) => r.loss)).toEqual(gram.map((i) => got.losses[i]));
      // p = 1 (every slot kept, F ≥ 8) runs the native dense path from dense rows, p = 0.5 (F = 20 is above
      // the sampler's dense rows) from the CSR entries
      expect(spy.denseCalls()).toBe(1);
      expect(spy.denseRecords.map((r) => r.loss)).toEqual([got.losses[0], got.losses[3]]);
      expect(spy.denseRecords.map((r) => r.args[NATIVE_ARG.CSR])).toEqual([0, 1]);
      const d = diffs(run(reference, spec, act, "f32"), got, spec.nInstances);
      expect(Math.max(...d), `${id}: ${fmt(d)}`).toBeLessThan(TOL_F32);
    }
  });

  describe("what it does not cover runs in WebAssembly (the addon is not called)", () => {
    const spec = specOf(20, 5, PS);
    /** Runs with a spy installed; the addon must not be called, and the result must equal the reference. */
    const notCalled = (s: ModelSpec, act: Activation, dtype: DType, kernel = theAddon()) => {
      const spy = spyKernel(kernel);
      setNativeKernel(spy.kernel);
      const got = run(fastKernel, s, act, dtype, 3, 256);
      expect(spy.calls(), `${act.id}, F = ${s.nFeatures}, ${dtype}: calls of the addon's gram`).toBe(0);
      expect(spy.denseCalls(), `${act.id}, F = ${s.nFeatures}, ${dtype}: calls of the addon's dense`).toBe(0);
      expect(spy.blocksCalls(), `${act.id}, F = ${s.nFeatures}, ${dtype}: calls of the addon's blocks`).toBe(
        0,
      );
      const d = diffs(run(reference, s, act, dtype, 3, 256), got, s.nInstances);
      expect(Math.max(...d), `${act.id}: ${fmt(d)}`).toBeLessThan(TOL[dtype]);
    };

    it("an activation not in its ids: any id the ids leave out (relu, gelu, softmax hidden)", () => {
      for (const p of PS) expect(choosePath(p, 20, 5, "f32")).toBe("gram");
      const ids = theAddon().ids;
      for (const id of VECTOR_ACTIVATION_IDS.filter((v) => !ids.includes(v)))
        notCalled(spec, getActivation(id), "f32");
      // the same addon, its ids without relu, gelu and softmax (the others keep their positions)
      const hidden = new Set(["relu", "gelu", "softmax"]);
      const without: NativeKernel = {
        ids: ids.map((id) => (hidden.has(id) ? `not_${id}` : id)),
        gram: (memory, args, importance, losses) => theAddon().gram(memory, args, importance, losses),
        dense: (memory, args, importance, losses) => theAddon().dense(memory, args, importance, losses),
        blocks: (memory, args, importance, losses) => theAddon().blocks(memory, args, importance, losses),
        tiled: (memory, args, importance, losses) => theAddon().tiled(memory, args, importance, losses),
        tiledMaxF: theAddon().tiledMaxF,
        tiledMaxH: theAddon().tiledMaxH,
        denseMaxH: theAddon().denseMaxH,
        blocksMaxF: theAddon().blocksMaxF,
        blocksMaxH: theAddon().blocksMaxH,
      };
      for (const id of hidden) notCalled(spec, getActivation(id), "f32", without);
      // (and an id it keeps does call it)
      const spy = spyKernel(without);
      setNativeKernel(spy.kernel);
      run(fastKernel, spec, getActivation("silu"), "f32", 3, 256);
      expect(spy.calls()).toBe(1);
    });

    it("a user formula, also one equal to relu, and a copy of a built-in entry under its id", () => {
      notCalled(spec, compileFormulaActivation({ id: "my_relu", formula: "max(x, 0)" }), "f32");
      notCalled(spec, compileFormulaActivation({ id: "my_silu", formula: "x*sigmoid(x)" }), "f32");
      // only the table's own entry has native code, not another object with its id
      const relu = getActivation("relu");
      notCalled(spec, { ...relu } as Activation, "f32");
      // (the same spec and relu itself do call it)
      const spy = spyKernel(theAddon());
      setNativeKernel(spy.kernel);
      run(fastKernel, spec, relu, "f32", 3, 256);
      expect(spy.calls()).toBe(1);
    });

    it(`F = ${NATIVE_MAX_F + 1} (forced Gram path), while F = ${NATIVE_MAX_F} calls it`, () => {
      setPathOverride("gram");
      notCalled(specOf(NATIVE_MAX_F + 1, 3, PS), getActivation("relu"), "f32");
      const spy = spyKernel(theAddon());
      setNativeKernel(spy.kernel);
      run(fastKernel, specOf(NATIVE_MAX_F, 3, PS), getActivation("relu"), "f32", 3, 256);
      expect(spy.calls()).toBe(1);
    });

    it("float64 (forced Gram path)", () => {
      setPathOverride("gram");
      for (const id of ["relu", "gelu"]) notCalled(spec, getActivation(id), "f64");
    });

    it("dense instances (forced dense path) below p = 1 at F = 8 (the sampler's dense rows), and p = 1 above H = denseMaxH", () => {
      const { blocksMaxF, blocksMaxH } = theAddon();
      expect(blocksMaxF + 1).toBe(DENSE_MAX_F);
      setPathOverride("dense");
      notCalled(specOf(DENSE_MAX_F, 2, [0.5, 0.1]), getActivation("relu"), "f32");
      setPathOverride(undefined);
      notCalled(specOf(20, theAddon().denseMaxH + 1, [1, 1]), getActivation("gelu"), "f32");
      // small models the blocks path has no code for: H ≥ F, H above blocksMaxH (every instance dense)
      setPathOverride("dense");
      notCalled(specOf(3, 3, [1, 0.5, 0.1]), getActivation("relu"), "f32");
      notCalled(specOf(blocksMaxF, blocksMaxH + 1, [1, 0.5, 0.1]), getActivation("relu"), "f32");
    });
  });

  describe("bad arguments are exceptions, not crashes", () => {
    // One instance, relu, F = 3, H = 2, B = 4, laid out by hand in a plain ArrayBuffer (byte offsets; float32
    // W, b and values, int32 row starts and features, float64 ∇W and ∇b, 8-aligned).
    const F = 3;
    const H = 2;
    const B = 4;
    const W_AT = 0; // 6 floats
    const BIAS_AT = 32; // 3 floats
    const ROWS_AT = 48; // 5 ints
    const FEAT_AT = 80; // 4 ints
    const VAL_AT = 96; // 4 floats
    const GW_AT = 112; // 6 doubles
    const GB_AT = 160; // 3 doubles
    const SIZE = 192;
    const W = [0.5, -0.25, 0.125, 0.75, -0.5, 0.25];
    const bias = [0.1, -0.2, 0.05];
    // samples: {0: 0.5}, {}, {1: 0.25, 2: 1}, {2: 0.75}
    const rowStart = [0, 1, 1, 3, 4];
    const feature = [0, 1, 2, 2];
    const value = [0.5, 0.25, 1, 0.75];
    const importance = [1, 0.9, 0.81];

    function setUp() {
      const memory = new ArrayBuffer(SIZE);
      new Float32Array(memory, W_AT, F * H).set(W);
      new Float32Array(memory, BIAS_AT, F).set(bias);
      new Int32Array(memory, ROWS_AT, B + 1).set(rowStart);
      new Int32Array(memory, FEAT_AT, 4).set(feature);
      new Float32Array(memory, VAL_AT, 4).set(value);
      const args = new Int32Array(NATIVE_ARG.COUNT);
      args[NATIVE_ARG.ACT] = theAddon().ids.indexOf("relu");
      args[NATIVE_ARG.F] = F;
      args[NATIVE_ARG.H] = H;
      args[NATIVE_ARG.B] = B;
      args[NATIVE_ARG.W] = W_AT;
      args[NATIVE_ARG.BIAS] = BIAS_AT;
      args[NATIVE_ARG.ROW_START] = ROWS_AT;
      args[NATIVE_ARG.FEATURE] = FEAT_AT;
      args[NATIVE_ARG.VALUE] = VAL_AT;
      args[NATIVE_ARG.GRAD_W] = GW_AT;
      args[NATIVE_ARG.GRAD_B] = GB_AT;
      return { memory, args, imp: new Float64Array(importance), losses: new Float64Array(1) };
    }

    /** The loss and ∇b of the model above, in float64. */
    function expected(): { loss: number; gradB: number[] } {
      const f32 = Math.fround;
      let loss = 0;
      const gradB = [0, 0, 0];
      for (let s = 0; s < B; s++) {
        const x = [0, 0, 0];
        for (let e = rowStart[s]; e < rowStart[s + 1]; e++) x[feature[e]] = f32(value[e]);
        const h = [0, 1].map((k) => x.reduce((acc, xf, f) => acc + xf * f32(W[f * H + k]), 0));
        for (let f = 0; f < F; f++) {
          const z = f32(bias[f]) + h[0] * f32(W[f * H]) + h[1] * f32(W[f * H + 1]);
          const y = Math.max(z, 0);
          loss += (importance[f] * (y - x[f]) ** 2) / (B * F);
          gradB[f] += (2 * importance[f] * (y - x[f]) * (z > 0 ? 1 : 0)) / (B * F);
        }
      }
      return { loss, gradB };
    }

    const expectGramError = (call: () => void, what: string) => {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error, `${what}: no exception`).toBeDefined();
      expect(error instanceof RangeError || error instanceof TypeError, `${what}: ${String(error)}`).toBe(
        true,
      );
      expect((error as Error).message, what).toMatch(/^gram/);
    };

    it("dense: rows that do not fit the memory, or H above denseMaxH, are errors naming the path", () => {
      const expectDenseError = (call: () => void, what: string) => {
        expect(call, what).toThrow(/^dense/);
      };
      // B·F = 12 dense values from VAL_AT run past the end of this memory
      const a = setUp();
      a.args[NATIVE_ARG.VALUE] = SIZE - 16;
      expectDenseError(() => theAddon().dense(a.memory, a.args, a.imp, a.losses), "dense rows past the end");
      const b = setUp();
      b.args[NATIVE_ARG.H] = theAddon().denseMaxH + 1;
      expectDenseError(() => theAddon().dense(b.memory, b.args, b.imp, b.losses), "H above denseMaxH");
      // and the same arguments with rows that fit do run (the dense rows: 12 floats from W_AT)
      const c = setUp();
      c.args[NATIVE_ARG.VALUE] = W_AT;
      theAddon().dense(c.memory, c.args, c.imp, c.losses);
      expect(Number.isFinite(c.losses[0])).toBe(true);
      // from the CSR entries: the hand-made model's loss and ∇b, and the Gram path's errors for bad entries
      const csr = () => {
        const a = setUp();
        a.args[NATIVE_ARG.CSR] = 1;
        return a;
      };
      const d = csr();
      theAddon().dense(d.memory, d.args, d.imp, d.losses);
      expect(Math.abs(d.losses[0] - expected().loss) / expected().loss).toBeLessThan(TOL_F32);
      expect(relDiff(expected().gradB, new Float64Array(d.memory, GB_AT, F), 1)).toBeLessThan(TOL_F32);
      const broken: [string, (a: ReturnType<typeof setUp>) => void][] = [
        ["a feature index = F", ({ memory }) => (new Int32Array(memory, FEAT_AT, 4)[1] = F)],
        ["a negative feature index", ({ memory }) => (new Int32Array(memory, FEAT_AT, 4)[0] = -1)],
        [
          "row starts out of order",
          ({ memory }) => new Int32Array(memory, ROWS_AT, B + 1).set([0, 3, 1, 3, 4]),
        ],
        ["the entries past the memory", ({ args }) => (args[NATIVE_ARG.VALUE] = SIZE - 4)],
      ];
      for (const [what, breakIt] of broken) {
        const a = csr();
        breakIt(a);
        expectDenseError(() => theAddon().dense(a.memory, a.args, a.imp, a.losses), `CSR: ${what}`);
      }
    });

    it("blocks: the hand-made model's blocks give its loss; bad counts, shapes and places are errors naming the path", () => {
      const BLOCKS_AT = SIZE;
      /** setUp's model with its non-empty samples (0, 2, 3) as one block of four lanes, the fourth padding. */
      const withBlocks = () => {
        const a = setUp();
        const memory = new ArrayBuffer(SIZE + 48);
        new Uint8Array(memory).set(new Uint8Array(a.memory));
        const samples = [
          [0.5, 0, 0],
          [0, 0.25, 1],
          [0, 0, 0.75],
        ];
        const block = new Float32Array(memory, BLOCKS_AT, 4 * F);
        for (let f = 0; f < F; f++) for (let l = 0; l < 3; l++) block[4 * f + l] = samples[l][f];
        a.args[NATIVE_ARG.VALUE] = BLOCKS_AT;
        a.args[NATIVE_ARG.N_BLOCKS] = 1;
        return { ...a, memory };
      };
      const ok = withBlocks();
      theAddon().blocks(ok.memory, ok.args, ok.imp, ok.losses);
      const want = expected();
      expect(Math.abs(ok.losses[0] - want.loss) / want.loss).toBeLessThan(TOL_F32);
      expect(relDiff(want.gradB, new Float64Array(ok.memory, GB_AT, F), 1)).toBeLessThan(TOL_F32);
      const { blocksMaxF, blocksMaxH } = theAddon();
      const broken: [string, (a: ReturnType<typeof withBlocks>) => void][] = [
        ["a negative number of blocks", ({ args }) => (args[NATIVE_ARG.N_BLOCKS] = -1)],
        ["more blocks than ⌈B/4⌉", ({ args }) => (args[NATIVE_ARG.N_BLOCKS] = 2)],
        ["blocks past the end of the memory", ({ args }) => (args[NATIVE_ARG.VALUE] = SIZE + 16)],
        ["blocks at a negative offset", ({ args }) => (args[NATIVE_ARG.VALUE] = -16)],
        ["H = F", ({ args }) => (args[NATIVE_ARG.H] = F)],
        ["F above blocksMaxF", ({ args }) => (args[NATIVE_ARG.F] = blocksMaxF + 1)],
        [
          "H above blocksMaxH",
          ({ args }) => {
            args[NATIVE_ARG.F] = blocksMaxF;
            args[NATIVE_ARG.H] = blocksMaxH + 1;
          },
        ],
      ];
      for (const [what, breakIt] of broken) {
        const a = withBlocks();
        breakIt(a);
        expect(() => theAddon().blocks(a.memory, a.args, a.imp, a.losses), what).toThrow(/^blocks/);
      }
    });

    it("the hand-made arguments are right (the cases below each break one thing)", () => {
      const { memory, args, imp, losses } = setUp();
      theAddon().gram(memory, args, imp, losses);
      const want = expected();
      expect(Math.abs(losses[0] - want.loss) / want.loss).toBeLessThan(TOL_F32);
      const gradB = new Float64Array(memory, GB_AT, F);
      expect(relDiff(want.gradB, gradB, 1)).toBeLessThan(TOL_F32);
    });

    const cases: [string, (a: ReturnType<typeof setUp>) => void][] = [
      ["W past the end of the memory", ({ args }) => (args[NATIVE_ARG.W] = SIZE - 8)],
      ["b at a negative offset", ({ args }) => (args[NATIVE_ARG.BIAS] = -4)],
      ["row starts far outside the memory", ({ args }) => (args[NATIVE_ARG.ROW_START] = 0x7fff0000)],
      ["∇W past the end", ({ args }) => (args[NATIVE_ARG.GRAD_W] = SIZE - 8)],
      ["∇W not 8-aligned", ({ args }) => (args[NATIVE_ARG.GRAD_W] = GW_AT + 4)],
      ["∇b past the end", ({ args }) => (args[NATIVE_ARG.GRAD_B] = SIZE)],
      ["features outside the memory", ({ args }) => (args[NATIVE_ARG.FEATURE] = SIZE - 4)],
      ["values at a huge offset", ({ args }) => (args[NATIVE_ARG.VALUE] = 0x7ffffff0)],
      [
        "the last row's end past the memory",
        ({ memory }) => (new Int32Array(memory, ROWS_AT, B + 1)[B] = 1e6),
      ],
      ["a negative first row start", ({ memory }) => (new Int32Array(memory, ROWS_AT, B + 1)[0] = -8)],
      [
        "row starts out of order",
        ({ memory }) => new Int32Array(memory, ROWS_AT, B + 1).set([0, 3, 1, 3, 4]),
      ],
      [
        "a row past the last row's end",
        ({ memory }) => new Int32Array(memory, ROWS_AT, B + 1).set([0, 1, 1, 6, 4]),
      ],
      ["a feature index = F", ({ memory }) => (new Int32Array(memory, FEAT_AT, 4)[1] = F)],
      ["a feature index ≥ F", ({ memory }) => (new Int32Array(memory, FEAT_AT, 4)[3] = 1000)],
      ["a negative feature index", ({ memory }) => (new Int32Array(memory, FEAT_AT, 4)[0] = -1)],
      ["an unknown activation index", ({ args }) => (args[NATIVE_ARG.ACT] = theAddon().ids.length)],
      ["a negative activation index", ({ args }) => (args[NATIVE_ARG.ACT] = -1)],
      ["F = 0", ({ args }) => (args[NATIVE_ARG.F] = 0)],
      [`F = ${NATIVE_MAX_F + 1}`, ({ args }) => (args[NATIVE_ARG.F] = NATIVE_MAX_F + 1)],
      ["H = 0", ({ args }) => (args[NATIVE_ARG.H] = 0)],
      ["H = 65", ({ args }) => (args[NATIVE_ARG.H] = 65)],
      ["B = 0", ({ args }) => (args[NATIVE_ARG.B] = 0)],
      ["B huge", ({ args }) => (args[NATIVE_ARG.B] = 0x7fffffff)],
    ];
    it.each(cases)("%s", (what, breakIt) => {
      const a = setUp();
      breakIt(a);
      expectGramError(() => theAddon().gram(a.memory, a.args, a.imp, a.losses), what);
    });

    it("wrong argument types and lengths", () => {
      const gram = theAddon().gram as (...args: unknown[]) => void;
      const a = setUp();
      const typed = [
        ["no arguments", []],
        ["three arguments", [a.memory, a.args, a.imp]],
        ["memory a typed array", [new Uint8Array(a.memory), a.args, a.imp, a.losses]],
        ["memory a number", [0, a.args, a.imp, a.losses]],
        ["memory undefined", [undefined, a.args, a.imp, a.losses]],
        ["args a Float64Array", [a.memory, new Float64Array(a.args), a.imp, a.losses]],
        ["args a plain array", [a.memory, Array.from(a.args), a.imp, a.losses]],
        ["args shorter than the instances need", [a.memory, a.args.subarray(0, 5), a.imp, a.losses]],
        ["args for one instance, losses for two", [a.memory, a.args, a.imp, new Float64Array(2)]],
        ["importance a Float32Array", [a.memory, a.args, new Float32Array(a.imp), a.losses]],
        ["importance shorter than F", [a.memory, a.args, a.imp.subarray(0, F - 1), a.losses]],
        ["losses a Float32Array", [a.memory, a.args, a.imp, new Float32Array(1)]],
        ["losses null", [a.memory, a.args, a.imp, null]],
      ] as const;
      for (const [what, args] of typed) expectGramError(() => gram(...args), what);
    });

    it("the process survives them and the addon still computes", () => {
      for (const [, breakIt] of cases) {
        const a = setUp();
        breakIt(a);
        try {
          theAddon().gram(a.memory, a.args, a.imp, a.losses);
        } catch {
          // expected
        }
      }
      const { memory, args, imp, losses } = setUp();
      theAddon().gram(memory, args, imp, losses);
      expect(Math.abs(losses[0] - expected().loss) / expected().loss).toBeLessThan(TOL_F32);
    });
  });

  it("training intro (5 → 2, every instance on the blocks path), 200 steps: = without it (1e-3), deterministic", () => {
    const spec = getPreset("intro").spec();
    const train = (activation: string) => {
      const t = new Trainer({ ...TRAIN_DEFAULTS, spec, activation, steps: 200, seed: 0, dtype: "f32" });
      t.advance(200);
      return t;
    };
    for (const id of ["relu", "gelu"]) {
      const spy = spyKernel(theAddon());
      setNativeKernel(spy.kernel);
      const a = train(id);
      expect(spy.blocksCalls(), "steps that called the addon's blocks").toBe(200);
      expect(spy.blocksRecords.length).toBe(200 * spec.nInstances);
      const b = train(id);
      setNativeKernel(undefined);
      const wasm = train(id);
      for (let i = 0; i < spec.nInstances; i++) {
        const rel = Math.abs(a.trainLoss[i] - wasm.trainLoss[i]) / Math.abs(wasm.trainLoss[i]);
        expect(rel, `${id}, instance ${i}: loss ${a.trainLoss[i]} vs ${wasm.trainLoss[i]}`).toBeLessThan(
          1e-3,
        );
      }
      expect(bitEqual(a.params.W, b.params.W), `${id}: W of two runs with the native kernel`).toBe(true);
      expect(bitEqual(a.trainLoss, b.trainLoss)).toBe(true);
      expect(bitEqual(a.params.W, wasm.params.W), `${id}: the addon's results were used`).toBe(false);
    }
  });

  describe("training (demo preset, 200 steps, seed 0)", () => {
    const spec = getPreset("demo").spec();
    const config = (activation: string) => ({
      ...TRAIN_DEFAULTS,
      spec,
      activation,
      steps: 200,
      seed: 0,
      dtype: "f32" as const,
    });
    const train = (activation: string) => {
      const t = new Trainer(config(activation));
      t.advance(200);
      return t;
    };

    it.each(["relu", "gelu"])("%s: with it = without it (1e-3 relative), and deterministic", (id) => {
      expect(
        spec.featureProbability.some((p) => choosePath(p, spec.nFeatures, spec.nHidden, "f32") === "gram"),
      ).toBe(true);
      const spy = spyKernel(theAddon());
      setNativeKernel(spy.kernel);
      const a = train(id);
      expect(spy.calls(), "steps that called the addon's gram").toBe(200);
      // demo's p = 1 instance (F = 20) takes the native dense path
      expect(spy.denseCalls(), "steps that called the addon's dense").toBe(200);
      const b = train(id);
      setNativeKernel(undefined);
      const wasm = train(id);
      for (const t of [a, b, wasm]) {
        expect(t.step).toBe(200);
        expect([...t.divergedAtStep].every((s) => s < 0)).toBe(true);
      }
      for (let i = 0; i < spec.nInstances; i++) {
        const rel = Math.abs(a.trainLoss[i] - wasm.trainLoss[i]) / Math.abs(wasm.trainLoss[i]);
        expect(rel, `instance ${i}: loss ${a.trainLoss[i]} vs ${wasm.trainLoss[i]}`).toBeLessThan(1e-3);
      }
      expect(bitEqual(a.params.W, b.params.W), "W of two runs with the native kernel").toBe(true);
      expect(bitEqual(a.params.b, b.params.b), "b of two runs with the native kernel").toBe(true);
      expect(bitEqual(a.trainLoss, b.trainLoss)).toBe(true);
      // and the addon's results were used: not the WebAssembly kernel's bits
      expect(bitEqual(a.params.W, wasm.params.W)).toBe(false);
    });
  });
});
