// The Gram path for many features, as loops of bounded size: gram.ts and instance.ts unroll over features,
// so their code grows as F² (megabytes at F = 200) and past the caches the code itself is the bottleneck.
// Here every pass over features is a loop over blocks of vectors, with a register-blocked body:
//
//  * rows: per block of ROW_BLOCK vectors of z (lanes = features), z = b + Σ_j M[:, j]·x_j over the row's
//    non-zeros, then (light activations) the activation, loss and dz in registers and C[:, j] += dz·x_j;
//  * setup: M = W Wᵀ in tiles of (vectors × columns) accumulators;
//  * finish: C W in tiles of (vectors × hidden units), Cᵀ W as dot products of C's columns with W's columns.
//
// Every sum is taken in the order of the unrolled code's (same operations, same order), so the two give
// the same numbers. The row's x is scattered to XROW before its z sums (and cleared after the row), so the
// scalar stores have retired when the activation reads x as vectors: no store-forwarding stall.

import {
  type Expr,
  f64Add,
  f64Load,
  f64Store,
  get,
  i32,
  i32Add,
  i32Eqz,
  i32Load,
  i32LtS,
  i32Mul,
  i32Shl,
  i32Store,
  Ty,
} from "../emit.js";
import { Gen } from "../gen.js";
import { actCtx, type Ctx, type KernelBuild, rowAt } from "./context.js";
import { impTableLayout } from "./layout.js";
import { emitElementwise, emitHeavyLoop, emitMid, flushRowLoss } from "./mid.js";

/** From this many features on, the Gram path is generated as loops (this file) instead of unrolled. */
export const GRAM_LOOPED_MIN_F = 48;

/** Vectors of a row's z (then dz) held in registers while the row's non-zeros are visited. */
const ROW_BLOCK = 6;
/** M = W Wᵀ tiles: vectors (over features f) × columns (g) of accumulators. */
const M_TILE = [4, 2] as const;
/** C W tiles: vectors × hidden units. */
const CW_TILE = [4, 2] as const;
/** Cᵀ W: hidden units whose dot products with one column of C are summed side by side. */
const CTW_UNITS = 6;

/**
 * Emits body(o, n) over the V vectors of a row in blocks of `size`: o is the byte offset of the block's first
 * vector (a loop variable), n its number of vectors; the last, shorter block (if any) is unrolled apart.
 */
function overBlocks(g: Gen, V: number, size: number, body: (o: Expr, n: number) => void): void {
  const whole = V - (V % size);
  if (whole > 0) g.forRange(i32(0), i32(16 * whole), 16 * size, (o) => body(g.letI(o), size));
  if (V % size) body(i32(16 * whole), V % size);
}

/** Like overBlocks over a count that is a runtime value: blocks of `size`, then one at a time. */
function overRuntime(g: Gen, n: Expr, size: number, body: (u: Expr, m: number) => void): void {
  const u = g.varI(i32(0));
  if (size > 1)
    g.block((done) => {
      g.loop((again) => {
        g.brIf(done, i32Eqz(i32LtS(i32Add(get(u), i32(size - 1)), n)));
        body(get(u), size);
        g.set(u, i32Add(get(u), i32(size)));
        g.brIf(again, i32(1));
      });
    });
  g.forRange(get(u), n, 1, (k) => body(k, 1));
}

