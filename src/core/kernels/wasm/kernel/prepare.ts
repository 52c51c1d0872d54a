// Batch preparation, once per batch and instance (shared by a lockstep group's runs): the list of the
// non-empty samples (compact_rows, compact_samples) and, for the dense path, their transposed blocks
// (build_blocks from the sparse rows, blocks_from_dense from the sampler's dense rows).

import { DENSE_MAX_F } from "../../../sampler/state.js";
import {
  type Expr,
  get,
  i8x16RelaxedSwizzle,
  i8x16Swizzle,
  i32,
  i32Add,
  i32And,
  i32Load,
  i32LtS,
  i32Mul,
  i32Ne,
  i32Popcnt,
  i32Shl,
  i32ShrU,
  i32Store,
  i32Sub,
  i32Xor,
  i32x4Add,
  i32x4Bitmask,
  i32x4Eq,
  i32x4Splat,
  select,
  Ty,
  v128Load,
  v128Store,
} from "../emit.js";
import { Gen } from "../gen.js";
import { type KernelBuild, rowAt, zeroRegion } from "./context.js";
import { transpose4 } from "./transpose.js";

/** [0, 1, 2, 3] as i32 lanes. */
export const IOTA_BYTES = new Uint8Array(new Int32Array([0, 1, 2, 3]).buffer);

/**
 * compact_rows' shuffle table: entry m (a 4-bit mask of which of 4 samples are non-empty) moves those
 * samples' 32-bit row starts to the front of the vector, in order. The lanes after them are don't-cares.
 */
export const ROW_COMPACT_TABLE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let m = 0; m < 16; m++) {
    let n = 0;
    for (let l = 0; l < 4; l++) {
      if (!(m & (1 << l))) continue;
      for (let b = 0; b < 4; b++) t[16 * m + 4 * n + b] = 4 * l + b;
      n++;
    }
    for (let q = 4 * n; q < 16; q++) t[16 * m + q] = q;
  }
  return t;
})();

/**
 * Up to this many features, build_blocks fills its blocks without branches on the data: a sample's number of
 * non-zeros, and whether it has any, are random, so branching on them mispredicts about once a sample. It
 * reads F entries from the sample's start, at most F − 1 past the last one: within the batch arrays' slack
 * (SLACK = 8 entries in sampling.ts).
 */
export const BRANCH_FREE_FILL_F = 8;

/**
 * compact_rows(ws, rs, B, out) -> n: the starts of the non-empty samples among rs[0..B], in order, then
 * rs[B]; out needs n + 4 entries. Empty samples hold no entries, so each kept sample's end is the next
 * kept start: the kernels then visit only the non-empty samples, in the same order as before. Four
 * samples a step, branch-free: which are non-empty is a 4-bit mask, a table shuffle packs their starts.
 * compact_samples(ws, rs, B, out) -> n: the same, with the samples' indices instead of their starts.
 */
export function emitCompact(kb: KernelBuild): void {
  const { mb, lay, vt, fma } = kb;
  const emitCompact = (name: string, indices: boolean) =>
    mb.fn(name, [Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
      const g = new Gen(f);
      const [ws, rs, B, out] = [get(0), get(1), get(2), get(3)];
      const n = g.varI(i32(0));
      const swizzle = fma ? i8x16RelaxedSwizzle : i8x16Swizzle;
      const quads = g.letI(i32Add(rs, i32Shl(i32And(B, i32(~3)), i32(2))));
      const sampleAt = (a: Expr) => i32ShrU(i32Sub(a, rs), i32(2));
      g.forRange(rs, quads, 16, (a) => {
        const starts = g.letV(v128Load(a));
        const empty = i32x4Bitmask(i32x4Eq(starts, v128Load(a, 4)));
        const kept = g.letI(i32Xor(empty, i32(15)));
        const dest = i32Add(out, i32Shl(get(n), i32(2)));
        const what = indices ? i32x4Add(i32x4Splat(sampleAt(a)), vt.vconst(IOTA_BYTES)) : starts;
        g.emit(v128Store(dest, swizzle(what, v128Load(i32Add(ws, i32Shl(kept, i32(4))), lay.ROWTAB))));
        g.set(n, i32Add(get(n), i32Popcnt(kept)));
      });
      g.forRange(quads, i32Add(rs, i32Shl(B, i32(2))), 4, (a) => {
        const start = g.letI(i32Load(a));
        g.emit(i32Store(i32Add(out, i32Shl(get(n), i32(2))), indices ? sampleAt(a) : start));
        g.set(n, i32Add(get(n), i32Ne(start, i32Load(a, 4))));
      });
      if (!indices)
        g.emit(i32Store(i32Add(out, i32Shl(get(n), i32(2))), i32Load(i32Add(rs, i32Shl(B, i32(2))))));
      g.emit(get(n));
    });
  emitCompact("compact_rows", false);
  emitCompact("compact_samples", true);
}

/**
 * Emits the fill of one block from rows k, k + 1, … (up to L of them, at most up to n): zeroes F vectors at
 * dest + off, then writes each row's entries into its lane; k advances past the rows used.
 */
