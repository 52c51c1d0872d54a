// The fast (WebAssembly) kernel and sampler against their oracles:
//  * fastKernel = the reference kernel on the same batch, for every activation, f64 and f32, both
//    algorithms (dense / Gram) and the automatic choice, on batches with p = 1, 0.3 and 0.001;
//  * the vectorised elementary functions and activations against Math.* and src/core/activations.ts;
//  * the WebAssembly sampler = its JavaScript specification, bit for bit (also after growing capacity).

import { afterEach, describe, expect, it } from "vitest";
import { ACTIVATION_IDS, getActivation } from "../../src/core/activations.js";
import { fmaEnabled, setFmaEnabled, setWasmEnabled, wasmEnabled } from "../../src/core/kernels/engine.js";
import { choosePath, fastKernel, type InstancePath, setPathOverride } from "../../src/core/kernels/fast.js";
import { makeReferenceKernel } from "../../src/core/kernels/reference.js";
import type { Gradients } from "../../src/core/kernels/types.js";
import {
  type FnBuilder,
  get,
  i32,
  i32Add,
  i32Shl,
  ModuleBuilder,
  Ty,
} from "../../src/core/kernels/wasm/emit.js";
import { Gen, Vt } from "../../src/core/kernels/wasm/gen.js";
import { GRAM_LOOPED_MIN_F, TILED_DENSE_MIN_F } from "../../src/core/kernels/wasm/kernel/layout.js";
import { buildKernel, kernelLayout, ROW_COMPACT_TABLE } from "../../src/core/kernels/wasm/kernel.js";
import { elementwiseGen } from "../../src/core/kernels/wasm/vact.js";
import {
  vexp,
  vexpm1NonPos,
  vlog,
  vlog1pUnit,
  vnormalCdfF32,
  vsigmoid,
  vtanh,
} from "../../src/core/kernels/wasm/vmath.js";
import { type DType, initParams, type ModelSpec, makeSpec } from "../../src/core/model.js";
import { Rng } from "../../src/core/rng.js";
import { createBatch, lnOneMinus, sampleBatch } from "../../src/core/sampling.js";
import { relDiffPerInstance } from "../helpers/numeric.js";

const reference = makeReferenceKernel("features");
const DTYPES: DType[] = ["f64", "f32"];
const relDiff = relDiffPerInstance;
// f32: every stored z, y, dz and accumulator rounds to float32 (the reference accumulates in float64).
const TOL: Record<DType, number> = { f64: 1e-11, f32: 2e-5 };

afterEach(() => {
  setPathOverride(undefined);
  setWasmEnabled(true);
  setFmaEnabled(true);
});

/** The kernels with relaxed SIMD's fused multiply-add (what `tms` uses) and without (plain SIMD). */
const FMA_MODES = [true, false] as const;

function run(
  kernel: typeof fastKernel,
  spec: ModelSpec,
  id: string,
  dtype: DType,
  seed: number,
  batchSize = 96,
): { grads: Gradients; losses: Float64Array } {
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const params = initParams(spec, dtype, seed);
  for (let j = 0; j < params.b.length; j++) params.b[j] = 0.4 * Math.sin(1.7 * j + seed);
  const batch = createBatch(spec, batchSize, dtype);
  sampleBatch(spec, new Rng(seed, "kernels-fast"), batch);
  const grads = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
  const losses = new Float64Array(I);
  kernel(spec, getActivation(id), params, batch, grads, losses);
  return { grads, losses };
}

