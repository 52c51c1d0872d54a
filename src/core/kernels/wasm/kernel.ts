// Generates the WebAssembly step kernel for one model shape (F features, H hidden), precision and
// activation. Two algorithms, chosen per instance from its feature probability (see fast.ts):
//
//  * "dense" (direct form, lanes = samples): non-zero samples are packed L at a time into a transposed
//    block X[f] (one vector per feature, one lane per sample); per block
//        h_k = Σ_f X[f]·W[f,k]      z_f = b_f + Σ_k h_k·W[f,k]      (y, dz) = mid(z, X)
//        dh_k = Σ_f dz_f·W[f,k]     ∇W[f,k] += dz_f·h_k + X[f]·dh_k  ∇b_f += dz_f
//    with the ∇ accumulators one vector per entry (lane partial sums, added up at the end). Padding lanes of
//    the last block are all-zero samples; the caller counts them out of the all-zero row's weight.
//  * "gram" (lanes = features): with M = W Wᵀ, a sample with non-zeros S has z = b + Σ_{j∈S} M[:, j]·x_j,
//    and ∇W = (C + Cᵀ) W with C = Σ_samples dz xᵀ, applied once per step (C[:, j] += dz·x_j).
//
// `mid` is the activation, loss and dL/dz of one block or row, inline (vact.ts) or, where no vector code
// exists for the precision, a call to JavaScript (`env.mid`) that uses the reference's own activation.
// All-zero samples are never touched here: the caller adds their closed-form contribution, and the kernels
// walk a list of the non-empty samples' row starts (compact_rows), for the dense path up to 32 features as
// blocks built once per batch (build_blocks), which a lockstep group's runs share.
//
// Every function takes `ws`, the byte address of its workspace; the workspace layout (below) depends only
// on F, H and the precision, so one compiled module serves any batch size and any engine.

import {
  call,
  type Expr,
  f64Add,
  f64c,
  f64Load,
  f64Mul,
  f64Ne,
  f64Store,
  f64x2Add,
  f64x2ExtractLane,
  get,
  i8x16RelaxedSwizzle,
  i8x16Shuffle,
  i8x16Swizzle,
  i32,
  i32Add,
  i32And,
  i32Eqz,
  i32GeS,
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
  ModuleBuilder,
  select,
  Ty,
  v128Load,
  v128Store,
} from "./emit.js";
import { formulaGen } from "./formula-vact.js";
import { ConstPool, type Dtype, Gen, Vt } from "./gen.js";
import { DENSE_MAX_F } from "./sampler.js";
import { type ElementwiseGen, elementwiseGen, isVectorId, type VectorId } from "./vact.js";
import { vexp, vlog } from "./vmath.js";

export interface KernelLayout {
  F: number;
  H: number;
  dtype: Dtype;
  L: number;
  E: number;
  V: number;
  Fp: number;
  W: number;
  BIAS: number;
  WCOL: number;
  M: number;
  C: number;
  CW: number;
  XBLK: number;
  TMP: number;
  /** The second block of a pair: its x and its z/dz (pairedBlocks). */
  XPAIR: number;
  TPAIR: number;
  XROW: number;
  /** Gram path, the softmax family: the other rows of a group (SOFTMAX_ROWS), their x and their z/dz. */
  XROW2: number;
  TMP2: number;
  /** W[f, k] broadcast to a whole vector, F·H vectors (v128.load folds its offset; load32_splat does not). */
  WSPLAT: number;
  /** b[f] broadcast, F vectors. */
  BSPLAT: number;
  GW: number;
  GB: number;
  /** Dense path temporaries: h and dh of a block, H vectors each. */
  HD: number;
  /** Dense path, the softmax family over many features: e^{z − max} of a block, F vectors. */
  EXPB: number;
  DHD: number;
  OUT_GW: number;
  OUT_GB: number;
  OUT_LOSS: number;
  /** Gram path: how many columns of C are in use, their list, and a flag per feature. */
  USEDN: number;
  USEDLIST: number;
  USEDFLAG: number;
  /** Vector constants (ConstPool), CONST_SLOTS × 16 bytes. */
  CONST: number;
  /** compact_rows' shuffle table (ROW_COMPACT_TABLE), 16 × 16 bytes. */
  ROWTAB: number;
  /** 32 zero bytes: the padding rows of blocks_from_dense. */
  ZERO: number;
  size: number;
}