/** gram_rows(ws, rows, feat, val, n, impk) -> n, as loops (see emitGramRows for the unrolled form). */
export function emitGramRowsLooped(kb: KernelBuild): void {
  const { mb, lay, vt, act, light, trackUsed, newCtx, flushLoss } = kb;
  const { F, E, V, Fp, dtype } = lay;
  const tab = impTableLayout(F, dtype);
  mb.fn("gram_rows", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const [rowList, feat, val, n] = [get(1), get(2), get(3), get(4)];
    const c = newCtx(g, ws, get(5));
    const start = g.varI();
    const end = g.varI();
    const nUsed = trackUsed ? g.varI(i32Load(ws, lay.USEDN)) : -1;
    // x rows are cleared entry by entry after use: start from a zero row
    overBlocks(g, V, 1, (o) => g.emit(vt.store(i32Add(ws, o), vt.c(0), lay.XROW)));
    /** body(colAt, xs) for each non-zero of the row: colAt = ws + o + (its column)·Fp·E, xs = x_j splat. */
    const eachNonZero = (o: Expr, body: (colAt: Expr, xs: Expr) => void) => {
      const wso = g.letI(i32Add(ws, o));
      g.forRange(i32Shl(get(start), i32(2)), i32Shl(get(end), i32(2)), 4, (jb) => {
        const j4 = g.letI(jb);
        const colAt = g.letI(i32Add(wso, i32Mul(i32Load(i32Add(feat, j4)), i32(Fp * E))));
        const xAt = i32Add(val, vt.f32 ? j4 : i32Shl(j4, i32(1)));
        body(colAt, g.letV(vt.loadSplat(xAt)));
      });
    };
    /** z = b + Σ_j M[:, j]·x_j for the n vectors of a block, in registers. */
    const blockZ = (o: Expr, m: number): number[] => {
      const at = g.letI(i32Add(ws, o));
      const z = Array.from({ length: m }, (_, u) => g.varV(vt.load(at, lay.BIAS + 16 * u)));
      eachNonZero(o, (colAt, xs) => {
        for (let u = 0; u < m; u++) g.set(z[u], vt.madd(vt.load(colAt, lay.M + 16 * u), xs, get(z[u])));
      });
      return z;
    };
    /** ∇b += dz and C[:, j] += dz·x_j for a block's dz. */
    const blockUpdate = (o: Expr, dz: Expr[]) => {
      const at = g.letI(i32Add(ws, o));
      dz.forEach((d, u) => {
        g.emit(vt.store(at, vt.add(vt.load(at, lay.GB + 16 * u), d), lay.GB + 16 * u));
      });
      eachNonZero(o, (colAt, xs) => {
        dz.forEach((d, u) => {
          const off = lay.C + 16 * u;
          g.emit(vt.store(colAt, vt.madd(d, xs, vt.load(colAt, off)), off));
        });
      });
    };
    /** Scatters the row's x to XROW (noting the columns of C it will use); `clear` writes zeros back. */
    const scatter = (clear: boolean) =>
      g.forRange(get(start), get(end), 1, (j) => {
        const jj = g.letI(j);
        const col = g.letI(i32Load(i32Add(feat, i32Shl(jj, i32(2)))));
        const x = clear ? vt.sc(0) : vt.sLoad(i32Add(val, i32Shl(jj, i32(vt.shift))));
        g.emit(vt.sStore(i32Add(ws, i32Shl(col, i32(vt.shift))), x, lay.XROW));
        if (clear || !trackUsed) return;
        const flagAt = g.letI(i32Add(ws, i32Shl(col, i32(2))));
        g.if(i32Eqz(i32Load(flagAt, lay.USEDFLAG)), () => {
          g.emit(i32Store(flagAt, i32(1), lay.USEDFLAG));
          g.emit(i32Store(i32Add(ws, i32Shl(get(nUsed), i32(2))), col, lay.USEDLIST));
          g.set(nUsed, i32Add(get(nUsed), i32(1)));
        });
      });
    g.forRange(i32(0), n, 1, (k) => {
      const kk = g.letI(k);
      g.set(start, rowAt(rowList, kk));
      g.set(end, rowAt(rowList, kk, 4));
      scatter(false);
      if (act.kind === "elementwise" && light) {
        // few constants: z, the activation and dz of a block stay in registers
        const lossv = g.varV(vt.c(0));
        overBlocks(g, V, ROW_BLOCK, (o, m) => {
          const z = blockZ(o, m);
          const at = g.letI(i32Add(ws, o));
          const kAt = g.letI(i32Add(c.impk, o));
          const dz = z.map((zu, u) =>
            emitElementwise(
              actCtx(c),
              act.gen,
              lossv,
              get(zu),
              vt.load(at, lay.XROW + 16 * u),
              vt.load(kAt, tab.KV + 16 * u),
            ),
          );
          blockUpdate(o, dz);
        });
        flushRowLoss(c, lossv);
      } else {
        overBlocks(g, V, ROW_BLOCK, (o, m) => {
          const at = g.letI(i32Add(ws, o));
          for (const [u, zu] of blockZ(o, m).entries()) g.emit(vt.store(at, get(zu), lay.TMP + 16 * u));
        });
        rowMid(c, kb);
        overBlocks(g, V, ROW_BLOCK, (o, m) => {
          const at = g.letI(i32Add(ws, o));
          blockUpdate(
            o,
            Array.from({ length: m }, (_, u) => g.letV(vt.load(at, lay.TMP + 16 * u))),
          );
        });
      }
      scatter(true);
    });
    if (trackUsed) g.emit(i32Store(ws, get(nUsed), lay.USEDN));
    flushLoss(c);
    g.emit(n);
  });
}