describe("fast kernel = reference kernel on the same batch (p = 1, 0.3, 0.001)", () => {
  it("the comparison catches a wrong sparse instance beside a dense one (errors are per instance)", () => {
    // instance 0: large gradients, exact; instance 1: small gradients, 100 % wrong
    const want = [300, -200, 4e-4, 1e-4];
    const got = [300, -200, 8e-4, 1e-4];
    expect(relDiff(want, got, 2)).toBeGreaterThan(0.5);
    expect(relDiff(want, want, 2)).toBe(0);
    expect(relDiff(want, got.slice(0, 3), 2)).toBe(Number.POSITIVE_INFINITY);
  });
  it("runs WebAssembly here (not the JavaScript fallback), with fused multiply-adds", () => {
    expect(wasmEnabled()).toBe(true);
    // vitest.config.ts passes Node 20 the relaxed-SIMD flag, as bin/tms.js sets it
    expect(fmaEnabled()).toBe(true);
  });
  // [name, spec, batch size]: blocks are trained in pairs (dense_full for 20 → 5, dense_blocks for 7 → 3
  // and 5 → 2), with an odd number of blocks at p = 1 for 20 → 5 (100 samples: 25 blocks) and 5 → 2 (99)
  // (p = 0.3 instead of 0.25 puts one sample's softshrink z within float32 rounding of its kink, where every
  // path, the unchanged Gram path too, differs from the reference by 4e-5)
  const manyFeatures = makeSpec(
    67,
    7,
    [1, 0.25, 0.02],
    Array.from({ length: 67 }, (_, f) => 0.97 ** f),
  );
  const shapes: [string, ModelSpec, number][] = [
    [
      "20 → 5",
      makeSpec(
        20,
        5,
        [1, 0.3, 0.001],
        Array.from({ length: 20 }, (_, f) => 0.7 ** f),
      ),
      100,
    ],
    [
      "7 → 3",
      makeSpec(
        7,
        3,
        [1, 0.3, 0.001],
        Array.from({ length: 7 }, (_, f) => 0.9 ** f),
      ),
      96,
    ],
    [
      "5 → 2, B = 99",
      makeSpec(
        5,
        2,
        [1, 0.3, 0.05],
        Array.from({ length: 5 }, (_, f) => 0.9 ** f),
      ),
      99,
    ],
    // many features: the Gram path as loops (GRAM_LOOPED_MIN_F), with feature counts that are not a multiple
    // of the lanes (50: f32 pads to 52; 66: 68), so shorter last blocks and padding columns of M and C
    ...(
      [
        [50, 6, [1, 0.3, 0.05]],
        [66, 5, [0.3, 0.05, 0.01]],
      ] as const
    ).map(([F, H, ps]): [string, ModelSpec, number] => [
      `${F} → ${H}`,
      makeSpec(
        F,
        H,
        [...ps],
        Array.from({ length: F }, (_, f) => 0.97 ** f),
      ),
      64,
    ]),
    // many features: the dense path is dense_tiled, with partial tiles of features and hidden units, a
    // partial last chunk of blocks and (f64) a padding block
    ["67 → 7, B = 150", manyFeatures, 150],
  ];
  it("covers the looped Gram path", () => {
    expect(shapes.filter(([, spec]) => spec.nFeatures >= GRAM_LOOPED_MIN_F).length).toBe(3);
  });
  it("the 67 → 7 shape takes dense_tiled", () => expect(67).toBeGreaterThanOrEqual(TILED_DENSE_MIN_F));
  const paths: (InstancePath | "auto")[] = ["dense", "gram", "auto"];
  for (const [shapeName, spec, batchSize] of shapes) {
    for (const dtype of DTYPES) {
      describe(`${shapeName}, ${dtype}`, () => {
        it.each([...ACTIVATION_IDS])("%s", (id) => {
          const ref = run(reference, spec, id, dtype, 3, batchSize);
          for (const fma of FMA_MODES) {
            setFmaEnabled(fma);
            for (const path of paths) {
              setPathOverride(path === "auto" ? undefined : path);
              const fast = run(fastKernel, spec, id, dtype, 3, batchSize);
              const diffs = [
                relDiff(ref.losses, fast.losses, spec.nInstances),
                relDiff(ref.grads.W, fast.grads.W, spec.nInstances),
                relDiff(ref.grads.b, fast.grads.b, spec.nInstances),
              ];
              expect(
                Math.max(...diffs),
                `${path}${fma ? ", fused" : ""}: losses, ∇W, ∇b differ by ${diffs.map((d) => d.toExponential(1))}`,
              ).toBeLessThan(TOL[dtype]);
            }
          }
        });
      });
    }
  }

  it("larger shapes (100 → 20) for a few activations", () => {
    const spec = makeSpec(
      100,
      20,
      [1, 0.1, 0.01],
      Array.from({ length: 100 }, (_, f) => 100 ** (-f / 99)),
    );
    for (const id of ["relu", "gelu", "softmax", "log_softmax"]) {
      for (const dtype of DTYPES) {
        const ref = run(reference, spec, id, dtype, 5);
        for (const fma of FMA_MODES) {
          setFmaEnabled(fma);
          for (const path of ["dense", "gram"] as InstancePath[]) {
            setPathOverride(path);
            const fast = run(fastKernel, spec, id, dtype, 5);
            expect(relDiff(ref.grads.W, fast.grads.W, spec.nInstances)).toBeLessThan(TOL[dtype]);
            expect(relDiff(ref.losses, fast.losses, spec.nInstances)).toBeLessThan(TOL[dtype]);
          }
        }
      }
    }
  });

  it("chooses the dense form for dense instances and the Gram form for sparse ones", () => {
    expect(choosePath(1, 20, 5, "f32")).toBe("dense");
    expect(choosePath(0.001, 20, 5, "f32")).toBe("gram");
    expect(choosePath(1, 5, 2, "f32")).toBe("dense");
  });
});

