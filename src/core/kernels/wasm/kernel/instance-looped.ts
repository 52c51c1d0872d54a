// An instance's setup and the dense path's finish for many features (F ≥ TILED_DENSE_MIN_F), as loops over
// the entries of W and b instead of straight-line code as long as F·H: the same values, written in the
// same order, with code whose size (and V8's compile time) does not grow with the model.

import { type Expr, f64Store, i32 } from "../emit.js";
import type { Gen } from "../gen.js";
import type { KernelBuild } from "./context.js";
import { strided } from "./dense-tiled.js";

/** setup's copies of W [F·H] and b [F] into the workspace, and their splats (WSPLAT, BSPLAT). */
export function emitSetupCopiesLooped(kb: KernelBuild, g: Gen, ws: Expr, w: Expr, b: Expr): void {
  const { lay, vt } = kb;
  const { F, H, E } = lay;
  for (const [src, count, at, splatAt] of [
    [w, F * H, lay.W, lay.WSPLAT],
    [b, F, lay.BIAS, lay.BSPLAT],
  ] as const) {
    const ptrs: [Expr, number][] = [
      [src, E],
      [ws, E],
      [ws, 16],
    ];
    strided(g, i32(count), ptrs, ([from, to, splat]) => {
      g.emit(vt.sStore(to, vt.sLoad(from), at));
      g.emit(vt.store(splat, vt.loadSplat(to, at), splatAt));
    });
  }
}

/** setup's zeroing of the dense path's accumulators, GW [F·H vectors] then GB [F], adjacent. */
export function emitDenseZeroLooped(kb: KernelBuild, g: Gen, ws: Expr): void {
  const { lay, vt } = kb;
  const vectors = lay.F * lay.H + lay.F;
  strided(g, i32(vectors), [[ws, 16]], ([at]) => g.emit(vt.store(at, vt.c(0), lay.GW)));
}

/** finish, dense path: ∇W [F·H] and ∇b [F] as f64, each the sum of its accumulator's lanes. */
export function emitDenseFinishLooped(kb: KernelBuild, g: Gen, ws: Expr, outW: Expr, outB: Expr): void {
  const { lay, vt } = kb;
  for (const [out, count, at] of [
    [outW, lay.F * lay.H, lay.GW],
    [outB, lay.F, lay.GB],
  ] as const) {
    const ptrs: [Expr, number][] = [
      [out, 8],
      [ws, 16],
    ];
    strided(g, i32(count), ptrs, ([o, acc]) => g.emit(f64Store(o, vt.sToF64(vt.hsum(g, vt.load(acc, at))))));
  }
}
