// What the parts of a kernel share while it is generated: the module and layout being built (KernelBuild),
// the context of one function's code (Ctx: its Gen, workspace address, importance table, loss accumulator and
// the activation's code), and where a block's or row's vectors are (XZ).

import {
  type Expr,
  f64Add,
  f64Load,
  f64Store,
  f64x2ExtractLane,
  get,
  i32,
  i32Add,
  i32Load,
  i32Shl,
  type ModuleBuilder,
  Ty,
  v128Const,
  v128Store,
} from "../emit.js";
import type { ConstPool, Gen, Vt } from "../gen.js";
import type { ElementwiseGen, VectorId } from "../vact.js";
import type { KernelLayout } from "./layout.js";

export type Layout = "dense" | "gram";
/**
 * The context for evaluating an activation: its constants as immediates, which TurboFan materialises where
 * used (or once before a loop), instead of loads from the workspace's constant pool that sit on the
 * activation's critical path. (The rest of the kernel's constants stay in the pool: switching those too
 * changed nothing; docs/speed.md has the measurements.)
 */
export const actCtx = (c: Ctx): Ctx => ({ ...c, vt: c.vt.withImmediates() });

export interface Ctx {
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

export type ActCode =
  | { kind: "elementwise"; gen: ElementwiseGen }
  | { kind: "vector"; id: VectorId }
  | { kind: "js" };

/** One row (or dense block) of the softmax family: where its z and x are, and where its dz and loss go. */
export interface MidRow {
  zAt: (p: number) => Expr;
  xAt: (p: number) => Expr;
  storeDz: (p: number, v: Expr) => void;
  addLoss: (ke: Expr, e: Expr) => void;
}

/** Splits 0..H−1 into chunks of at most `size` (hidden units whose accumulators share the registers). */
export function chunks(H: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let k0 = 0; k0 < H; k0 += size) out.push([k0, Math.min(H, k0 + size)]);
  return out;
}

/**
 * Where a dense block's or a Gram row's x (in) and z, then dz (TMP-like) vectors are: workspace offsets, or
 * for x, an offset from `xBase` (dense_blocks reads each block where it was built instead of copying it).
 */
export interface XZ {
  x: number;
  tmp: number;
  xBase?: Expr;
}

/** A dense block's x vector at byte offset o (a feature's 16·f) from the workspace address `at` = ws + o. */
export const blockX = (vt: Vt, b: XZ, at: Expr, o: Expr): Expr =>
  b.xBase ? vt.load(i32Add(b.xBase, o), b.x) : vt.load(at, b.x);
export const firstBlock = (lay: KernelLayout): XZ => ({ x: lay.XBLK, tmp: lay.TMP });
export const blockPair = (lay: KernelLayout): XZ[] => [firstBlock(lay), { x: lay.XPAIR, tmp: lay.TPAIR }];

const ZERO_V128 = new Uint8Array(16);
/** Zeroes `bytes` (a multiple of 16) at base + off, with immediate zero vectors (not the constant pool). */
export function zeroRegion(g: Gen, base: Expr, off: number, bytes: number): void {
  for (let b = 0; b < bytes; b += 16) g.emit(v128Store(base, v128Const(ZERO_V128), off + b));
}

/** One kernel module being generated, and what its functions share. */
export interface KernelBuild {
  mb: ModuleBuilder;
  lay: KernelLayout;
  vt: Vt;
  pool: ConstPool;
  fma: boolean;
  act: ActCode;
  light: boolean;
  /** The activation is JavaScript (env.mid): the loss accumulator is then an f64, not an f64x2. */
  jsMid: boolean;
  /** The Gram path lists the columns of C in use (TRACK_USED_MIN_F). */
  trackUsed: boolean;
  /** The context of a function's code, with a fresh loss accumulator. */
  newCtx(g: Gen, ws: Expr, impk: Expr): Ctx;
  /** Adds a function's loss accumulator to OUT_LOSS. */
  flushLoss(c: Ctx): void;
}

export function kernelBuild(b: Omit<KernelBuild, "newCtx" | "flushLoss">): KernelBuild {
  const { vt, lay, act, light, jsMid } = b;
  const newCtx = (g: Gen, ws: Expr, impk: Expr): Ctx => {
    const loss = g.local(jsMid ? Ty.f64 : Ty.v128);
    return { g, vt, lay, ws, impk, loss, act, light };
  };
  const flushLoss = (c: Ctx) => {
    const total = jsMid
      ? get(c.loss)
      : f64Add(f64x2ExtractLane(get(c.loss), 0), f64x2ExtractLane(get(c.loss), 1));
    c.g.emit(f64Store(c.ws, f64Add(f64Load(c.ws, lay.OUT_LOSS), total), lay.OUT_LOSS));
  };
  return { ...b, newCtx, flushLoss };
}

/** Row k of a compacted batch (compact_rows): entries rows[k] .. rows[k + 1], never empty. */
export const rowAt = (rows: Expr, k: Expr, off = 0) => i32Load(i32Add(rows, i32Shl(k, i32(2))), off);
