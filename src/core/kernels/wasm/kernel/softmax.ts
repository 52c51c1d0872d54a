// The softmax family (softmax, softmin, SoLU, log-softmax) over the features of a sample, for dense blocks
// (lanes = samples, reductions across vectors) and Gram rows (lanes = features, reductions across lanes too).

import { type Expr, get, i32, i32Add } from "../emit.js";
import type { VectorId } from "../vact.js";
import { vexp, vlog } from "../vmath.js";
import { blockX, type Ctx, type Layout, type MidRow, type XZ } from "./context.js";
import { impTableLayout } from "./layout.js";

/** Reduction over the features of each sample: across vectors (dense) and, for gram, across lanes too. */
/** Each row's terms reduced in order (max or sum), across lanes too for the gram layout; rows side by side. */
export function reduceRows(c: Ctx, layout: Layout, kind: "max" | "sum", terms: Expr[][]): Expr[] {
  const { g, vt } = c;
  const acc = terms.map((t) => g.letV(t[0]));
  for (let p = 1; p < terms[0].length; p++)
    for (let r = 0; r < terms.length; r++)
      // pmax (one instruction) instead of NaN-exact max: a NaN still makes the row NaN through exp(z − max)
      acc[r] = g.letV(kind === "max" ? vt.pmax(acc[r], terms[r][p]) : vt.add(acc[r], terms[r][p]));
  if (layout === "dense") return acc;
  return acc.map((a) => (kind === "max" ? vt.hmaxSplat(g, a) : vt.hsumSplat(g, a)));
}

/**
 * Above this many features, the dense path's softmax family runs as loops over the features
 * (emitLoopedSoftmax) instead of straight-line code, whose hundreds of live vectors spill.
 */
export const LOOPED_SOFTMAX_MIN_F = 8;

/**
 * The softmax family for a dense block (z at block.tmp, x at block.x; dz back to block.tmp) as passes over the F feature
 * vectors: max, then e^{z − max} and their sum, then the loss and the dot product (or total), then dz. The
 * operations and the order of every sum are emitVectorMid's for one row (dense layout), so the numbers are
 * the same; values needed twice are recomputed by the same operations instead of being kept.
 */
export function emitLoopedSoftmax(c: Ctx, id: VectorId, lossv: number, block: XZ): void {
  const { g, vt, lay, ws, impk } = c;
  const F = lay.F;
  const tab = impTableLayout(F, lay.dtype);
  const sign = id === "softmin" ? -1 : 1;
  /** Emits body(o) for o = 16·p, p = 0 (peeled, so reductions start from their first term) then 1 … F − 1. */
  const passes = (body: (o: Expr, first: boolean) => void) => {
    body(i32(0), true);
    g.forRange(i32(16), i32(16 * F), 16, (o) => body(g.letI(o), false));
  };
  const at = (o: Expr) => g.letI(i32Add(ws, o));
  const zOf = (a: Expr) => (sign === 1 ? vt.load(a, block.tmp) : vt.neg(vt.load(a, block.tmp)));
  const kOf = (o: Expr) => vt.load(i32Add(impk, o), tab.KS);
  // max
  const mx = g.varV();
  passes((o, first) => {
    const z = zOf(at(o));
    g.set(mx, first ? z : vt.pmax(get(mx), z));
  });
  // e^{z − max} (kept at EXPB) and its sum
  const sum = g.varV();
  passes((o, first) => {
    const a = at(o);
    const ex = g.letV(vexp(g, vt, vt.sub(g.letV(zOf(a)), get(mx)), "normal"));
    g.emit(vt.store(a, ex, lay.EXPB));
    g.set(sum, first ? ex : vt.add(get(sum), ex));
  });
  const acc = g.varV();
  if (id === "log_softmax") {
    const logSum = g.letV(vt.add(get(mx), vlog(g, vt, get(sum))));
    const dy = (a: Expr, o: Expr) => {
      const e = g.letV(vt.sub(vt.sub(vt.load(a, block.tmp), logSum), blockX(vt, block, a, o)));
      return { e, ke: g.letV(vt.mul(kOf(o), e)) };
    };
    passes((o, first) => {
      const { e, ke } = dy(at(o), o);
      g.set(lossv, vt.add(get(lossv), vt.mul(ke, e)));
      g.set(acc, first ? ke : vt.add(get(acc), ke));
    });
    const inv = g.letV(vt.div(vt.c(1), get(sum)));
    passes((o) => {
      const a = at(o);
      const { ke } = dy(a, o);
      g.emit(vt.store(a, vt.sub(ke, vt.mul(vt.mul(vt.load(a, lay.EXPB), inv), get(acc))), block.tmp));
    });
    return;
  }
  const invSum = g.letV(vt.div(vt.c(1), get(sum)));
  /** prob, y, e and k·e of feature o, recomputed in each pass that needs them. */
  const terms = (a: Expr, o: Expr) => {
    const prob = g.letV(vt.mul(vt.load(a, lay.EXPB), invSum));
    const z = id === "solu" ? g.letV(vt.load(a, block.tmp)) : undefined;
    const y = z ? g.letV(vt.mul(prob, z)) : prob;
    const e = g.letV(vt.sub(y, blockX(vt, block, a, o)));
    return { prob, z, y, e, ke: g.letV(vt.mul(kOf(o), e)) };
  };
  passes((o, first) => {
    const { prob, z, y, e, ke } = terms(at(o), o);
    g.set(lossv, vt.add(get(lossv), vt.mul(ke, e)));
    // solu: ⟨dy⊙z, p⟩; softmax, softmin: ⟨dy, y⟩
    const t = z ? vt.mul(g.letV(vt.mul(ke, z)), prob) : vt.mul(ke, y);
    g.set(acc, first ? t : vt.add(get(acc), t));
  });
  passes((o) => {
    const a = at(o);
    const { prob, z, y, ke } = terms(a, o);
    let dz: Expr;
    if (z) dz = vt.add(vt.mul(ke, prob), vt.mul(prob, vt.sub(g.letV(vt.mul(ke, z)), get(acc))));
    else {
      const v = vt.mul(y, vt.sub(ke, get(acc)));
      dz = sign === 1 ? v : vt.neg(v);
    }
    g.emit(vt.store(a, dz, block.tmp));
  });
}