// ---------------------------------------------------------------------------------------------------------
// Vectorised math: a module mapping an array through one generated function.

function mapper(
  dtype: DType,
  body: (g: Gen, vt: Vt, x: ReturnType<Gen["letV"]>) => ReturnType<Gen["letV"]>[],
  fma = false,
) {
  const vt = new Vt(dtype, undefined, fma);
  const mb = new ModuleBuilder({ module: "env", name: "memory", minPages: 1 });
  // map(src, dst0, dst1, nVectors)
  mb.fn("map", [Ty.i32, Ty.i32, Ty.i32, Ty.i32], [], (f: FnBuilder) => {
    const g = new Gen(f);
    g.forRange(i32(0), get(3), 1, (i) => {
      const at = (base: number) => i32Add(get(base), i32Shl(i, i32(4)));
      const outs = body(g, vt, g.letV(vt.load(at(0))));
      for (let k = 0; k < outs.length; k++) g.emit(vt.store(at(1 + k), outs[k]));
    });
  });
  const memory = new WebAssembly.Memory({ initial: 64 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.bytes() as BufferSource), {
    env: { memory },
  });
  const map = inst.exports.map as (a: number, b: number, c: number, n: number) => void;
  return (xs: number[]): [number[], number[]] => {
    const E = dtype === "f32" ? 4 : 8;
    const L = 16 / E;
    const n = Math.ceil(xs.length / L);
    const view = dtype === "f32" ? new Float32Array(memory.buffer) : new Float64Array(memory.buffer);
    const base = 1024;
    view.set(xs, base / E);
    const d0 = base + n * 16 + 64;
    const d1 = d0 + n * 16 + 64;
    map(base, d0, d1, n);
    const out0 = Array.from(view.subarray(d0 / E, d0 / E + xs.length));
    const out1 = Array.from(view.subarray(d1 / E, d1 / E + xs.length));
    return [out0, out1];
  };
}

/** Max relative error (|a − b| / max(|b|, floor)). */
function maxRel(got: number[], want: number[], floor: number): number {
  let m = 0;
  for (let j = 0; j < got.length; j++) {
    if (!Number.isFinite(want[j])) {
      if (!Object.is(got[j], want[j]) && !(Number.isNaN(got[j]) && Number.isNaN(want[j])))
        return Number.POSITIVE_INFINITY;
      continue;
    }
    m = Math.max(m, Math.abs(got[j] - want[j]) / Math.max(Math.abs(want[j]), floor));
  }
  return m;
}

const grid = (lo: number, hi: number, n: number) =>
  Array.from({ length: n }, (_, k) => lo + ((hi - lo) * k) / (n - 1));

