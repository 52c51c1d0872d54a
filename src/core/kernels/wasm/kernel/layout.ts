// The workspace of a generated kernel: byte offsets of its regions, which depend only on F, H and the
// precision (so one compiled module serves any batch size and any engine), and of an instance's importance
// table, which the caller writes.

import type { Dtype } from "../gen.js";

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
  /**
   * dense_tiled (large F, TILED_DENSE_MIN_F), per chunk of TILE_CHUNK blocks, block after block: z then dz
   * (F vectors a block), x (F), the softmax family's e^{z − max} (F), h (H) and dh (H); empty below.
   */
  TZ: number;
  TX: number;
  TE: number;
  TH: number;
  TDH: number;
  size: number;
}

/** From this many features on, the dense path is dense_tiled (register tiles, code size bounded in F). */
export const TILED_DENSE_MIN_F = 33;
/** Blocks per chunk of dense_tiled: a chunk's x, z, h and dh stay in the L2 cache. */
export const TILE_CHUNK = 16;

export const CONST_SLOTS = 512;

/**
 * From this many features on, the Gram path is generated as loops (gram-looped.ts) instead of unrolled, and
 * M and C have Fp columns (the padding ones zero) so that M is mirrored and C + Cᵀ formed by whole L×L
 * blocks.
 */
export const GRAM_LOOPED_MIN_F = 36;

/** Above this many features, the Gram path lists the columns of C in use (finish then visits only those). */
export const TRACK_USED_MIN_F = 32;

/**
 * Gram path, the softmax family: rows computed side by side (emitVectorMid), two independent chains for
 * the vector units; three or four run out of registers (docs/speed.md).
 */
export const SOFTMAX_ROWS = 2;
/** Bytes of one dense x row in the Gram path (XROW, and each row of XROW2): Fp values and 16 of slack. */
export const xrowBytes = (Fp: number, E: number) => Fp * E + 16;

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
    M: take((F >= GRAM_LOOPED_MIN_F ? Fp : F) * Fp * E),
    C: take((F >= GRAM_LOOPED_MIN_F ? Fp : F) * Fp * E),
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
    ...tiledRegions(F, H, take),
    size: 0,
  };
  lay.size = at;
  return lay;
}

/** dense_tiled's chunk regions, in this order (its offsets between them must be non-negative). */
function tiledRegions(F: number, H: number, take: (bytes: number) => number) {
  const n = F >= TILED_DENSE_MIN_F ? TILE_CHUNK * 16 : 0;
  return { TZ: take(n * F), TX: take(n * F), TE: take(n * F), TH: take(n * H), TDH: take(n * H) };
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
