// A batch: the samples of every instance, sparse (CSR per instance), and how sampleBatch fills it: per
// instance, seeds from the run's random stream, then the generated sampler (wasm.ts) where WebAssembly runs,
// else the JavaScript one (reference.ts), both writing the same entries.

import type { Buffer } from "../activations.js";
import { attachEngine, Engine, engineOf, wasmEnabled } from "../kernels/engine.js";
import { nativeCsrSampler, nativeRowsSampler } from "../kernels/native/native.js";
import { allocate, type DType, type ModelSpec } from "../model.js";
import type { Rng } from "../rng.js";
import { NativeRows, ROWS_HEAD, ROWS_REC, sampleInstanceCsr, writeRowsRecord } from "./native.js";
import { sampleInstanceJs } from "./reference.js";
import { LN_TABLE, SLACK, type SparseBatch, seedLanes, usesMask } from "./spec.js";
import { DENSE_MAX_F, denseComplete, SAMPLER_STATE, samplerTables } from "./state.js";
import { type EngineBatch, sampleInstanceWasm, samplerOf } from "./wasm.js";

const engineBatches = new WeakMap<SparseBatch, EngineBatch>();

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
  // instances sampled as dense rows only: their lists of non-empty samples (B + 8 entries each: the native
  // sampler stores eight at a time) and those samples as the blocks path's blocks (⌈B/4⌉·F vectors, a spare)
  const listStride = (batchSize + 8) * 4;
  const lists = withDense ? engine.alloc(spec.nInstances * listStride) : 0;
  const blockStride = (Math.ceil(batchSize / 4) * F + 1) * 16;
  const blocks = withDense ? engine.alloc(spec.nInstances * blockStride) : 0;
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
    lists,
    listStride,
    blocks,
    blockStride,
    listed: new Int32Array(spec.nInstances).fill(-1),
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

const SEEDS = new Int32Array(16);

const versions = new WeakMap<SparseBatch, number>();
/**
 * How many times sampleBatch has filled this batch: a kernel may keep what it derives from one batch
 * (compacted rows, transposed blocks) for the other runs of a lockstep group while this is unchanged.
 */
export function sampledVersion(batch: SparseBatch): number {
  return versions.get(batch) ?? 0;
}

/**
 * Fills `batch` with a fresh sample of every instance, drawing from `rng`. Instances marked in `rowsOnly`
 * may be sampled as dense rows and a list of their non-empty samples only, without CSR entries
 * (rowsOnlyIn): the caller promises that nothing reads their CSR rows (fast.ts's rowsOnlyInstances says
 * which instances its kernel reads that way). The random stream and every value are the same either way.
 */
export function sampleBatch(spec: ModelSpec, rng: Rng, batch: SparseBatch, rowsOnly?: Uint8Array): void {
  versions.set(batch, sampledVersion(batch) + 1);
  const eb = engineBatches.get(batch);
  eb?.denseValid.fill(0);
  eb?.listed.fill(-1);
  const wasm = eb !== undefined && wasmEnabled() && samplerOf(eb, batch.nFeatures) !== undefined;
  const native = wasm && rowsOnly && eb ? nativeRowsOf(eb, batch) : undefined;
  // float32: the native sampler writes the same entries for the geometric scheme and, where F is a multiple
  // of 4 and there are no dense rows to write, for the mask scheme
  const csr = wasm && eb?.dtype === "f32" ? nativeCsrSampler() : undefined;
  const csrMask = csr && eb && !eb.dense && batch.nFeatures % 4 === 0;
  const seeds = SEEDS;
  let nnz = 0;
  for (let i = 0; i < spec.nInstances; i++) {
    const p = spec.featureProbability[i];
    for (let k = 0; k < 16; k++) seeds[k] = rng.nextUint32() | 0;
    seedLanes(seeds);
    if (native && eb && rowsOnly?.[i] && p > 0) {
      native.add(
        i,
        p,
        seeds,
        eb.dense + i * eb.denseStride,
        eb.lists + i * eb.listStride,
        eb.blocks + i * eb.blockStride,
      );
      eb.denseValid[i] = 1;
      continue;
    }
    for (;;) {
      const end = !wasm
        ? sampleInstanceJs(batch, i, p, seeds, nnz)
        : csr && p > 0 && (usesMask(p) ? csrMask : true)
          ? sampleInstanceCsr(
              csr,
              eb.engine.buffer,
              batch,
              i,
              p,
              seeds,
              nnz,
              eb.cap,
              eb.state + SAMPLER_STATE.LNTAB,
            )
          : sampleInstanceWasm(eb, batch, i, p, seeds, nnz);
      if (end >= 0) {
        nnz = end;
        break;
      }
      grow(batch, nnz);
    }
  }
  batch.nnz = nnz;
  if (native && eb) native.run(eb.engine.buffer, eb.listed);
}