/** The activation, loss and dz of a row whose z is at TMP (dz back there), x at XROW: heavy, vector or JS. */
function rowMid(c: Ctx, kb: KernelBuild): void {
  const { act } = kb;
  const { g, vt, lay } = c;
  if (act.kind === "elementwise") {
    // many constants: a loop over the row's vectors (emitHeavyLoop), as the unrolled path does
    const lossv = g.varV(vt.c(0));
    emitHeavyLoop(
      c,
      act.gen,
      lossv,
      lay.V,
      { x: lay.XROW, tmp: lay.TMP },
      impTableLayout(lay.F, lay.dtype).KV,
    );
    flushRowLoss(c, lossv);
  } else {
    emitMid(c, "gram");
  }
}

/** setup's Gram part, as loops: WCOL (W's columns as vectors over features), then M = W Wᵀ by tiles. */
export function emitGramSetupLooped(kb: KernelBuild, g: Gen, ws: Expr): void {
  const { lay, vt } = kb;
  const { F, H, E, V, Fp } = lay;
  // WCOL[k][f] = W[f, k]
  g.forRange(i32(0), i32(F * E), E, (fo) => {
    const fE = g.letI(fo);
    const src = g.letI(i32Add(ws, i32Mul(fE, i32(H))));
    const dst = g.letI(i32Add(ws, fE));
    for (let k = 0; k < H; k++) g.emit(vt.sStore(dst, vt.sLoad(src, lay.W + k * E), lay.WCOL + k * Fp * E));
  });
  // M[:, g] = Σ_k WCOL[k]·W[g, k], summed over k in order (product first, then adds, as unrolled)
  const [TV, TG] = M_TILE;
  const tile = (vo: Expr, nv: number, gi: Expr, ng: number) => {
    const vAt = g.letI(i32Add(ws, vo));
    const wAt = g.letI(i32Add(ws, i32Mul(gi, i32(H * E))));
    const acc: number[] = [];
    const step = (k: number, first: boolean) => {
      const s = Array.from({ length: ng }, (_, q) => g.letV(vt.loadSplat(wAt, lay.W + (q * H + k) * E)));
      for (let i = 0; i < nv; i++) {
        const wk = g.letV(vt.load(vAt, lay.WCOL + k * Fp * E + 16 * i));
        for (let q = 0; q < ng; q++) {
          if (first) acc.push(g.varV(vt.mul(wk, s[q])));
          else g.set(acc[i * ng + q], vt.add(get(acc[i * ng + q]), vt.mul(wk, s[q])));
        }
      }
    };
    for (let k = 0; k < H; k++) step(k, k === 0);
    const mAt = g.letI(i32Add(vAt, i32Mul(gi, i32(Fp * E))));
    for (let i = 0; i < nv; i++)
      for (let q = 0; q < ng; q++) g.emit(vt.store(mAt, get(acc[i * ng + q]), lay.M + q * Fp * E + 16 * i));
  };
  overBlocks(g, V, TV, (vo, nv) => {
    const vo2 = g.letI(vo);
    overRuntime(g, i32(F), TG, (gi, ng) => tile(vo2, nv, g.letI(gi), ng));
  });
}

/**
 * finish's Gram part, as loops: ∇W = C W + Cᵀ W over the columns of C in use (all of them without
 * tracking), C left zero for the next call; ∇b from GB.
 */
