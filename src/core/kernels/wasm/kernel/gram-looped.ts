// The Gram path for many features, as loops of bounded size: gram.ts and instance.ts unroll over features,
// so their code grows as F² (megabytes at F = 200; past V8's function size limit at 400) and past the caches
// the code itself is the bottleneck. Here every pass over features is a loop over blocks of vectors, with a
// register-blocked body, and the module grows as F·H:
//
//  * rows: x scattered to XROW first (its scalar stores have retired by the time the activation reads it
//    as vectors: no store-forwarding stall), then per block of ROW_BLOCK vectors of z (lanes = features)
//    z = b + Σ_j M[:, j]·x_j over the row's non-zeros in registers; for light activations the activation,
//    loss and dz stay in registers too, and one pass over the non-zeros updates block b's C[:, j] += dz·x_j
//    and sums block b + 1's z;
//  * setup: M = W Wᵀ in tiles of (vectors × columns), from each column's diagonal block down, mirrored;
//  * finish: S = C + Cᵀ in place by L×L blocks, then ∇W = S W in tiles of (vectors × hidden units).
//
// The rows and M take every sum in the unrolled code's order (the same numbers); ∇W = S W rounds differently
// from C W + Cᵀ W, within the kernels' tolerances. M and C have Fp columns here (kernelLayout).

import {
  type Expr,
  f64Store,
  get,
  i32,
  i32Add,
  i32Eqz,
  i32Load,
  i32LtS,
  i32Mul,
  i32Shl,
  i32ShrU,
  Ty,
} from "../emit.js";
import { Gen } from "../gen.js";
import { actCtx, type Ctx, type KernelBuild, rowAt } from "./context.js";
import { impTableLayout } from "./layout.js";
import { emitElementwise, emitHeavyLoop, emitMid, flushRowLoss } from "./mid.js";
import { transpose2, transpose4 } from "./transpose.js";

export { GRAM_LOOPED_MIN_F } from "./layout.js";

/** Vectors of a row's z (then dz) held in registers while the row's non-zeros are visited. */
const ROW_BLOCK = 4;
/** M = W Wᵀ tiles: vectors (over features f) × columns (g) of accumulators. */
const M_TILE = [4, 2] as const;
/** C W tiles: vectors × hidden units. */
const CW_TILE = [4, 2] as const;

/**
 * Emits body(o, n) over the V vectors of a row in blocks of `size`: o is the byte offset of the block's first
 * vector (a loop variable), n its number of vectors; the last, shorter block (if any) is unrolled apart.
 */
function overBlocks(g: Gen, V: number, size: number, body: (o: Expr, n: number) => void): void {
  const whole = V - (V % size);
  if (whole > 0) g.forRange(i32(0), i32(16 * whole), 16 * size, (o) => body(g.letI(o), size));
  if (V % size) body(i32(16 * whole), V % size);
}

/**
 * body(at, m) over at = from, from + unit, … < to (runtime bounds): `size` at a time while whole, then one at
 * a time.
 */
function overSpan(
  g: Gen,
  from: Expr,
  to: Expr,
  unit: number,
  size: number,
  body: (at: Expr, m: number) => void,
): void {
  const at = g.varI(from);
  if (size > 1)
    g.block((done) => {
      g.loop((again) => {
        g.brIf(done, i32Eqz(i32LtS(i32Add(get(at), i32(unit * (size - 1))), to)));
        body(get(at), size);
        g.set(at, i32Add(get(at), i32(unit * size)));
        g.brIf(again, i32(1));
      });
    });
  g.forRange(get(at), to, unit, (a) => body(a, 1));
}

