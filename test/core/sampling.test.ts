// The sparse sampler's distribution: each (sample, feature) slot of instance i is non-zero with probability
// p_i, independently, with a U(0, 1) value. Thresholds are 4–5 standard errors (or the KS critical value at
// α = 1e-4): with fixed seeds the tests are deterministic, and a correct sampler passes them with probability
// > 0.9999 for any seed, while a biased one (wrong gap formula, off-by-one, correlated draws) fails at these sizes.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  setFmaEnabled,
  setWasmEnabled,
  wasmEnabled,
  wasmSimdAvailable,
} from "../../src/core/kernels/engine.js";
import { makeSpec } from "../../src/core/model.js";
import { Rng } from "../../src/core/rng.js";
import { buildSampler } from "../../src/core/sampler/wasm-gen.js";
import {
  createBatch,
  denseRowsOf,
  densify,
  isEngineBatch,
  MASK_MIN_P,
  type SparseBatch,
  sampleBatch,
} from "../../src/core/sampling.js";
import { correlation, ksUniform, mean } from "../helpers/numeric.js";

const F = 20;
const B = 4096;
// p = 1 and 0.3 use the per-slot ("mask") scheme, 0.05 and 0.001 the geometric-gap scheme.
const PROBS = [1, 0.3, 0.05, 0.001];
const spec = makeSpec(F, 5, PROBS, Array(F).fill(1));

type SamplerEngine = "wasm" | "js";
const ENGINES: SamplerEngine[] = ["wasm", "js"];

/** Runs `body` with the WebAssembly sampler on or off (createBatch and sampleBatch both follow the switch). */
function withEngine<T>(engine: SamplerEngine, body: () => T): T {
  setWasmEnabled(engine === "wasm");
  try {
    return body();
  } finally {
    setWasmEnabled(true);
  }
}

/** Dense 0/1 indicators and values of instance i over `batches` fresh batches. */
function collect(i: number, batches: number, seed: number) {
  const batch = createBatch(spec, B, "f64");
  const rng = new Rng(seed, "test-sampling");
  const present = new Uint8Array(batches * B * F);
  const values: number[] = [];
  const x = new Float64Array(F);
  for (let k = 0; k < batches; k++) {
    sampleBatch(spec, rng, batch);
    for (let s = 0; s < B; s++) {
      densify(batch, i, s, x);
      for (let f = 0; f < F; f++) {
        if (x[f] !== 0) {
          present[(k * B + s) * F + f] = 1;
          values.push(x[f]);
        }
      }
    }
  }
  return { present, values, n: batches * B * F };
}

function wellFormed(batch: SparseBatch): string[] {
  const problems: string[] = [];
  const { batchSize, nInstances, rowStart, feature, value } = batch;
  let expectedStart = 0;
  for (let i = 0; i < nInstances; i++) {
    const base = i * (batchSize + 1);
    if (rowStart[base] !== expectedStart) problems.push(`instance ${i} starts at ${rowStart[base]}`);
    for (let s = 0; s < batchSize; s++) {
      const a = rowStart[base + s];
      const b = rowStart[base + s + 1];
      if (b < a) problems.push(`instance ${i} sample ${s}: rowStart decreases`);
      for (let j = a; j < b; j++) {
        if (feature[j] < 0 || feature[j] >= batch.nFeatures)
          problems.push(`feature ${feature[j]} out of range`);
        if (j > a && feature[j] <= feature[j - 1])
          problems.push(`instance ${i} sample ${s}: features not increasing`);
        if (!(value[j] >= 0 && value[j] < 1)) problems.push(`value ${value[j]} outside [0, 1)`);
      }
    }
    expectedStart = rowStart[base + batchSize];
  }
  if (expectedStart !== batch.nnz) problems.push(`last row ends at ${expectedStart}, nnz ${batch.nnz}`);
  return problems;
}

