// The fast step kernel: generated WebAssembly (wasm/kernel.ts) driven per instance from here; the kernels
// visit only non-empty samples, and `finish` adds the all-zero samples' closed-form contribution. Same
// StepKernel signature and the same math as the reference kernel (docs/speed.md lists the differences in
// rounding); falls back to the JavaScript sparse kernel where WebAssembly SIMD is unavailable.
//
// Per instance i, with n₀ all-zero samples (z = b, y = act(b), x = 0):
//   loss_i = (Σ_nonzero imp·(y − x)² + n₀·Σ imp·act(b)²) / (B·F)
//   ∇b_i   = Σ_nonzero dz + n₀·dz(b)            ∇W_i = Σ_nonzero (direct or Gram form)

import type { Activation } from "../activations.js";
import type { ModelSpec, Params } from "../model.js";
import { DENSE_MAX_F } from "../sampler/state.js";
import {
  denseRowsOf,
  type RowsOnlySamples,
  rowsOnlyIn,
  rowsOnlySamples,
  type SparseBatch,
  sampledVersion,
} from "../sampling.js";
import { choosePath, currentPathOverride, type InstancePath } from "./cost.js";
import { compiledModule, Engine, engineOf, fmaEnabled, wasmEnabled } from "./engine.js";
import {
  NATIVE_ARG,
  NATIVE_DENSE_MIN_F,
  NativeGroup,
  type NativeKernel,
  type NativePath,
  nativeInstances,
  nativeKernelFor,
  nativeRowsSampler,
} from "./native/native.js";
import { sparseKernel } from "./sparse.js";
import type { Gradients, StepKernel } from "./types.js";

export { choosePath, type InstancePath, setPathOverride } from "./cost.js";

import {
  BLOCKS_MAX_F,
  buildKernel,
  impTableLayout,
  type KernelLayout,
  type KernelPaths,
  kernelLayout,
  ROW_COMPACT_TABLE,
} from "./wasm/kernel.js";

type RowsFn = (ws: number, rows: number, feat: number, val: number, n: number, impk: number) => number;

interface Exports {
  setup(ws: number, w: number, b: number, gram: number): void;
  dense_full?: (ws: number, val: number, nBlocks: number, impk: number) => number;
  compact_rows(ws: number, rs: number, B: number, out: number): number;
  compact_samples(ws: number, rs: number, B: number, out: number): number;
  blocks_from_dense?: (ws: number, samples: number, n: number, dense: number, out: number) => number;
  /** The dense path over a compacted batch's rows, for many features (above BLOCKS_MAX_F). */
  dense_tiled?: RowsFn;
  build_blocks(ws: number, rows: number, feat: number, val: number, n: number, out: number): number;
  dense_blocks(ws: number, blocks: number, nBlocks: number, impk: number): number;
  gram_rows(ws: number, rows: number, feat: number, val: number, n: number, impk: number): number;
  finish(ws: number, outW: number, outB: number, gram: number, impk: number, n0: number): void;
}

/** Per-spec buffers in the engine: parameters in, gradients out, and each instance's algorithm. */
interface SpecBuffers {
  spec: ModelSpec;
  B: number;
  impk: number;
  params: number;
  grads: number;
  gram: Uint8Array;
  /** The PreparedBatch these paths need, and the setPathOverride value they were chosen under. */
  prep?: PreparedBatch;
  override: InstancePath | undefined | null;
  /** The native kernel installed when the paths were chosen (its ids and paths decide which it takes). */
  native: NativeKernel | undefined;
  /** The instances the native kernel runs, one group per path (none without it), and a flag per instance. */
  nativeGroups: NativeGroup[];
  nativeTaken: Uint8Array;
}

/** Names a kernel: shape, precision, activation, FMA (its state in an engine; with its paths, its module). */
const kernelKey = (act: Activation, F: number, H: number, dtype: "f32" | "f64", fma = fmaEnabled()) =>
  `kernel:${F}:${H}:${dtype}:${codeKey(act)}:${fma ? "fma" : "nofma"}`;

interface KernelModule {
  module: WebAssembly.Module;
  jsMid: boolean;
  consts: Uint8Array;
}

/**
 * The compiled kernel with the functions of `paths` (generated once per key and thread, or read from the
 * module byte cache); the constant pool and whether mid is JavaScript travel with it.
 */
