// Synthetic data: each feature of each sample of instance i is U(0, 1) with probability p_i, else 0,
// independently. Batches are stored sparse (CSR per instance), since at high sparsity almost every sample is
// all-zero and the kernels skip those exactly. The sampler is separate from the kernels, so any two kernels
// can be compared on the very same batch.
//
// Scheme (v2, docs/speed.md). For each instance, 16 words from `rng` seed four xoshiro128+ generators that
// run side by side (the four lanes of a SIMD vector); a step yields four 32-bit outputs u, used in lane
// order. Then, by the instance's p:
//  * p ≥ MASK_MIN_P ("mask"): the slots q = s·F + f in order, four per step (lane l of step t decides slot
//    4t + l; lanes past B·F are drawn and unused). The slot is kept iff p = 1 or u < T = round(p·2³²) (so with
//    probability T/2³² = p to 2⁻³³), and its value is u rescaled to [0, 1): given u < T, u is uniform on
//    {0 … T−1}, so u/T is U(0, 1) on a grid of 1/T (f64: u·(1/T); f32: (u >>> 8)·f32(256/T), below 1).
//  * p < MASK_MIN_P ("geometric"): the B·F slots form one run of Bernoulli(p) trials; the gap to the next
//    kept slot is ⌊ln(1 − u·2⁻³²)/ln(1 − p)⌋ ~ Geometric(p), and each kept value is a fresh uniform
//    (f32: (u >>> 8)·2⁻²⁴, f64: u·2⁻³²). Each step gives two gaps (outputs 0, 1) and their two values
//    (outputs 2, 3). The logarithm is computed by `lnOneMinus` (portable arithmetic, so JavaScript and
//    WebAssembly agree bit for bit).
// Both give exactly the notebook's distribution (up to the 2⁻³² granularity of the uniforms). The
// WebAssembly version (kernels/wasm/sampler.ts) is used when available and produces identical batches.

import type { Buffer } from "./activations.js";
import { attachEngine, cachedModule, Engine, engineOf, fmaEnabled, wasmEnabled } from "./kernels/engine.js";
import {
  buildSampler,
  DENSE_MAX_F,
  denseComplete,
  LN_HALF_FROM,
  LN_POLY,
  LN_TABLE_SIZE,
  LN2_HI,
  LN2_LO,
  SAMPLER_STATE,
  samplerTables,
  setKeepThreshold,
} from "./kernels/wasm/sampler.js";
import { allocate, type DType, type ModelSpec } from "./model.js";
import type { Rng } from "./rng.js";

export interface SparseBatch {
  batchSize: number;
  nFeatures: number;
  nInstances: number;
  /** rowStart[i·(B+1) + s] .. rowStart[i·(B+1) + s + 1]: the non-zeros of sample s of instance i. */
  rowStart: Int32Array;
  feature: Int32Array;
  value: Buffer;
  /** Number of non-zeros in use. */
  nnz: number;
}

/**
 * Feature probabilities at or above this use the per-slot ("mask") scheme; below, geometric gaps. The
 * schemes cost ≈ 0.7–0.9 ns per slot and ≈ 15–17 ns per kept value (F = 5, 20), so they break even near
 * p = 0.05; at 0.06, intro's instances at p ≈ 0.097 and 0.070 sample in 3.7 µs instead of 8.1 and 5.9.
 */
export let MASK_MIN_P = 0.06;
/** For benchmarks only: changes the scheme threshold (and so the random stream). */
export function setMaskMinP(p: number): void {
  MASK_MIN_P = p;
}

/** Entries kept free past the capacity, for the vector stores of the WebAssembly sampler. */
const SLACK = 8;

/** Where an engine-backed batch's arrays live (byte offsets), and its capacity in entries. */
interface EngineBatch {
  engine: Engine;
  dtype: DType;
  rs: number;
  feat: number;
  val: number;
  cap: number;
  state: number;
  /** The state block as words (rebound with the other views when memory grows). */
  stateWords: Int32Array;
  sampler?: SamplerExports;
  /** float32 and F ≤ DENSE_MAX_F: every slot's value, instance by instance (denseStride bytes apart). */
  dense: number;
  denseStride: number;
  /** Which instances' dense values belong to the current sample (mask scheme, whole periods). */
  denseValid: Uint8Array;
}
const engineBatches = new WeakMap<SparseBatch, EngineBatch>();

