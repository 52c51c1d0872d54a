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
  i32And,
  i32DivU,
  i32Eqz,
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
import { transpose2, transpose4 } from "./transpose.js";

/**
 * Blocks per register tile of h = X W, dh = dZ W and z = b + h Wᵀ (a chunk is rounded up to a multiple, and
 * TILE_CHUNK must be one).
 */
const BLOCK_TILE = 2;
/** Hidden units per tile of h and dh (BLOCK_TILE × this many accumulators). */
const PROJECT_TILE = 4;
/** Features per tile of z. */
const EXPAND_TILE = 4;
/** A ∇W tile: features × hidden units. */
const GRAD_TILE_F = 2;
const GRAD_TILE_H = 4;
/** Features per pass of ∇b. */
const BIAS_TILE = 8;
/** W[f, k] splatted from W itself (in L1 at these sizes, where WSPLAT is four times larger): an entry's bytes. */
const wStep = (c: Ctx) => c.lay.E;
const wLoad = (c: Ctx, at: Expr, entry: number) => c.vt.loadSplat(at, c.lay.W + c.lay.E * entry);

const ZERO = v128Const(new Uint8Array(16));

/**
 * for (i = 0; i < n; i++) with pointers p_j = base_j + i·step_j, which body reads: a wasm loop that runs at
 * least once (n ≥ 1, evaluated once).
 */
export function strided(g: Gen, n: Expr, ptrs: [Expr, number][], body: (p: Expr[]) => void): void {
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

/** One operand of a register tile: a pointer from `base`, advanced by `step` each iteration; its i-th vector. */
interface Operand {
  base: Expr;
  step: number;
  at: (p: Expr, i: number) => Expr;
}

/**
 * acc[i][j] += a_i · b_j, summed over n iterations. TurboFan loads every operand of an iteration first, so
 * the tile's accumulators and operands (rows·cols + rows + cols vectors) must fit the 15 vector registers.
 */
function tileSum(c: Ctx, n: Expr, a: Operand, b: Operand, acc: number[][]): void {
  const { g, vt } = c;
  strided(
    g,
    n,
    [
      [a.base, a.step],
      [b.base, b.step],
    ],
    ([pa, pb]) => {
      const av = acc.map((_, i) => g.letV(a.at(pa, i)));
      for (let j = 0; j < acc[0].length; j++) {
        const bv = g.letV(b.at(pb, j));
        for (let i = 0; i < acc.length; i++) g.set(acc[i][j], vt.madd(av[i], bv, get(acc[i][j])));
      }
    },
  );
}

/** A rows × cols tile of accumulators, each initialised by init(i, j). */
const newTile = (g: Gen, rows: number, cols: number, init: (i: number, j: number) => Expr): number[][] =>
  Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => g.varV(init(i, j))));

/**
 * body(p, n) over `count` items in tiles of `size`: a loop over the whole tiles with pointers (bases and bytes
 * per item, as strided), then the rest (n < size) at constant offsets.
 */
function tiled(
  g: Gen,
  count: number,
  size: number,
  ptrs: [Expr, number][],
  body: (p: Expr[], n: number) => void,
): void {
  const full = Math.floor(count / size);
  if (full > 0)
    strided(
      g,
      i32(full),
      ptrs.map(([base, step]) => [base, step * size]),
      (p) => body(p, size),
    );
  const done = full * size;
  if (count > done)
    body(
      ptrs.map(([base, step]) => i32Add(base, i32(step * done))),
      count - done,
    );
}

/** out[b][k] = Σ_f A[b][f]·W[f, k] for the chunk's cnt blocks: A and out are workspace regions (src, dst). */
function emitProject(c: Ctx, cnt: Expr, src: number, dst: number): void {
  const { g, vt, lay, ws } = c;
  const { F, H } = lay;
  const R = BLOCK_TILE;
  const ptrs: [Expr, number][] = [
    [i32Add(ws, i32(src)), 16 * F * R],
    [i32Add(ws, i32(dst)), 16 * H * R],
  ];
  strided(g, i32DivU(cnt, i32(R)), ptrs, ([a, out]) => {
    for (const [k0, k1] of chunks(H, PROJECT_TILE)) {
      const acc = newTile(g, R, k1 - k0, () => ZERO);
      const x = { base: a, step: 16, at: (p: Expr, r: number) => vt.load(p, 16 * F * r) };
      const w = { base: ws, step: wStep(c) * H, at: (p: Expr, j: number) => wLoad(c, p, k0 + j) };
      tileSum(c, i32(F), x, w, acc);
      for (let r = 0; r < R; r++)
        for (let k = k0; k < k1; k++) g.emit(vt.store(out, get(acc[r][k - k0]), 16 * (H * r + k)));
    }
  });
}