function kernelModule(
  act: Activation,
  F: number,
  H: number,
  dtype: "f32" | "f64",
  fma: boolean,
  paths: KernelPaths,
): KernelModule | undefined {
  const which = `${paths.dense ? "dense" : ""}${paths.gram ? "gram" : ""}`;
  const compiled = compiledModule(`${kernelKey(act, F, H, dtype, fma)}:${which}`, () => {
    const built = buildKernel(F, H, dtype, act, fma, paths);
    const extra = new Uint8Array(1 + built.consts.length);
    extra[0] = built.jsMid ? 1 : 0;
    extra.set(built.consts, 1);
    return { bytes: built.bytes, extra };
  });
  if (!compiled) return undefined;
  return { module: compiled.module, jsMid: compiled.extra[0] === 1, consts: compiled.extra.subarray(1) };
}

/** What selects an activation's code: its id, or for a user formula its key (an id may be redefined). */
export const codeKey = (act: Activation): string => ("key" in act ? String(act.key) : act.id);

/** Compilation was refused (see compiledModule); the caller falls back to JavaScript. */
class WasmUnavailable extends Error {}

/** One compiled kernel bound to one engine: its instance, workspace and importance tables. */
class KernelState {
  exports!: Exports;
  /** The algorithms the instance's module serves (it is replaced by a fuller one when a spec needs more). */
  private served: KernelPaths = { dense: false, gram: false };
  readonly lay: KernelLayout;
  readonly ws: number;
  private readonly fma: boolean;
  private view!: Float32Array | Float64Array;
  private f64!: Float64Array;
  private i32!: Int32Array;

  /**
   * No module until a run needs one (paths, or the blocks a batch's sampler did not make): where the native
   * kernel takes every instance, none is compiled (a short study's cells each saved fetching, compiling and
   * instantiating one).
   */
  constructor(
    readonly engine: Engine,
    readonly act: Activation,
    F: number,
    H: number,
    readonly dtype: "f32" | "f64",
  ) {
    this.lay = kernelLayout(F, H, dtype);
    this.fma = fmaEnabled();
    this.ws = engine.alloc(this.lay.size);
    new Uint8Array(engine.buffer, this.ws + this.lay.ROWTAB, ROW_COMPACT_TABLE.length).set(ROW_COMPACT_TABLE);
    this.refresh();
    engine.onGrow(() => this.refresh());
  }

  /** The exports, with at least the dense path's functions (the blocks' preparation), served on first use. */
  private readonly denseExports = (): Exports => {
    this.serve({ dense: true, gram: false });
    return this.exports;
  };

  /** Makes sure the instance has the functions of `paths`; the workspace (and its zeroed C) is kept. */
  serve(paths: KernelPaths): void {
    if ((this.served.dense || !paths.dense) && (this.served.gram || !paths.gram)) return;
    const want = { dense: paths.dense || this.served.dense, gram: paths.gram || this.served.gram };
    const { F, H } = this.lay;
    const built = kernelModule(this.act, F, H, this.dtype, this.fma, want);
    if (!built) throw new WasmUnavailable();
    // the constant pool belongs to the module: its order depends on which functions were generated
    new Uint8Array(this.engine.buffer, this.ws + this.lay.CONST, built.consts.length).set(built.consts);
    const env: Record<string, unknown> = { memory: this.engine.memory };
    if (built.jsMid) env.mid = makeJsMid(this, this.act);
    this.exports = new WebAssembly.Instance(built.module, { env } as WebAssembly.Imports)
      .exports as unknown as Exports;
    this.served = want;
  }

  /** Whether this is the state stateFor would look up (the same FMA mode included). */
  matches(engine: Engine, F: number, H: number, dtype: "f32" | "f64"): boolean {
    return (
      this.engine === engine &&
      this.lay.F === F &&
      this.lay.H === H &&
      this.dtype === dtype &&
      this.fma === fmaEnabled()
    );
  }

  refresh(): void {
    const buf = this.engine.buffer;
    this.view = this.dtype === "f32" ? new Float32Array(buf) : new Float64Array(buf);
    this.f64 = new Float64Array(buf);
    this.i32 = new Int32Array(buf);
  }
  get values(): Float32Array | Float64Array {
    return this.view;
  }
  get ints(): Int32Array {
    return this.i32;
  }
  get doubles(): Float64Array {
    return this.f64;
  }