interface SamplerExports {
  sample_mask(
    st: number,
    rs: number,
    feat: number,
    val: number,
    nnz: number,
    cap: number,
    B: number,
    F: number,
    all: number,
    c: number,
    dense: number,
  ): number;
  sample_geom(
    st: number,
    rs: number,
    feat: number,
    val: number,
    nnz: number,
    cap: number,
    B: number,
    F: number,
    logQ: number,
  ): number;
}

export function createBatch(spec: ModelSpec, batchSize: number, dtype: DType): SparseBatch {
  const expected = spec.featureProbability.reduce((sum, p) => sum + Math.min(1, p), 0);
  const capacity = Math.max(64, Math.ceil(expected * batchSize * spec.nFeatures * 1.1) + 64);
  const rowLen = spec.nInstances * (batchSize + 1);
  if (!wasmEnabled()) {
    return {
      batchSize,
      nFeatures: spec.nFeatures,
      nInstances: spec.nInstances,
      rowStart: new Int32Array(rowLen),
      feature: new Int32Array(capacity + SLACK),
      value: allocate(dtype, capacity + SLACK),
      nnz: 0,
    };
  }
  const E = dtype === "f32" ? 4 : 8;
  const F = spec.nFeatures;
  // room for the batch, a kernel workspace (~F² + F·H values) and some slack
  const engine = new Engine(rowLen * 4 + (capacity + SLACK) * (4 + E) + 64 * F * F + (1 << 18));
  const rs = engine.alloc(rowLen * 4);
  const feat = engine.alloc((capacity + SLACK) * 4);
  const val = engine.alloc((capacity + SLACK) * E);
  const state = engine.alloc(SAMPLER_STATE.size);
  // dense values: B·F floats an instance, plus 32 bytes read past the last row by the block transpose
  const withDense = dtype === "f32" && F <= DENSE_MAX_F;
  const denseStride = withDense ? Math.ceil((batchSize * F * 4 + 32) / 16) * 16 : 0;
  const dense = withDense ? engine.alloc(spec.nInstances * denseStride) : 0;
  new Uint8Array(engine.buffer, state + SAMPLER_STATE.PERM).set(samplerTables(F));
  new Float64Array(engine.buffer, state + SAMPLER_STATE.LNTAB, LN_TABLE.length).set(LN_TABLE);
  const batch: SparseBatch = {
    batchSize,
    nFeatures: F,
    nInstances: spec.nInstances,
    rowStart: new Int32Array(0),
    feature: new Int32Array(0),
    value: allocate(dtype, 0),
    nnz: 0,
  };
  const eb: EngineBatch = {
    engine,
    dtype,
    rs,
    feat,
    val,
    cap: capacity,
    state,
    stateWords: new Int32Array(0),
    dense,
    denseStride,
    denseValid: new Uint8Array(spec.nInstances),
  };
  engineBatches.set(batch, eb);
  attachEngine(batch, engine);
  bindViews(batch, eb);
  engine.onGrow(() => bindViews(batch, eb));
  return batch;
}

function bindViews(batch: SparseBatch, eb: EngineBatch): void {
  const buf = eb.engine.buffer;
  eb.stateWords = new Int32Array(buf, eb.state, SAMPLER_STATE.BUF / 4);
  batch.rowStart = new Int32Array(buf, eb.rs, batch.nInstances * (batch.batchSize + 1));
  batch.feature = new Int32Array(buf, eb.feat, eb.cap + SLACK);
  batch.value =
    eb.dtype === "f32"
      ? new Float32Array(buf, eb.val, eb.cap + SLACK)
      : new Float64Array(buf, eb.val, eb.cap + SLACK);
}

/** Doubles the capacity, keeping the first `keep` entries. */
function grow(batch: SparseBatch, keep: number): void {
  const eb = engineBatches.get(batch);
  if (!eb) {
    const n = 2 * (batch.feature.length - SLACK) + SLACK;
    const feature = new Int32Array(n);
    feature.set(batch.feature.subarray(0, keep));
    const value = batch.value instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
    value.set(batch.value.subarray(0, keep));
    batch.feature = feature;
    batch.value = value;
    return;
  }
  const E = eb.dtype === "f32" ? 4 : 8;
  const cap = 2 * eb.cap;
  const feat = eb.engine.alloc((cap + SLACK) * 4);
  const val = eb.engine.alloc((cap + SLACK) * E);
  const buf = eb.engine.buffer;
  new Int32Array(buf, feat, keep).set(new Int32Array(buf, eb.feat, keep));
  new Uint8Array(buf, val, keep * E).set(new Uint8Array(buf, eb.val, keep * E));
  eb.feat = feat;
  eb.val = val;
  eb.cap = cap;
  bindViews(batch, eb);
}