const CONST_SLOTS = 512;

/** Above this many features, the Gram path lists the columns of C in use (finish then visits only those). */
const TRACK_USED_MIN_F = 32;

/**
 * Gram path, the softmax family: rows computed side by side (emitVectorMid). Measured per demo instance
 * (p = 0.3 / 0.03): 2 rows −15 % / −5 %, 3 rows −12 % / +6 %, 4 rows +14 % / +21 % (registers run out).
 */
const SOFTMAX_ROWS = 2;
/** Bytes of one dense x row in the Gram path (XROW, and each row of XROW2): Fp values and 16 of slack. */
const xrowBytes = (Fp: number, E: number) => Fp * E + 16;

/** Byte offsets of the workspace regions (all 16-byte aligned). */
export function kernelLayout(F: number, H: number, dtype: Dtype): KernelLayout {
  const L = dtype === "f32" ? 4 : 2;
  const E = dtype === "f32" ? 4 : 8;
  const V = Math.ceil(F / L);
  const Fp = V * L;
  let at = 0;
  const take = (bytes: number) => {
    const off = at;
    at += Math.ceil(bytes / 16) * 16;
    return off;
  };
  const lay = {
    F,
    H,
    dtype,
    L,
    E,
    V,
    Fp,
    W: take(F * H * E),
    BIAS: take(Fp * E),
    WCOL: take(H * Fp * E),
    M: take(F * Fp * E),
    C: take(F * Fp * E),
    CW: take(H * Fp * E),
    // a spare row after the F features: the branch-free fill (dense_sparse) sends entries it skips there
    XBLK: take((F + 1) * 16),
    TMP: take(F * 16),
    // the second block of a pair (dense_blocks for small models, PAIRED_BLOCKS)
    XPAIR: take(F * 16),
    TPAIR: take(F * 16),
    TMP2: take((SOFTMAX_ROWS - 1) * F * 16),
    XROW: take(xrowBytes(Fp, E)),
    XROW2: take((SOFTMAX_ROWS - 1) * xrowBytes(Fp, E)),
    WSPLAT: take(F * H * 16),
    BSPLAT: take(F * 16),
    GW: take(F * H * 16),
    GB: take(F * 16),
    HD: take(H * 16),
    EXPB: take(F * 16),
    DHD: take(H * 16),
    OUT_GW: take(F * H * 8),
    OUT_GB: take(F * 8),
    OUT_LOSS: take(8),
    USEDN: take(4),
    USEDLIST: take(4 * F),
    USEDFLAG: take(4 * F),
    CONST: take(CONST_SLOTS * 16),
    ROWTAB: take(256),
    ZERO: take(32),
    size: 0,
  };
  lay.size = at;
  return lay;
}

/** Byte offsets inside one instance's importance table (written by the caller). */
export function impTableLayout(F: number, dtype: Dtype) {
  const V = Math.ceil(F / (dtype === "f32" ? 4 : 2));
  return {
    /** imp_f splat, one vector per feature (dense layout) */
    IMPS: 0,
    /** k_f = 2·imp_f/(B·F) splat */
    KS: F * 16,
    /** imp as V vectors over features (gram layout), zero padded */
    IMPV: 2 * F * 16,
    KV: (2 * F + V) * 16,
    /** all-ones lanes for real features, zeros for padding */
    MASK: (2 * F + 2 * V) * 16,
    size: (2 * F + 3 * V) * 16,
  };
}

type Layout = "dense" | "gram";
/**
 * The context for evaluating an activation: its constants as immediates, which TurboFan materialises where
 * used, instead of loads from the workspace's constant pool. Measured per step: light activations demo
 * relu6 −14 %, hardswish −12 %, softsign −11 %, hardtanh −8 %, relu −2.5 %; the softmax family demo −11…−16 %,
 * intro −7 %. (The rest of the kernel's constants stay in the pool: switching those too changed nothing.)
 */
