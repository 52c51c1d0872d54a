// The native sampler (native/sampler.cc, sampler/native.ts) for the instances the fast kernel reads only
// as dense rows (fast.ts's rowsOnlyInstances: the blocks path of F ≤ 7):
//  * it is built wherever the CPU has AVX-512 (F, VL) and BMI2;
//  * per instance it writes the WebAssembly sampler's samples as dense rows, the list of non-empty samples its
//    CSR rows give, and the blocks the kernel would transpose from them, bit for bit, for F = 1 … 7, several
//    batch sizes, p = 1 down to the mask scheme's threshold in groups of four instances and the rest, and
//    the geometric scheme below it; instances at p = 0 keep their (empty) CSR rows;
//  * training with it ends on the very bits training without it does (alone and in lockstep), and a
//    lockstep group with a kernel that reads CSR rows gets them;
//  * for float32 instances with F a multiple of 4 (above the dense rows' F) it writes the CSR entries of the
//    mask scheme below p = 1, byte for byte the WebAssembly sampler's, also when the batch must grow;
//  * bad arguments are exceptions, not crashes.

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { defineActivation } from "../../src/core/activations.js";
import { evaluateLoss, evaluationRowsOnly } from "../../src/core/evaluate.js";
import { compileFormulaActivation } from "../../src/core/formula/activation.js";
import { fastKernel, rowsOnlyInstances, setPathOverride } from "../../src/core/kernels/fast.js";
import { type NativeKernel, setNativeKernel } from "../../src/core/kernels/native/native.js";
import { makeReferenceKernel } from "../../src/core/kernels/reference.js";
import { trainLockstep } from "../../src/core/lockstep.js";
import { initParams, type ModelSpec, makeSpec } from "../../src/core/model.js";
import { Rng } from "../../src/core/rng.js";
import { DENSE_MAX_F } from "../../src/core/sampler/state.js";
import {
  createBatch,
  denseRowsOf,
  rowsOnlyIn,
  rowsOnlySamples,
  type SparseBatch,
  sampleBatch,
  usesMask,
} from "../../src/core/sampling.js";
import { TRAIN_DEFAULTS, type TrainConfig, Trainer } from "../../src/core/train.js";
import { installNativeKernel, loadedNativeKernel } from "../../src/experiments/native-kernel.js";
import { getPreset } from "../../src/experiments/presets.js";
import { ensureBuilt } from "../helpers/cli.js";
import { nativeFailure, whyNoNativeBuild } from "../helpers/native.js";

const SKIP = whyNoNativeBuild();
const cpu = (() => {
  try {
    return readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return "";
  }
})();
const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(cpu)?.[1] ?? "").split(/\s+/));
const HAS_AVX512 = ["avx512f", "avx512vl", "bmi2"].every((f) => flags.has(f));
if (SKIP) console.warn(`native sampler tests skipped: ${SKIP}`);
else if (!HAS_AVX512) console.warn("native sampler tests skipped: this CPU lacks AVX-512 F/VL or BMI2");

afterEach(() => {
  setNativeKernel(undefined);
  setPathOverride(undefined);
});

/** The installed addon (built first if needed), and it without its samplers (then WebAssembly samples). */
function addons(): { withRows: NativeKernel; withoutSampler: NativeKernel } {
  ensureBuilt();
  expect(installNativeKernel()).toBe("native");
  const withRows = loadedNativeKernel() as NativeKernel;
  return { withRows, withoutSampler: { ...withRows, sampleRows: undefined, sampleCsr: undefined } };
}

/** Instance i's samples as CSR rows (feature and value lists per sample), for comparing two batches. */
function csrRows(batch: SparseBatch, i: number): string {
  const B = batch.batchSize;
  const rows: string[] = [];
  for (let s = 0; s < B; s++) {
    const r = i * (B + 1) + s;
    const row: string[] = [];
    for (let j = batch.rowStart[r]; j < batch.rowStart[r + 1]; j++)
      row.push(`${batch.feature[j]}:${batch.value[j]}`);
    rows.push(row.join(","));
  }
  return rows.join(";");
}

const floatsAt = (batch: SparseBatch, at: number, n: number) =>
  Array.from(new Float32Array(batch.value.buffer, at, n));

/**
 * Compares a batch sampled rows-only (got) with the same draw sampled the usual way (full): dense rows,
 * the non-empty samples the CSR rows give, the blocks transposed from them, and the other instances' rows.
 */