/** Which scheme an instance uses (a function of p alone, so results never depend on the machine). */
export function usesMask(p: number): boolean {
  return p >= MASK_MIN_P;
}

/** T = round(p·2³²) (capped below 2³²), the keep threshold of the mask scheme for p < 1. */
export function maskThreshold(p: number): number {
  return Math.min(0xffffffff, Math.round(p * 4294967296));
}

const SEEDS = new Int32Array(16);

const versions = new WeakMap<SparseBatch, number>();
/**
 * How many times sampleBatch has filled this batch: a kernel may keep what it derives from one batch
 * (compacted rows, transposed blocks) for the other runs of a lockstep group while this is unchanged.
 */
export function sampledVersion(batch: SparseBatch): number {
  return versions.get(batch) ?? 0;
}

/** Fills `batch` with a fresh sample of every instance, drawing from `rng`. */
export function sampleBatch(spec: ModelSpec, rng: Rng, batch: SparseBatch): void {
  versions.set(batch, sampledVersion(batch) + 1);
  const eb = engineBatches.get(batch);
  eb?.denseValid.fill(0);
  const wasm = eb !== undefined && wasmEnabled() && samplerOf(eb, batch.nFeatures) !== undefined;
  const seeds = SEEDS;
  let nnz = 0;
  for (let i = 0; i < spec.nInstances; i++) {
    const p = spec.featureProbability[i];
    for (let k = 0; k < 16; k++) seeds[k] = rng.nextUint32() | 0;
    seedLanes(seeds);
    for (;;) {
      const end = wasm
        ? sampleInstanceWasm(eb, batch, i, p, seeds, nnz)
        : sampleInstanceJs(batch, i, p, seeds, nnz);
      if (end >= 0) {
        nnz = end;
        break;
      }
      grow(batch, nnz);
    }
  }
  batch.nnz = nnz;
}

/** Lane k's state is words 4k..4k+3 of the seeds; an all-zero state (never in practice) becomes 1, 0, 0, 0. */
function seedLanes(seeds: Int32Array): void {
  for (let k = 0; k < 4; k++) {
    if ((seeds[4 * k] | seeds[4 * k + 1] | seeds[4 * k + 2] | seeds[4 * k + 3]) === 0) seeds[4 * k] = 1;
  }
}

/** The engine's sampler instance (compiled on first use); undefined if WebAssembly cannot be compiled. */
function samplerOf(eb: EngineBatch, F: number): SamplerExports | undefined {
  if (!eb.sampler) {
    const relaxed = fmaEnabled();
    const module = cachedModule(`sampler:${eb.dtype}:${F}:${relaxed ? "relaxed" : "plain"}`, () =>
      buildSampler(eb.dtype, F, relaxed),
    );
    if (!module) return undefined;
    eb.sampler = new WebAssembly.Instance(module, { env: { memory: eb.engine.memory } })
      .exports as unknown as SamplerExports;
  }
  return eb.sampler;
}

function sampleInstanceWasm(
  eb: EngineBatch,
  batch: SparseBatch,
  i: number,
  p: number,
  seeds: Int32Array,
  nnz: number,
): number {
  const B = batch.batchSize;
  const F = batch.nFeatures;
  // lane-major seeds → the four state vectors S0..S3 (S_j lane k = word j of lane k)
  const st = eb.stateWords;
  for (let k = 0; k < 4; k++) for (let j = 0; j < 4; j++) st[4 * j + k] = seeds[4 * k + j];
  const rs = eb.rs + 4 * i * (B + 1);
  if (p <= 0) return closeEmpty(batch, i, nnz);
  if (usesMask(p)) {
    const all = p >= 1 ? 1 : 0;
    const T = all ? 0 : maskThreshold(p);
    const c = eb.dtype === "f32" ? (all ? 2 ** -24 : 256 / T) : all ? 2 ** -32 : 1 / T;
    setKeepThreshold(st, T);
    if (eb.dense && denseComplete(F, B)) eb.denseValid[i] = 1;
    return (eb.sampler as SamplerExports).sample_mask(
      eb.state,
      rs,
      eb.feat,
      eb.val,
      nnz,
      eb.cap,
      B,
      F,
      all,
      c,
      eb.dense + i * eb.denseStride,
    );
  }
  return (eb.sampler as SamplerExports).sample_geom(
    eb.state,
    rs,
    eb.feat,
    eb.val,
    nnz,
    eb.cap,
    B,
    F,
    Math.log1p(-p),
  );
}

