// The dense path (direct form, lanes = samples): blocks of L samples as F vectors, trained by
//     h = Xᵀ-products with W, z = b + W h, mid, dh = Wᵀ dz, ∇W += dz hᵀ + x dhᵀ, ∇b += dz
// one block (or a pair side by side) at a time; and the functions that feed it blocks: dense_full (every
// sample has every feature), dense_blocks (prebuilt blocks).

import { type Expr, get, i32, i32Add, i32And, i32Mul, i32ShrU, Ty } from "../emit.js";
import { Gen } from "../gen.js";
import {
  actCtx,
  blockPair,
  blockX,
  type Ctx,
  chunks,
  firstBlock,
  type KernelBuild,
  type XZ,
} from "./context.js";
import { impTableLayout } from "./layout.js";
import { emitElementwise, emitMid, flushRowLoss } from "./mid.js";
import { transpose2, transpose4 } from "./transpose.js";

/**
 * Blocks are trained two at a time where both blocks' sums fit in registers: the two share W's loads and
 * ∇W's read-modify-writes, and give the CPU two independent chains of work. Each block's operations, and
 * the order of every sum, are those of the block alone (bit-identical). dense_blocks pairs small models.
 */
export const pairedBlocks = (F: number, H: number) => F * H <= 24 && H <= 4;
/**
 * dense_full pairs its blocks up to this many hidden units (2H sums in registers; more would spill).
 */
export const PAIRED_MAX_H = 5;
/** Hidden units per ∇W pass for a pair: h and dh of both blocks, 4·3 vectors, fit in registers; 2 or 5 did not. */
const PAIRED_GW_CHUNK = 3;

/**
 * Dense block: X at XBLK (F vectors, lanes = samples); accumulates into GW, GB and the loss. With two
 * `blocks` (H ≤ PAIRED_MAX_H), both are trained side by side, each as it would be alone.
 *   1. h_k = Σ_f X[f]·W[f,k]             hidden units in chunks of 8 accumulators (HD when H > 8)
 *   2. z_f = b_f + Σ_k h_k·W[f,k], mid  (fused with the activation when h fits in registers)
 *   3. dh_k = Σ_f dz_f·W[f,k], ∇b      chunks of 8 (DHD; in registers for a pair)
 *   4. ∇W[f,k] += dz_f·h_k + X[f]·dh_k  chunks of 6 (h and dh of a chunk in 12 registers)
 * The passes over features are wasm loops, not unrolled: unrolled, TurboFan merges the repeated loads of
 * W[f, k] across passes and then spills them, which costs more than reloading.
 */
