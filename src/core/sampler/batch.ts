// A batch: the samples of every instance, sparse (CSR per instance), and how sampleBatch fills it: per
// instance, seeds from the run's random stream, then the generated sampler (wasm.ts) where WebAssembly runs,
// else the JavaScript one (reference.ts), both writing the same entries.

import type { Buffer } from "../activations.js";
import { attachEngine, Engine, engineOf, wasmEnabled } from "../kernels/engine.js";
import { allocate, type DType, type ModelSpec } from "../model.js";
import type { Rng } from "../rng.js";
import { sampleInstanceJs } from "./reference.js";
import { LN_TABLE, SLACK, type SparseBatch, seedLanes } from "./spec.js";
import { DENSE_MAX_F, SAMPLER_STATE, samplerTables } from "./state.js";
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

/**
 * The byte address (in the batch's engine memory) of instance i's values as dense float32 rows, B·F of them
 * with zeros where a slot is empty, if the last sampleBatch wrote them (WebAssembly mask scheme, float32,
 * F ≤ DENSE_MAX_F); otherwise −1.
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