function expectSameSamples(spec: ModelSpec, got: SparseBatch, full: SparseBatch, what: string): number {
  const { nFeatures: F, batchSize: B } = { nFeatures: spec.nFeatures, batchSize: got.batchSize };
  let rowsOnly = 0;
  spec.featureProbability.forEach((p, i) => {
    const native = p > 0;
    expect(rowsOnlyIn(got, i), `${what}, instance ${i} (p = ${p}) sampled rows-only`).toBe(native);
    expect(rowsOnlyIn(full, i)).toBe(false);
    if (!native) {
      expect(csrRows(got, i), `${what}, instance ${i}'s CSR rows`).toBe(csrRows(full, i));
      return;
    }
    rowsOnly++;
    const dense = floatsAt(got, denseRowsOf(got, i), B * F);
    // the full batch's samples as dense rows (its CSR rows: the geometric scheme writes no dense rows)
    const fromCsr = new Array<number>(B * F).fill(0);
    for (let s = 0; s < B; s++)
      for (let j = full.rowStart[i * (B + 1) + s]; j < full.rowStart[i * (B + 1) + s + 1]; j++)
        fromCsr[s * F + full.feature[j]] = full.value[j];
    expect(dense, `${what}, instance ${i}'s dense rows`).toEqual(fromCsr);
    if (usesMask(p)) expect(dense).toEqual(floatsAt(full, denseRowsOf(full, i), B * F));
    const r0 = i * (B + 1);
    const nonEmpty: number[] = [];
    for (let s = 0; s < B; s++) if (full.rowStart[r0 + s + 1] > full.rowStart[r0 + s]) nonEmpty.push(s);
    const sampled = rowsOnlySamples(got) as NonNullable<ReturnType<typeof rowsOnlySamples>>;
    const n = sampled.listed[i];
    expect(n, `${what}, instance ${i}'s count of non-empty samples`).toBe(nonEmpty.length);
    expect(Array.from(new Int32Array(got.value.buffer, sampled.lists + i * sampled.listStride, n))).toEqual(
      nonEmpty,
    );
    // blocks: four listed samples a block, F vectors of four lanes, lanes past the last sample zero
    const nBlocks = Math.ceil(n / 4);
    const expected: number[] = [];
    for (let blk = 0; blk < nBlocks; blk++)
      for (let f = 0; f < F; f++)
        for (let l = 0; l < 4; l++) {
          const k = 4 * blk + l;
          expected.push(k < n ? dense[nonEmpty[k] * F + f] : 0);
        }
    expect(
      floatsAt(got, sampled.blocks + i * sampled.blockStride, nBlocks * 4 * F),
      `${what}, instance ${i}'s blocks`,
    ).toEqual(expected);
  });
  return rowsOnly;
}