  /** Allocates and fills (once per spec and batch size) the importance tables and parameter buffers. */
  private buffers(spec: ModelSpec, B: number): SpecBuffers {
    const cached = this.specBuffers;
    if (cached && cached.spec === spec && cached.B === B) return cached;
    const { F, H, L, V, E, dtype } = this.lay;
    const tab = impTableLayout(F, dtype);
    const I = spec.nInstances;
    const impk = this.engine.alloc(I * tab.size);
    const params = this.engine.alloc(I * (F * H + F) * E);
    const grads = this.engine.alloc(I * (F * H + F) * 8);
    const v = this.view;
    const ints = this.i32;
    const scale = 1 / (B * F);
    for (let i = 0; i < I; i++) {
      const base = impk + i * tab.size;
      for (let f = 0; f < F; f++) {
        const imp = spec.importance[i * F + f];
        for (let l = 0; l < L; l++) {
          v[(base + tab.IMPS + 16 * f) / E + l] = imp;
          v[(base + tab.KS + 16 * f) / E + l] = 2 * imp * scale;
        }
      }
      for (let q = 0; q < V * L; q++) {
        const imp = q < F ? spec.importance[i * F + q] : 0;
        v[(base + tab.IMPV) / E + q] = imp;
        v[(base + tab.KV) / E + q] = 2 * imp * scale;
        const words = E / 4;
        for (let w = 0; w < words; w++) ints[(base + tab.MASK) / 4 + q * words + w] = q < F ? -1 : 0;
      }
    }
    this.specBuffers = {
      spec,
      B,
      impk,
      params,
      grads,
      gram: new Uint8Array(I),
      override: null,
      native: undefined,
      nativeGroups: [],
      nativeTaken: new Uint8Array(I),
    };
    return this.specBuffers;
  }

  /** Each instance's algorithm (choosePath, which honours setPathOverride) and the PreparedBatch for it. */
  private paths(buf: SpecBuffers, batch: BatchPointers, native: NativeKernel | undefined): PreparedBatch {
    if (buf.prep && buf.override === currentPathOverride() && buf.native === native) return buf.prep;
    const { F, H, dtype } = this.lay;
    const I = buf.spec.nInstances;
    const ps = buf.spec.featureProbability;
    for (let i = 0; i < I; i++) buf.gram[i] = choosePath(ps[i], F, H, dtype) === "gram" ? 1 : 0;
    // the native kernel runs the instances it takes (native.ts: nativeInstances); the WebAssembly module
    // serves the others
    const all = [...buf.gram.keys()];
    const taken = native ? nativeInstances(buf.spec, this.act, dtype) : undefined;
    const paths = taken ? (Object.keys(taken) as NativePath[]) : [];
    buf.nativeGroups = paths.map(
      (path) => new NativeGroup(path, taken?.[path] ?? [], buf.spec.importance, F),
    );
    buf.nativeTaken.fill(0);
    for (const group of buf.nativeGroups) for (const i of group.instances) buf.nativeTaken[i] = 1;
    const left = all.filter((i) => !buf.nativeTaken[i]);
    // (the native blocks path's blocks, where the sampler did not make them, are prepared by the dense
    // path's functions, served when first asked for: denseExports)
    this.serve({ dense: left.some((i) => !buf.gram[i]), gram: left.some((i) => buf.gram[i]) });
    buf.override = currentPathOverride();
    buf.native = native;
    buf.prep = preparedBatch(this.engine, batch, F, dtype, I, buf.gram);
    return buf.prep;
  }
  private specBuffers: SpecBuffers | undefined;