/**
 * The byte address (in the batch's engine memory) of instance i's values as dense float32 rows, B·F of them
 * with zeros where a slot is empty, if the last sampleBatch wrote them (WebAssembly mask scheme, float32,
 * F ≤ DENSE_MAX_F); otherwise −1.
 */
export function denseRowsOf(batch: SparseBatch, i: number): number {
  const eb = engineBatches.get(batch);
  return eb?.denseValid[i] ? eb.dense + i * eb.denseStride : -1;
}

function closeEmpty(batch: SparseBatch, i: number, nnz: number): number {
  const base = i * (batch.batchSize + 1);
  batch.rowStart.fill(nnz, base, base + batch.batchSize + 1);
  return nnz;
}

// ---------------------------------------------------------------------------------------------------------
// The JavaScript implementation: the specification of the scheme, used where WebAssembly is unavailable.

/** Four xoshiro128+ generators stepped together; outputs in lane order. */
class Lanes {
  private readonly s = new Int32Array(16); // word j of lane k at 4k + j
  private readonly out = new Uint32Array(4);
  constructor(seeds: Int32Array) {
    this.s.set(seeds);
  }
  /** One step of all four lanes; returns the four outputs (valid until the next call). */
  step(): Uint32Array {
    const s = this.s;
    const out = this.out;
    for (let l = 0; l < 4; l++) {
      const o = 4 * l;
      const s0 = s[o];
      const s1 = s[o + 1];
      let s2 = s[o + 2];
      let s3 = s[o + 3];
      out[l] = (s0 + s3) | 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      const n1 = s1 ^ s2;
      const n0 = s0 ^ s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      s[o] = n0;
      s[o + 1] = n1;
      s[o + 2] = s2;
      s[o + 3] = s3;
    }
    return out;
  }
}