const actCtx = (c: Ctx): Ctx => ({ ...c, vt: c.vt.withImmediates() });

/** Elementwise activations with few constants (kept unrolled in registers in the gram path). */
const LIGHT = new Set([
  "relu",
  "leaky_relu",
  "hardtanh",
  "hardshrink",
  "relu6",
  "relu2",
  "softshrink",
  "hardsigmoid",
  "hardswish",
  "softsign",
]);

interface Ctx {
  g: Gen;
  vt: Vt;
  lay: KernelLayout;
  ws: Expr;
  impk: Expr;
  /** f64x2 loss accumulator (inline mid) or f64 (JS mid). */
  loss: number;
  act: ActCode;
  /** An activation with few constants (kept in registers, fused into other loops). */
  light: boolean;
}

type ActCode =
  | { kind: "elementwise"; gen: ElementwiseGen }
  | { kind: "vector"; id: VectorId }
  | { kind: "js" };

/**
 * dz for one vector of an elementwise activation: (y, d) = act(z), e = y − x, dz = d·(k·e); adds (k·e)·e
 * to the loss vector (k = 2·imp/(B·F), so the caller halves the sum and gets Σ imp·e²/(B·F)).
 */
function emitElementwise(c: Ctx, gen: ElementwiseGen, lossv: number, z: Expr, x: Expr, k: Expr): Expr {
  const { g, vt } = c;
  const { y, d } = gen(g, vt, z);
  const e = g.letV(vt.sub(y, x));
  const ke = g.letV(vt.mul(k, e));
  g.set(lossv, vt.madd(ke, e, get(lossv)));
  return g.letV(vt.mul(d, ke));
}

/** Adds a block's or row's loss vector to the f64x2 accumulator. */
function flushRowLoss(c: Ctx, lossv: number): void {
  c.g.set(c.loss, f64x2Add(get(c.loss), c.vt.toF64x2Sum(get(lossv))));
}

/**
 * The loss, dL/dz and activation of P vectors at its tmp offset (z in, dz out) with their x: a dense block (by
 * default the one at TMP/XBLK; x from the block's xBase when it has one) or a Gram row (TMP/XROW).
 */