export function emitVectorMid(
  c: Ctx,
  layout: Layout,
  id: VectorId,
  P: number,
  kAt: (p: number) => Expr,
  maskAt: (p: number) => Expr,
  rows: MidRow[],
): void {
  // Several rows are computed side by side, each step for every row before the next step: a row is one long
  // chain (max, exp, sum, division, dot product, each reduction across lanes), so one row at a time leaves
  // the vector units waiting. Each row's operations, and their order, are those of the row alone.
  const { g, vt, lay } = c;
  // a Gram row's padding lanes (F not a multiple of the lanes) are masked out of every reduction and dz
  const masked = layout === "gram" && lay.F !== lay.Fp;
  const range = [...Array(P).keys()];
  const mask = range.map((p) => (masked ? g.letV(maskAt(p)) : undefined));
  const keep = (p: number, v: Expr) => (masked ? vt.and(v, mask[p] as Expr) : v);
  const sign = id === "softmin" ? -1 : 1;
  const each = <T>(f: (row: MidRow, r: number) => T): T[] => rows.map(f);
  const z = each((row) => range.map((p) => g.letV(sign === 1 ? row.zAt(p) : vt.neg(row.zAt(p)))));
  const mx = reduceRows(
    c,
    layout,
    "max",
    each((_, r) => range.map((p) => (masked ? vt.sel(mask[p] as Expr, z[r][p], vt.c(-Infinity)) : z[r][p]))),
  );
  const exv = each((_, r) =>
    range.map((p) => g.letV(keep(p, vexp(g, vt, vt.sub(z[r][p], mx[r]), "normal")))),
  );
  const sum = reduceRows(c, layout, "sum", exv);
  const dys: Expr[][] = each(() => []);
  const lossTerms = (y: Expr[][]) => {
    for (let p = 0; p < P; p++)
      each((row, r) => {
        const e = g.letV(vt.sub(y[r][p], row.xAt(p)));
        const ke = g.letV(vt.mul(kAt(p), e));
        row.addLoss(ke, e);
        dys[r].push(ke);
      });
  };
  if (id === "log_softmax") {
    const logSum = each((_, r) => g.letV(vt.add(mx[r], vlog(g, vt, sum[r]))));
    const y = each((_, r) => range.map((p) => g.letV(keep(p, vt.sub(z[r][p], logSum[r])))));
    lossTerms(y);
    const total = reduceRows(c, layout, "sum", dys);
    // exp(y) = e/Σe (the reference recomputes exp(y); the two agree to rounding)
    const inv = each((_, r) => g.letV(vt.div(vt.c(1), sum[r])));
    for (let p = 0; p < P; p++)
      each((row, r) =>
        row.storeDz(p, keep(p, vt.sub(dys[r][p], vt.mul(vt.mul(exv[r][p], inv[r]), total[r])))),
      );
    return;
  }
  const invSum = each((_, r) => g.letV(vt.div(vt.c(1), sum[r])));
  const prob = each((_, r) => range.map((p) => g.letV(vt.mul(exv[r][p], invSum[r]))));
  const y = id === "solu" ? each((_, r) => range.map((p) => g.letV(vt.mul(prob[r][p], z[r][p])))) : prob;
  lossTerms(y);
  if (id === "solu") {
    // dz = dy⊙p + p⊙(dy⊙z − ⟨dy⊙z, p⟩)
    const dyz = each((_, r) => range.map((p) => g.letV(vt.mul(dys[r][p], z[r][p]))));
    const dot = reduceRows(
      c,
      layout,
      "sum",
      each((_, r) => range.map((p) => vt.mul(dyz[r][p], prob[r][p]))),
    );
    for (let p = 0; p < P; p++)
      each((row, r) =>
        row.storeDz(
          p,
          keep(p, vt.add(vt.mul(dys[r][p], prob[r][p]), vt.mul(prob[r][p], vt.sub(dyz[r][p], dot[r])))),
        ),
      );
    return;
  }
  // softmax / softmin: dz = sign·y⊙(dy − ⟨dy, y⟩)
  const dot = reduceRows(
    c,
    layout,
    "sum",
    each((_, r) => range.map((p) => vt.mul(dys[r][p], y[r][p]))),
  );
  for (let p = 0; p < P; p++)
    each((row, r) => {
      const v = vt.mul(y[r][p], vt.sub(dys[r][p], dot[r]));
      row.storeDz(p, keep(p, sign === 1 ? v : vt.neg(v)));
    });
}
