// The seam to an optional native kernel (native/, an N-API addon that only Node can load): core declares
// what it calls, and Node code installs it (experiments/native-kernel.ts; a formula's own addon:
// experiments/formula-native.ts) before training. Without one, or for what it does not cover, the
// WebAssembly kernel runs: so core still runs in a browser.
//
// The native kernel computes the same mathematics as the WebAssembly Gram and dense paths in the same
// precision, with 8 lanes instead of 4, so its sums round in another order: results agree to float32
// rounding, not bit for bit. Whether it is used depends only on the machine's installation (and
// TMS_NATIVE) and the spec, never on timing, so one machine gives the same bits for the same seed in
// lockstep or alone, on any number of workers.

import { ACTIVATIONS, type Activation } from "../../activations.js";
import type { ModelSpec } from "../../model.js";
import { DENSE_MAX_F } from "../../sampler/state.js";
import { choosePath } from "../cost.js";

/** What the addon exports. */
export interface NativeKernel {
  /** The activation ids it has code for; an id's position is its index (ACT) in every path's arguments. */
  readonly ids: readonly string[];
  /**
   * The Gram path (float32) of n = losses.length instances: each reads W, b and its batch from `memory` and
   * writes ∇W and ∇b there as float64, and its loss to losses[i]. Instance i's arguments are
   * args[i·NATIVE_ARG.COUNT …] (indices and byte offsets, in NATIVE_ARG's order), its importance
   * importance[i·F …]. Throws a RangeError (code TMS_NATIVE) on arguments that do not fit the memory.
   */
  gram(memory: ArrayBuffer, args: Int32Array, importance: Float64Array, losses: Float64Array): void;
  /**
   * The dense path, the same way (H ≤ denseMaxH): VALUE is the instance's B·F values as dense rows, or, with
   * CSR = 1, the batch's entries (FEATURE, VALUE) as the Gram path reads them.
   */
  dense(memory: ArrayBuffer, args: Int32Array, importance: Float64Array, losses: Float64Array): void;
  /**
   * The blocks path, the same way: VALUE is the instance's blocks as the WebAssembly kernel prepared them
   * (four samples a block, F vectors of four lanes), N_BLOCKS how many (small models: blocksMaxF, blocksMaxH).
   */
  blocks(memory: ArrayBuffer, args: Int32Array, importance: Float64Array, losses: Float64Array): void;
  /**
   * The mask scheme of the sampler for instances read only as dense rows (native/sampler.cc; absent
   * without AVX-512, as is sampleCsr): see sampler/native.ts for the arguments.
   */
  sampleRows?: (memory: ArrayBuffer, args: Int32Array) => void;
  /** One float32 instance of the mask scheme, F a multiple of 4, into the CSR arrays (sampler/native.ts). */
  sampleCsr?: (memory: ArrayBuffer, args: Int32Array) => number;
  /**
   * Whole training steps of runs the blocks path and the rows sampler cover, AdamW included: one run or a
   * lockstep group (native/steps.cc; src/core/native-steps.ts says which runs and lays out the arguments);
   * returns the steps taken. Absent where sampleRows is.
   */
  trainSteps?: (
    memory: ArrayBuffer,
    params: ArrayBuffer[],
    args: Int32Array,
    doubles: Float64Array,
    losses: Float64Array,
    seconds: Float64Array,
  ) => number;
  /**
   * The dense path for many features (native/tiled.cc), the same way, reading the batch's CSR entries as the
   * Gram path does: elementwise activations (the first ids) only, F ≤ tiledMaxF, H ≤ tiledMaxH.
   */
  tiled(memory: ArrayBuffer, args: Int32Array, importance: Float64Array, losses: Float64Array): void;
  readonly tiledMaxF: number;
  readonly tiledMaxH: number;
  /** The largest H the dense path has code for. */
  readonly denseMaxH: number;
  /** The blocks path has code for F ≤ blocksMaxF features and H ≤ blocksMaxH hidden units, H < F. */
  readonly blocksMaxF: number;
  readonly blocksMaxH: number;
}