export function emitDenseBlock(c: Ctx, blocks: XZ[] = [firstBlock(c.lay)]): void {
  const { g, vt, lay, ws } = c;
  const { F, H } = lay;
  // Small models (all of W's splats fit in registers) are unrolled; larger ones loop over features.
  const unroll = F * H <= 24;
  const paired = blocks.length > 1;
  if (paired && H > PAIRED_MAX_H) throw new Error(`paired dense blocks need H ≤ ${PAIRED_MAX_H}, not ${H}`);
  const overF = (body: (base: Expr, wrow: Expr, o: Expr) => void) => {
    if (unroll) {
      for (let f = 0; f < F; f++) body(i32Add(ws, i32(16 * f)), i32Add(ws, i32(16 * f * H)), i32(16 * f));
      return;
    }
    g.forRange(i32(0), i32(16 * F), 16, (o) => {
      const oo = g.letI(o);
      body(g.letI(i32Add(ws, oo)), g.letI(i32Add(ws, i32Mul(oo, i32(H)))), oo);
    });
  };
  /** W[f, k]'s splat; read once per feature for a pair (both blocks use it). */
  const wRow = (wrow: Expr, k0: number, k1: number): Expr[] => {
    const out: Expr[] = [];
    for (let k = k0; k < k1; k++) {
      const w = vt.load(wrow, lay.WSPLAT + 16 * k);
      out.push(paired ? g.letV(w) : w);
    }
    return out;
  };
  const eachBlock = <T>(f: (b: XZ, i: number) => T): T[] => blocks.map(f);
  /**
   * One pass over the features: per block i, accumulators acc[i][k − k0] = Σ_f v_i(f)·W[f, k] for k in
   * [k0, k1), with v_i(f) = vectorOf(base, block i); `also` sees each feature's vectors first.
   */
  const sumsOverF = (
    k0: number,
    k1: number,
    vectorOf: (base: Expr, b: XZ, o: Expr) => Expr,
    also?: (base: Expr, v: Expr[]) => void,
  ): number[][] => {
    const acc = eachBlock(() => {
      const a: number[] = [];
      for (let k = k0; k < k1; k++) a.push(g.varV(vt.c(0)));
      return a;
    });
    overF((base, wrow, o) => {
      const v = eachBlock((b) => g.letV(vectorOf(base, b, o)));
      also?.(base, v);
      const w = wRow(wrow, k0, k1);
      for (let k = k0; k < k1; k++)
        eachBlock((_, i) => g.set(acc[i][k - k0], vt.madd(v[i], w[k - k0], get(acc[i][k - k0]))));
    });
    return acc;
  };
  const small = H <= 8;
  // 1. h
  const hd: number[][] = eachBlock(() => []);
  const sums = paired ? PAIRED_MAX_H : 8;
  for (const [k0, k1] of chunks(H, sums)) {
    const acc = sumsOverF(k0, k1, (base, b, o) => blockX(vt, b, base, o));
    if (small) eachBlock((_, i) => hd[i].push(...acc[i]));
    else for (let k = k0; k < k1; k++) g.emit(vt.store(ws, get(acc[0][k - k0]), lay.HD + 16 * k));
  }
  const hAt = (i: number, k: number) => (small ? get(hd[i][k]) : vt.load(ws, lay.HD + 16 * k));
  // 2. z (and the activation, fused when possible)
  // fused only for light activations: heavy ones need registers that h's accumulators hold
  const fused = small && c.act.kind === "elementwise" && c.light ? c.act.gen : undefined;
  const lossv = fused ? eachBlock(() => g.varV(vt.c(0))) : [];
  const tab = impTableLayout(F, lay.dtype);
  if (small) {
    overF((base, wrow, o) => {
      const w = wRow(wrow, 0, H);
      eachBlock((b, i) => {
        let z = vt.load(base, lay.BSPLAT);
        for (let k = 0; k < H; k++) z = vt.madd(hAt(i, k), w[k], z);
        if (fused) {
          const kf = vt.load(i32Add(c.impk, o), tab.KS);
          g.emit(
            vt.store(
              base,
              emitElementwise(actCtx(c), fused, lossv[i], g.letV(z), blockX(vt, b, base, o), kf),
              b.tmp,
            ),
          );
        } else {
          g.emit(vt.store(base, z, b.tmp));
        }
      });
    });
  } else {
    for (const [k0, k1] of chunks(H, 8)) {
      const h: Expr[] = [];
      for (let k = k0; k < k1; k++) h.push(g.letV(hAt(0, k)));
      overF((base, wrow) => {
        let z = k0 === 0 ? vt.load(base, lay.BSPLAT) : vt.load(base, lay.TMP);
        for (let k = k0; k < k1; k++) z = vt.madd(h[k - k0], vt.load(wrow, lay.WSPLAT + 16 * k), z);
        g.emit(vt.store(base, z, lay.TMP));
      });
    }
  }
  if (fused) for (const l of lossv) flushRowLoss(c, l);
  else for (const b of blocks) emitMid(c, "dense", b);
  // 3. dh and ∇b
  const dhd: number[][] = eachBlock(() => []);
  for (const [k0, k1] of chunks(H, sums)) {
    const gradB = (base: Expr, dz: Expr[]) => {
      let gb = vt.load(base, lay.GB);
      for (const d of dz) gb = vt.add(gb, d);
      g.emit(vt.store(base, gb, lay.GB));
    };
    const acc = sumsOverF(k0, k1, (base, b) => vt.load(base, b.tmp), k0 === 0 ? gradB : undefined);
    if (paired) eachBlock((_, i) => dhd[i].push(...acc[i]));
    else for (let k = k0; k < k1; k++) g.emit(vt.store(ws, get(acc[0][k - k0]), lay.DHD + 16 * k));
  }
  const dhAt = (i: number, k: number) => (paired ? get(dhd[i][k]) : vt.load(ws, lay.DHD + 16 * k));
  // 4. ∇W
  for (const [k0, k1] of chunks(H, paired ? PAIRED_GW_CHUNK : 6)) {
    const h: Expr[][] = eachBlock(() => []);
    const dh: Expr[][] = eachBlock(() => []);
    for (let k = k0; k < k1; k++)
      eachBlock((_, i) => {
        h[i].push(g.letV(hAt(i, k)));
        dh[i].push(g.letV(dhAt(i, k)));
      });
    overF((base, wrow, o) => {
      const dz = eachBlock((b) => g.letV(vt.load(base, b.tmp)));
      const xf = eachBlock((b) => g.letV(blockX(vt, b, base, o)));
      for (let k = k0; k < k1; k++) {
        const at = lay.GW + 16 * k;
        let gw = vt.load(wrow, at);
        eachBlock((_, i) => {
          gw = vt.madd(xf[i], dh[i][k - k0], vt.madd(dz[i], h[i][k - k0], gw));
        });
        g.emit(vt.store(wrow, gw, at));
      }
    });
  }
}