  run(spec: ModelSpec, params: Params, batch: BatchPointers, grads: Gradients, losses: Float64Array): void {
    const { F, H, E, L } = this.lay;
    const B = batch.B;
    const I = spec.nInstances;
    const ws = this.ws;
    const buf = this.buffers(spec, B);
    const native = nativeKernelFor(this.act, F, this.lay.dtype);
    const prep = this.paths(buf, batch, native?.kernel);
    const ex = this.exports;
    prep.sync(batch);
    const tabSize = impTableLayout(F, this.lay.dtype).size;
    const v = this.view;
    const d = this.f64;
    const ints = this.i32;
    // all instances' W then b, in the working precision
    v.set(params.W, buf.params / E);
    v.set(params.b, buf.params / E + I * F * H);
    const bPtr = buf.params + I * F * H * E;
    const gbPtr = buf.grads + I * F * H * 8;
    const outLoss = (ws + this.lay.OUT_LOSS) / 8;
    if (native) {
      // the instances the native kernel takes, one call per path
      const A = NATIVE_ARG;
      const place = (i: number, a: Int32Array, o: number) => {
        a[o + A.W] = buf.params + i * F * H * E;
        a[o + A.BIAS] = bPtr + i * F * E;
        a[o + A.ROW_START] = batch.rowStart + 4 * i * (B + 1);
        a[o + A.FEATURE] = batch.feature;
        a[o + A.VALUE] = batch.value;
        a[o + A.GRAD_W] = buf.grads + i * F * H * 8;
        a[o + A.GRAD_B] = gbPtr + i * F * 8;
      };
      const shape = { F, H, B };
      const memory = this.engine.buffer;
      // what each path reads besides W, b and the row starts
      const placeBy: Record<NativePath, typeof place> = {
        gram: place,
        // the tiled dense path reads the CSR entries as the Gram path does
        tiled: place,
        // a p = 1 instance's values are its dense rows (every slot is kept); below, its CSR entries
        dense: (i, a, o) => {
          place(i, a, o);
          if (buf.spec.featureProbability[i] < 1) {
            a[o + A.CSR] = 1;
            return;
          }
          const rs = a[o + A.ROW_START] / 4;
          const first = ints[rs];
          if (ints[rs + B] - first !== B * F)
            throw new Error(`instance ${i} (p = 1) has empty slots: the sampler broke its contract`);
          a[o + A.VALUE] = batch.value + first * E;
        },
        // the blocks this module prepares (shared by a lockstep group's runs)
        blocks: (i, a, o) => {
          place(i, a, o);
          a[o + A.N_BLOCKS] = prep.blocked(i, this.denseExports, ws, a[o + A.ROW_START], batch);
          a[o + A.VALUE] = prep.blockAt[i];
        },
      };
      for (const group of buf.nativeGroups)
        group.run(native.kernel, native.act, shape, memory, placeBy[group.path], losses);
    }
    for (let i = 0; i < I; i++) {
      const gram = buf.gram[i];
      if (buf.nativeTaken[i]) continue; // done above
      ex.setup(ws, buf.params + i * F * H * E, bPtr + i * F * E, gram);
      const impk = buf.impk + i * tabSize;
      const rs = batch.rowStart + 4 * i * (B + 1);
      let rows: number;
      const first = ints[rs / 4];
      const csr = !prep.rowsOnly(i);
      if (!gram && csr && ex.dense_full && ints[rs / 4 + B] - first === B * F && B % L === 0) {
        rows = ex.dense_full(ws, batch.value + first * E, B / L, impk);
      } else if (gram) {
        const n = prep.compacted(i, ex, ws, rs);
        rows = ex.gram_rows(ws, prep.rows[i], batch.feature, batch.value, n, impk);
      } else if (F <= BLOCKS_MAX_F) {
        const nBlocks = prep.blocked(i, this.denseExports, ws, rs, batch);
        rows = ex.dense_blocks(ws, prep.blockAt[i], nBlocks, impk);
      } else {
        const n = prep.compacted(i, ex, ws, rs);
        rows = (ex.dense_tiled as RowsFn)(ws, prep.rows[i], batch.feature, batch.value, n, impk);
      }
      // the all-zero samples (and the dense path's padding lanes, which were processed as all-zero samples)
      ex.finish(ws, buf.grads + i * F * H * 8, gbPtr + i * F * 8, gram, impk, B - rows);
      // the kernel sums (k·e)·e = 2·imp·e²/(B·F)
      losses[i] = 0.5 * d[outLoss];
    }
    grads.W.set(d.subarray(buf.grads / 8, buf.grads / 8 + I * F * H));
    grads.b.set(d.subarray(gbPtr / 8, gbPtr / 8 + I * F));
  }
}

/**
 * What the kernels derive from a batch, per instance: the non-empty samples' row starts (compact_rows) and,
 * for the dense path, those rows as transposed blocks (build_blocks; an instance sampled as dense rows only
 * comes with its blocks made by the sampler). Kept while the batch is unchanged
 * (sampledVersion), so the runs of a lockstep group, which share one batch, build them once per step.
 */
