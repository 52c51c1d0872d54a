// An instance's start and end in the kernel: setup copies its parameters in (and for the Gram path
// computes M = W Wᵀ); finish writes ∇W and ∇b out and adds the all-zero samples' share in closed form.

import {
  type Expr,
  f64Add,
  f64c,
  f64Load,
  f64Mul,
  f64Ne,
  f64Store,
  f64x2ExtractLane,
  get,
  i32,
  i32Add,
  i32Load,
  i32Mul,
  i32Shl,
  i32Store,
  Ty,
} from "../emit.js";
import { Gen } from "../gen.js";
import { type KernelBuild, zeroRegion } from "./context.js";
import { emitGramFinishLooped, emitGramSetupLooped, GRAM_LOOPED_MIN_F } from "./gram-looped.js";
import { emitDenseFinishLooped, emitDenseZeroLooped, emitSetupCopiesLooped } from "./instance-looped.js";
import { TILED_DENSE_MIN_F } from "./layout.js";
import { emitMid } from "./mid.js";

/**
 * setup(ws, w, b, gram): copy W [F·H] and b [F] of one instance in, splat them, zero accumulators.
 */
export function emitSetup(kb: KernelBuild): void {
  const { mb, lay, vt } = kb;
  const { F, H, E, V, Fp } = lay;
  mb.fn("setup", [Ty.i32, Ty.i32, Ty.i32, Ty.i32], [], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const [w, b] = [get(1), get(2)];
    if (F >= TILED_DENSE_MIN_F) emitSetupCopiesLooped(kb, g, ws, w, b);
    else {
      for (let q = 0; q < F * H; q++) g.emit(vt.sStore(ws, vt.sLoad(w, q * E), lay.W + q * E));
      for (let q = 0; q < F; q++) g.emit(vt.sStore(ws, vt.sLoad(b, q * E), lay.BIAS + q * E));
      for (let q = 0; q < F * H; q++)
        g.emit(vt.store(ws, vt.loadSplat(ws, lay.W + q * E), lay.WSPLAT + 16 * q));
      for (let q = 0; q < F; q++)
        g.emit(vt.store(ws, vt.loadSplat(ws, lay.BIAS + q * E), lay.BSPLAT + 16 * q));
    }
    g.emit(f64Store(ws, f64c(0), lay.OUT_LOSS));
    g.if(
      get(3),
      () => {
        if (F >= GRAM_LOOPED_MIN_F) {
          emitGramSetupLooped(kb, g, ws);
          zeroRegion(g, ws, lay.GB, V * 16);
          return;
        }
        // WCOL: the columns of W as vectors over features; M = W Wᵀ by columns.
        for (let fi = 0; fi < F; fi++)
          for (let k = 0; k < H; k++)
            g.emit(vt.sStore(ws, vt.sLoad(ws, lay.W + (fi * H + k) * E), lay.WCOL + (k * Fp + fi) * E));
        for (let gi = 0; gi < F; gi++) {
          for (let v = 0; v < V; v++) {
            let acc: Expr | undefined;
            for (let k = 0; k < H; k++) {
              const term = vt.mul(
                vt.load(ws, lay.WCOL + k * Fp * E + 16 * v),
                vt.load(ws, lay.WSPLAT + 16 * (gi * H + k)),
              );
              acc = acc ? vt.add(acc, term) : term;
            }
            g.emit(vt.store(ws, acc as Expr, lay.M + gi * Fp * E + 16 * v));
          }
        }
        zeroRegion(g, ws, lay.GB, V * 16);
      },
      () => {
        if (F >= TILED_DENSE_MIN_F) return emitDenseZeroLooped(kb, g, ws);
        zeroRegion(g, ws, lay.GW, F * H * 16);
        zeroRegion(g, ws, lay.GB, F * 16);
      },
    );
  });
}

/**
 * finish(ws, outW, outB, gram, impk, n0): the instance's ∇W [F·H] and ∇b [F] as f64, and the n0 all-zero
 * samples' share of ∇b and the loss, which the kernels skipped: each has z = b, x = 0 (so h = 0 and no
 * ∇W), hence one row's dz and loss, times n0.
 */
