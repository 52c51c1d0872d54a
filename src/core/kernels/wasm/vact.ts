// The seam between the activation table and the generated kernels. An elementwise entry of
// src/core/activations.ts may carry a `vector` form: a function from a `VectorMath` emitter and the lanes z to
// the lanes y = act(z) and d = act'(z), written with the vector elementary functions of vmath.ts. The kernel
// inlines it; an entry without one (or without one for the run's precision) is evaluated by the kernel
// calling back into JavaScript, with the entry's own forward and derivative.
//
// Anything that can produce such a function (a hand-written entry, or a formula compiled to these
// primitives) gets the fast kernel with no other change.

import { type Expr, f32x4Sqrt, f64x2Sqrt } from "./emit.js";
import type { Dtype, Gen, Vt } from "./gen.js";
import {
  horner,
  vabs,
  vexp,
  vexpm1NonPos,
  vlog,
  vlog1pUnit,
  vnormalCdfF32,
  vsigmoid,
  vsigmoidLog1p,
  vtanh,
} from "./vmath.js";

/** The lanes of y = act(z) and d = act'(z) (each an expression safe to read several times). */
export interface YD {
  y: Expr;
  d: Expr;
}

/**
 * What an activation's vector form writes with: `g` appends statements (g.letV keeps a value in a local), `vt`
 * has the lane arithmetic, comparisons and selects (vt.c(x) a constant in every lane), and the elementary
 * functions below are vmath.ts's, with its accuracy.
 */
export interface VectorMath {
  g: Gen;
  vt: Vt;
  /**
   * eˣ; `range: "normal"` clamps to where eˣ is a normal number (for e^{−|x|} terms), `"clampBelow"` the same
   * for x the caller keeps below the overflow threshold.
   */
  exp(x: Expr, range?: "full" | "normal" | "clampBelow"): Expr;
  /** eˣ − 1 and eˣ for x ≤ 0 (positive x clamped to 0). */
  expm1NonPos(x: Expr): { em1: Expr; ex: Expr };
  /** ln(1 + t) for t in [0, 1]. */
  log1pUnit(t: Expr): Expr;
  tanh(x: Expr): Expr;
  /** σ(x). */
  sigmoid(x: Expr): { s: Expr };
  /** σ(x), w = e^{−|x|}, inv = 1/(1 + w) and log1pW = ln(1 + w), with one division. */
  sigmoidLog1p(x: Expr): { s: Expr; w: Expr; inv: Expr; log1pW: Expr };
  /** Φ(x) and φ(x), the standard normal CDF and density: float32 only. */
  normalCdfF32(x: Expr): { Phi: Expr; phi: Expr };
  /** Σ coef[k]·tᵏ by Horner's rule. */
  horner(t: Expr, coef: number[]): Expr;
  /** |x| in one instruction (vt.abs is three in V8). */
  abs(x: Expr): Expr;
  /** ln x for positive finite x (user formulas). */
  log(x: Expr): Expr;
  /** √x, correctly rounded (user formulas). */
  sqrt(x: Expr): Expr;
}

/** An elementwise activation's vector form: y and d for the lanes z. */
export type VectorEmit = (m: VectorMath, z: Expr) => YD;

/** How an elementwise activation appears in the generated kernels. */
export interface VectorForm {
  emit: VectorEmit;
  /** The precisions it is written for (default both); elsewhere the kernel calls the JavaScript entry. */
  dtypes?: readonly Dtype[];
  /**
   * Few constants and short: the kernel keeps it unrolled, in registers, fused into other loops. Otherwise it
   * runs in a loop over vectors, so its many constants are reloaded instead of spilled.
   */
  light?: boolean;
}

export function vectorMath(g: Gen, vt: Vt): VectorMath {
  return {
    g,
    vt,
    exp: (x, range) => vexp(g, vt, x, range),
    expm1NonPos: (x) => vexpm1NonPos(g, vt, x),
    log1pUnit: (t) => vlog1pUnit(g, vt, t),
    tanh: (x) => vtanh(g, vt, x),
    sigmoid: (x) => vsigmoid(g, vt, x),
    sigmoidLog1p: (x) => vsigmoidLog1p(g, vt, x),
    normalCdfF32: (x) => vnormalCdfF32(g, vt, x),
    horner: (t, coef) => horner(vt, t, coef),
    abs: (x) => vabs(vt, x),
    log: (x) => vlog(g, vt, x),
    sqrt: (x) => (vt.f32 ? f32x4Sqrt(x) : f64x2Sqrt(x)),
  };
}

/** (g, vt, z) → y and d: an activation's vector form bound to the emitter. */
export type ElementwiseGen = (g: Gen, vt: Vt, z: Expr) => YD;

/** The vector code of an activation at this precision, or undefined (then the kernel calls JavaScript). */
/** An activation table entry as far as the kernel's vector code needs it (activations.ts's Activation). */
export interface VectorCapable {
  kind: string;
  vector?: VectorForm;
}

export function elementwiseGen(act: VectorCapable, dtype: Dtype): ElementwiseGen | undefined {
  const emit = vectorEmitAt(act, dtype);
  return emit && ((g, vt, z) => emit(vectorMath(g, vt), z));
}

/** An activation's vector form at this precision, for any VectorMath (WebAssembly's or C's), or undefined. */
export function vectorEmitAt(act: VectorCapable, dtype: Dtype): VectorEmit | undefined {
  if (act.kind !== "elementwise" || !act.vector) return undefined;
  const { emit, dtypes } = act.vector;
  return dtypes && !dtypes.includes(dtype) ? undefined : emit;
}

/** The softmax family (kind "vector"), whose vector code the kernel writes itself (kernel/softmax.ts). */
export const VECTOR_IDS = ["softmax", "softmin", "solu", "log_softmax"] as const;
export type VectorId = (typeof VECTOR_IDS)[number];
export const isVectorId = (id: string): id is VectorId => (VECTOR_IDS as readonly string[]).includes(id);