export function emitBlockFill(
  k0: KernelBuild,
  g: Gen,
  rows: { list: Expr; feat: Expr; val: Expr; n: Expr },
  k: number,
  dest: Expr,
  off: number,
): void {
  const { F, L, E } = k0.lay;
  const { vt } = k0;
  const start = g.varI();
  const end = g.varI();
  const fillLane = (lane: number) => {
    g.set(start, rowAt(rows.list, get(k)));
    g.set(end, rowAt(rows.list, get(k), 4));
    const laneOff = off + lane * E;
    if (F <= BRANCH_FREE_FILL_F) {
      // F entries from start, those past the row's end sent to the row after the block (a spare row, or
      // the next block's first, zeroed after): a row's number of entries is random, so a loop over them
      // would mispredict its exit about once a row
      for (let q = 0; q < F; q++) {
        const j = g.letI(i32Add(get(start), i32(q)));
        const fIdx = select(i32Load(i32Add(rows.feat, i32Shl(j, i32(2)))), i32(F), i32LtS(j, get(end)));
        g.emit(
          vt.sStore(
            i32Add(dest, i32Shl(fIdx, i32(4))),
            vt.sLoad(i32Add(rows.val, i32Shl(j, i32(vt.shift)))),
            laneOff,
          ),
        );
      }
    } else {
      g.forRange(get(start), get(end), 1, (j) => {
        const jj = g.letI(j);
        const fIdx = i32Load(i32Add(rows.feat, i32Shl(jj, i32(2))));
        g.emit(
          vt.sStore(
            i32Add(dest, i32Shl(fIdx, i32(4))),
            vt.sLoad(i32Add(rows.val, i32Shl(jj, i32(vt.shift)))),
            laneOff,
          ),
        );
      });
    }
    g.set(k, i32Add(get(k), i32(1)));
  };
  zeroRegion(g, dest, off, F * 16);
  // lane 0 always has a row; the others unless the batch ran out (padding lanes stay all-zero)
  fillLane(0);
  for (let lane = 1; lane < L; lane++) g.if(i32LtS(get(k), rows.n), () => fillLane(lane));
}

/** build_blocks and blocks_from_dense (see their comments). */
export function emitBuildBlocks(kb: KernelBuild): void {
  const { mb, lay, vt } = kb;
  const { F, L } = lay;
  // build_blocks(ws, rows, feat, val, n, out) -> blocks: the n rows of a compacted batch (compact_rows), L
  // to a block, each block F vectors (lanes = rows) at out + 16·F·block; padding lanes are zero. out needs
  // blocks·F + 1 vectors. Built once per batch and shared by every run of a lockstep group.
  mb.fn("build_blocks", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
    const g = new Gen(f);
    const rows = { list: get(1), feat: get(2), val: get(3), n: get(4) };
    const k = g.varI(i32(0));
    const blk = g.varI(get(5));
    g.forRange(i32(0), rows.n, L, () => {
      emitBlockFill(kb, g, rows, k, get(blk), 0);
      g.set(blk, i32Add(get(blk), i32(16 * F)));
    });
    g.emit(i32ShrU(i32Add(rows.n, i32(L - 1)), i32(L === 4 ? 2 : 1)));
  });

  // blocks_from_dense(ws, samples, n, dense, out) -> blocks: build_blocks' blocks from the sampler's dense
  // rows (dense + 4·F·s for sample s; float32, F ≤ DENSE_MAX_F) of the n samples listed (compact_samples):
  // four rows a block, transposed by shuffles; lanes past the n-th sample read a zero row. The same blocks,
  // bit for bit.
  if (vt.f32 && F <= DENSE_MAX_F)
    mb.fn("blocks_from_dense", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
      const g = new Gen(f);
      const [ws, list, n, dense] = [get(0), get(1), get(2), get(3)];
      const blk = g.varI(get(4));
      const zeroRow = g.letI(i32Add(ws, i32(lay.ZERO)));
      g.forRange(i32(0), n, L, (k) => {
        const kk = g.letI(k);
        const rowOf = (l: number) => {
          const at = i32Add(dense, i32Mul(i32Load(i32Add(list, i32Shl(kk, i32(2))), 4 * l), i32(4 * F)));
          return l === 0 ? g.letI(at) : g.letI(select(at, zeroRow, i32LtS(i32Add(kk, i32(l)), n)));
        };
        const rows = [0, 1, 2, 3].map(rowOf);
        for (let q = 0; q < F; q += 4) {
          const out = transpose4(
            g,
            rows.map((r) => g.letV(v128Load(r, 4 * q))),
          );
          for (let v = 0; v < Math.min(4, F - q); v++) g.emit(v128Store(get(blk), out[v], 16 * (q + v)));
        }
        g.set(blk, i32Add(get(blk), i32(16 * F)));
      });
      g.emit(i32ShrU(i32Add(n, i32(L - 1)), i32(2)));
    });
}
