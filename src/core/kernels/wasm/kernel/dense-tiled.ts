// The dense path for many features (F ≥ TILED_DENSE_MIN_F): the non-empty samples of a batch, L to a block
// (lanes = samples), a chunk of TILE_CHUNK blocks at a time, trained as matrix products whose register tiles
// are looped over features instead of unrolled, so the code's size does not grow with F:
//     h = X W        z = b + h Wᵀ       (mid: activation, loss, dz)        dh = dZ W
//     ∇W += dZᵀ h + Xᵀ dh,  ∇b += Σ dz    (lane partial sums, added up by finish)
// Each product keeps a tile of accumulators in registers across its whole sum (over features for h, dh;
// hidden units for z; the chunk's samples for ∇W), so W and ∇W are not reloaded and rewritten per block.

import {
  type Expr,
  get,
  i32,
  i32Add,
  i32DivU,
  i32Load,
  i32LtS,
  i32Mul,
  i32Shl,
  i32Sub,
  select,
  Ty,
  v128Const,
  v128Store,
} from "../emit.js";
import { Gen } from "../gen.js";
import { type Ctx, chunks, type KernelBuild, rowAt, type XZ } from "./context.js";
import { impTableLayout, TILE_CHUNK } from "./layout.js";
import { emitHeavyLoop, emitMid, flushRowLoss } from "./mid.js";

/** Blocks per register tile of h = X W, dh = dZ W and z = b + h Wᵀ (a chunk is rounded up to a multiple). */
const BLOCK_TILE = 2;
/** Hidden units per tile of h and dh (BLOCK_TILE × this many accumulators). */
const PROJECT_TILE = 5;
/** Features per tile of z. */
const EXPAND_TILE = 5;
/** A ∇W tile: features × hidden units (with ∇b's, the dz and x of its features: 15 vectors). */
const GRAD_TILE_F = 2;
const GRAD_TILE_H = 4;

const ZERO = v128Const(new Uint8Array(16));

/**
 * for (i = 0; i < n; i++) with pointers p_j = base_j + i·step_j, which body reads: a wasm loop that runs at
 * least once (n ≥ 1, evaluated once).
 */
function strided(g: Gen, n: Expr, ptrs: [Expr, number][], body: (p: Expr[]) => void): void {
  const vars = ptrs.map(([base]) => g.varI(base));
  const end = g.letI(i32Add(get(vars[0]), i32Mul(n, i32(ptrs[0][1]))));
  g.loop((again) => {
    body(vars.map((v) => get(v)));
    ptrs.forEach(([, step], j) => {
      g.set(vars[j], i32Add(get(vars[j]), i32(step)));
    });
    g.brIf(again, i32LtS(get(vars[0]), end));
  });
}

/** out[b][k] = Σ_f A[b][f]·W[f, k] for the chunk's cnt blocks: A and out are workspace regions (src, dst). */
function emitProject(c: Ctx, cnt: Expr, src: number, dst: number): void {
  const { g, vt, lay, ws } = c;
  const { F, H } = lay;
  const R = BLOCK_TILE;
  strided(
    g,
    i32DivU(cnt, i32(R)),
    [
      [i32Add(ws, i32(src)), 16 * F * R],
      [i32Add(ws, i32(dst)), 16 * H * R],
    ],
    ([a, out]) => {
      for (const [k0, k1] of chunks(H, PROJECT_TILE)) {
        const acc = Array.from({ length: R }, () => Array.from({ length: k1 - k0 }, () => g.varV(ZERO)));
        strided(
          g,
          i32(F),
          [
            [a, 16],
            [ws, 16 * H],
          ],
          ([af, wrow]) => {
            const x = acc.map((_, r) => g.letV(vt.load(af, 16 * F * r)));
            for (let k = k0; k < k1; k++) {
              const w = g.letV(vt.load(wrow, lay.WSPLAT + 16 * k));
              for (let r = 0; r < R; r++) g.set(acc[r][k - k0], vt.madd(x[r], w, get(acc[r][k - k0])));
            }
          },
        );
        for (let r = 0; r < R; r++)
          for (let k = k0; k < k1; k++) g.emit(vt.store(out, get(acc[r][k - k0]), 16 * (H * r + k)));
      }
    },
  );
}