/** The native sampler for this batch's dense-rows-only instances, where the addon has one and it applies. */
function nativeRowsOf(eb: EngineBatch, batch: SparseBatch): NativeRows | undefined {
  const sampleRows = nativeRowsSampler();
  if (!sampleRows || !eb.dense || !denseComplete(batch.nFeatures, batch.batchSize)) return undefined;
  if (eb.nativeRows?.sampleRows !== sampleRows)
    eb.nativeRows = new NativeRows(
      sampleRows,
      batch.nInstances,
      batch.batchSize,
      batch.nFeatures,
      eb.state + SAMPLER_STATE.LNTAB,
    );
  return eb.nativeRows;
}

/**
 * The rows sampler's arguments for every instance of `spec` in this batch (all p > 0), after `before` words
 * left to the caller, with each record's seed words left to be drawn (native/steps.cc draws them per step);
 * undefined where the native rows sampler does not apply to this batch (nativeRowsOf).
 */
export function nativeRowsArgs(spec: ModelSpec, batch: SparseBatch, before: number): Int32Array | undefined {
  const eb = engineBatches.get(batch);
  if (!eb || !nativeRowsOf(eb, batch) || spec.featureProbability.some((p) => !(p > 0))) return undefined;
  const { nInstances: I, batchSize: B, nFeatures: F } = batch;
  const a = new Int32Array(before + ROWS_HEAD + ROWS_REC * I);
  a.set([I, B, F, eb.state + SAMPLER_STATE.LNTAB], before);
  for (let i = 0; i < I; i++) {
    const o = before + ROWS_HEAD + ROWS_REC * i;
    const p = spec.featureProbability[i];
    writeRowsRecord(
      a,
      o,
      p,
      eb.dense + i * eb.denseStride,
      eb.lists + i * eb.listStride,
      eb.blocks + i * eb.blockStride,
    );
  }
  return a;
}

/**
 * What the last sampleBatch sampled as dense rows only (its `rowsOnly`): those instances have no CSR rows;
 * instance i's samples are denseRowsOf's rows, the non-empty ones listed at lists + i·listStride and
 * transposed into the blocks path's blocks at blocks + i·blockStride (byte addresses in the batch's engine
 * memory; four samples a block, ⌈listed[i]/4⌉ blocks of F vectors, as the kernel's blocks_from_dense makes
 * them).
 */
export interface RowsOnlySamples {
  /** Per instance, how many non-empty samples are listed, or −1: not sampled rows-only. */
  readonly listed: Int32Array;
  readonly lists: number;
  readonly listStride: number;
  readonly blocks: number;
  readonly blockStride: number;
}

/** The batch's rows-only bookkeeping (one lookup: a kernel reads it once per batch), if it has any. */
export function rowsOnlySamples(batch: SparseBatch): RowsOnlySamples | undefined {
  return engineBatches.get(batch);
}

/** Whether the last sampleBatch sampled instance i as dense rows only (then it has no CSR rows). */
export function rowsOnlyIn(batch: SparseBatch, i: number): boolean {
  return (rowsOnlySamples(batch)?.listed[i] ?? -1) >= 0;
}

/**
 * The byte address (in the batch's engine memory) of instance i's values as dense float32 rows, B·F of them
 * with zeros where a slot is empty, if the last sampleBatch wrote them (the mask scheme, or the native sampler's rows-only
 * instances; float32, F ≤ DENSE_MAX_F); otherwise −1.
 */
export function denseRowsOf(batch: SparseBatch, i: number): number {
  const eb = engineBatches.get(batch);
  return eb?.denseValid[i] ? eb.dense + i * eb.denseStride : -1;
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