/** The positions in `gram`'s and `dense`'s Int32Array of arguments (native/kernel.cc's `Arg`). */
export const NATIVE_ARG = {
  ACT: 0,
  F: 1,
  H: 2,
  B: 3,
  W: 4,
  BIAS: 5,
  ROW_START: 6,
  FEATURE: 7,
  VALUE: 8,
  GRAD_W: 9,
  GRAD_B: 10,
  N_BLOCKS: 11,
  /** The dense path: 1 reads the samples from the CSR entries (FEATURE, VALUE), 0 from dense rows (VALUE). */
  CSR: 12,
  COUNT: 13,
} as const;

/** Up to this many features (four vectors of eight lanes); above, only the tiled dense path (nativeTakesTiled). */
export const NATIVE_MAX_F = 32;

/**
 * Above NATIVE_MAX_F features the native kernel runs the dense-path instances of elementwise activations
 * (tiled.cc: the WebAssembly kernel's dense_tiled with 8 lanes and 32 registers); the Gram path's and the
 * softmax family's stay in WebAssembly.
 */
export const nativeTakesTiled = (F: number, H: number, act: Activation, kernel: NativeKernel): boolean =>
  F > NATIVE_MAX_F && F <= kernel.tiledMaxF && H <= kernel.tiledMaxH && act.kind === "elementwise";

/**
 * The tiled path also takes a Gram-path instance (above NATIVE_MAX_F features) from this many expected
 * non-zeros a sample per hidden unit (p·F ≥ 0.6·H) on: its cost is ≈ flat in p and grows with H, the
 * WebAssembly Gram path's with p·F. Measured at H = 20 (relu, µs an instance, tiled / Gram): F = 50 p = 0.3
 * 124 / 137, p = 0.25 123 / 118; F = 100 p = 0.13 226 / 233, p = 0.11 225 / 207; F = 200 p = 0.069 463 /
 * 517, p = 0.05 460 / 417; F = 400 p = 0.02 936 / 981 (crossovers at p·F ≈ 13, 12, 12, 8).
 */
export const TILED_NONZEROS_PER_HIDDEN = 0.6;

/**
 * The native kernel takes a light activation's Gram instance from this many expected non-zeros per sample
 * (p·F) on: there it is 0.67–0.97× the WebAssembly kernel's time; below, its fixed cost per instance
 * (setup, finish) outweighs its faster rows, and light activations ran 1.10–1.18× at F = 20, p = 0.01 and
 * 0.003 (docs/speed.md). The other activations' rows cost enough that it takes every instance with p > 0:
 * demo (p down to 0.001) gelu 0.967×, tanh 0.972×, mish 0.974×, sigmoid 0.977×, softmax 0.986× the time
 * (relu, taken the same way, 1.025×; session 15).
 * A function of the spec and the activation alone, so results never depend on timing.
 */
export const NATIVE_MIN_NONZEROS = 0.5;

/** Whether an activation is light (few operations a value: relu, leaky relu, …; the table's `light`). */
export const isLight = (act: Activation): boolean => act.kind === "elementwise" && act.vector?.light === true;

/** Whether the native kernel runs a Gram-path instance of feature probability p with F features. */
export const nativeTakes = (p: number, F: number, act: Activation): boolean =>
  isLight(act) ? p * F >= NATIVE_MIN_NONZEROS : p > 0;

/**
 * The dense path runs natively for instances whose every slot is kept (p = 1: the batch's values are then
 * the dense rows) from this many features on: there it measured 0.54–0.83× the WebAssembly kernel's time
 * (F = 8 … 32), at F = 5 0.96–1.15× (docs/speed.md).
 */
export const NATIVE_DENSE_MIN_F = 8;