/** z[b][f] = b_f + Σ_k h[b][k]·W[f, k] for the chunk's blocks, EXPAND_TILE features at a time. */
function emitExpand(c: Ctx, cnt: Expr): void {
  const { g, vt, lay, ws } = c;
  const { F, H } = lay;
  const R = BLOCK_TILE;
  const C = EXPAND_TILE;
  strided(
    g,
    i32DivU(cnt, i32(R)),
    [
      [i32Add(ws, i32(lay.TH)), 16 * H * R],
      [i32Add(ws, i32(lay.TZ)), 16 * F * R],
    ],
    ([h, z]) => {
      /** n features from the one whose z is at zf (its b splat at bf + BSPLAT, its W row at wrow + WSPLAT). */
      const tile = (zf: Expr, bf: Expr, wrow: Expr, n: number) => {
        const acc = Array.from({ length: R }, () =>
          Array.from({ length: n }, (_, j) => g.varV(vt.load(bf, lay.BSPLAT + 16 * j))),
        );
        for (let k = 0; k < H; k++) {
          const hv = acc.map((_, r) => g.letV(vt.load(h, 16 * (H * r + k))));
          for (let j = 0; j < n; j++) {
            const w = g.letV(vt.load(wrow, lay.WSPLAT + 16 * (H * j + k)));
            for (let r = 0; r < R; r++) g.set(acc[r][j], vt.madd(hv[r], w, get(acc[r][j])));
          }
        }
        for (let r = 0; r < R; r++)
          for (let j = 0; j < n; j++) g.emit(vt.store(zf, get(acc[r][j]), 16 * (F * r + j)));
      };
      const full = Math.floor(F / C);
      if (full > 0)
        strided(
          g,
          i32(full),
          [
            [z, 16 * C],
            [ws, 16 * C],
            [ws, 16 * C * H],
          ],
          ([zf, bf, wrow]) => tile(zf, bf, wrow, C),
        );
      const f0 = full * C;
      if (F > f0)
        tile(i32Add(z, i32(16 * f0)), i32Add(ws, i32(16 * f0)), i32Add(ws, i32(16 * f0 * H)), F - f0);
    },
  );
}

/** The activation, loss and dz of each block of the chunk (z in and dz out at TZ, x at TX). */
function emitMids(c: Ctx, cnt: Expr): void {
  const { g, lay, ws } = c;
  const tab = impTableLayout(lay.F, lay.dtype);
  strided(g, cnt, [[i32Add(ws, i32(lay.TZ)), 16 * lay.F]], ([zb]) => {
    // the block's regions at fixed distances from its z: the mid code addresses them from `ws`
    const block: Ctx = { ...c, ws: zb, lay: { ...lay, EXPB: lay.TE - lay.TZ } };
    const site: XZ = { tmp: 0, x: lay.TX - lay.TZ };
    if (c.act.kind === "elementwise") {
      const lossv = g.varV(ZERO);
      emitHeavyLoop(block, c.act.gen, lossv, lay.F, site, tab.KS);
      flushRowLoss(c, lossv);
    } else {
      emitMid(block, "dense", site);
    }
  });
}