export function emitGramFinishLooped(kb: KernelBuild, g: Gen, ws: Expr, outW: Expr, outB: Expr): void {
  const { lay, vt, trackUsed } = kb;
  const { F, H, E, V, Fp } = lay;
  const n = trackUsed ? g.letI(i32Load(ws, lay.USEDN)) : i32(F);
  const usedAt = (u: Expr) => (trackUsed ? i32Load(i32Add(ws, i32Shl(u, i32(2))), lay.USEDLIST) : u);
  // CW[k] = Σ_u C[:, g_u]·W[g_u, k], by tiles of vectors × hidden units
  const [TV, TK] = CW_TILE;
  const whole = H - (H % TK);
  const cwTile = (vo: Expr, nv: number, k0: number, nk: number) => {
    const acc = Array.from({ length: nv * nk }, () => g.varV(vt.c(0)));
    const vAt = g.letI(i32Add(ws, vo));
    g.forRange(i32(0), n, 1, (u) => {
      const gi = g.letI(usedAt(u));
      const colAt = g.letI(i32Add(vAt, i32Mul(gi, i32(Fp * E))));
      const wAt = g.letI(i32Add(ws, i32Mul(gi, i32(H * E))));
      const w = Array.from({ length: nk }, (_, q) => g.letV(vt.loadSplat(wAt, lay.W + (k0 + q) * E)));
      for (let i = 0; i < nv; i++) {
        const cv = g.letV(vt.load(colAt, lay.C + 16 * i));
        for (let q = 0; q < nk; q++) g.set(acc[i * nk + q], vt.madd(cv, w[q], get(acc[i * nk + q])));
      }
    });
    for (let i = 0; i < nv; i++)
      for (let q = 0; q < nk; q++)
        g.emit(vt.store(vAt, get(acc[i * nk + q]), lay.CW + (k0 + q) * Fp * E + 16 * i));
  };
  overBlocks(g, V, TV, (vo, nv) => {
    const vo2 = g.letI(vo);
    for (let k0 = 0; k0 < whole; k0 += TK) cwTile(vo2, nv, k0, TK);
    if (H % TK) cwTile(vo2, nv, whole, H % TK);
  });
  g.forRange(i32(0), i32(F), 1, (fi) => {
    const ff = g.letI(fi);
    const src = g.letI(i32Add(ws, i32Shl(ff, i32(vt.shift))));
    const dst = g.letI(i32Add(outW, i32Mul(ff, i32(H * 8))));
    for (let k = 0; k < H; k++) g.emit(f64Store(dst, vt.sToF64(vt.sLoad(src, lay.CW + k * Fp * E)), 8 * k));
  });
  // out[f, k] += Σ_v C[v, f]·WCOL[k][v] for each column f in use (products first, then adds in order)
  g.forRange(i32(0), n, 1, (u) => {
    const fi = g.letI(usedAt(u));
    const colAt = g.letI(i32Add(ws, i32Mul(fi, i32(Fp * E))));
    const outRow = g.letI(i32Add(outW, i32Mul(fi, i32(H * 8))));
    for (let k0 = 0; k0 < H; k0 += CTW_UNITS) {
      const k1 = Math.min(H, k0 + CTW_UNITS);
      const acc: number[] = [];
      const term = (vo: Expr, k: number, cv: Expr) =>
        vt.mul(cv, vt.load(i32Add(ws, vo), lay.WCOL + k * Fp * E));
      const c0 = g.letV(vt.load(colAt, lay.C));
      for (let k = k0; k < k1; k++) acc.push(g.varV(term(i32(0), k, c0)));
      g.forRange(i32(16), i32(16 * V), 16, (vo) => {
        const o = g.letI(vo);
        const cv = g.letV(vt.load(i32Add(colAt, o), lay.C));
        for (let k = k0; k < k1; k++) g.set(acc[k - k0], vt.add(get(acc[k - k0]), term(o, k, cv)));
      });
      for (let k = k0; k < k1; k++)
        g.emit(
          f64Store(outRow, f64Add(f64Load(outRow, 8 * k), vt.sToF64(vt.hsum(g, get(acc[k - k0])))), 8 * k),
        );
    }
    overBlocks(g, V, 1, (o) => g.emit(vt.store(i32Add(colAt, o), vt.c(0), lay.C)));
    if (trackUsed) g.emit(i32Store(i32Add(ws, i32Shl(fi, i32(2))), i32(0), lay.USEDFLAG));
  });
  if (trackUsed) g.emit(i32Store(ws, i32(0), lay.USEDN));
  g.forRange(i32(0), i32(F * E), E, (fo) => {
    const fE = g.letI(fo);
    g.emit(
      f64Store(
        i32Add(outB, i32Shl(fE, i32(vt.shift === 2 ? 1 : 0))),
        vt.sToF64(vt.sLoad(i32Add(ws, fE), lay.GB)),
      ),
    );
  });
}