describe("vectorised elementary functions", () => {
  // f32 inputs are exactly representable (fround), so Math.* in f64 is the correctly rounded oracle.
  const cases: [string, (g: Gen, vt: Vt, x: never) => never[], (x: number) => number, number[]][] = [
    ["exp", (g, vt, x) => [vexp(g, vt, x)] as never[], Math.exp, grid(-80, 80, 4001)],
    ["expm1 (x ≤ 0)", (g, vt, x) => [vexpm1NonPos(g, vt, x).em1] as never[], Math.expm1, grid(-30, 0, 4001)],
    [
      "log1p (t in [0, 1])",
      (g, vt, x) => [vlog1pUnit(g, vt, x)] as never[],
      Math.log1p,
      [...grid(0, 1, 4001), 1e-9, 3e-6],
    ],
    ["log", (g, vt, x) => [vlog(g, vt, x)] as never[], Math.log, grid(0.01, 300, 4001)],
    ["tanh", (g, vt, x) => [vtanh(g, vt, x)] as never[], Math.tanh, [...grid(-12, 12, 4001), 1e-6, -3e-4]],
    [
      "sigmoid",
      (g, vt, x) => [vsigmoid(g, vt, x).s] as never[],
      (x) => 1 / (1 + Math.exp(-x)),
      grid(-60, 60, 4001),
    ],
  ];
  for (const dtype of DTYPES) {
    for (const [name, body, oracle, xs] of cases) {
      it(`${dtype}: ${name}, plain and fused multiply-add`, () => {
        const inputs = dtype === "f32" ? xs.map(Math.fround) : xs;
        const want = inputs.map(oracle);
        for (const fma of FMA_MODES) {
          const [got] = mapper(dtype, body as never, fma)(inputs);
          // f32: within ~2.5 ulp; f64: within a few ulp
          expect(maxRel(got, want, dtype === "f32" ? 1e-30 : 1e-300), `fma ${fma}`).toBeLessThan(
            dtype === "f32" ? 2.5e-7 : 1e-15,
          );
        }
      });
    }
  }
  it.each(FMA_MODES)(
    "f32 Φ (GELU's normal CDF): 5e-7 relative on [−4, 9], 2.5e-6 down to −8 (fma %s)",
    (fma) => {
      // the reference's 1 + erf(x/√2) loses relative accuracy below −5; the tail is checked against constants
      const xs = [...grid(-5, 9, 6001), -6, -8].map(Math.fround);
      const [Phi, phi] = mapper(
        "f32",
        (g, vt, x) => {
          const r = vnormalCdfF32(g, vt, x);
          return [r.Phi, r.phi];
        },
        fma,
      )(xs);
      const gelu = getActivation("gelu");
      if (gelu.kind !== "elementwise") throw new Error("gelu is elementwise");
      // Φ(x) = gelu(x)/x from the reference's erf; compare where x is not tiny.
      const tail: Record<number, number> = { [-6]: 9.86587645037698e-10, [-8]: 6.22096057427178e-16 };
      const want = xs.map(
        (x) => tail[x] ?? (Math.abs(x) > 1e-3 ? gelu.forward(x) / x : 0.5 + x * 0.3989422804014327),
      );
      const inner = xs.map((x, k) => (x >= -4 ? k : -1)).filter((k) => k >= 0);
      expect(
        maxRel(
          inner.map((k) => Phi[k]),
          inner.map((k) => want[k]),
          1e-30,
        ),
      ).toBeLessThan(5e-7);
      expect(maxRel(Phi, want, 1e-30)).toBeLessThan(2.5e-6);
      // φ's error is the f32 rounding of the exponent −x²/2 (≈ x²·6e-8 relative)
      expect(
        maxRel(
          phi,
          xs.map((x) => Math.exp(-0.5 * x * x) * 0.3989422804014327),
          1e-30,
        ),
      ).toBeLessThan(2.5e-6);
    },
  );
});

describe("vector activations = src/core/activations.ts (forward and derivative)", () => {
  it("f32 tanhshrink keeps its relative accuracy where x − tanh(x) cancels (|x| ≤ 2)", () => {
    // a polynomial below |x| = 1, x − tanh(x) above: relative error < 5e-7 everywhere (measured 3.9e-7 just
    // above |x| = 1, where tanh's error is amplified by x/(x − tanh x) ≈ 4.2), down to |x| = 1e-6
    const gen = elementwiseGen(getActivation("tanhshrink"), "f32");
    if (!gen) throw new Error("tanhshrink has vector code");
    const xs = [...grid(-2, 2, 4001), ...grid(1e-6, 1e-2, 201), ...grid(-1e-2, -1e-6, 201)]
      .map(Math.fround)
      .filter((x) => x !== 0);
    for (const fma of FMA_MODES) {
      const [y] = mapper("f32", (g, vt, x) => [gen(g, vt, x).y], fma)(xs);
      // exact enough: float64 x − tanh(x) cancels too, so below |x| = 0.01 the Taylor series instead
      const exact = (x: number) => (Math.abs(x) < 0.01 ? x ** 3 / 3 - (2 * x ** 5) / 15 : x - Math.tanh(x));
      const worst = Math.max(...xs.map((x, k) => Math.abs(y[k] - exact(x)) / Math.abs(exact(x))));
      expect(worst).toBeLessThan(5e-7);
    }
  });
  const xs = [...grid(-25, 25, 2001), 0, -0, 3, -3, 1, -1, 0.5, -0.5, 6, 20, 20.5, -1e-7, 1e-7];
  for (const dtype of DTYPES) {
    const ids = ACTIVATION_IDS.filter((id) => elementwiseGen(getActivation(id), dtype));
    it.each(ids.flatMap((id) => FMA_MODES.map((fma) => [id, fma] as const)))(
      `${dtype}: %s (fma %s)`,
      (id, fma) => {
        const gen = elementwiseGen(getActivation(id), dtype);
        const act = getActivation(id);
        if (!gen || act.kind !== "elementwise") throw new Error("elementwise");
        const round = dtype === "f32" ? Math.fround : (x: number) => x;
        const inputs = xs.map(round);
        const [y, d] = mapper(
          dtype,
          (g, vt, x) => {
            const r = gen(g, vt, x);
            return [r.y, r.d];
          },
          fma,
        )(inputs);
        // What the reference kernel computes: y rounded to the working precision, then act'(z, y).
        const wantY = inputs.map((x) => round(act.forward(x)));
        const wantD = inputs.map((x, k) => round(act.derivative(x, wantY[k])));
        // |got − want| ≤ rel·|want| + abs: a few ulp, and a few ulp of 1 where formulas like 1 − y² cancel
        const [rel, abs] = dtype === "f32" ? [2e-6, 5e-7] : [1e-13, 1e-15];
        const worst = (got: number[], want: number[]) =>
          Math.max(
            ...got.map((g, k) =>
              Object.is(g, want[k]) ? 0 : Math.abs(g - want[k]) / (rel * Math.abs(want[k]) + abs),
            ),
          );
        expect(worst(y, wantY), "forward").toBeLessThanOrEqual(1);
        expect(worst(d, wantD), "derivative").toBeLessThanOrEqual(1);
      },
    );
  }
});

