// The elementwise activations as vector code: for each, y = act(z) and d = act'(z), with the same branch
// conditions as src/core/activations.ts (so NaN and the kinks behave the same: relu'(0) = 0, …). Returns
// undefined where a vector version is not provided for the precision (the kernel then calls back into
// JavaScript for the activation, using the reference's own functions).

import type { Expr } from "./emit.js";
import type { Gen, Vt } from "./gen.js";
import { horner, vexp, vexpm1NonPos, vlog1pUnit, vnormalCdfF32, vsigmoid, vtanh } from "./vmath.js";

export interface YD {
  y: Expr;
  d: Expr;
}
export type ElementwiseGen = (g: Gen, vt: Vt, z: Expr) => YD;

/**
 * (x − tanh x)/x³ as a polynomial in x² on |x| ≤ 1: a least-squares fit of relative error (degree 6, max
 * 6.8e-8 in float64 arithmetic; the Taylor series starts 1/3 − 2x²/15 + 17x⁴/315).
 */
const TANHSHRINK_P = [
  0.33333332385850845, -0.13333168303625298, 0.0539381875269147, -0.0216720380531255, 0.008238928674244542,
  -0.0025264614644174704, 0.00042560231439477125,
];

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

const GENERATORS: Record<string, ElementwiseGen> = {
  relu: (g, vt, z) => {
    const m = g.letV(vt.gt(z, vt.c(0)));
    return { y: g.letV(vt.and(z, m)), d: g.letV(vt.and(vt.c(1), m)) };
  },
  leaky_relu: (g, vt, z) => {
    const m = g.letV(vt.gt(z, vt.c(0)));
    return { y: g.letV(vt.sel(m, z, vt.mul(z, vt.c(0.01)))), d: g.letV(vt.sel(m, vt.c(1), vt.c(0.01))) };
  },
  selu: (g, vt, z) => {
    const m = g.letV(vt.gt(z, vt.c(0)));
    const { em1, ex } = vexpm1NonPos(g, vt, z);
    return {
      y: g.letV(
        vt.sel(m, vt.mul(vt.c(SELU_SCALE), z), vt.mul(vt.c(SELU_SCALE), vt.mul(vt.c(SELU_ALPHA), em1))),
      ),
      d: g.letV(vt.sel(m, vt.c(SELU_SCALE), vt.mul(vt.c(SELU_SCALE * SELU_ALPHA), ex))),
    };
  },
  celu: (g, vt, z) => elu(g, vt, z),
  elu: (g, vt, z) => elu(g, vt, z),
  gelu: (g, vt, z) => {
    if (!vt.f32) throw new Unsupported();
    const { Phi, phi } = vnormalCdfF32(g, vt, z);
    return { y: g.letV(vt.mul(z, Phi)), d: g.letV(vt.madd(z, phi, Phi)) };
  },
  sigmoid: (g, vt, z) => {
    const { s } = vsigmoid(g, vt, z);
    return { y: s, d: g.letV(vt.mul(s, vt.sub(vt.c(1), s))) };
  },
  hardsigmoid: (g, vt, z) => {
    const lo = vt.le(z, vt.c(-3));
    const hi = g.letV(vt.ge(z, vt.c(3)));
    const mid = vt.div(vt.add(z, vt.c(3)), vt.c(6));
    const inside = vt.and(vt.gt(z, vt.c(-3)), vt.lt(z, vt.c(3)));
    return {
      y: g.letV(vt.sel(lo, vt.c(0), vt.sel(hi, vt.c(1), mid))),
      d: g.letV(vt.and(vt.c(1 / 6), inside)),
    };
  },
  silu: (g, vt, z) => {
    const { s } = vsigmoid(g, vt, z);
    return {
      y: g.letV(vt.mul(z, s)),
      d: g.letV(vt.mul(s, vt.add(vt.c(1), vt.mul(z, vt.sub(vt.c(1), s))))),
    };
  },
  hardswish: (g, vt, z) => {
    const y = vt.sel(
      vt.le(z, vt.c(-3)),
      vt.c(0),
      vt.sel(vt.ge(z, vt.c(3)), z, vt.div(vt.mul(z, vt.add(z, vt.c(3))), vt.c(6))),
    );
    const d = vt.sel(
      vt.lt(z, vt.c(-3)),
      vt.c(0),
      vt.sel(vt.lt(z, vt.c(3)), vt.add(vt.div(z, vt.c(3)), vt.c(0.5)), vt.c(1)),
    );
    return { y: g.letV(y), d: g.letV(d) };
  },
  mish: (g, vt, z) => {
    // tanh(softplus(z)) = n/(n + 2) with n = w(w + 2), w = eᶻ; 1 − that = 2/(n + 2) (no cancellation).
    // Above softplus's threshold 20 PyTorch's softplus is z itself and tanh(z) rounds to 1.
    const big = g.letV(vt.gt(z, vt.c(20)));
    const w = vexp(g, vt, vt.pmin(z, vt.c(20)), "normal");
    const n = g.letV(vt.mul(w, vt.add(w, vt.c(2))));
    const inv = g.letV(vt.div(vt.c(1), vt.add(n, vt.c(2))));
    const t = g.letV(vt.mul(n, inv));
    const oneMinusT2 = vt.mul(vt.add(inv, inv), vt.add(vt.c(1), t));
    const sig = vt.div(w, vt.add(w, vt.c(1)));
    const d = vt.madd(vt.mul(z, sig), oneMinusT2, t);
    return { y: g.letV(vt.sel(big, z, vt.mul(z, t))), d: g.letV(vt.sel(big, vt.c(1), d)) };
  },
  softplus: (g, vt, z) => {
    const big = g.letV(vt.gt(z, vt.c(20)));
    const { s, w } = vsigmoid(g, vt, z);
    const y = vt.add(vt.pmax(z, vt.c(0)), vlog1pUnit(g, vt, w));
    return { y: g.letV(vt.sel(big, z, y)), d: g.letV(vt.sel(big, vt.c(1), s)) };
  },
  tanh: (g, vt, z) => {
    const y = vtanh(g, vt, z);
    return { y, d: g.letV(vt.sub(vt.c(1), vt.mul(y, y))) };
  },
  hardtanh: (g, vt, z) => {
    const y = vt.sel(vt.lt(z, vt.c(-1)), vt.c(-1), vt.sel(vt.gt(z, vt.c(1)), vt.c(1), z));
    const d = vt.and(vt.c(1), vt.and(vt.gt(z, vt.c(-1)), vt.lt(z, vt.c(1))));
    return { y: g.letV(y), d: g.letV(d) };
  },
  hardshrink: (g, vt, z) => {
    const m = g.letV(vt.or(vt.gt(z, vt.c(0.5)), vt.lt(z, vt.c(-0.5))));
    return { y: g.letV(vt.and(z, m)), d: g.letV(vt.and(vt.c(1), m)) };
  },
  logsigmoid: (g, vt, z) => {
    // min(z, 0) − log1p(e^{−|z|}); derivative σ(−z) = 1/(1 + w) for z ≤ 0, w/(1 + w) above.
    const { w, inv } = vsigmoid(g, vt, z);
    const y = vt.sub(vt.pmin(z, vt.c(0)), vlog1pUnit(g, vt, w));
    return { y: g.letV(y), d: g.letV(vt.sel(vt.le(z, vt.c(0)), inv, vt.mul(w, inv))) };
  },
  exp: (g, vt, z) => {
    const y = vexp(g, vt, z);
    return { y, d: y };
  },
  exp_linear: (g, vt, z) => {
    const e = vexp(g, vt, z);
    return { y: g.letV(vt.mul(z, e)), d: g.letV(vt.mul(vt.add(vt.c(1), z), e)) };
  },
  // x − tanh(x) cancels near 0: there, float32 uses x³·P(x²) (TANHSHRINK_P); from |x| = 1 on, x − tanh(x)
  // loses at most a factor 1/(1 − tanh(1)/1) ≈ 4 of tanh's accuracy (≤ 5e-7 relative). float64 computes
  // x − tanh(x) as the reference does.
  tanhshrink: (g, vt, z) => {
    const t = vtanh(g, vt, z);
    const d = g.letV(vt.mul(t, t));
    if (!vt.f32) return { y: g.letV(vt.sub(z, t)), d };
    const u = g.letV(vt.mul(z, z));
    const series = vt.mul(vt.mul(z, u), horner(vt, u, TANHSHRINK_P));
    return { y: g.letV(vt.sel(vt.lt(vt.abs(z), vt.c(1)), series, vt.sub(z, t))), d };
  },
  relu6: (g, vt, z) => {
    const y = vt.sel(vt.le(z, vt.c(0)), vt.c(0), vt.sel(vt.ge(z, vt.c(6)), vt.c(6), z));
    const d = vt.and(vt.c(1), vt.and(vt.gt(z, vt.c(0)), vt.lt(z, vt.c(6))));
    return { y: g.letV(y), d: g.letV(d) };
  },
  relu2: (g, vt, z) => {
    const m = g.letV(vt.gt(z, vt.c(0)));
    return { y: g.letV(vt.and(vt.mul(z, z), m)), d: g.letV(vt.and(vt.add(z, z), m)) };
  },
  softshrink: (g, vt, z) => {
    const hi = g.letV(vt.gt(z, vt.c(0.5)));
    const lo = g.letV(vt.lt(z, vt.c(-0.5)));
    const y = vt.sel(hi, vt.sub(z, vt.c(0.5)), vt.sel(lo, vt.add(z, vt.c(0.5)), vt.c(0)));
    return { y: g.letV(y), d: g.letV(vt.and(vt.c(1), vt.or(hi, lo))) };
  },
  softsign: (g, vt, z) => {
    const den = g.letV(vt.add(vt.c(1), vt.abs(z)));
    return { y: g.letV(vt.div(z, den)), d: g.letV(vt.div(vt.c(1), vt.mul(den, den))) };
  },
};

function elu(g: Gen, vt: Vt, z: Expr): YD {
  const m = g.letV(vt.gt(z, vt.c(0)));
  const { em1, ex } = vexpm1NonPos(g, vt, z);
  return { y: g.letV(vt.sel(m, z, em1)), d: g.letV(vt.sel(m, vt.c(1), ex)) };
}

class Unsupported extends Error {}

/** The vector generator for an elementwise activation at this precision, or undefined. */
export function elementwiseGen(id: string, dtype: "f32" | "f64"): ElementwiseGen | undefined {
  const gen = GENERATORS[id];
  if (!gen) return undefined;
  if (id === "gelu" && dtype === "f64") return undefined;
  return gen;
}

/** The softmax family, computed over the features of a sample. */
export const VECTOR_IDS = ["softmax", "softmin", "solu", "log_softmax"] as const;
export type VectorId = (typeof VECTOR_IDS)[number];
export const isVectorId = (id: string): id is VectorId => (VECTOR_IDS as readonly string[]).includes(id);