describe.skipIf(SKIP !== undefined || !HAS_AVX512)("the native sampler", () => {
  it("is in the addon on a CPU with AVX-512 and BMI2", () => {
    expect(typeof addons().withRows.sampleRows).toBe("function");
  });

  // mask-scheme probabilities (seven: a group of four and one of three), a geometric one (sampled one at a
  // time) and zero (CSR rows, all empty)
  const PS = [1, 0.9, 0.5, 0.2, 0.1, 0.07, 0.06, 0.03, 0];
  // (chunks of up to eight samples: B = 12, 6 and 13 also end in a partial chunk)
  const CASES: [number, number][] = [
    [1, 1024],
    [1, 12],
    [2, 1024],
    [2, 6],
    [4, 13],
    [3, 12],
    [4, 1024],
    [5, 1024],
    [5, 4],
    [6, 36],
    [7, 1020],
  ];
  // five mask-scheme instances: a group of four and one alone (4-lane vectors, not a 16-lane group)
  const PS_LONE = [0.9, 1, 0.5, 0.2, 0.07, 0.03];
  it.each([
    ...CASES.map(([F, B]) => [F, B, PS] as const),
    ...(
      [
        [5, 1024],
        [3, 12],
        [7, 20],
      ] as const
    ).map(([F, B]) => [F, B, PS_LONE] as const),
  ])("F = %i, B = %i, p = %j: the same rows, list and blocks as the WebAssembly sampler", (F, B, ps) => {
    const { withRows, withoutSampler } = addons();
    const spec = makeSpec(F, 1, [...ps], Array(F).fill(1));
    const all = new Uint8Array(ps.length).fill(1);
    const got = createBatch(spec, B, "f32");
    const full = createBatch(spec, B, "f32");
    const rngGot = new Rng(11, "native-sampler");
    const rngFull = new Rng(11, "native-sampler");
    // twice: the second batch checks that both drew the same amount from the stream; the CSR rows compared
    // with come from the WebAssembly sampler (the native one also samples the geometric scheme into CSR rows)
    for (const round of [1, 2]) {
      setNativeKernel(withRows);
      sampleBatch(spec, rngGot, got, all);
      setNativeKernel(withoutSampler);
      sampleBatch(spec, rngFull, full);
      expect(expectSameSamples(spec, got, full, `round ${round}`)).toBe(ps.filter((p) => p > 0).length);
    }
  });

  it("is asked for the fast kernel's blocks-path instances only", () => {
    const { withRows, withoutSampler } = addons();
    const intro = getPreset("intro").spec();
    setNativeKernel(withRows);
    const claimed = rowsOnlyInstances(fastKernel, intro, "f32");
    // intro: F = 5, every instance on the dense (blocks) path, the last (p = 0.05) of the geometric scheme
    expect(Array.from(claimed ?? [])).toEqual(Array(10).fill(1));
    expect(usesMask(intro.featureProbability[9])).toBe(false);
    expect(rowsOnlyInstances(makeReferenceKernel("features"), intro, "f32")).toBeUndefined();
    expect(rowsOnlyInstances(fastKernel, intro, "f64")).toBeUndefined();
    expect(rowsOnlyInstances(fastKernel, getPreset("demo").spec(), "f32")).toBeUndefined();
    expect(rowsOnlyInstances(fastKernel, makeSpec(8, 2, [1, 0.5], Array(8).fill(1)), "f32")).toBeUndefined();
    setPathOverride("gram");
    expect(Array.from(rowsOnlyInstances(fastKernel, intro, "f32") ?? [1])).toEqual(Array(10).fill(0));
    setPathOverride(undefined);
    setNativeKernel(withoutSampler);
    expect(rowsOnlyInstances(fastKernel, intro, "f32")).toBeUndefined();
  });

  const config = (activation: string, extra: Partial<TrainConfig> = {}): TrainConfig => ({
    ...TRAIN_DEFAULTS,
    spec: getPreset("intro").spec(),
    activation,
    steps: 150,
    seed: 4,
    ...extra,
  });
  const paramsOf = (t: { params: { W: ArrayLike<number>; b: ArrayLike<number> } }) => [
    ...Array.from(t.params.W),
    ...Array.from(t.params.b),
  ];

  it("trains intro to the same bits as the WebAssembly sampler (relu, gelu, softmax; a formula)", () => {
    const { withRows, withoutSampler } = addons();
    // a formula of a short run trains in WebAssembly (dense_blocks over the sampler's blocks)
    defineActivation(compileFormulaActivation({ id: "rows_silu", formula: "x*sigmoid(1.702*x)" }));
    for (const activation of ["relu", "gelu", "softmax", "rows_silu"]) {
      let calls = 0;
      // steps driven from JavaScript, which call the sampler (native steps, which sample inside their own
      // loop, are compared with these in native-steps.test.ts)
      const counting = {
        ...withRows,
        trainSteps: undefined,
        sampleRows: (m: ArrayBuffer, a: Int32Array) => {
          calls++;
          withRows.sampleRows?.(m, a);
        },
      };
      setNativeKernel(counting);
      const a = new Trainer(config(activation));
      a.advance(150);
      expect(calls, `${activation}: batches sampled natively`).toBe(150);
      setNativeKernel(withoutSampler);
      const b = new Trainer(config(activation));
      b.advance(150);
      expect(paramsOf(a), `${activation}: parameters after 150 steps`).toEqual(paramsOf(b));
      expect(Array.from(a.trainLoss)).toEqual(Array.from(b.trainLoss));
    }
  });

  it("evaluates on a batch drawn rows-only where every kernel allows it, to the same losses", () => {
    const { withRows, withoutSampler } = addons();
    const intro = getPreset("intro").spec();
    const params = initParams(intro, "f32", 4);
    // intro's fast-kernel activations: every instance rows-only; with the batch softmax (reference kernel)
    // among them, none
    const fast = [
      { activation: "relu", softmaxDim: "features" as const },
      { activation: "gelu", softmaxDim: "features" as const },
      { activation: "softmax", softmaxDim: "features" as const },
    ];
    expect(Array.from(evaluationRowsOnly(intro, fast, "f32") ?? [])).toEqual(Array(10).fill(1));
    expect(evaluationRowsOnly(intro, [...fast, { activation: "softmax", softmaxDim: "batch" }], "f32")).toBe(
      undefined,
    );
    for (const { activation, softmaxDim } of fast) {
      let calls = 0;
      setNativeKernel({
        ...withRows,
        sampleRows: (m: ArrayBuffer, a: Int32Array) => {
          calls++;
          withRows.sampleRows?.(m, a);
        },
      });
      const rows = evaluateLoss(intro, activation, params, 4, softmaxDim);
      expect(calls, `${activation}: evaluation batch sampled natively`).toBe(1);
      setNativeKernel(withoutSampler);
      const csr = evaluateLoss(intro, activation, params, 4, softmaxDim);
      expect(Array.from(rows), activation).toEqual(Array.from(csr));
    }
  });

  it("in lockstep: the same bits, and CSR rows for a group with a kernel that reads them", () => {
    const { withRows, withoutSampler } = addons();
    setNativeKernel(withoutSampler);
    const alone = ["relu", "gelu"].map((act) => {
      const t = new Trainer(config(act));
      t.advance(150);
      return paramsOf(t);
    });
    setNativeKernel(withRows);
    const together = trainLockstep([config("relu"), config("gelu")]);
    expect(together.map(paramsOf)).toEqual(alone);
    // with the reference kernel in the group nothing is sampled rows-only: were it, that run would read
    // empty rows and end elsewhere
    const mixed = trainLockstep([config("relu"), config("relu", { kernel: "reference" })]);
    setNativeKernel(withoutSampler);
    const referenceAlone = new Trainer(config("relu", { kernel: "reference" }));
    referenceAlone.advance(150);
    expect(paramsOf(mixed[0])).toEqual(alone[0]);
    expect(paramsOf(mixed[1])).toEqual(paramsOf(referenceAlone));
  });

  /** Where two batches first differ (row starts, then the entries in use), or "same". */
  const firstDifference = (a: SparseBatch, b: SparseBatch): string => {
    if (a.nnz !== b.nnz) return `nnz ${a.nnz} vs ${b.nnz}`;
    const arrays = [
      ["rowStart", a.rowStart, b.rowStart, a.rowStart.length],
      ["feature", a.feature, b.feature, a.nnz],
      ["value", a.value, b.value, a.nnz],
    ] as const;
    for (const [name, x, y, n] of arrays)
      for (let k = 0; k < n; k++) if (!Object.is(x[k], y[k])) return `${name}[${k}]: ${x[k]} vs ${y[k]}`;
    return "same";
  };

  // float32 instances sampled natively into CSR entries: the geometric scheme's (p < 0.06) at any F, and,
  // with F a multiple of 4 above the dense rows' F, the mask scheme's (p = 1 included)
  const DEMO_PS = [1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001];
  const CSR_CASES: [number, number, readonly number[]][] = [
    [12, 1024, PS],
    [20, 1024, PS],
    [100, 64, PS],
    [20, 3, PS],
    [20, 1024, DEMO_PS],
    [10, 1024, DEMO_PS],
    [5, 1024, DEMO_PS],
    [1, 37, DEMO_PS],
  ];
  const nativeCsr = (F: number, p: number) => p > 0 && (p < 0.06 || (F % 4 === 0 && F > DENSE_MAX_F));
  it.each(CSR_CASES)(
    "F = %i, B = %i, p = %j: the same CSR entries as the WebAssembly sampler",
    (F, B, ps) => {
      const { withRows, withoutSampler } = addons();
      let calls = 0;
      const counting = {
        ...withRows,
        sampleCsr: (m: ArrayBuffer, a: Int32Array) => {
          calls++;
          return (withRows.sampleCsr as NonNullable<NativeKernel["sampleCsr"]>)(m, a);
        },
      };
      const spec = makeSpec(F, 3, [...ps], Array(F).fill(1));
      // a batch made for rarer features than it is asked to sample: its capacity runs out and grows
      const small = makeSpec(F, 3, Array(ps.length).fill(0.001), Array(F).fill(1));
      const expectedCalls = ps.filter((p) => nativeCsr(F, p)).length;
      for (const [what, made] of [
        ["its own batch", spec],
        ["a batch that must grow", small],
      ] as const) {
        const got = createBatch(made, B, "f32");
        const want = createBatch(made, B, "f32");
        const rngGot = new Rng(13, "native-csr");
        const rngWant = new Rng(13, "native-csr");
        for (const round of [1, 2]) {
          calls = 0;
          setNativeKernel(counting);
          sampleBatch(spec, rngGot, got);
          setNativeKernel(withoutSampler);
          sampleBatch(spec, rngWant, want);
          // each natively sampled instance once, more often where one ran out of room
          expect(calls, `${what}, round ${round}: native calls`).toBeGreaterThanOrEqual(expectedCalls);
          if (what === "its own batch") expect(calls, `${what}, round ${round}`).toBe(expectedCalls);
          expect(firstDifference(got, want), `${what}, round ${round}`).toBe("same");
        }
      }
    },
  );

  it("refuses bad arguments with an exception", () => {
    const sampleRows = addons().withRows.sampleRows as NonNullable<NativeKernel["sampleRows"]>;
    const memory = new ArrayBuffer(1 << 16);
    // header (count, B, F, logarithm table), then one record of 26 words: rows, list and blocks at 18–20
    const args = (B: number, F: number, denseAt = 0, tableAt = 0xc000) => {
      const a = new Int32Array(4 + 26);
      a.set([1, B, F, tableAt]);
      a[4 + 18] = denseAt;
      a[4 + 19] = 1 << 14;
      a[4 + 20] = 1 << 15;
      return a;
    };
    expect(() => sampleRows(memory, args(64, 5))).not.toThrow();
    const code = nativeFailure;
    expect(code(() => sampleRows(memory, args(6, 5)))).toBe("TMS_NATIVE: true"); // not whole periods
    expect(code(() => sampleRows(memory, args(64, 9)))).toBe("TMS_NATIVE: true"); // F > 8
    expect(code(() => sampleRows(memory, args(64, 5, 1 << 16)))).toBe("TMS_NATIVE: true"); // outside
    expect(code(() => sampleRows(memory, args(64, 5, 0, 0xf800)))).toBe("TMS_NATIVE: true"); // table outside
    expect(code(() => sampleRows(memory, new Int32Array([2, 64, 5, 0])))).toBe("TMS_NATIVE: true");
    const sampleCsr = addons().withRows.sampleCsr as NonNullable<NativeKernel["sampleCsr"]>;
    // 32 words: B, F, 16 seed words at 4, T − 1 and c's bits at 20–21, row starts, features and values at
    // 22–24, nnz and capacity at 25–26; the geometric scheme's flag at 27, ln(1 − p) at 28–29, its table at 30
    const csr = (B: number, F: number, cap: number, featAt = 1 << 12) => {
      const a = new Int32Array(32);
      a.set([B, F]);
      a[22] = 0;
      a[23] = featAt;
      a[24] = 1 << 14;
      a[25] = 0;
      a[26] = cap;
      return a;
    };
    const geometric = (B: number, F: number, cap: number, tableAt = 0xc000) => {
      const a = csr(B, F, cap);
      a[27] = 1;
      new Float64Array(a.buffer, 28 * 4, 1)[0] = Math.log1p(-0.01);
      a[30] = tableAt;
      return a;
    };
    expect(sampleCsr(memory, csr(16, 20, 1000))).toBeGreaterThan(0);
    expect(sampleCsr(memory, csr(16, 20, 10))).toBe(-1); // out of room: the caller grows the batch
    expect(code(() => sampleCsr(memory, csr(16, 18, 1000)))).toBe("TMS_NATIVE: true"); // F not a multiple of 4
    expect(code(() => sampleCsr(memory, csr(16, 20, 1000, 1 << 16)))).toBe("TMS_NATIVE: true"); // outside
    expect(code(() => sampleCsr(memory, new Int32Array(28)))).toBe("TMS_NATIVE: true"); // too short
    // the geometric scheme takes any F; 16 × 18 slots at p = 0.01 keep a few entries (this seed: none lost)
    expect(sampleCsr(memory, geometric(16, 18, 1000))).toBeGreaterThanOrEqual(0);
    expect(sampleCsr(memory, geometric(512, 18, 0))).toBe(-1); // out of room
    expect(code(() => sampleCsr(memory, geometric(16, 18, 1000, 0xfe00)))).toBe("TMS_NATIVE: true"); // table outside
    expect(code(() => sampleCsr(memory, geometric(1 << 24, 1 << 8, 1000)))).toBe("TMS_NATIVE: true"); // B·F ≥ 2³¹
  });
});