describe("the sampler engines", () => {
  it("WebAssembly SIMD is available here, so both sampler implementations are tested", () => {
    expect(wasmSimdAvailable).toBe(true);
    expect(isEngineBatch(createBatch(spec, 8, "f64"))).toBe(true);
    expect(withEngine("js", () => isEngineBatch(createBatch(spec, 8, "f64")))).toBe(false);
  });

  it("the WebAssembly sampler compiles for every shape and mode (a failed compilation would silently fall back to JavaScript)", () => {
    for (const dtype of ["f32", "f64"] as const)
      for (const nF of [1, 2, 3, 5, 6, 7, 9, 20, 100])
        for (const relaxed of [false, true])
          expect(
            () => new WebAssembly.Module(buildSampler(dtype, nF, relaxed) as BufferSource),
          ).not.toThrow();
    sampleBatch(spec, new Rng(1, "test-sampling"), createBatch(spec, 64, "f32"));
    expect(wasmEnabled()).toBe(true);
  });

  it("p = 1 and 0.3 use the mask scheme, 0.05 and 0.001 the geometric one", () => {
    expect(PROBS.filter((p) => p >= MASK_MIN_P)).toEqual([1, 0.3]);
  });

  // every shape of the mask loop: F a multiple of 4; F not, with its period of lcm(F, 4) slots unrolled
  // (F = 7, 6, 5, 3, 2, 1: 7, 3, 5, 3, 1, 1 vectors) or too long for that (F = 9); F < 4 (several samples
  // per vector); B not a multiple of a period's samples (37) and B·F not a multiple of 4 (a last partial
  // vector); packing by plain and by relaxed swizzle
  const shapes = [20, 9, 7, 6, 5, 3, 2, 1].flatMap((nF) =>
    [512, 37].flatMap((nB) =>
      (["f32", "f64"] as const).flatMap((dtype) =>
        [true, false].map((relaxed) => ({ nF, nB, dtype, relaxed })),
      ),
    ),
  );
  it.each(shapes)(
    "WebAssembly and JavaScript samplers give identical batches (F = $nF, B = $nB, $dtype, relaxed SIMD $relaxed)",
    ({ nF, nB, dtype, relaxed }) => {
      const shape = makeSpec(nF, 1, [...PROBS, 0.5, 0.1], Array(nF).fill(1));
      const draw = (engine: SamplerEngine) =>
        withEngine(engine, () => {
          setFmaEnabled(relaxed);
          try {
            const batch = createBatch(shape, nB, dtype);
            const rng = new Rng(11, "test-sampling");
            sampleBatch(shape, rng, batch);
            sampleBatch(shape, rng, batch); // the second batch: the generator state carries over identically
            return {
              nnz: batch.nnz,
              rowStart: Array.from(batch.rowStart),
              feature: Array.from(batch.feature.subarray(0, batch.nnz)),
              value: Array.from(batch.value.subarray(0, batch.nnz)),
            };
          } finally {
            setFmaEnabled(true);
          }
        });
      const wasm = draw("wasm");
      const js = draw("js");
      expect(wasm.nnz).toBe(js.nnz);
      expect(wasm.nnz).toBeGreaterThan(nB); // p = 1 alone fills B·F slots
      expect(wasm.rowStart).toEqual(js.rowStart);
      expect(wasm.feature).toEqual(js.feature);
      expect(wasm.value).toEqual(js.value);
    },
  );
});