/**
 * dense_full(ws, val, nBlocks, impk) -> rows: every sample has all F features, stored contiguously.
 */
export function emitDenseFull(kb: KernelBuild): void {
  const { mb, lay, vt, newCtx, flushLoss } = kb;
  const { F, H, L, E } = lay;
  if (F % L === 0) {
    mb.fn("dense_full", [Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
      const g = new Gen(f);
      const ws = get(0);
      const c = newCtx(g, ws, get(3));
      const row = g.varI(get(1));
      // transpose L rows × F features (the rows from byte `from` on) into F vectors of L lanes at `to`
      const transpose = (to: number, from: number) => {
        const base = (l: number) => i32Add(get(row), i32(from + l * F * E));
        for (let q = 0; q < F / L; q++) {
          const r = [...Array(L).keys()].map((l) => g.letV(vt.load(base(l), q * 16)));
          const out = vt.f32 ? transpose4(g, r) : transpose2(r);
          for (const [k, v] of out.entries()) g.emit(vt.store(ws, v, to + 16 * (L * q + k)));
        }
      };
      const single = () => {
        transpose(lay.XBLK, 0);
        emitDenseBlock(c);
        g.set(row, i32Add(get(row), i32(L * F * E)));
      };
      if (H <= PAIRED_MAX_H) {
        g.forRange(i32(0), i32ShrU(get(2), i32(1)), 1, () => {
          transpose(lay.XBLK, 0);
          transpose(lay.XPAIR, L * F * E);
          emitDenseBlock(c, blockPair(lay));
          g.set(row, i32Add(get(row), i32(2 * L * F * E)));
        });
        g.if(i32And(get(2), i32(1)), single);
      } else {
        g.forRange(i32(0), get(2), 1, single);
      }
      flushLoss(c);
      g.emit(i32Mul(get(2), i32(L)));
    });
  }
}

/**
 * dense_blocks(ws, blocks, nBlocks, impk) -> rows processed (nBlocks·L, padding lanes included)
 */
export function emitDenseBlocks(kb: KernelBuild): void {
  const { mb, lay, newCtx, flushLoss } = kb;
  const { F, H, L } = lay;
  mb.fn("dense_blocks", [Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const c = newCtx(g, ws, get(3));
    const blk = g.varI(get(1));
    // the blocks are read where they were built (a copy into XBLK would cost a pass over each block)
    const inPlace = (k: number, tmp: number): XZ => ({ x: 16 * F * k, tmp, xBase: get(blk) });
    const single = () => {
      emitDenseBlock(c, [inPlace(0, lay.TMP)]);
      g.set(blk, i32Add(get(blk), i32(16 * F)));
    };
    if (pairedBlocks(F, H)) {
      g.forRange(i32(0), i32ShrU(get(2), i32(1)), 1, () => {
        emitDenseBlock(c, [inPlace(0, lay.TMP), inPlace(1, lay.TPAIR)]);
        g.set(blk, i32Add(get(blk), i32(32 * F)));
      });
      g.if(i32And(get(2), i32(1)), single);
    } else {
      g.forRange(i32(0), get(2), 1, single);
    }
    flushLoss(c);
    g.emit(i32Mul(get(2), i32(L)));
  });
}
