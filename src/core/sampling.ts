// The sampler's public face: synthetic batches for training and evaluation. The sampler itself is in
// sampler/: its specification (spec.ts), readable JavaScript form (reference.ts), generated WebAssembly form
// (wasm-gen.ts, run by wasm.ts) and the batch it fills (batch.ts).

export {
  createBatch,
  denseRowsOf,
  densify,
  isEngineBatch,
  type RowsOnlySamples,
  rowsOnlyIn,
  rowsOnlySamples,
  sampleBatch,
  sampledVersion,
} from "./sampler/batch.js";
export {
  LN_TABLE,
  lnOneMinus,
  MASK_MIN_P,
  maskThreshold,
  type SparseBatch,
  usesMask,
} from "./sampler/spec.js";