export function emitFinish(kb: KernelBuild): void {
  const { mb, lay, vt, jsMid, trackUsed, newCtx } = kb;
  const { F, H, E, V, Fp } = lay;
  mb.fn("finish", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.f64], [], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const [outW, outB, n0] = [get(1), get(2), get(5)];
    g.if(
      get(3),
      () => {
        if (F >= GRAM_LOOPED_MIN_F) return emitGramFinishLooped(kb, g, ws, outW, outB);
        // ∇W = C W + Cᵀ W over the columns of C in use; C is left zero for the next call.
        const n = trackUsed ? g.letI(i32Load(ws, lay.USEDN)) : i32(F);
        // column u of the list, or simply u when every column is visited
        const usedAt = (u: Expr) => (trackUsed ? i32Load(i32Add(ws, i32Shl(u, i32(2))), lay.USEDLIST) : u);
        for (let k = 0; k < H; k++) {
          const acc: number[] = [];
          for (let v = 0; v < V; v++) acc.push(g.varV(vt.c(0)));
          g.forRange(i32(0), n, 1, (u) => {
            const gi = g.letI(usedAt(u));
            const colAddr = g.letI(i32Add(ws, i32Mul(gi, i32(Fp * E))));
            const w = g.letV(vt.load(i32Add(ws, i32Mul(gi, i32(H * 16))), lay.WSPLAT + 16 * k));
            for (let v = 0; v < V; v++)
              g.set(acc[v], vt.madd(vt.load(colAddr, lay.C + 16 * v), w, get(acc[v])));
          });
          for (let v = 0; v < V; v++) g.emit(vt.store(ws, get(acc[v]), lay.CW + k * Fp * E + 16 * v));
        }
        for (let fi = 0; fi < F; fi++)
          for (let k = 0; k < H; k++)
            g.emit(f64Store(outW, vt.sToF64(vt.sLoad(ws, lay.CW + (k * Fp + fi) * E)), 8 * (fi * H + k)));
        g.forRange(i32(0), n, 1, (u) => {
          const fi = g.letI(usedAt(u));
          const colAddr = g.letI(i32Add(ws, i32Mul(fi, i32(Fp * E))));
          const outRow = g.letI(i32Add(outW, i32Mul(fi, i32(H * 8))));
          const cv: Expr[] = [];
          for (let v = 0; v < V; v++) cv.push(g.letV(vt.load(colAddr, lay.C + 16 * v)));
          for (let k = 0; k < H; k++) {
            let acc: Expr | undefined;
            for (let v = 0; v < V; v++) {
              const term = vt.mul(cv[v], vt.load(ws, lay.WCOL + k * Fp * E + 16 * v));
              acc = acc ? vt.add(acc, term) : term;
            }
            g.emit(
              f64Store(outRow, f64Add(f64Load(outRow, 8 * k), vt.sToF64(vt.hsum(g, acc as Expr))), 8 * k),
            );
          }
          for (let v = 0; v < V; v++) g.emit(vt.store(colAddr, vt.c(0), lay.C + 16 * v));
          if (trackUsed) g.emit(i32Store(i32Add(ws, i32Shl(fi, i32(2))), i32(0), lay.USEDFLAG));
        });
        if (trackUsed) g.emit(i32Store(ws, i32(0), lay.USEDN));
        for (let fi = 0; fi < F; fi++)
          g.emit(f64Store(outB, vt.sToF64(vt.sLoad(ws, lay.GB + fi * E)), 8 * fi));
      },
      () => {
        if (F >= TILED_DENSE_MIN_F) return emitDenseFinishLooped(kb, g, ws, outW, outB);
        for (let q = 0; q < F * H; q++)
          g.emit(f64Store(outW, vt.sToF64(vt.hsum(g, vt.load(ws, lay.GW + 16 * q))), 8 * q));
        for (let q = 0; q < F; q++)
          g.emit(f64Store(outB, vt.sToF64(vt.hsum(g, vt.load(ws, lay.GB + 16 * q))), 8 * q));
      },
    );
    // n0 < 0 takes back the dense path's padding lanes, which it trained as all-zero samples
    g.if(f64Ne(n0, f64c(0)), () => {
      // the row mid (Gram layout) on z = b at TMP, x = 0 at XROW; BIAS's padding lanes are zero
      for (let v = 0; v < V; v++) g.emit(vt.store(ws, vt.load(ws, lay.BIAS + 16 * v), lay.TMP + 16 * v));
      zeroRegion(g, ws, lay.XROW, V * 16);
      const c = newCtx(g, ws, get(4));
      emitMid(c, "gram");
      const rowLoss = jsMid
        ? get(c.loss)
        : f64Add(f64x2ExtractLane(get(c.loss), 0), f64x2ExtractLane(get(c.loss), 1));
      g.emit(f64Store(ws, f64Add(f64Load(ws, lay.OUT_LOSS), f64Mul(n0, rowLoss)), lay.OUT_LOSS));
      for (let q = 0; q < F; q++)
        g.emit(
          f64Store(
            outB,
            f64Add(f64Load(outB, 8 * q), f64Mul(n0, vt.sToF64(vt.sLoad(ws, lay.TMP + q * E)))),
            8 * q,
          ),
        );
    });
  });
}