class PreparedBatch {
  version = -1;
  readonly rows: number[] = [];
  readonly blocks: number[] = [];
  /** Where instance i's blocks are for the current batch (blocked): its own, or the sampler's. */
  readonly blockAt: Int32Array;
  private readonly n: Int32Array;
  private readonly nBlocks: Int32Array;
  constructor(
    private readonly engine: Engine,
    private readonly B: number,
    private readonly F: number,
    I: number,
  ) {
    this.n = new Int32Array(I).fill(-1);
    this.nBlocks = new Int32Array(I).fill(-1);
    this.blockAt = new Int32Array(I);
  }
  /** Allocates what instance i will need (before the caller takes views: allocation may grow memory). */
  reserve(i: number, dense: boolean, L: number): void {
    if (this.rows[i] === undefined) this.rows[i] = this.engine.alloc((this.B + 5) * 4);
    if (dense && this.blocks[i] === undefined)
      this.blocks[i] = this.engine.alloc((Math.ceil(this.B / L) * this.F + 1) * 16);
  }
  /** The batch's instances sampled as dense rows only, with their blocks (looked up once per batch). */
  sampled: RowsOnlySamples | undefined;
  /** Forgets what was derived from an earlier batch. */
  sync(batch: BatchPointers): void {
    // a batch copied into the scratch engine (version 0) is new at every call
    if (batch.version !== 0 && batch.version === this.version) return;
    this.version = batch.version;
    this.n.fill(-1);
    this.nBlocks.fill(-1);
    this.sampled = batch.source ? rowsOnlySamples(batch.source) : undefined;
  }
  /** Whether instance i was sampled as dense rows only (then it has no CSR rows). */
  rowsOnly(i: number): boolean {
    return this.sampled !== undefined && this.sampled.listed[i] >= 0;
  }
  compacted(i: number, ex: Exports, ws: number, rs: number): number {
    if (this.n[i] < 0) this.n[i] = ex.compact_rows(ws, rs, this.B, this.rows[i]);
    return this.n[i];
  }
  /** Instance i's blocks for this batch: the sampler's, or prepared by the kernel module `exports` gives. */
  blocked(i: number, exports: () => Exports, ws: number, rs: number, batch: BatchPointers): number {
    if (this.nBlocks[i] < 0) {
      const source = batch.source;
      this.blockAt[i] = this.blocks[i];
      const sampled = this.sampled;
      if (sampled && this.rowsOnly(i)) {
        // sampled as dense rows only (rowsOnlyInstances): the sampler made the blocks
        this.blockAt[i] = sampled.blocks + i * sampled.blockStride;
        this.nBlocks[i] = (sampled.listed[i] + 3) >> 2;
        return this.nBlocks[i];
      }
      const ex = exports();
      const dense = source ? denseRowsOf(source, i) : -1;
      if (dense >= 0 && ex.blocks_from_dense) {
        // the sampler's dense rows, transposed: the same blocks without scattering each entry
        const n = ex.compact_samples(ws, rs, this.B, this.rows[i]);
        this.nBlocks[i] = ex.blocks_from_dense(ws, this.rows[i], n, dense, this.blocks[i]);
      } else {
        const n = this.compacted(i, ex, ws, rs);
        this.nBlocks[i] = ex.build_blocks(ws, this.rows[i], batch.feature, batch.value, n, this.blocks[i]);
      }
    }
    return this.nBlocks[i];
  }
}

function preparedBatch(
  engine: Engine,
  batch: BatchPointers,
  F: number,
  dtype: "f32" | "f64",
  I: number,
  gram: Uint8Array,
): PreparedBatch {
  const key = `prepared:${F}:${dtype}:${batch.B}:${I}`;
  let prep = engine.state.get(key) as PreparedBatch | undefined;
  if (!prep) {
    prep = new PreparedBatch(engine, batch.B, F, I);
    engine.state.set(key, prep);
  }
  const L = dtype === "f32" ? 4 : 2;
  for (let i = 0; i < I; i++) prep.reserve(i, !gram[i] && F <= BLOCKS_MAX_F, L);
  return prep;
}