function emitMid(c: Ctx, layout: Layout, block: XZ = firstBlock(c.lay)): void {
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
 * Vectors per iteration of the heavy-activation loop. Measured per demo step, 2 → 3: GELU −5 %, mish −10 %,
 * softplus −8 %, SELU −5 %; 4 is no better than 2 (registers run out).
 */
const HEAVY_UNROLL = 3;

/**
 * dz for P vectors at site.tmp of an activation with many constants, HEAVY_UNROLL vectors per loop iteration:
 * independent chains of its long polynomial evaluations keep the vector units busy (two per iteration
 * measured ≈ 1.4× the throughput of one for GELU, softplus, tanhshrink; three better again). Its constants
 * are immediates, which TurboFan materialises once before the loop, instead of loads from the constant pool
 * in every iteration.
 */
function emitHeavyLoop(c: Ctx, gen: ElementwiseGen, lossv: number, P: number, site: XZ, kOff: number): void {
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

/** Reduction over the features of each sample: across vectors (dense) and, for gram, across lanes too. */
/** Each row's terms reduced in order (max or sum), across lanes too for the gram layout; rows side by side. */
function reduceRows(c: Ctx, layout: Layout, kind: "max" | "sum", terms: Expr[][]): Expr[] {
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
const LOOPED_SOFTMAX_MIN_F = 8;

/**
 * The softmax family for a dense block (z at block.tmp, x at block.x; dz back to block.tmp) as passes over the F feature
 * vectors: max, then e^{z − max} and their sum, then the loss and the dot product (or total), then dz. The
 * operations and the order of every sum are emitVectorMid's for one row (dense layout), so the numbers are
 * the same; values needed twice are recomputed by the same operations instead of being kept.
 */
function emitLoopedSoftmax(c: Ctx, id: VectorId, lossv: number, block: XZ): void {
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

/** One row (or dense block) of the softmax family: where its z and x are, and where its dz and loss go. */
interface MidRow {
  zAt: (p: number) => Expr;
  xAt: (p: number) => Expr;
  storeDz: (p: number, v: Expr) => void;
  addLoss: (ke: Expr, e: Expr) => void;
}

/** A row or block at `site` (z in and dz out at site.tmp), its loss added to the vector lossv. */
function midRow(c: Ctx, site: XZ, lossv: number): MidRow {
  const { g, vt, ws } = c;
  return {
    zAt: (p) => vt.load(ws, site.tmp + 16 * p),
    xAt: (p) => vt.load(site.xBase ?? ws, site.x + 16 * p),
    storeDz: (p, v) => g.emit(vt.store(ws, v, site.tmp + 16 * p)),
    addLoss: (ke, e) => g.set(lossv, vt.add(get(lossv), vt.mul(ke, e))),
  };
}

function emitVectorMid(
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

/** Splits 0..H−1 into chunks of at most `size` (hidden units whose accumulators share the registers). */
function chunks(H: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let k0 = 0; k0 < H; k0 += size) out.push([k0, Math.min(H, k0 + size)]);
  return out;
}

/**
 * Where a dense block's or a Gram row's x (in) and z, then dz (TMP-like) vectors are: workspace offsets, or
 * for x, an offset from `xBase` (dense_blocks reads each block where it was built instead of copying it).
 */
interface XZ {
  x: number;
  tmp: number;
  xBase?: Expr;
}

/** A dense block's x vector at byte offset o (a feature's 16·f) from the workspace address `at` = ws + o. */
const blockX = (vt: Vt, b: XZ, at: Expr, o: Expr): Expr =>
  b.xBase ? vt.load(i32Add(b.xBase, o), b.x) : vt.load(at, b.x);
const firstBlock = (lay: KernelLayout): XZ => ({ x: lay.XBLK, tmp: lay.TMP });
const blockPair = (lay: KernelLayout): XZ[] => [firstBlock(lay), { x: lay.XPAIR, tmp: lay.TPAIR }];

/**
 * Blocks are trained two at a time where both blocks' sums fit in registers: the two share W's loads and
 * ∇W's read-modify-writes, and give the CPU two independent chains of work. Each block's operations, and
 * the order of every sum, are those of the block alone (bit-identical). dense_blocks pairs small models:
 * intro per step (4 instances, in-process) relu −6 %, tanh −12 %, GELU −19 %, softmax −25 %.
 */
export const pairedBlocks = (F: number, H: number) => F * H <= 24 && H <= 4;
/**
 * dense_full pairs its blocks up to this many hidden units (2H sums in registers): demo's p = 1 instance
 * relu −3 %, GELU −5 %, softmax −5 % (in-process, against one block at a time).
 */
const PAIRED_MAX_H = 5;
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
function emitDenseBlock(c: Ctx, blocks: XZ[] = [firstBlock(c.lay)]): void {
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

const LO_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
const HI_HALVES = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
/** Four rows of four f32 lanes → four columns (column k = lane k of each row). */
function transpose4(g: Gen, r: Expr[]): Expr[] {
  const pairs = (a: Expr, b: Expr) => [
    g.letV(i8x16Shuffle(a, b, [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23])),
    g.letV(i8x16Shuffle(a, b, [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31])),
  ];
  const [t0, t1] = pairs(r[0], r[1]);
  const [t2, t3] = pairs(r[2], r[3]);
  return [
    i8x16Shuffle(t0, t2, LO_HALVES),
    i8x16Shuffle(t0, t2, HI_HALVES),
    i8x16Shuffle(t1, t3, LO_HALVES),
    i8x16Shuffle(t1, t3, HI_HALVES),
  ];
}
/** Two rows of two f64 lanes → two columns. */
const transpose2 = (r: Expr[]): Expr[] => [
  i8x16Shuffle(r[0], r[1], LO_HALVES),
  i8x16Shuffle(r[0], r[1], HI_HALVES),
];
/** [0, 1, 2, 3] as i32 lanes. */
const IOTA_BYTES = new Uint8Array(new Int32Array([0, 1, 2, 3]).buffer);

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
 * Up to this many features, dense_sparse fills its blocks without branches on the data: a sample's number of
 * non-zeros, and whether it has any, are random, so branching on them mispredicts about once a sample. It
 * reads F entries from the sample's start, at most F − 1 past the last one: within the batch arrays' slack
 * (SLACK = 8 entries in sampling.ts).
 */
const BRANCH_FREE_FILL_F = 8;

function zeroRegion(g: Gen, base: Expr, off: number, bytes: number): void {
  for (let b = 0; b < bytes; b += 16)
    g.emit((f) => {
      base(f);
      f.simd(0x0c);
      for (let k = 0; k < 16; k++) f.byte(0);
      f.simd(0x0b);
      f.u32(4);
      f.u32(off + b);
    });
}

/**
 * Builds the module. `actId` selects the inline activation; without vector code, mid calls env.mid. With
 * `fma`, multiply-adds are relaxed SIMD's (fused on FMA hardware: one rounding instead of two).
 */
export function buildKernel(
  F: number,
  H: number,
  dtype: Dtype,
  actId: string,
  fma = false,
): { bytes: Uint8Array; jsMid: boolean; consts: Uint8Array } {
  const lay = kernelLayout(F, H, dtype);
  // every function takes the workspace address as parameter 0
  const pool = new ConstPool(lay.CONST, get(0), CONST_SLOTS);
  const vt = new Vt(dtype, pool, fma);
  const { L, E, V, Fp } = lay;
  // a user formula's actId is its key (FormulaActivation.key)
  const gen = elementwiseGen(actId, dtype) ?? formulaGen(actId, dtype);
  const act: ActCode = gen
    ? { kind: "elementwise", gen }
    : isVectorId(actId)
      ? { kind: "vector", id: actId }
      : { kind: "js" };
  const jsMid = act.kind === "js";
  // Small models: finish visits every column of C (F·H·V multiply-adds, < 0.2 µs for 20 → 5) instead of
  // gram_rows noting, per non-zero, which columns are in use (a load and a branch each)
  const trackUsed = F > TRACK_USED_MIN_F;
  const mb = new ModuleBuilder({ module: "env", name: "memory", minPages: 1 });
  if (jsMid) mb.importFn("env", "mid", [Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.f64]);

  const newCtx = (g: Gen, ws: Expr, impk: Expr): Ctx => {
    const loss = g.local(jsMid ? Ty.f64 : Ty.v128);
    return { g, vt, lay, ws, impk, loss, act, light: LIGHT.has(actId) };
  };
  const flushLoss = (c: Ctx) => {
    const total = jsMid
      ? get(c.loss)
      : f64Add(f64x2ExtractLane(get(c.loss), 0), f64x2ExtractLane(get(c.loss), 1));
    c.g.emit(f64Store(c.ws, f64Add(f64Load(c.ws, lay.OUT_LOSS), total), lay.OUT_LOSS));
  };
  /** Row k of a compacted batch (compact_rows): entries rows[k] .. rows[k + 1], never empty. */
  const rowAt = (rows: Expr, k: Expr, off = 0) => i32Load(i32Add(rows, i32Shl(k, i32(2))), off);

  // compact_rows(ws, rs, B, out) -> n: the starts of the non-empty samples among rs[0..B], in order, then
  // rs[B]; out needs n + 4 entries. Empty samples hold no entries, so each kept sample's end is the next
  // kept start: the kernels then visit only the non-empty samples, in the same order as before. Four
  // samples a step, branch-free: which are non-empty is a 4-bit mask, a table shuffle packs their starts.
  // compact_samples(ws, rs, B, out) -> n: the same, with the samples' indices instead of their starts.
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

  // setup(ws, w, b, gram): copy W [F·H] and b [F] of one instance in, splat them, zero accumulators.
  mb.fn("setup", [Ty.i32, Ty.i32, Ty.i32, Ty.i32], [], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const [w, b] = [get(1), get(2)];
    for (let q = 0; q < F * H; q++) g.emit(vt.sStore(ws, vt.sLoad(w, q * E), lay.W + q * E));
    for (let q = 0; q < F; q++) g.emit(vt.sStore(ws, vt.sLoad(b, q * E), lay.BIAS + q * E));
    for (let q = 0; q < F * H; q++)
      g.emit(vt.store(ws, vt.loadSplat(ws, lay.W + q * E), lay.WSPLAT + 16 * q));
    for (let q = 0; q < F; q++) g.emit(vt.store(ws, vt.loadSplat(ws, lay.BIAS + q * E), lay.BSPLAT + 16 * q));
    g.emit(f64Store(ws, f64c(0), lay.OUT_LOSS));
    g.if(
      get(3),
      () => {
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
        zeroRegion(g, ws, lay.GW, F * H * 16);
        zeroRegion(g, ws, lay.GB, F * 16);
      },
    );
  });

  // dense_full(ws, val, nBlocks, impk) -> rows: every sample has all F features, stored contiguously.
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

  /**
   * Emits the fill of one block from rows k, k + 1, … (up to L of them, at most up to n): zeroes F vectors at
   * dest + off, then writes each row's entries into its lane; k advances past the rows used.
   */
  const emitBlockFill = (
    g: Gen,
    rows: { list: Expr; feat: Expr; val: Expr; n: Expr },
    k: number,
    dest: Expr,
    off: number,
  ) => {
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
  };

  // dense_sparse(ws, rows, feat, val, n, impk) -> rows processed (a multiple of L, padding included): the n
  // rows of a compacted batch, L to a block, each block filled into XBLK and trained on at once (for large
  // F, where a batch's blocks would not stay in cache)
  mb.fn("dense_sparse", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const rows = { list: get(1), feat: get(2), val: get(3), n: get(4) };
    const c = newCtx(g, ws, get(5));
    const k = g.varI(i32(0));
    const done = g.varI(i32(0));
    g.forRange(i32(0), rows.n, L, () => {
      emitBlockFill(g, rows, k, ws, lay.XBLK);
      g.set(done, i32Add(get(done), i32(L)));
      emitDenseBlock(c);
    });
    flushLoss(c);
    g.emit(get(done));
  });

  // build_blocks(ws, rows, feat, val, n, out) -> blocks: the n rows of a compacted batch (compact_rows), L
  // to a block, each block F vectors (lanes = rows) at out + 16·F·block; padding lanes are zero. out needs
  // blocks·F + 1 vectors. Built once per batch and shared by every run of a lockstep group.
  mb.fn("build_blocks", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
    const g = new Gen(f);
    const rows = { list: get(1), feat: get(2), val: get(3), n: get(4) };
    const k = g.varI(i32(0));
    const blk = g.varI(get(5));
    g.forRange(i32(0), rows.n, L, () => {
      emitBlockFill(g, rows, k, get(blk), 0);
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

  // dense_blocks(ws, blocks, nBlocks, impk) -> rows processed (nBlocks·L, padding lanes included)
  mb.fn("dense_blocks", [Ty.i32, Ty.i32, Ty.i32, Ty.i32], [Ty.i32], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const c = newCtx(g, ws, get(3));
    const blk = g.varI(get(1));
    // the blocks are read where they were built (copying each into XBLK cost intro's relu kernel ≈ 10 %)
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

  // gram_rows(ws, rows, feat, val, n, impk) -> n: the n rows of a compacted batch (compact_rows)
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
      if (act.kind === "elementwise" && LIGHT.has(actId)) {
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
      g.block(() => {
        g.doWhile(
          () => {
            g.brIf(1, i32GeS(i32Add(get(k), i32(SOFTMAX_ROWS - 1)), n));
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

  // finish(ws, outW, outB, gram, impk, n0): the instance's ∇W [F·H] and ∇b [F] as f64, and the n0 all-zero
  // samples' share of ∇b and the loss, which the kernels skipped: each has z = b, x = 0 (so h = 0 and no
  // ∇W), hence one row's dz and loss, times n0.
  mb.fn("finish", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.f64], [], (f) => {
    const g = new Gen(f);
    const ws = get(0);
    const [outW, outB, n0] = [get(1), get(2), get(5)];
    g.if(
      get(3),
      () => {
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

  return { bytes: mb.bytes(), jsMid, consts: pool.bytes };
}