const lnScratch = new Float64Array(1);
const lnWords = new Uint32Array(lnScratch.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // index of the high word

/** ln x for x in [0.7, 1.42] by the atanh series 2s(1 + s²/3 + … + s²²/23), s = (x − 1)/(x + 1). */
function lnSeries(x: number): number {
  const s = (x - 1) / (x + 1);
  const z = s * s;
  let h = 1 / 23;
  for (let k = 10; k >= 0; k--) h = h * z + 1 / (2 * k + 1);
  return 2 * s * h;
}

/**
 * The logarithm table (also written into the WebAssembly sampler's state): per bucket i of m's top 8
 * mantissa bits, with centre c = 1 + (i + ½)/256: 1/c, then ln c (from LN_HALF_FROM on, ln(c/2)). Computed
 * with portable arithmetic, so every engine builds the same table.
 */
export const LN_TABLE: Float64Array = (() => {
  const t = new Float64Array(2 * LN_TABLE_SIZE);
  for (let i = 0; i < LN_TABLE_SIZE; i++) {
    const c = 1 + (i + 0.5) / LN_TABLE_SIZE;
    t[2 * i] = 1 / c;
    t[2 * i + 1] = i >= LN_HALF_FROM ? lnSeries(c / 2) : lnSeries(c);
  }
  return t;
})();

/**
 * ln(1 − u·2⁻³²) for a 32-bit u, by the same operations as the WebAssembly sampler: y = 2³² − u = 2^e·m,
 * m in [1, 2); ln y = e·ln 2 + ln c + ln(m/c) with c the centre of m's bucket (table) and ln(1 + r),
 * r = (m − c)·(1/c), |r| ≤ 2⁻⁹, by a degree-6 polynomial. From bucket LN_HALF_FROM on (m > √2) the table
 * holds ln(c/2) and e counts one more, so near u = 0 the result is not a difference of two ≈ ln 2 terms.
 * ln 2 is split (n·LN2_HI is exact), so the error stays within about 1 ulp (tested: ≤ 4e-16·max(1, |ln|)).
 */
export function lnOneMinus(u: number): number {
  const y = (~u >>> 0) + 1;
  lnScratch[0] = y;
  const hi = lnWords[HI];
  const i = (hi >>> 12) & 0xff;
  const e = (hi >>> 20) - 1023 + (i >= LN_HALF_FROM ? 1 : 0);
  lnWords[HI] = (hi & 0x000fffff) | 0x3ff00000;
  const m = lnScratch[0];
  // m − c is exact (c has 9 significant bits and lies within 2⁻⁹ of m), so r carries one rounding
  const r = (m - (1 + (i + 0.5) / LN_TABLE_SIZE)) * LN_TABLE[2 * i];
  let h = LN_POLY[LN_POLY.length - 1];
  for (let k = LN_POLY.length - 2; k >= 0; k--) h = h * r + LN_POLY[k];
  const n = e - 32;
  return n * LN2_HI + (n * LN2_LO + LN_TABLE[2 * i + 1] + h * r);
}

const BELOW_ONE_F32 = 1 - 2 ** -24;

function sampleInstanceJs(batch: SparseBatch, i: number, p: number, seeds: Int32Array, nnz: number): number {
  const B = batch.batchSize;
  const F = batch.nFeatures;
  const base = i * (B + 1);
  if (p <= 0) return closeEmpty(batch, i, nnz);
  const f32 = batch.value instanceof Float32Array;
  const cap = batch.feature.length - SLACK;
  const { rowStart, feature, value } = batch;
  const lanes = new Lanes(seeds);
  if (usesMask(p)) {
    const all = p >= 1;
    const T = all ? 0 : maskThreshold(p);
    const c = f32 ? Math.fround(all ? 2 ** -24 : 256 / T) : all ? 2 ** -32 : 1 / T;
    const slots = B * F;
    for (let q = 0; q < slots; q += 4) {
      if (nnz + 4 > cap) return -1;
      const u = lanes.step();
      for (let l = 0; l < 4 && q + l < slots; l++) {
        const slot = q + l;
        const f = slot % F;
        if (f === 0) rowStart[base + slot / F] = nnz;
        if (!(all || u[l] < T)) continue;
        feature[nnz] = f;
        value[nnz] = f32 ? Math.min(Math.fround((u[l] >>> 8) * c), BELOW_ONE_F32) : u[l] * c;
        nnz++;
      }
    }
    rowStart[base + B] = nnz;
    return nnz;
  }
  const logQ = Math.log1p(-p);
  const slots = B * F;
  let pos = -1;
  let s = 0;
  let sEnd = 0;
  for (;;) {
    const u = lanes.step();
    const gaps = [
      Math.min(Math.floor(lnOneMinus(u[0]) / logQ), slots),
      Math.min(Math.floor(lnOneMinus(u[1]) / logQ), slots),
    ];
    let done = false;
    for (let j = 0; j < 2; j++) {
      pos += gaps[j] + 1;
      if (pos >= slots) {
        done = true;
        break;
      }
      while (pos >= sEnd) {
        rowStart[base + s] = nnz;
        s++;
        sEnd += F;
      }
      if (nnz >= cap) return -1;
      feature[nnz] = pos - (sEnd - F);
      const x = u[2 + j];
      value[nnz] = f32 ? Math.fround((x >>> 8) * 2 ** -24) : x * 2 ** -32;
      nnz++;
    }
    if (done) break;
  }
  for (; s <= B; s++) rowStart[base + s] = nnz;
  return nnz;
}

/** Writes sample s of instance i as a dense vector (for the readable kernel and for evaluation). */
export function densify(batch: SparseBatch, i: number, s: number, x: Buffer): void {
  x.fill(0);
  const r = i * (batch.batchSize + 1) + s;
  for (let j = batch.rowStart[r]; j < batch.rowStart[r + 1]; j++) x[batch.feature[j]] = batch.value[j];
}

/** Whether this batch lives in WebAssembly memory (then the fast kernel reads it in place). */
export function isEngineBatch(batch: SparseBatch): boolean {
  return engineOf(batch) !== undefined;
}
