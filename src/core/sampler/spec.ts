// The sampler's specification: the distribution and the random stream that every implementation (the
// readable JavaScript in reference.ts, the generated WebAssembly in wasm-gen.ts) reproduces bit for bit.
//
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

import type { Buffer } from "../activations.js";

/** A batch: per instance, its samples' non-zeros in CSR form (row starts, feature indices, values). */
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
 * The sampler's one step: samples instance i (feature probability p) from the four lanes seeded by `seeds`
 * into `batch` from entry nnz on; returns the new nnz, or −1 when the batch's capacity ran out (the caller
 * grows it and retries). sampleInstanceJs (reference.ts) is one; sampleInstanceWasm (wasm.ts) is its twin.
 */
export type InstanceSampler = (
  batch: SparseBatch,
  i: number,
  p: number,
  seeds: Int32Array,
  nnz: number,
) => number;

/**
 * Feature probabilities at or above this use the per-slot ("mask") scheme; below, geometric gaps. The
 * schemes cost ≈ 0.7–0.9 ns per slot and ≈ 15–17 ns per kept value (F = 5, 20), so they break even near
 * p = 0.05; at 0.06, intro's instances at p ≈ 0.097 and 0.070 sample in 3.7 µs instead of 8.1 and 5.9.
 */
export const MASK_MIN_P = 0.06;

/** Entries kept free past the capacity, for the vector stores of the WebAssembly sampler. */
export const SLACK = 8;

/** Which scheme an instance uses (a function of p alone, so results never depend on the machine). */
export function usesMask(p: number): boolean {
  return p >= MASK_MIN_P;
}

/** T = round(p·2³²) (capped below 2³²), the keep threshold of the mask scheme for p < 1. */
export function maskThreshold(p: number): number {
  return Math.min(0xffffffff, Math.round(p * 4294967296));
}

/** Lane k's state is words 4k..4k+3 of the seeds; an all-zero state (never in practice) becomes 1, 0, 0, 0. */
export function seedLanes(seeds: Int32Array): void {
  for (let k = 0; k < 4; k++) {
    if ((seeds[4 * k] | seeds[4 * k + 1] | seeds[4 * k + 2] | seeds[4 * k + 3]) === 0) seeds[4 * k] = 1;
  }
}

/** Four xoshiro128+ generators stepped together; outputs in lane order. */
export class Lanes {
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

/** Table-based logarithm (lnOneMinus): buckets of m's top 8 mantissa bits. */
export const LN_TABLE_SIZE = 256;
/** From this bucket on (m ≥ 1 + 106/256 > √2) the table holds ln(c/2), and the exponent counts one more. */
export const LN_HALF_FROM = 106;
/** ln(1 + r) = r·(1 − r/2 + r²/3 − r³/4 + r⁴/5 − r⁵/6) for |r| ≤ 2⁻⁹ (the next term is below 2⁻⁶⁶). */
export const LN_POLY: readonly number[] = [1, -1 / 2, 1 / 3, -1 / 4, 1 / 5, -1 / 6];
/** ln 2 = LN2_HI + LN2_LO (fdlibm's split: n·LN2_HI is exact for |n| < 2¹¹). */
export const LN2_HI = 0.6931471803691238;
export const LN2_LO = 1.9082149292705877e-10;

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

export const BELOW_ONE_F32 = 1 - 2 ** -24;
