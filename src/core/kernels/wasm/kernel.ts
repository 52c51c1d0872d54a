// Generates the WebAssembly step kernel for one model shape (F features, H hidden), precision and
// activation. Two algorithms, chosen per instance from its feature probability (see fast.ts):
//
//  * "dense" (direct form, lanes = samples): non-zero samples are packed L at a time into a transposed
//    block X[f] (one vector per feature, one lane per sample); per block
//        h_k = Σ_f X[f]·W[f,k]      z_f = b_f + Σ_k h_k·W[f,k]      (y, dz) = mid(z, X)
//        dh_k = Σ_f dz_f·W[f,k]     ∇W[f,k] += dz_f·h_k + X[f]·dh_k  ∇b_f += dz_f
//    with the ∇ accumulators one vector per entry (lane partial sums, added up at the end). Padding lanes of
//    the last block are all-zero samples; the caller counts them out of the all-zero row's weight.
//  * "gram" (lanes = features): with M = W Wᵀ, a sample with non-zeros S has z = b + Σ_{j∈S} M[:, j]·x_j,
//    and ∇W = (C + Cᵀ) W with C = Σ_samples dz xᵀ, applied once per step (C[:, j] += dz·x_j).
//
// `mid` is the activation, loss and dL/dz of one block or row, inline (vact.ts) or, where no vector code
// exists for the precision, a call to JavaScript (`env.mid`) that uses the reference's own activation.
// All-zero samples are never touched here: the caller adds their closed-form contribution, and the kernels
// walk a list of the non-empty samples' row starts (compact_rows), for the dense path up to 32 features as
// blocks built once per batch (build_blocks), which a lockstep group's runs share.
//
// Every function takes `ws`, the byte address of its workspace; the workspace layout (kernel/layout.ts) depends
// only on F, H and the precision, so one compiled module serves any batch size and any engine.
//
// The parts, in kernel/: layout (workspace), context (what they share), mid and softmax (activation + loss),
// dense (dense path), gram (Gram path), prepare (batch preparation), instance (setup and finish).

import { type Activation, getActivation } from "../../activations.js";
import { get, ModuleBuilder, Ty } from "./emit.js";
import { ConstPool, type Dtype, Vt } from "./gen.js";
import { type ActCode, kernelBuild } from "./kernel/context.js";
import { emitDenseBlocks, emitDenseFull } from "./kernel/dense.js";
import { emitDenseTiled } from "./kernel/dense-tiled.js";
import { emitGramRows } from "./kernel/gram.js";
import { emitGramRowsLooped, GRAM_LOOPED_MIN_F } from "./kernel/gram-looped.js";
import { emitFinish, emitSetup } from "./kernel/instance.js";
import { CONST_SLOTS, kernelLayout, TILED_DENSE_MIN_F, TRACK_USED_MIN_F } from "./kernel/layout.js";
import { emitBuildBlocks, emitCompact } from "./kernel/prepare.js";
import { elementwiseGen, isVectorId } from "./vact.js";

export { pairedBlocks } from "./kernel/dense.js";
export { impTableLayout, type KernelLayout, kernelLayout } from "./kernel/layout.js";
export { ROW_COMPACT_TABLE } from "./kernel/prepare.js";

/**
 * Which algorithms a module serves (see fast.ts): `dense` brings, by F, dense_full and the prebuilt blocks
 * (build_blocks, blocks_from_dense, dense_blocks) or dense_tiled; `gram` brings gram_rows. A spec's
 * instances say which they need before anything is generated (choosePath), so a module can leave out the
 * others: intro's ten instances are all dense, for example.
 */
export interface KernelPaths {
  dense: boolean;
  gram: boolean;
}

/**
 * Up to this many features the dense path trains on blocks built once per batch (build_blocks); above, a
 * batch's blocks (B·F values an instance) would not stay in cache, and dense_tiled (TILED_DENSE_MIN_F, the
 * next feature count) fills each chunk of blocks just before its use.
 */
export const BLOCKS_MAX_F = 32;

/**
 * Builds the module. The activation's vector form (vact.ts) is inlined; without one, mid calls env.mid. With
 * `fma`, multiply-adds are relaxed SIMD's (fused on FMA hardware: one rounding instead of two). With
 * `paths`, only the functions those algorithms call at this F; without, every function.
 */
export function buildKernel(
  F: number,
  H: number,
  dtype: Dtype,
  activation: Activation | string,
  fma = false,
  paths?: KernelPaths,
): { bytes: Uint8Array; jsMid: boolean; consts: Uint8Array } {
  const entry = typeof activation === "string" ? getActivation(activation) : activation;
  const lay = kernelLayout(F, H, dtype);
  // every function takes the workspace address as parameter 0
  const pool = new ConstPool(lay.CONST, get(0), CONST_SLOTS);
  const vt = new Vt(dtype, pool, fma);
  const gen = elementwiseGen(entry, dtype);
  const act: ActCode = gen
    ? { kind: "elementwise", gen }
    : entry.kind === "vector" && isVectorId(entry.id)
      ? { kind: "vector", id: entry.id }
      : { kind: "js" };
  const jsMid = act.kind === "js";
  const mb = new ModuleBuilder({ module: "env", name: "memory", minPages: 1 });
  if (jsMid) mb.importFn("env", "mid", [Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.f64]);
  const k = kernelBuild({
    mb,
    lay,
    vt,
    pool,
    fma,
    act,
    light: entry.kind === "elementwise" && entry.vector?.light === true,
    jsMid,
    // Small models: finish visits every column of C (F·H·V multiply-adds) instead of gram_rows noting, per
    // non-zero, which columns are in use (a load and a branch each)
    trackUsed: F > TRACK_USED_MIN_F,
  });
  // the functions in a fixed order (the module's exports)
  emitCompact(k);
  emitSetup(k);
  if (!paths || paths.dense) {
    // many features: the dense path as register-tiled loops (dense_tiled), whose code does not grow with F
    if (F >= TILED_DENSE_MIN_F) emitDenseTiled(k);
    else {
      emitDenseFull(k);
      emitBuildBlocks(k);
      emitDenseBlocks(k);
    }
  }
  if (!paths || paths.gram) {
    if (F >= GRAM_LOOPED_MIN_F) emitGramRowsLooped(k);
    else emitGramRows(k);
  }
  emitFinish(k);
  return { bytes: mb.bytes(), jsMid, consts: pool.bytes };
}