/**
 * The softmax family's Gram-path instances from this feature probability on run on the native dense path
 * instead (blocks filled from the CSR entries): its reductions are across vectors there, not across lanes,
 * and at F = 20 it measured 0.70× / 0.76× the WebAssembly kernel at p = 0.3 / 0.2 against the native Gram
 * path's 0.87× / 0.81× (at p = 0.1 both ≈ 0.85×); elementwise activations stay on the Gram path, which
 * stays ahead for them (relu at p = 0.3: Gram 0.79×, dense 0.92×).
 */
export const SOFTMAX_DENSE_MIN_P = 0.2;

/**
 * Whether an instance below p = 1 runs on the native dense path, its blocks filled from the CSR entries:
 * above DENSE_MAX_F features (below, the sampler writes dense rows, and WebAssembly's blocks built from them
 * were faster: 8 × 2 1.04–1.5×), every dense-path instance (20 × 5 at p = 0.5, 0.7: 0.62–0.69×; 12 × 3
 * 0.74–0.83×) and the softmax family's Gram-path instances from SOFTMAX_DENSE_MIN_P on.
 */
export function nativeDenseFromCsr(
  p: number,
  F: number,
  H: number,
  act: Activation,
  path: "dense" | "gram",
  kernel: NativeKernel,
): boolean {
  if (p >= 1 || F <= DENSE_MAX_F || H > kernel.denseMaxH) return false;
  return path === "dense" || (act.kind === "vector" && p >= SOFTMAX_DENSE_MIN_P);
}

/** Whether the native kernel runs a dense-path instance of feature probability p (F features, H hidden). */
export const nativeTakesDense = (p: number, F: number, H: number, kernel: NativeKernel): boolean =>
  p >= 1 && F >= NATIVE_DENSE_MIN_F && H <= kernel.denseMaxH;

/**
 * The blocks path runs the other dense-path instances of small models (F ≤ blocksMaxF, H ≤ blocksMaxH,
 * H < F: the intro and phase presets' shapes) on the blocks the WebAssembly kernel prepares for them.
 */
export const nativeTakesBlocks = (F: number, H: number, kernel: NativeKernel): boolean =>
  F <= kernel.blocksMaxF && H <= kernel.blocksMaxH && H < F;

/** The native paths, and the instances each runs. */
export type NativeInstances = Record<NativePath, number[]>;
export type NativePath = "gram" | "dense" | "blocks" | "tiled";

/**
 * Which of a spec's instances the installed native kernel runs for this activation, by path (the others run
 * in WebAssembly), or undefined if it runs none of this model's (no kernel installed, float64, F > 32, an
 * activation it has no code for). The fast kernel follows this, and a run's summary reports it.
 */
export function nativeInstances(
  spec: ModelSpec,
  act: Activation,
  dtype: "f32" | "f64",
): NativeInstances | undefined {
  const { nFeatures: F, nHidden: H } = spec;
  const native = nativeKernelFor(act, F, dtype);
  if (!native) return undefined;
  const taken: NativeInstances = { gram: [], dense: [], blocks: [], tiled: [] };
  spec.featureProbability.forEach((p, i) => {
    const path = choosePath(p, F, H, dtype);
    if (F > NATIVE_MAX_F) {
      const dense = path === "dense" || p * F >= TILED_NONZEROS_PER_HIDDEN * H;
      if (dense && nativeTakesTiled(F, H, act, native.kernel)) taken.tiled.push(i);
    } else if (nativeDenseFromCsr(p, F, H, act, path, native.kernel)) taken.dense.push(i);
    else if (path === "gram") {
      if (nativeTakes(p, F, act)) taken.gram.push(i);
    } else if (nativeTakesDense(p, F, H, native.kernel)) taken.dense.push(i);
    else if (nativeTakesBlocks(F, H, native.kernel)) taken.blocks.push(i);
  });
  return taken.gram.length + taken.dense.length + taken.blocks.length + taken.tiled.length > 0
    ? taken
    : undefined;
}

/**
 * The instances of one spec that one native path runs, with what a call needs: their importance rows end
 * to end, the arguments (refilled each step: the batch may have moved) and their losses.
 */