/** z[b][f] = b_f + Σ_k h[b][k]·W[f, k] for the chunk's blocks, EXPAND_TILE features at a time. */
function emitExpand(c: Ctx, cnt: Expr): void {
  const { g, vt, lay, ws } = c;
  const { F, H } = lay;
  const R = BLOCK_TILE;
  const ptrs: [Expr, number][] = [
    [i32Add(ws, i32(lay.TH)), 16 * H * R],
    [i32Add(ws, i32(lay.TZ)), 16 * F * R],
  ];
  strided(g, i32DivU(cnt, i32(R)), ptrs, ([h, z]) => {
    // per feature: its z, its b splat (BSPLAT) and its row of W
    const fptrs: [Expr, number][] = [
      [z, 16],
      [ws, 16],
      [ws, wStep(c) * H],
    ];
    tiled(g, F, EXPAND_TILE, fptrs, ([zf, bf, wrow], n) => {
      const acc = newTile(g, R, n, (_, j) => vt.load(bf, lay.BSPLAT + 16 * j));
      const hv = { base: h, step: 16, at: (p: Expr, r: number) => vt.load(p, 16 * H * r) };
      const w = { base: wrow, step: wStep(c), at: (p: Expr, j: number) => wLoad(c, p, H * j) };
      tileSum(c, i32(H), hv, w, acc);
      for (let r = 0; r < R; r++)
        for (let j = 0; j < n; j++) g.emit(vt.store(zf, get(acc[r][j]), 16 * (F * r + j)));
    });
  });
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

/** ∇W[f, k] += Σ_b dz[b][f]·h[b][k] + x[b][f]·dh[b][k] over the chunk's blocks, and ∇b[f] += Σ_b dz[b][f]. */
function emitGrad(c: Ctx, cnt: Expr): void {
  const { g, vt, lay, ws } = c;
  const { F, H } = lay;
  // per feature: its dz (z region) and its row of ∇W
  const fptrs: [Expr, number][] = [
    [ws, 16],
    [ws, 16 * H],
  ];
  tiled(g, F, GRAD_TILE_F, fptrs, ([fo, gwrow], n) => {
    for (const [k0, k1] of chunks(H, GRAD_TILE_H)) {
      const at = (j: number, k: number) => lay.GW + 16 * (H * j + k);
      const acc = newTile(g, n, k1 - k0, (j, d) => vt.load(gwrow, at(j, k0 + d)));
      // the two products, one after the other: each accumulator takes one multiply-add per iteration
      for (const [a, b] of [
        [lay.TZ, lay.TH],
        [lay.TX, lay.TDH],
      ]) {
        const left = {
          base: i32Add(fo, i32(a)),
          step: 16 * F,
          at: (p: Expr, j: number) => vt.load(p, 16 * j),
        };
        const right = {
          base: i32Add(ws, i32(b)),
          step: 16 * H,
          at: (p: Expr, d: number) => vt.load(p, 16 * (k0 + d)),
        };
        tileSum(c, cnt, left, right, acc);
      }
      for (let j = 0; j < n; j++)
        for (let k = k0; k < k1; k++) g.emit(vt.store(gwrow, get(acc[j][k - k0]), at(j, k)));
    }
  });
  tiled(g, F, BIAS_TILE, [[ws, 16]], ([fo], n) => {
    const acc = Array.from({ length: n }, (_, j) => g.varV(vt.load(fo, lay.GB + 16 * j)));
    strided(g, cnt, [[i32Add(fo, i32(lay.TZ)), 16 * F]], ([zb]) => {
      for (const [j, v] of acc.entries()) g.set(v, vt.add(get(v), vt.load(zb, 16 * j)));
    });
    for (const [j, v] of acc.entries()) g.emit(vt.store(fo, get(v), lay.GB + 16 * j));
  });
}

/** The rows of a compacted batch (compact_rows): starts, features and values, and how many. */
interface Rows {
  list: Expr;
  feat: Expr;
  val: Expr;
  n: Expr;
}

/**
 * Fills the chunk's cnt blocks at TX from rows k, k + 1, … (k advances past them). A block whose L rows hold
 * every feature (the rows of p = 1, features in order) is transposed from them L features at a time; any
 * other is zeroed and each row's entries written into its lane. Lanes past the n-th row stay zero.
 */
function emitFill(c: Ctx, rows: Rows, k: number, cnt: Expr): void {
  const { g, vt, lay, ws } = c;
  const { F, L, E } = lay;
  const { list, feat, val, n } = rows;
  strided(g, cnt, [[i32Add(ws, i32(lay.TX)), 16 * F]], ([xb]) => {
    const first = g.letI(rowAt(list, get(k)));
    // list[k + L] is read before the bound is known: within compact_rows' n + 4 entries
    const inBatch = i32LtS(i32Add(get(k), i32(L - 1)), n);
    const allFull = i32Eqz(i32Sub(i32Sub(rowAt(list, get(k), 4 * L), first), i32(L * F)));
    g.if(
      i32And(inBatch, allFull),
      () => {
        const rowsAt = g.letI(i32Add(val, i32Shl(first, i32(vt.shift))));
        const groups = Math.floor(F / L);
        const ptrs: [Expr, number][] = [
          [rowsAt, 16],
          [xb, 16 * L],
        ];
        strided(g, i32(groups), ptrs, ([from, to]) => {
          const r = Array.from({ length: L }, (_, l) => g.letV(vt.load(from, l * F * E)));
          const out = vt.f32 ? transpose4(g, r) : transpose2(r);
          for (const [j, v] of out.entries()) g.emit(vt.store(to, v, 16 * j));
        });
        for (let f = groups * L; f < F; f++)
          for (let l = 0; l < L; l++)
            g.emit(vt.sStore(xb, vt.sLoad(rowsAt, (l * F + f) * E), 16 * f + l * E));
        g.set(k, i32Add(get(k), i32(L)));
      },
      () => {
        strided(g, i32(F), [[xb, 16]], ([p]) => g.emit(v128Store(p, ZERO)));
        for (let lane = 0; lane < L; lane++)
          g.if(i32LtS(get(k), n), () => {
            const start = g.letI(rowAt(list, get(k)));
            const count = i32Sub(rowAt(list, get(k), 4), start);
            const at = (base: Expr, shift: number) => i32Add(base, i32Shl(start, i32(shift)));
            const ptrs: [Expr, number][] = [
              [at(feat, 2), 4],
              [at(val, vt.shift), E],
            ];
            strided(g, count, ptrs, ([fp, vp]) => {
              const slot = i32Add(xb, i32Shl(i32Load(fp), i32(4)));
              g.emit(vt.sStore(slot, vt.sLoad(vp), lane * E));
            });
            g.set(k, i32Add(get(k), i32(1)));
          });
      },
    );
  });
}

/**
 * dense_tiled(ws, rows, feat, val, n, impk) -> rows processed (padding included): the n rows of a compacted
 * batch (compact_rows). A chunk's blocks are filled into TX (padding lanes, and padding
 * blocks up to a multiple of BLOCK_TILE, are all-zero samples, which the caller counts out).
 */
export function emitDenseTiled(kb: KernelBuild): void {
  const { mb, lay, newCtx, flushLoss } = kb;
  const { L } = lay;
  mb.fn("dense_tiled", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const [list, feat, val, n] = [get(1), get(2), get(3), get(4)];
    const c = newCtx(g, ws, get(5));
    const k = g.varI(i32(0));
    const done = g.varI(i32(0));
    const cnt = g.varI();
    const R = BLOCK_TILE;
    if (TILE_CHUNK % R !== 0) throw new Error(`TILE_CHUNK must be a multiple of ${R}`);
    const blocks = g.letI(i32DivU(i32Add(n, i32(L - 1)), i32(L)));
    g.forRange(i32(0), blocks, TILE_CHUNK, (b0) => {
      const left = g.letI(i32Sub(blocks, b0));
      const upTo = select(left, i32(TILE_CHUNK), i32LtS(left, i32(TILE_CHUNK)));
      g.set(cnt, i32Mul(i32DivU(i32Add(upTo, i32(R - 1)), i32(R)), i32(R)));
      emitFill(c, { list, feat, val, n }, k, get(cnt));
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