/** ∇W[f, k] += Σ_b dz[b][f]·h[b][k] + x[b][f]·dh[b][k] and ∇b[f] += Σ_b dz[b][f] over the chunk's blocks. */
function emitGrad(c: Ctx, cnt: Expr): void {
  const { g, vt, lay, ws } = c;
  const { F, H } = lay;
  const toX = lay.TX - lay.TZ;
  const toDh = lay.TDH - lay.TH;
  /** n features from the one whose z is at zf (∇W row at gwrow + GW, ∇b at gbf + GB). */
  const tile = (zf: Expr, gwrow: Expr, gbf: Expr, n: number) => {
    for (const [k0, k1] of chunks(H, GRAD_TILE_H)) {
      const at = (j: number, k: number) => lay.GW + 16 * (H * j + k);
      const acc = Array.from({ length: n }, (_, j) =>
        Array.from({ length: k1 - k0 }, (_, d) => g.varV(vt.load(gwrow, at(j, k0 + d)))),
      );
      const gb = k0 === 0 ? Array.from({ length: n }, (_, j) => g.varV(vt.load(gbf, lay.GB + 16 * j))) : [];
      strided(
        g,
        cnt,
        [
          [zf, 16 * F],
          [i32Add(ws, i32(lay.TH)), 16 * H],
        ],
        ([zb, hb]) => {
          const dz = acc.map((_, j) => g.letV(vt.load(zb, 16 * j)));
          const x = acc.map((_, j) => g.letV(vt.load(zb, toX + 16 * j)));
          for (let k = k0; k < k1; k++) {
            const hv = g.letV(vt.load(hb, 16 * k));
            for (let j = 0; j < n; j++) g.set(acc[j][k - k0], vt.madd(dz[j], hv, get(acc[j][k - k0])));
          }
          for (let k = k0; k < k1; k++) {
            const dh = g.letV(vt.load(hb, toDh + 16 * k));
            for (let j = 0; j < n; j++) g.set(acc[j][k - k0], vt.madd(x[j], dh, get(acc[j][k - k0])));
          }
          for (const [j, v] of gb.entries()) g.set(v, vt.add(get(v), dz[j]));
        },
      );
      for (let j = 0; j < n; j++)
        for (let k = k0; k < k1; k++) g.emit(vt.store(gwrow, get(acc[j][k - k0]), at(j, k)));
      for (const [j, v] of gb.entries()) g.emit(vt.store(gbf, get(v), lay.GB + 16 * j));
    }
  };
  const C = GRAD_TILE_F;
  const full = Math.floor(F / C);
  const z0 = i32Add(ws, i32(lay.TZ));
  if (full > 0)
    strided(
      g,
      i32(full),
      [
        [z0, 16 * C],
        [ws, 16 * C * H],
        [ws, 16 * C],
      ],
      ([zf, gwrow, gbf]) => tile(zf, gwrow, gbf, C),
    );
  const f0 = full * C;
  if (F > f0) tile(i32Add(z0, i32(16 * f0)), i32Add(ws, i32(16 * f0 * H)), i32Add(ws, i32(16 * f0)), F - f0);
}

/**
 * dense_tiled(ws, rows, feat, val, n, impk) -> rows processed (padding included): the n rows of a compacted
 * batch (compact_rows), as dense_sparse. A chunk's blocks are filled into TX (padding lanes, and padding
 * blocks up to a multiple of BLOCK_TILE, are all-zero samples, which the caller counts out).
 */
export function emitDenseTiled(kb: KernelBuild): void {
  const { mb, lay, vt, newCtx, flushLoss } = kb;
  const { F, L, E } = lay;
  mb.fn("dense_tiled", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const [list, feat, val, n] = [get(1), get(2), get(3), get(4)];
    const c = newCtx(g, ws, get(5));
    const k = g.varI(i32(0));
    const done = g.varI(i32(0));
    const cnt = g.varI();
    const R = BLOCK_TILE;
    const blocks = g.letI(i32DivU(i32Add(n, i32(L - 1)), i32(L)));
    g.forRange(i32(0), blocks, TILE_CHUNK, (b0) => {
      const left = g.letI(i32Sub(blocks, b0));
      const upTo = select(left, i32(TILE_CHUNK), i32LtS(left, i32(TILE_CHUNK)));
      g.set(cnt, i32Mul(i32DivU(i32Add(upTo, i32(R - 1)), i32(R)), i32(R)));
      // fill: zero each block, then write each row's entries into its lane
      strided(g, get(cnt), [[i32Add(ws, i32(lay.TX)), 16 * F]], ([xb]) => {
        strided(g, i32(F), [[xb, 16]], ([p]) => g.emit(v128Store(p, ZERO)));
        for (let lane = 0; lane < L; lane++)
          g.if(i32LtS(get(k), n), () => {
            const start = g.letI(rowAt(list, get(k)));
            const count = i32Sub(rowAt(list, get(k), 4), start);
            const at = (base: Expr, shift: number) => i32Add(base, i32Shl(start, i32(shift)));
            strided(
              g,
              count,
              [
                [at(feat, 2), 4],
                [at(val, vt.shift), E],
              ],
              ([fp, vp]) => {
                const slot = i32Add(xb, i32Shl(i32Load(fp), i32(4)));
                g.emit(vt.sStore(slot, vt.sLoad(vp), lane * E));
              },
            );
            g.set(k, i32Add(get(k), i32(1)));
          });
      });
      emitProject(c, get(cnt), lay.TX, lay.TH);
      emitExpand(c, get(cnt));
      emitMids(c, get(cnt));
      emitProject(c, get(cnt), lay.TZ, lay.TDH);
      emitGrad(c, get(cnt));
      g.set(done, i32Add(get(done), i32Mul(get(cnt), i32(L))));
    });
    flushLoss(c);
    g.emit(get(done));
  });
}