describe("the sampler's dense rows (float32, F ≤ 8, mask scheme)", () => {
  it.each([1, 2, 3, 5, 7, 8, 9].flatMap((nF) => [64, 37].map((nB) => [nF, nB])))(
    "are the batch's values row by row, zeros where empty, exactly when complete (F = %i, B = %i)",
    (nF, nB) => {
      const probs = [1, 0.3, MASK_MIN_P, 0.03];
      const shape = makeSpec(nF, 1, probs, Array(nF).fill(1));
      const batch = createBatch(shape, nB, "f32");
      const rng = new Rng(5, "dense");
      const row = new Float32Array(nF);
      for (let step = 0; step < 2; step++) {
        sampleBatch(shape, rng, batch);
        probs.forEach((p, i) => {
          const at = denseRowsOf(batch, i);
          // whole periods of lcm(F, 4) slots: the sampler's unrolled loops wrote every slot
          const whole = (nB * nF) % 4 === 0;
          const expected = nF <= 8 && p >= MASK_MIN_P && whole;
          expect(at >= 0, `instance ${i} (p = ${p})`).toBe(expected);
          if (!expected) return;
          const dense = new Float32Array(batch.value.buffer, at, nB * nF);
          for (let sIdx = 0; sIdx < nB; sIdx++) {
            densify(batch, i, sIdx, row);
            expect(Array.from(dense.subarray(sIdx * nF, (sIdx + 1) * nF))).toEqual(Array.from(row));
          }
        });
      }
      // float64 batches and the JavaScript sampler write none
      const b64 = createBatch(shape, nB, "f64");
      sampleBatch(shape, rng, b64);
      expect(denseRowsOf(b64, 0)).toBe(-1);
      withEngine("js", () => sampleBatch(shape, rng, batch));
      expect(denseRowsOf(batch, 0)).toBe(-1);
    },
  );
});