/** The activation part of the kernel in JavaScript, for activations without vector code (env.mid). */
function makeJsMid(state: KernelState, act: Activation) {
  const { F, L, V, E, dtype } = state.lay;
  const tab = impTableLayout(F, dtype);
  const n = Math.max(F, V * L) * L;
  const make = () => (dtype === "f32" ? new Float32Array(n) : new Float64Array(n));
  const zs = make();
  const ys = make();
  const dys = make();
  const dzs = make();
  return (zPtr: number, xPtr: number, impk: number, layout: number): number => {
    const v = state.values;
    const z0 = zPtr / E;
    const x0 = xPtr / E;
    let loss = 0;
    if (layout === 0) {
      // dense block: element (f, lane) at f·L + lane; F·L values
      const count = F * L;
      for (let q = 0; q < count; q++) zs[q] = v[z0 + q];
      if (act.kind === "elementwise") for (let q = 0; q < count; q++) ys[q] = act.forward(zs[q]);
      else for (let l = 0; l < L; l++) act.forward(zs, ys, l, L, F);
      for (let f = 0; f < F; f++) {
        const k = v[(impk + tab.KS + 16 * f) / E];
        for (let l = 0; l < L; l++) {
          const q = f * L + l;
          const e = ys[q] - v[x0 + q];
          dys[q] = k * e;
          loss += dys[q] * e;
        }
      }
      if (act.kind === "elementwise")
        for (let q = 0; q < count; q++) dzs[q] = dys[q] * act.derivative(zs[q], ys[q]);
      else for (let l = 0; l < L; l++) act.vjp(zs, ys, dys, dzs, l, L, F);
      for (let q = 0; q < count; q++) v[z0 + q] = dzs[q];
    } else {
      for (let f = 0; f < F; f++) zs[f] = v[z0 + f];
      if (act.kind === "elementwise") for (let f = 0; f < F; f++) ys[f] = act.forward(zs[f]);
      else act.forward(zs, ys, 0, 1, F);
      for (let f = 0; f < F; f++) {
        const k = v[(impk + tab.KV) / E + f];
        const e = ys[f] - v[x0 + f];
        dys[f] = k * e;
        loss += dys[f] * e;
      }
      if (act.kind === "elementwise")
        for (let f = 0; f < F; f++) dzs[f] = dys[f] * act.derivative(zs[f], ys[f]);
      else act.vjp(zs, ys, dys, dzs, 0, 1, F);
      for (let f = 0; f < F; f++) v[z0 + f] = dzs[f];
      for (let f = F; f < V * L; f++) v[z0 + f] = 0;
    }
    return loss;
  };
}

/** Where a batch's arrays are in an engine's memory (byte addresses). */
interface BatchPointers {
  B: number;
  /** sampledVersion of an engine batch; 0 for a copy in the scratch engine. */
  version: number;
  rowStart: number;
  feature: number;
  value: number;
  /** The batch whose dense rows the sampler may have written (denseRowsOf); undefined for a copy. */
  source?: SparseBatch;
}

/** A private engine holding copies of batches that do not live in WebAssembly memory. */
let scratchEngine:
  | { engine: Engine; cap: number; rowStart: number; feature: number; value: number }
  | undefined;

function pointersOf(
  batch: SparseBatch,
  engine: Engine | undefined,
  dtype: "f32" | "f64",
): { engine: Engine; ptr: BatchPointers } {
  if (engine && batch.value.buffer === engine.buffer) {
    return {
      engine,
      ptr: {
        B: batch.batchSize,
        version: sampledVersion(batch),
        rowStart: batch.rowStart.byteOffset,
        feature: batch.feature.byteOffset,
        value: batch.value.byteOffset,
        source: batch,
      },
    };
  }
  // Copy into the scratch engine.
  const E = dtype === "f32" ? 4 : 8;
  const need = batch.rowStart.length * 4 + (batch.nnz + 8) * (4 + E);
  if (!scratchEngine || scratchEngine.cap < need) {
    const e = new Engine(2 * need + (1 << 20));
    scratchEngine = { engine: e, cap: 2 * need, rowStart: 0, feature: 0, value: 0 };
    scratchEngine.rowStart = e.alloc(batch.rowStart.length * 4 + 2 * need);
  }
  const s = scratchEngine;
  const buf = s.engine.buffer;
  const rowBytes = Math.ceil((batch.rowStart.length * 4) / 16) * 16;
  s.feature = s.rowStart + rowBytes;
  s.value = s.feature + Math.ceil(((batch.nnz + 8) * 4) / 16) * 16;
  new Int32Array(buf, s.rowStart, batch.rowStart.length).set(batch.rowStart);
  new Int32Array(buf, s.feature, batch.nnz).set(batch.feature.subarray(0, batch.nnz));
  const vals =
    dtype === "f32" ? new Float32Array(buf, s.value, batch.nnz) : new Float64Array(buf, s.value, batch.nnz);
  vals.set(batch.value.subarray(0, batch.nnz));
  return {
    engine: s.engine,
    ptr: { B: batch.batchSize, version: 0, rowStart: s.rowStart, feature: s.feature, value: s.value },
  };
}

