// The activation, loss and dL/dz of one dense block or Gram row ("mid", between the forward and backward
// passes): elementwise activations inline (their vector form, vact.ts), unrolled when light and in a loop
// when heavy; the softmax family (softmax.ts); or a call to JavaScript (env.mid).

import { call, type Expr, f64Add, f64x2Add, get, i32, i32Add } from "../emit.js";
import type { ElementwiseGen } from "../vact.js";
import { actCtx, type Ctx, firstBlock, type Layout, type MidRow, type XZ } from "./context.js";
import { impTableLayout } from "./layout.js";
import { emitLoopedSoftmax, emitVectorMid, LOOPED_SOFTMAX_MIN_F } from "./softmax.js";

/**
 * dz for one vector of an elementwise activation: (y, d) = act(z), e = y − x, dz = d·(k·e); adds (k·e)·e
 * to the loss vector (k = 2·imp/(B·F), so the caller halves the sum and gets Σ imp·e²/(B·F)).
 */
export function emitElementwise(c: Ctx, gen: ElementwiseGen, lossv: number, z: Expr, x: Expr, k: Expr): Expr {
  const { g, vt } = c;
  const { y, d } = gen(g, vt, z);
  const e = g.letV(vt.sub(y, x));
  const ke = g.letV(vt.mul(k, e));
  g.set(lossv, vt.madd(ke, e, get(lossv)));
  return g.letV(vt.mul(d, ke));
}

/** Adds a block's or row's loss vector to the f64x2 accumulator. */
export function flushRowLoss(c: Ctx, lossv: number): void {
  c.g.set(c.loss, f64x2Add(get(c.loss), c.vt.toF64x2Sum(get(lossv))));
}

/**
 * The loss, dL/dz and activation of P vectors at its tmp offset (z in, dz out) with their x: a dense block (by
 * default the one at TMP/XBLK; x from the block's xBase when it has one) or a Gram row (TMP/XROW).
 */
export function emitMid(c: Ctx, layout: Layout, block: XZ = firstBlock(c.lay)): void {
  const { g, vt, lay, ws, impk } = c;
  const P = layout === "dense" ? lay.F : lay.V;
  const site: XZ = layout === "dense" ? block : { x: lay.XROW, tmp: lay.TMP };
  const tab = impTableLayout(lay.F, lay.dtype);
  if (c.act.kind === "js") {
    g.set(
      c.loss,
      f64Add(
        get(c.loss),
        call(
          0,
          i32Add(ws, i32(site.tmp)),
          i32Add(site.xBase ?? ws, i32(site.x)),
          impk,
          i32(layout === "dense" ? 0 : 1),
        ),
      ),
    );
    return;
  }
  const kAt = (p: number) => vt.load(impk, (layout === "dense" ? tab.KS : tab.KV) + 16 * p);
  const lossv = g.varV(vt.c(0));
  const row = midRow(c, site, lossv);
  if (c.act.kind === "elementwise" && c.light) {
    for (let p = 0; p < P; p++)
      row.storeDz(p, emitElementwise(actCtx(c), c.act.gen, lossv, row.zAt(p), row.xAt(p), kAt(p)));
  } else if (c.act.kind === "elementwise") {
    emitHeavyLoop(c, c.act.gen, lossv, P, site, layout === "dense" ? tab.KS : tab.KV);
  } else if (layout === "dense" && P > LOOPED_SOFTMAX_MIN_F) {
    emitLoopedSoftmax(actCtx(c), c.act.id, lossv, block);
  } else {
    emitVectorMid(actCtx(c), layout, c.act.id, P, kAt, (p) => vt.load(impk, tab.MASK + 16 * p), [row]);
  }
  flushRowLoss(c, lossv);
}

/**
 * Vectors per iteration of the heavy-activation loop: three independent chains keep the vector units busier
 * than two; four run out of registers (docs/speed.md).
 */
export const HEAVY_UNROLL = 3;

/**
 * dz for P vectors at site.tmp of an activation with many constants, HEAVY_UNROLL vectors per loop iteration:
 * independent chains of its long polynomial evaluations keep the vector units busy (two per iteration
 * measured ≈ 1.4× the throughput of one for GELU, softplus, tanhshrink; three better again). Its constants
 * are immediates, which TurboFan materialises once before the loop, instead of loads from the constant pool
 * in every iteration.
 */
export function emitHeavyLoop(
  c: Ctx,
  gen: ElementwiseGen,
  lossv: number,
  P: number,
  site: XZ,
  kOff: number,
): void {
  const { g, vt, ws, impk } = c;
  const immediate = actCtx(c);
  const one = (o: Expr, extra: number) => {
    const at = g.letI(i32Add(ws, o));
    const xAt = site.xBase ? g.letI(i32Add(site.xBase, o)) : at;
    const dz = emitElementwise(
      immediate,
      gen,
      lossv,
      vt.load(at, site.tmp + extra),
      vt.load(xAt, site.x + extra),
      vt.load(i32Add(impk, o), kOff + extra),
    );
    return () => g.emit(vt.store(at, dz, site.tmp + extra));
  };
  const U = HEAVY_UNROLL;
  const whole = P - (P % U);
  const group = (o: Expr, n: number) => {
    const stores = Array.from({ length: n }, (_, k) => one(o, 16 * k));
    for (const store of stores) store();
  };
  if (whole > 0)
    g.forRange(i32(0), i32(16 * whole), 16 * U, (o) => {
      group(g.letI(o), U);
    });
  if (P % U) group(i32(16 * whole), P % U);
}

/** A row or block at `site` (z in and dz out at site.tmp), its loss added to the vector lossv. */
export function midRow(c: Ctx, site: XZ, lossv: number): MidRow {
  const { g, vt, ws } = c;
  return {
    zAt: (p) => vt.load(ws, site.tmp + 16 * p),
    xAt: (p) => vt.load(site.xBase ?? ws, site.x + 16 * p),
    storeDz: (p, v) => g.emit(vt.store(ws, v, site.tmp + 16 * p)),
    addLoss: (ke, e) => g.set(lossv, vt.add(get(lossv), vt.mul(ke, e))),
  };
}