describe.each(ENGINES)("sampleBatch (%s)", (engine) => {
  beforeEach(() => {
    setWasmEnabled(engine === "wasm");
  });
  afterEach(() => {
    setWasmEnabled(true);
  });

  it("rows are well formed: rowStart monotone and contiguous, features increasing and < F, values in [0, 1)", () => {
    const batch = createBatch(spec, B, "f64");
    const rng = new Rng(1, "test-sampling");
    for (let k = 0; k < 3; k++) {
      sampleBatch(spec, rng, batch);
      expect(wellFormed(batch)).toEqual([]);
    }
  });

  it("p = 1: every slot is present, in order", () => {
    const batch = createBatch(spec, B, "f64");
    sampleBatch(spec, new Rng(2, "test-sampling"), batch);
    for (let s = 0; s < B; s++) {
      expect(batch.rowStart[s + 1] - batch.rowStart[s]).toBe(F);
      for (let f = 0; f < F; f++) expect(batch.feature[batch.rowStart[s] + f]).toBe(f);
    }
  });

  // Binomial: count ~ Bin(n, p), SE = √(n p (1 − p)). p = 0.001 uses 20 batches (1.6M slots, ~1 600 hits).
  it.each([
    [1, 0.3, 2],
    [2, 0.05, 4],
    [3, 0.001, 20],
  ])("fraction of non-zeros ≈ p (instance %i, p = %f, within 4.5 SE)", (i, p, batches) => {
    const { present, n } = collect(i, batches, 3);
    let count = 0;
    for (const v of present) count += v;
    expect(Math.abs(count - n * p)).toBeLessThan(4.5 * Math.sqrt(n * p * (1 - p)));
  });

  it("every feature is equally likely (per-feature counts within 4.5 SE, p = 0.3)", () => {
    const { present, n } = collect(1, 1, 4);
    const samples = n / F;
    const p = 0.3;
    for (let f = 0; f < F; f++) {
      let c = 0;
      for (let s = 0; s < samples; s++) c += present[s * F + f];
      expect(Math.abs(c - samples * p), `feature ${f}`).toBeLessThan(4.5 * Math.sqrt(samples * p * (1 - p)));
    }
  });

  it.each([
    [0, 1],
    [1, 1],
    [2, 2],
  ])("values are U(0, 1) (instance %i): mean within 4.5 SE, KS at α = 1e-4", (i, batches) => {
    const { values } = collect(i, batches, 5);
    const n = values.length;
    expect(n).toBeGreaterThan(5000);
    expect(Math.abs(mean(values) - 0.5)).toBeLessThan(4.5 * Math.sqrt(1 / 12 / n));
    // Kolmogorov: P(√n·D > 2.14) ≈ 1e-4.
    expect(ksUniform(values) * Math.sqrt(n)).toBeLessThan(2.14);
  });

  it("presence is independent across features and samples (correlations within 4.5/√n)", () => {
    const { present, n } = collect(1, 1, 6);
    const samples = n / F;
    const pairs: [string, (s: number) => number, (s: number) => number][] = [
      ["features 0 and 1 (two lanes of one draw)", (s) => present[s * F], (s) => present[s * F + 1]],
      ["features 0 and 4 (one lane, successive draws)", (s) => present[s * F], (s) => present[s * F + 4]],
      ["adjacent features", (s) => present[s * F + 3], (s) => present[s * F + 4]],
      ["first and last feature", (s) => present[s * F], (s) => present[s * F + F - 1]],
      ["last feature and next sample's first", (s) => present[s * F + F - 1], (s) => present[(s + 1) * F]],
    ];
    for (const [name, a, b] of pairs) {
      const xs = Float64Array.from({ length: samples - 1 }, (_, s) => a(s));
      const ys = Float64Array.from({ length: samples - 1 }, (_, s) => b(s));
      expect(Math.abs(correlation(xs, ys)), name).toBeLessThan(4.5 / Math.sqrt(samples));
    }
    // The number of non-zeros per sample is Bin(F, p): its variance is F p (1 − p) only if the slots are
    // independent (positive correlations inflate it, negative shrink it). SE of a sample variance ≈ σ²√(2/(n−1)).
    const counts = Float64Array.from({ length: samples }, (_, s) => {
      let c = 0;
      for (let f = 0; f < F; f++) c += present[s * F + f];
      return c;
    });
    const v = F * 0.3 * 0.7;
    let s2 = 0;
    const m = mean(counts);
    for (const c of counts) s2 += (c - m) ** 2;
    s2 /= samples - 1;
    expect(Math.abs(s2 - v)).toBeLessThan(4.5 * v * Math.sqrt(2 / (samples - 1)));
  });

  it("presence is independent across features at p = 0.05 (geometric gaps): correlations within 4.5/√n", () => {
    const { present, n } = collect(2, 4, 12);
    const samples = n / F;
    for (const [f, g] of [
      [0, 1],
      [3, 4],
      [F - 1, F],
    ]) {
      const xs = Float64Array.from({ length: samples - 1 }, (_, s) => present[s * F + f]);
      const ys = Float64Array.from({ length: samples - 1 }, (_, s) => present[s * F + g]);
      expect(Math.abs(correlation(xs, ys)), `${f}, ${g}`).toBeLessThan(4.5 / Math.sqrt(samples));
    }
  });

  it("values are independent of which feature they belong to (mean per feature within 5 SE)", () => {
    const batch = createBatch(spec, B, "f64");
    sampleBatch(spec, new Rng(8, "test-sampling"), batch);
    // instance 0 (p = 1): 4096 values per feature.
    for (let f = 0; f < F; f++) {
      let sum = 0;
      for (let s = 0; s < B; s++) sum += batch.value[batch.rowStart[s] + f];
      expect(Math.abs(sum / B - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / B));
    }
  });

  it("a batch created for sparse data grows to hold dense data, and densify reproduces it", () => {
    const sparseSpec = makeSpec(F, 5, [0.001], Array(F).fill(1));
    const denseSpec = makeSpec(F, 5, [1], Array(F).fill(1));
    const batch = createBatch(sparseSpec, 512, "f32");
    const capacity = batch.feature.length;
    sampleBatch(denseSpec, new Rng(9, "test-sampling"), batch);
    expect(capacity).toBeLessThan(512 * F);
    expect(batch.nnz).toBe(512 * F);
    expect(batch.value).toBeInstanceOf(Float32Array);
    expect(wellFormed(batch)).toEqual([]);
    const x = new Float32Array(F);
    densify(batch, 0, 17, x);
    for (let f = 0; f < F; f++) expect(x[f]).toBe(batch.value[17 * F + f]);
  });

  it("successive batches from one generator differ", () => {
    const batch = createBatch(spec, 64, "f64");
    const rng = new Rng(10, "test-sampling");
    sampleBatch(spec, rng, batch);
    const first = Array.from(batch.value.subarray(0, 64 * F));
    sampleBatch(spec, rng, batch);
    expect(Array.from(batch.value.subarray(0, 64 * F))).not.toEqual(first);
  });
});