/**
 * Per engine, each activation's last kernel state: a trainer asks for the same one every step (no key to
 * build). Keyed by engine first, so that a finished lockstep group's engine and states can be collected.
 */
const lastState = new WeakMap<Engine, Map<Activation, KernelState>>();

function stateFor(engine: Engine, act: Activation, spec: ModelSpec, dtype: "f32" | "f64"): KernelState {
  const { nFeatures: F, nHidden: H } = spec;
  let byAct = lastState.get(engine);
  if (!byAct) {
    byAct = new Map();
    lastState.set(engine, byAct);
  }
  const last = byAct.get(act);
  if (last?.matches(engine, F, H, dtype)) return last;
  const key = kernelKey(act, F, H, dtype);
  let s = engine.state.get(key) as KernelState | undefined;
  if (!s) {
    s = new KernelState(engine, act, F, H, dtype);
    engine.state.set(key, s);
  }
  byAct.set(act, s);
  return s;
}

const rowsOnlyCache = new WeakMap<ModelSpec, { key: unknown; override: unknown; rows: Uint8Array }>();

/**
 * The instances whose batches `kernel` reads only as the sampler's dense rows and list of non-empty samples
 * (sampleBatch's rowsOnly: their CSR entries may be left out), or undefined for none. Those are the fast
 * kernel's dense-path instances (p > 0, either scheme) with F ≤ DENSE_MAX_F (the sampler writes dense rows)
 * below NATIVE_DENSE_MIN_F (the native dense path reads a p = 1 instance's CSR values), float32: the blocks
 * path, native or WebAssembly, whose blocks the native sampler makes. Claimed only where the native sampler
 * runs (sampler/native.ts): the WebAssembly sampler writes the CSR entries anyway.
 */
export function rowsOnlyInstances(
  kernel: StepKernel,
  spec: ModelSpec,
  dtype: "f32" | "f64",
): Uint8Array | undefined {
  const { nFeatures: F, nHidden: H } = spec;
  const sampler = nativeRowsSampler();
  if (kernel !== fastKernel || !sampler || !wasmEnabled() || dtype !== "f32") return undefined;
  if (F > DENSE_MAX_F || F >= NATIVE_DENSE_MIN_F) return undefined;
  const override = currentPathOverride();
  const cached = rowsOnlyCache.get(spec);
  if (cached && cached.key === sampler && cached.override === override) return cached.rows;
  const rows = new Uint8Array(spec.nInstances);
  spec.featureProbability.forEach((p, i) => {
    rows[i] = choosePath(p, F, H, dtype) === "dense" && p > 0 ? 1 : 0;
  });
  rowsOnlyCache.set(spec, { key: sampler, override, rows });
  return rows;
}

/** The fast kernel (StepKernel). Per-sample activations only (not the softmax family over the batch). */
export const fastKernel: StepKernel = (spec, act, params, batch, grads, losses) => {
  if (!wasmEnabled()) {
    sparseInstead(spec, act, params, batch, grads, losses);
    return;
  }
  const { engine, ptr } = pointersOf(batch, engineOf(batch), params.dtype);
  // The kernel's workspace may grow the memory, detaching views: take pointers first, views after.
  let state: KernelState;
  try {
    state = stateFor(engine, act, spec, params.dtype);
  } catch (e) {
    if (!(e instanceof WasmUnavailable)) throw e;
    sparseInstead(spec, act, params, batch, grads, losses);
    return;
  }
  state.run(spec, params, ptr, grads, losses);
};

/** The JavaScript kernel in the fast kernel's place, which needs every instance's CSR rows. */
const sparseInstead: StepKernel = (spec, act, params, batch, grads, losses) => {
  for (let i = 0; i < spec.nInstances; i++)
    if (rowsOnlyIn(batch, i))
      throw new Error(`instance ${i} was sampled as dense rows only, but WebAssembly stopped: resample it`);
  sparseKernel(spec, act, params, batch, grads, losses);
};