// ---------------------------------------------------------------------------------------------------------
// Sampler: WebAssembly = JavaScript specification.

describe("WebAssembly sampler = JavaScript sampler, bit for bit", () => {
  const sets: [string, number, number[]][] = [
    ["demo", 20, [1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001]],
    ["intro", 5, Array.from({ length: 10 }, (_, i) => 20 ** -(i / 9))],
    ["F = 2", 2, [1, 0.5, 0.05]],
    ["F = 7", 7, [1, 0.7, 0.2, 0.09]],
  ];
  for (const [name, F, probs] of sets) {
    for (const dtype of DTYPES) {
      it(`${name}, ${dtype}`, () => {
        const spec = makeSpec(F, 3, probs, Array(F).fill(1));
        setWasmEnabled(true);
        const a = createBatch(spec, 257, dtype);
        setWasmEnabled(false);
        const b = createBatch(spec, 257, dtype);
        const ra = new Rng(11, "train");
        const rb = new Rng(11, "train");
        for (let step = 0; step < 4; step++) {
          setWasmEnabled(true);
          sampleBatch(spec, ra, a);
          setWasmEnabled(false);
          sampleBatch(spec, rb, b);
          expect(a.nnz).toBe(b.nnz);
          expect(Array.from(a.rowStart)).toEqual(Array.from(b.rowStart));
          expect(Array.from(a.feature.subarray(0, a.nnz))).toEqual(Array.from(b.feature.subarray(0, b.nnz)));
          expect(Array.from(a.value.subarray(0, a.nnz))).toEqual(Array.from(b.value.subarray(0, b.nnz)));
        }
      });
    }
  }

  it.each([
    ["wasm", [1, 0.3]],
    ["js", [1, 0.3]],
    ["wasm", [0.05, 0.09]],
    ["js", [0.05, 0.09]],
  ] as const)("grows its capacity without changing the batch (%s, p = %s)", (engine, probs) => {
    setWasmEnabled(engine === "wasm");
    // created for p = 0.001 but sampled at larger p (mask and geometric schemes): the first batch overflows
    // the estimate repeatedly
    const spec = makeSpec(20, 3, [0.001, 0.001], Array(20).fill(1));
    const dense = makeSpec(20, 3, [...probs], Array(20).fill(1));
    const small = createBatch(spec, 512, "f32");
    const roomy = createBatch(dense, 512, "f32");
    sampleBatch(dense, new Rng(2, "g"), small);
    sampleBatch(dense, new Rng(2, "g"), roomy);
    expect(small.nnz).toBe(roomy.nnz);
    expect(Array.from(small.value.subarray(0, small.nnz))).toEqual(
      Array.from(roomy.value.subarray(0, roomy.nnz)),
    );
    expect(Array.from(small.feature.subarray(0, small.nnz))).toEqual(
      Array.from(roomy.feature.subarray(0, roomy.nnz)),
    );
    expect(Array.from(small.rowStart)).toEqual(Array.from(roomy.rowStart));
  });

  it("lnOneMinus(u) = ln(1 − u·2⁻³²) to a few ulp", () => {
    for (const u of [0, 1, 12345, 2 ** 31, 2 ** 32 - 1, 0xdeadbeef, 7 * 2 ** 28]) {
      const want = Math.log1p(-u / 2 ** 32);
      expect(Math.abs(lnOneMinus(u) - want)).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(want)));
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Lockstep training: one sampled batch per step for several runs = each run trained alone.

describe("trainLockstep = train, bit for bit", () => {
  // the demo preset, and 45 → 6 whose dense instances take dense_tiled
  const lockstepSpecs = [
    makeSpec(
      20,
      5,
      [1, 0.3, 0.01],
      Array.from({ length: 20 }, (_, f) => 0.7 ** f),
    ),
    makeSpec(45, 6, [1, 0.4, 0.01], new Array(45).fill(1)),
  ];
  it.each(DTYPES.flatMap((dtype) => lockstepSpecs.map((spec) => [dtype, spec] as const)))(
    "%s: four activations, curves and snapshots included (%#)",
    async (dtype, spec) => {
      const { trainLockstep } = await import("../../src/core/lockstep.js");
      const { train, TRAIN_DEFAULTS } = await import("../../src/core/train.js");
      const configs = ["relu", "gelu", "softmax", "tanh"].map((activation) => ({
        ...TRAIN_DEFAULTS,
        spec,
        activation,
        steps: 120,
        batchSize: 256,
        dtype,
        seed: 4,
      }));
      const together = trainLockstep(configs, [{ snapshots: 5 }, {}, {}, { snapshots: 3 }]);
      configs.forEach((c, k) => {
        const alone = train(c, k === 0 ? { snapshots: 5 } : k === 3 ? { snapshots: 3 } : {});
        expect(Array.from(together[k].params.W)).toEqual(Array.from(alone.params.W));
        expect(Array.from(together[k].params.b)).toEqual(Array.from(alone.params.b));
        expect(Array.from(together[k].trainLoss)).toEqual(Array.from(alone.trainLoss));
        expect(together[k].curve).toEqual(alone.curve);
        expect(together[k].snapshots?.step).toEqual(alone.snapshots?.step);
        expect(together[k].snapshots?.W.map((w) => Array.from(w))).toEqual(
          alone.snapshots?.W.map((w) => Array.from(w)),
        );
      });
    },
  );
});

describe("compact_rows: the non-empty samples' row starts, in order", () => {
  for (const fma of FMA_MODES) {
    it(`every pattern of empty samples in a group of four, B = 0…9 and 37${fma ? ", relaxed swizzle" : ""}`, () => {
      const built = buildKernel(7, 3, "f32", "relu", fma);
      const memory = new WebAssembly.Memory({ initial: 4 });
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(built.bytes as BufferSource), {
        env: { memory },
      });
      const compact = exports.compact_rows as (ws: number, rs: number, B: number, out: number) => number;
      const lay = kernelLayout(7, 3, "f32");
      new Uint8Array(memory.buffer, lay.ROWTAB, 256).set(ROW_COMPACT_TABLE);
      const ints = new Int32Array(memory.buffer);
      const [rs, out] = [65536, 131072];
      const rng = new Rng(5, "compact");
      for (const B of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 37]) {
        for (let trial = 0; trial < 40; trial++) {
          // trial < 16: the same 4-bit pattern of non-empty samples in every group of four
          let at = 0;
          const expected: number[] = [];
          for (let s = 0; s < B; s++) {
            const nonEmpty = trial < 16 ? (trial >> (s % 4)) & 1 : rng.uniform() < 0.5;
            ints[rs / 4 + s] = at;
            if (nonEmpty) {
              expected.push(at);
              at += 1 + (s % 3);
            }
          }
          ints[rs / 4 + B] = at;
          expected.push(at);
          const n = compact(0, rs, B, out);
          expect(n).toBe(expected.length - 1);
          expect(Array.from(ints.subarray(out / 4, out / 4 + n + 1))).toEqual(expected);
        }
      }
    });
  }
});

describe("after every test above", () => {
  it("WebAssembly is still on: no generated module failed to compile (that would fall back to JavaScript silently)", () => {
    expect(wasmEnabled()).toBe(true);
  });
});