/** gram_rows(ws, rows, feat, val, n, impk) -> n, as loops (see emitGramRows for the unrolled form). */
export function emitGramRowsLooped(kb: KernelBuild): void {
  const { mb, lay, vt, act, light, newCtx, flushLoss } = kb;
  const { F, E, V, Fp, dtype } = lay;
  const tab = impTableLayout(F, dtype);
  mb.fn("gram_rows", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
    const [ws, rowList, feat, val, n, impk] = [0, 1, 2, 3, 4, 5].map(get);
    const g = new Gen(f);
    const c = newCtx(g, ws, impk);
    const start = g.varI();
    const end = g.varI();
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
    /** z of a block, in registers: zv[u] = b for its m vectors at `at` + shift. */
    const zv = Array.from({ length: ROW_BLOCK }, () => g.local(Ty.v128));
    const initZ = (at: Expr, m: number, shift: number) => {
      for (let u = 0; u < m; u++) g.set(zv[u], vt.load(at, lay.BIAS + shift + 16 * u));
    };
    /**
     * One pass over the row's non-zeros for the block at o: C[:, j] += dz·x_j (∇b += dz first), and the z sums
     * zv += M[:, j]·x_j of the mz vectors at o + shift (the same block, or the next one: one pass serves both,
     * sharing the column address and x_j).
     */
    const pass = (o: Expr, dz: Expr[], shift: number, mz: number) => {
      const at = g.letI(i32Add(ws, o));
      dz.forEach((d, u) => {
        g.emit(vt.store(at, vt.add(vt.load(at, lay.GB + 16 * u), d), lay.GB + 16 * u));
      });
      eachNonZero(o, (colAt, xs) => {
        dz.forEach((d, u) => {
          const off = lay.C + 16 * u;
          g.emit(vt.store(colAt, vt.madd(d, xs, vt.load(colAt, off)), off));
        });
        for (let u = 0; u < mz; u++)
          g.set(zv[u], vt.madd(vt.load(colAt, lay.M + shift + 16 * u), xs, get(zv[u])));
      });
    };
    /** The light activation of the block at o (z in zv): its dz, in registers; the loss into lossv. */
    const lightBlock = (o: Expr, m: number, lossv: number): Expr[] => {
      if (act.kind !== "elementwise") throw new Error("lightBlock: an elementwise activation");
      const at = g.letI(i32Add(ws, o));
      const kAt = g.letI(i32Add(c.impk, o));
      return zv
        .slice(0, m)
        .map((zu, u) =>
          emitElementwise(
            actCtx(c),
            act.gen,
            lossv,
            get(zu),
            vt.load(at, lay.XROW + 16 * u),
            vt.load(kAt, tab.KV + 16 * u),
          ),
        );
    };
    /**
     * A light activation's row, software-pipelined over blocks of ROW_BLOCK vectors: block b's activation,
     * then one pass for block b's C update and block b + 1's z sums.
     */
    const lightRow = () => {
      const U = ROW_BLOCK;
      const nb = Math.ceil(V / U);
      const last = V - U * (nb - 1);
      const lossv = g.varV(vt.c(0));
      initZ(ws, nb === 1 ? last : U, 0);
      pass(i32(0), [], 0, nb === 1 ? last : U);
      const step = (o: Expr, mNext: number) => {
        const dz = lightBlock(o, U, lossv);
        initZ(g.letI(i32Add(ws, o)), mNext, 16 * U);
        pass(o, dz, 16 * U, mNext);
      };
      if (nb > 2) g.forRange(i32(0), i32(16 * U * (nb - 2)), 16 * U, (o) => step(g.letI(o), U));
      if (nb > 1) step(i32(16 * U * (nb - 2)), last);
      const oLast = i32(16 * U * (nb - 1));
      pass(oLast, lightBlock(oLast, last, lossv), 0, 0);
      flushRowLoss(c, lossv);
    };
    /** Scatters the row's x to XROW; `clear` writes zeros back. */
    const scatter = (clear: boolean) =>
      g.forRange(get(start), get(end), 1, (j) => {
        const jj = g.letI(j);
        const col = i32Load(i32Add(feat, i32Shl(jj, i32(2))));
        const x = clear ? vt.sc(0) : vt.sLoad(i32Add(val, i32Shl(jj, i32(vt.shift))));
        g.emit(vt.sStore(i32Add(ws, i32Shl(col, i32(vt.shift))), x, lay.XROW));
      });
    g.forRange(i32(0), n, 1, (k) => {
      const kk = g.letI(k);
      g.set(start, rowAt(rowList, kk));
      g.set(end, rowAt(rowList, kk, 4));
      scatter(false);
      if (act.kind === "elementwise" && light) {
        // few constants: z, the activation and dz of a block stay in registers
        lightRow();
      } else {
        overBlocks(g, V, ROW_BLOCK, (o, m) => {
          const at = g.letI(i32Add(ws, o));
          initZ(at, m, 0);
          pass(o, [], 0, m);
          for (let u = 0; u < m; u++) g.emit(vt.store(at, get(zv[u]), lay.TMP + 16 * u));
        });
        rowMid(c, kb);
        overBlocks(g, V, ROW_BLOCK, (o, m) => {
          const at = g.letI(i32Add(ws, o));
          pass(
            o,
            Array.from({ length: m }, (_, u) => g.letV(vt.load(at, lay.TMP + 16 * u))),
            0,
            0,
          );
        });
      }
      scatter(true);
    });
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
  const { F, H, E, V, Fp, L } = lay;
  // WCOL[k][f] = W[f, k]
  g.forRange(i32(0), i32(F * E), E, (fo) => {
    const fE = g.letI(fo);
    const src = g.letI(i32Add(ws, i32Mul(fE, i32(H))));
    const dst = g.letI(i32Add(ws, fE));
    for (let k = 0; k < H; k++) g.emit(vt.sStore(dst, vt.sLoad(src, lay.W + k * E), lay.WCOL + k * Fp * E));
  });
  // M[:, g] = Σ_k WCOL[k]·W[g, k], summed over k in order (product first, then adds, as unrolled); only the
  // vectors from column g's own L×L block down: M is symmetric (the products commute), the rest is mirrored
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
  // TG columns at a time stay within one L×L block (TG divides L)
  overSpan(g, i32(0), i32(F), 1, TG, (gi, ng) => {
    const gg = g.letI(gi);
    const vStart = i32Shl(i32ShrU(gg, i32(Math.log2(L))), i32(4));
    overSpan(g, vStart, i32(16 * V), 16, TV, (vo, nv) => tile(g.letI(vo), nv, gg, ng));
  });
  emitMirror(kb, g, ws);
}

/** M's blocks above the diagonal from those below: M_IJ = (M_JI)ᵀ for I < J (M has Fp columns). */
function emitMirror(kb: KernelBuild, g: Gen, ws: Expr): void {
  const { lay, vt } = kb;
  const { E, V, Fp, L } = lay;
  const colBytes = Fp * E;
  g.forRange(i32(0), i32(16 * V), 16, (io) => {
    const iOff = g.letI(io);
    const iCols = g.letI(i32Add(ws, i32Mul(iOff, i32((L * colBytes) / 16))));
    g.forRange(i32Add(iOff, i32(16)), i32(16 * V), 16, (jo) => {
      const jOff = g.letI(jo);
      const jCols = g.letI(i32Add(ws, i32Mul(jOff, i32((L * colBytes) / 16))));
      const below = Array.from({ length: L }, (_, q) =>
        g.letV(vt.load(i32Add(iCols, jOff), lay.M + q * colBytes)),
      );
      const above = L === 4 ? transpose4(g, below) : transpose2(below);
      const ijAt = g.letI(i32Add(jCols, iOff));
      for (let q = 0; q < L; q++) g.emit(vt.store(ijAt, above[q], lay.M + q * colBytes));
    });
  });
}

/**
 * S = C + Cᵀ in place, by L×L blocks (I, J ≥ I) of vectors: S_IJ = C_IJ + (C_JI)ᵀ and S_JI = (S_IJ)ᵀ.
 * C has Fp columns here (kernelLayout), the padding ones zero, so every block is whole.
 */
function emitSymmetrize(kb: KernelBuild, g: Gen, ws: Expr): void {
  const { lay, vt } = kb;
  const { E, V, Fp, L } = lay;
  const colBytes = Fp * E;
  const transpose = (r: Expr[]) => (L === 4 ? transpose4(g, r) : transpose2(r));
  g.forRange(i32(0), i32(16 * V), 16, (io) => {
    const iOff = g.letI(io);
    // block I's columns: I·L + q, at C + (I·L + q)·Fp·E
    const iCols = g.letI(i32Add(ws, i32Mul(iOff, i32((L * colBytes) / 16))));
    g.forRange(iOff, i32(16 * V), 16, (jo) => {
      const jOff = g.letI(jo);
      const jCols = g.letI(i32Add(ws, i32Mul(jOff, i32((L * colBytes) / 16))));
      const ijAt = g.letI(i32Add(jCols, iOff));
      const jiAt = g.letI(i32Add(iCols, jOff));
      const cij = Array.from({ length: L }, (_, q) => g.letV(vt.load(ijAt, lay.C + q * colBytes)));
      const cji = transpose(Array.from({ length: L }, (_, q) => g.letV(vt.load(jiAt, lay.C + q * colBytes))));
      const sij = cij.map((c, q) => g.letV(vt.add(c, cji[q])));
      const sji = transpose(sij);
      for (let q = 0; q < L; q++) g.emit(vt.store(jiAt, sji[q], lay.C + q * colBytes));
      for (let q = 0; q < L; q++) g.emit(vt.store(ijAt, sij[q], lay.C + q * colBytes));
    });
  });
}

/**
 * finish's Gram part, as loops: ∇W = (C + Cᵀ) W, with S = C + Cᵀ formed in place (emitSymmetrize) and
 * S W by tiles of vectors × hidden units; C left zero for the next call; ∇b from GB.
 */
export function emitGramFinishLooped(kb: KernelBuild, g: Gen, ws: Expr, outW: Expr, outB: Expr): void {
  const { lay, vt } = kb;
  const { F, H, E, V, Fp } = lay;
  emitSymmetrize(kb, g, ws);
  // CW[k] = Σ_g S[:, g]·W[g, k], by tiles of vectors × hidden units
  const [TV, TK] = CW_TILE;
  const whole = H - (H % TK);
  const cwTile = (vo: Expr, nv: number, k0: number, nk: number) => {
    const acc = Array.from({ length: nv * nk }, () => g.varV(vt.c(0)));
    const vAt = g.letI(i32Add(ws, vo));
    g.forRange(i32(0), i32(F), 1, (gi) => {
      const gg = g.letI(gi);
      const colAt = g.letI(i32Add(vAt, i32Mul(gg, i32(Fp * E))));
      const wAt = g.letI(i32Add(ws, i32Mul(gg, i32(H * E))));
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
  overBlocks(g, Fp * V, 1, (o) => g.emit(vt.store(i32Add(ws, o), vt.c(0), lay.C)));
  g.forRange(i32(0), i32(F * E), E, (fo) => {
    const fE = g.letI(fo);
    const at = i32Add(outB, vt.f32 ? i32Shl(fE, i32(1)) : fE);
    g.emit(f64Store(at, vt.sToF64(vt.sLoad(i32Add(ws, fE), lay.GB))));
  });
}
