// The Gram path (lanes = features): with M = W Wᵀ (setup), a row with non-zeros S has
// z = b + Σ_{j∈S} M[:, j]·x_j, and C[:, j] += dz·x_j collects ∇W = (C + Cᵀ) W, applied once in finish.

import {
  type Expr,
  get,
  i32,
  i32Add,
  i32Eqz,
  i32GeS,
  i32Load,
  i32Mul,
  i32Shl,
  i32Store,
  Ty,
} from "../emit.js";
import { Gen } from "../gen.js";
import { actCtx, type KernelBuild, rowAt, zeroRegion } from "./context.js";
import { impTableLayout, SOFTMAX_ROWS, xrowBytes } from "./layout.js";
import { emitElementwise, emitHeavyLoop, emitMid, flushRowLoss, midRow } from "./mid.js";
import { emitVectorMid } from "./softmax.js";

/**
 * gram_rows(ws, rows, feat, val, n, impk) -> n: the n rows of a compacted batch (compact_rows)
 */
export function emitGramRows(kb: KernelBuild): void {
  const { mb, lay, vt, act, light, trackUsed, newCtx, flushLoss } = kb;
  const { F, E, V, Fp, dtype } = lay;
  mb.fn("gram_rows", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const [rowList, feat, val, n] = [get(1), get(2), get(3), get(4)];
    const c = newCtx(g, ws, get(5));
    const col = g.varI();
    const nUsed = trackUsed ? g.varI(i32Load(ws, lay.USEDN)) : -1;
    const xs = g.local(Ty.v128);
    const tab = impTableLayout(F, dtype);
    /** A row's extent (start, end) and where its x and z/dz live. */
    interface Row {
      start: number;
      end: number;
      xrow: number;
      tmp: number;
    }
    const newRow = (xrow: number, tmp: number): Row => ({ start: g.varI(), end: g.varI(), xrow, tmp });
    /** z = b + Σ_j M[:, j]·x_j for row k (V vectors), with x written out densely at row.xrow. */
    const rowZ = (row: Row, k: Expr): number[] => {
      g.set(row.start, rowAt(rowList, k));
      g.set(row.end, rowAt(rowList, k, 4));
      zeroRegion(g, ws, row.xrow, V * 16);
      const z: number[] = [];
      for (let v = 0; v < V; v++) z.push(g.varV(vt.load(ws, lay.BIAS + 16 * v)));
      g.forRange(get(row.start), get(row.end), 1, (j) => {
        const jj = g.letI(j);
        g.set(col, i32Load(i32Add(feat, i32Shl(jj, i32(2)))));
        const xj = g.let(vt.sTy, vt.sLoad(i32Add(val, i32Shl(jj, i32(vt.shift)))));
        g.set(xs, vt.splat(xj));
        const colAddr = g.letI(i32Add(ws, i32Mul(get(col), i32(Fp * E))));
        for (let v = 0; v < V; v++)
          g.set(z[v], vt.madd(vt.load(colAddr, lay.M + 16 * v), get(xs), get(z[v])));
        g.emit(vt.sStore(i32Add(ws, i32Shl(get(col), i32(vt.shift))), xj, row.xrow));
      });
      return z;
    };
    /** ∇b += dz and C[:, j] += dz·x_j for the row's non-zeros (noting which columns of C are in use). */
    const rowUpdate = (row: Row, dz: Expr[]) => {
      for (let v = 0; v < V; v++)
        g.emit(vt.store(ws, vt.add(vt.load(ws, lay.GB + 16 * v), dz[v]), lay.GB + 16 * v));
      g.forRange(get(row.start), get(row.end), 1, (j) => {
        const jj = g.letI(j);
        g.set(col, i32Load(i32Add(feat, i32Shl(jj, i32(2)))));
        g.set(xs, vt.splat(vt.sLoad(i32Add(val, i32Shl(jj, i32(vt.shift))))));
        const colAddr = g.letI(i32Add(ws, i32Mul(get(col), i32(Fp * E))));
        for (let v = 0; v < V; v++)
          g.emit(
            vt.store(colAddr, vt.madd(dz[v], get(xs), vt.load(colAddr, lay.C + 16 * v)), lay.C + 16 * v),
          );
        if (!trackUsed) return;
        const flagAt = g.letI(i32Add(ws, i32Shl(get(col), i32(2))));
        g.if(i32Eqz(i32Load(flagAt, lay.USEDFLAG)), () => {
          g.emit(i32Store(flagAt, i32(1), lay.USEDFLAG));
          g.emit(i32Store(i32Add(ws, i32Shl(get(nUsed), i32(2))), get(col), lay.USEDLIST));
          g.set(nUsed, i32Add(get(nUsed), i32(1)));
        });
      });
    };
    const storeZ = (row: Row, z: number[]) => {
      for (let v = 0; v < V; v++) g.emit(vt.store(ws, get(z[v]), row.tmp + 16 * v));
    };
    const loadDz = (row: Row) => Array.from({ length: V }, (_, v) => g.letV(vt.load(ws, row.tmp + 16 * v)));
    const first = newRow(lay.XROW, lay.TMP);
    /** One row from z to its updates. */
    const oneRow = (k: Expr) => {
      const z = rowZ(first, k);
      const dz: Expr[] = [];
      if (act.kind === "elementwise" && light) {
        // few constants: unrolled, z and dz stay in registers
        const lossv = g.varV(vt.c(0));
        for (let v = 0; v < V; v++) {
          const kv = vt.load(c.impk, tab.KV + 16 * v);
          dz.push(emitElementwise(actCtx(c), act.gen, lossv, get(z[v]), vt.load(ws, lay.XROW + 16 * v), kv));
        }
        flushRowLoss(c, lossv);
      } else if (act.kind === "elementwise") {
        // many constants: a loop over the row's vectors, so TurboFan reloads them per vector instead of
        // hoisting them all and spilling
        storeZ(first, z);
        const lossv = g.varV(vt.c(0));
        emitHeavyLoop(c, act.gen, lossv, V, { x: lay.XROW, tmp: lay.TMP }, tab.KV);
        flushRowLoss(c, lossv);
        dz.push(...loadDz(first));
      } else {
        storeZ(first, z);
        emitMid(c, "gram");
        dz.push(...loadDz(first));
      }
      rowUpdate(first, dz);
    };
    if (act.kind === "vector") {
      // the softmax family: rows in pairs, their activations side by side (emitVectorMid); then each row's
      // updates in row order, so every sum is added up as one row at a time would
      const group = [first];
      for (let r = 1; r < SOFTMAX_ROWS; r++)
        group.push(newRow(lay.XROW2 + (r - 1) * xrowBytes(Fp, E), lay.TMP2 + (r - 1) * 16 * F));
      const k = g.varI(i32(0));
      g.block((pairsDone) => {
        g.doWhile(
          () => {
            g.brIf(pairsDone, i32GeS(i32Add(get(k), i32(SOFTMAX_ROWS - 1)), n));
            for (const [r, row] of group.entries()) storeZ(row, rowZ(row, i32Add(get(k), i32(r))));
            const losses = group.map(() => g.varV(vt.c(0)));
            emitVectorMid(
              actCtx(c),
              "gram",
              act.id,
              V,
              (p) => vt.load(c.impk, tab.KV + 16 * p),
              (p) => vt.load(c.impk, tab.MASK + 16 * p),
              group.map((row, r) => midRow(c, { x: row.xrow, tmp: row.tmp }, losses[r])),
            );
            for (const loss of losses) flushRowLoss(c, loss);
            for (const row of group) rowUpdate(row, loadDz(row));
            g.set(k, i32Add(get(k), i32(SOFTMAX_ROWS)));
          },
          () => i32(1),
        );
      });
      g.forRange(get(k), n, 1, (kk) => oneRow(kk));
    } else {
      g.forRange(i32(0), n, 1, (k) => oneRow(k));
    }
    if (trackUsed) g.emit(i32Store(ws, get(nUsed), lay.USEDN));
    flushLoss(c);
    g.emit(n);
  });
}