export class NativeGroup {
  readonly importance: Float64Array;
  readonly args: Int32Array;
  readonly losses: Float64Array;
  constructor(
    readonly path: NativePath,
    readonly instances: readonly number[],
    importance: Float64Array,
    F: number,
  ) {
    this.importance = new Float64Array(instances.length * F);
    for (const [k, i] of instances.entries())
      this.importance.set(importance.subarray(i * F, (i + 1) * F), k * F);
    this.args = new Int32Array(instances.length * NATIVE_ARG.COUNT);
    this.losses = new Float64Array(instances.length);
  }

  /**
   * Runs the group's instances in one call; `place(i, args, o)` writes instance i's byte offsets (W … GRAD_B,
   * and N_BLOCKS for the blocks path) into args[o …] (no object a call: this runs every step). The losses land
   * in `losses` at the instances' places.
   */
  run(
    kernel: NativeKernel,
    act: number,
    shape: { F: number; H: number; B: number },
    memory: ArrayBuffer,
    place: (i: number, args: Int32Array, o: number) => void,
    losses: Float64Array,
  ): void {
    const n = this.instances.length;
    if (n === 0) return;
    const a = this.args;
    for (let k = 0; k < n; k++) {
      const o = k * NATIVE_ARG.COUNT;
      a[o + NATIVE_ARG.ACT] = act;
      a[o + NATIVE_ARG.F] = shape.F;
      a[o + NATIVE_ARG.H] = shape.H;
      a[o + NATIVE_ARG.B] = shape.B;
      a[o + NATIVE_ARG.N_BLOCKS] = 0;
      a[o + NATIVE_ARG.CSR] = 0;
      place(this.instances[k], a, o);
    }
    kernel[this.path](memory, a, this.importance, this.losses);
    for (let k = 0; k < n; k++) losses[this.instances[k]] = this.losses[k];
  }
}

let installed: { kernel: NativeKernel; index: Map<string, number> } | undefined;

/** Installs (or, with undefined, removes) the native kernel for this thread. */
export function setNativeKernel(kernel: NativeKernel | undefined): void {
  installed = kernel ? { kernel, index: new Map(kernel.ids.map((id, i) => [id, i])) } : undefined;
}

/** The installed kernel's sampler for dense-rows-only instances, if it has one. */
export function nativeRowsSampler(): NativeKernel["sampleRows"] {
  return installed?.kernel.sampleRows;
}

/** The installed kernel's sampler into CSR entries (F a multiple of 4), if it has one. */
export function nativeCsrSampler(): NativeKernel["sampleCsr"] {
  return installed?.kernel.sampleCsr;
}

/**
 * Addons compiled at run time for one formula each (experiments/formula-native.ts), by the formula's key;
 * used only while a main kernel is installed.
 */
const formulaKernels = new Map<string, NativeKernel>();

/** Installs a formula's addon (its one activation at index 0) for the formula with this key. */
export function setFormulaKernel(key: string, kernel: NativeKernel | undefined): void {
  if (kernel) formulaKernels.set(key, kernel);
  else formulaKernels.delete(key);
}

/** The installed kernel and the activation's index in it, if it can run this model; else undefined. */
export function nativeKernelFor(
  act: Activation,
  F: number,
  dtype: "f32" | "f64",
): { kernel: NativeKernel; act: number } | undefined {
  if (!installed || dtype !== "f32" || F > Math.max(NATIVE_MAX_F, installed.kernel.tiledMaxF))
    return undefined;
  // a user's formula may reuse a built-in id: only the table's own entries have native code in the main
  // addon, and a formula has its own addon if one was compiled for it
  if (ACTIVATIONS.get(act.id) !== act) {
    const formula = "key" in act ? formulaKernels.get(String(act.key)) : undefined;
    return formula ? { kernel: formula, act: 0 } : undefined;
  }
  const index = installed.index.get(act.id);
  return index === undefined ? undefined : { kernel: installed.kernel, act: index };
}
