// Sampling in native code (native/sampler.cc, where the addon has it: AVX-512), the same random stream and
// the same values as the WebAssembly sampler:
//  * NativeRows: the instances a kernel reads only as dense rows (the blocks path of small models: fast.ts's
//    rowsOnlyInstances), the mask scheme four instances a vector and the geometric scheme one at a time,
//    into the same dense rows as the WebAssembly sampler's (for the geometric scheme: as its CSR rows), the
//    list of non-empty samples compact_samples would make from the CSR rows and the blocks
//    blocks_from_dense would make of them, but no CSR entries: most of the WebAssembly sampler's time is
//    packing those. Used only where the caller says nobody reads these instances' CSR entries.
//  * sampleInstanceCsr: a float32 instance into the CSR arrays, byte for byte what the WebAssembly sampler
//    writes: of the mask scheme with F a multiple of 4 (demo, sparsity, geometry; the packing one compress
//    instruction per vector), or of the geometric scheme (sixteen logarithms at a time in float64 vectors).
// Either way the batch's blocks or entries, and so every result, are bit for bit the same.

import type { NativeKernel } from "../kernels/native/native.js";
import { maskThreshold, type SparseBatch, usesMask } from "./spec.js";

/** One instance's record after the header (native/sampler.cc's Rec). */
const REC = {
  SEEDS: 0,
  TM1: 16,
  C_BITS: 17,
  DENSE_AT: 18,
  LIST_AT: 19,
  BLOCKS_AT: 20,
  N_OUT: 21,
  GEOMETRIC: 22,
  LOG_Q: 24,
  SIZE: 26,
} as const;
const HEAD = 4;
const f64Bits = new Int32Array(2);
const f64View = new Float64Array(f64Bits.buffer);

const f32Bits = new Int32Array(1);
const f32View = new Float32Array(f32Bits.buffer);

/**
 * The mask scheme's constants for probability p as both native samplers take them: T − 1 at a[tm1] (kept
 * iff u ≤ T − 1 unsigned; T = 0, p = 1, keeps every slot) and the bits of sample_mask's float32 scale c at
 * a[cBits] (rounded to float32 as f32.demote does).
 */
function writeMaskScheme(p: number, a: Int32Array, tm1: number, cBits: number): void {
  const all = p >= 1;
  const T = all ? 0 : maskThreshold(p);
  a[tm1] = (T - 1) | 0;
  f32View[0] = all ? 2 ** -24 : 256 / T;
  a[cBits] = f32Bits[0];
}

/** The rows sampler's arguments: a header of ROWS_HEAD words (count, B, F, the logarithm table's byte offset), then ROWS_REC words an instance. */
export const ROWS_HEAD = HEAD;
export const ROWS_REC = REC.SIZE;

/**
 * Writes the record at a[o …] of an instance of probability p > 0 (either scheme) whose rows, list and
 * blocks go to those byte offsets; its seed words (the record's first 16) are left as they are.
 */
export function writeRowsRecord(
  a: Int32Array,
  o: number,
  p: number,
  denseAt: number,
  listAt: number,
  blocksAt: number,
): void {
  a[o + REC.DENSE_AT] = denseAt;
  a[o + REC.LIST_AT] = listAt;
  a[o + REC.BLOCKS_AT] = blocksAt;
  a[o + REC.GEOMETRIC] = usesMask(p) ? 0 : 1;
  if (!usesMask(p)) {
    // the geometric scheme's ln(1 − p), as sample_geom gets it
    f64View[0] = Math.log1p(-p);
    a[o + REC.LOG_Q] = f64Bits[0];
    a[o + REC.LOG_Q + 1] = f64Bits[1];
    return;
  }
  writeMaskScheme(p, a, o + REC.TM1, o + REC.C_BITS);
}

/** The instances of one batch to sample natively, collected while the others sample in WebAssembly. */
export class NativeRows {
  private readonly args: Int32Array;
  private readonly instances: number[] = [];
  constructor(
    readonly sampleRows: (memory: ArrayBuffer, args: Int32Array) => void,
    nInstances: number,
    B: number,
    F: number,
    lnTableAt: number,
  ) {
    this.args = new Int32Array(HEAD + REC.SIZE * nInstances);
    this.args[1] = B;
    this.args[2] = F;
    this.args[3] = lnTableAt;
  }

  /** Instance i (probability p > 0, either scheme), its lane-major seeds, where its rows, list and blocks go. */
  add(i: number, p: number, seeds: Int32Array, denseAt: number, listAt: number, blocksAt: number): void {
    const o = HEAD + REC.SIZE * this.instances.length;
    this.args.set(seeds, o + REC.SEEDS);
    writeRowsRecord(this.args, o, p, denseAt, listAt, blocksAt);
    this.instances.push(i);
  }

  /** Samples the instances added; nSamples[i] gets instance i's number of non-empty samples. */
  run(memory: ArrayBuffer, nSamples: Int32Array): void {
    const n = this.instances.length;
    if (n === 0) return;
    this.args[0] = n;
    this.sampleRows(memory, this.args);
    for (let k = 0; k < n; k++) nSamples[this.instances[k]] = this.args[HEAD + REC.SIZE * k + REC.N_OUT];
    this.instances.length = 0;
  }
}

/** sampleCsr's arguments (native/sampler.cc's CsrArg). */
const CSR = {
  B: 0,
  F: 1,
  SEEDS: 4,
  TM1: 20,
  C_BITS: 21,
  RS_AT: 22,
  FEAT_AT: 23,
  VAL_AT: 24,
  NNZ: 25,
  CAP: 26,
  GEOMETRIC: 27,
  LOG_Q: 28,
  LN_TABLE_AT: 30,
};
const csrArgs = new Int32Array(32);

/**
 * sampleInstanceWasm's twin for a float32 instance: of the mask scheme with F a multiple of 4, or of the
 * geometric scheme (any F; `lnTableAt`: the logarithm table in `memory`). The same entries from nnz on, or
 * −1 when the capacity (cap entries) ran out. Addresses are byte offsets into `memory`.
 */
export function sampleInstanceCsr(
  sampleCsr: NonNullable<NativeKernel["sampleCsr"]>,
  memory: ArrayBuffer,
  batch: SparseBatch,
  i: number,
  p: number,
  seeds: Int32Array,
  nnz: number,
  cap: number,
  lnTableAt: number,
): number {
  const a = csrArgs;
  const B = batch.batchSize;
  a[CSR.B] = B;
  a[CSR.F] = batch.nFeatures;
  a.set(seeds, CSR.SEEDS);
  if (usesMask(p)) {
    a[CSR.GEOMETRIC] = 0;
    writeMaskScheme(p, a, CSR.TM1, CSR.C_BITS);
  } else {
    // the geometric scheme's ln(1 − p), as sample_geom gets it
    a[CSR.GEOMETRIC] = 1;
    f64View[0] = Math.log1p(-p);
    a[CSR.LOG_Q] = f64Bits[0];
    a[CSR.LOG_Q + 1] = f64Bits[1];
    a[CSR.LN_TABLE_AT] = lnTableAt;
  }
  a[CSR.RS_AT] = batch.rowStart.byteOffset + 4 * i * (B + 1);
  a[CSR.FEAT_AT] = batch.feature.byteOffset;
  a[CSR.VAL_AT] = batch.value.byteOffset;
  a[CSR.NNZ] = nnz;
  a[CSR.CAP] = cap;
  return sampleCsr(memory, a);
}
