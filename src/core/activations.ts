// The 27 activation functions of the seed study, one table entry each: the forward function and its
// derivative side by side (micrograd style), with PyTorch's name and default parameters, and for the
// elementwise ones the same pair as vector code for the generated kernels (`vector`, see kernels/wasm/vact.ts).
// An entry is all a new activation needs, plus its PyTorch fixture (scripts/fixtures/make_activation_fixtures.py).
//
// Derivatives follow PyTorch's backward formulas, including its choice at kinks (relu'(0) = 0,
// hardswish'(−3) = −0.5, hardswish'(3) = 1, hardtanh'(±1) = 0, …), so training matches torch.autograd exactly.
// Every entry is checked against PyTorch in test/activations.test.ts (fixtures/activations.json).

import type { VectorEmit, VectorForm } from "./kernels/wasm/vact.js";
import { erf } from "./special.js";

/** A typed buffer of the working precision (Float32Array for f32, Float64Array for f64). */
export type Buffer = Float32Array | Float64Array;

interface ActivationInfo {
  id: string;
  name: string;
  /** The PyTorch call this entry reproduces (with its defaults). */
  torch: string;
  formula: string;
  doc: string;
}

/** Acts on each value alone. `derivative(x, y)` receives y = forward(x) so entries can reuse it. */
export interface ElementwiseActivation extends ActivationInfo {
  kind: "elementwise";
  forward(x: number): number;
  derivative(x: number, y: number): number;
  /**
   * The same forward and derivative as vector code for the generated kernels, written with the vector-math
   * emitter (kernels/wasm/vact.ts). Without it the fast kernel calls forward and derivative from WebAssembly.
   */
  vector?: VectorForm;
}

/**
 * Acts on a whole vector (the softmax family). The vector is `n` values at `offset + k·stride`, so the same
 * code runs over the features of one sample (stride 1) or over the batch for one feature (stride F).
 */
export interface VectorActivation extends ActivationInfo {
  kind: "vector";
  forward(z: Buffer, y: Buffer, offset: number, stride: number, n: number): void;
  /** dz = J(z)ᵀ dy, given z and y = forward(z). */
  vjp(z: Buffer, y: Buffer, dy: Buffer, dz: Buffer, offset: number, stride: number, n: number): void;
}

export type Activation = ElementwiseActivation | VectorActivation;

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** PyTorch's softplus with β = 1, threshold = 20: linear above the threshold. */
const softplus = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;

function elementwise(
  info: ActivationInfo,
  forward: (x: number) => number,
  derivative: (x: number, y: number) => number,
  vector?: VectorForm,
): ElementwiseActivation {
  return { kind: "elementwise", ...info, forward, derivative, ...(vector ? { vector } : {}) };
}

/** ELU's (and CELU's, α = 1) vector form. */
const eluVector: VectorEmit = (m, z) => {
  const { g, vt } = m;
  const pos = g.letV(vt.gt(z, vt.c(0)));
  const { em1, ex } = m.expm1NonPos(z);
  return { y: g.letV(vt.sel(pos, z, em1)), d: g.letV(vt.sel(pos, vt.c(1), ex)) };
};

/** ELU with α = 1, which CELU with α = 1 also is: both entries share its forward, derivative and vector form. */
function eluAlpha1(info: ActivationInfo): ElementwiseActivation {
  return elementwise(
    info,
    (x) => (x > 0 ? x : Math.expm1(x)),
    (x) => (x > 0 ? 1 : Math.exp(x)),
    { emit: eluVector },
  );
}

/**
 * (x − tanh x)/x³ as a polynomial in x² on |x| ≤ 1: a least-squares fit of relative error (degree 6, max
 * 6.8e-8 in float64 arithmetic; the Taylor series starts 1/3 − 2x²/15 + 17x⁴/315).
 */
const TANHSHRINK_P = [
  0.33333332385850845, -0.13333168303625298, 0.0539381875269147, -0.0216720380531255, 0.008238928674244542,
  -0.0025264614644174704, 0.00042560231439477125,
];

/** softmax over the strided vector; shared by softmax, softmin (on −z) and solu. */
function softmaxInto(z: Buffer, y: Buffer, offset: number, stride: number, n: number, sign: 1 | -1): void {
  let max = -Infinity;
  for (let k = 0, i = offset; k < n; k++, i += stride) max = Math.max(max, sign * z[i]);
  let sum = 0;
  for (let k = 0, i = offset; k < n; k++, i += stride) {
    const e = Math.exp(sign * z[i] - max);
    y[i] = e;
    sum += e;
  }
  for (let k = 0, i = offset; k < n; k++, i += stride) y[i] /= sum;
}

/** dz = y ⊙ (dy − ⟨dy, y⟩) · sign: the softmax VJP (sign −1 for softmin, whose input is −z). */
function softmaxVjp(
  y: Buffer,
  dy: Buffer,
  dz: Buffer,
  offset: number,
  stride: number,
  n: number,
  sign: 1 | -1,
) {
  let dot = 0;
  for (let k = 0, i = offset; k < n; k++, i += stride) dot += dy[i] * y[i];
  for (let k = 0, i = offset; k < n; k++, i += stride) dz[i] = sign * y[i] * (dy[i] - dot);
}

const ENTRIES: Activation[] = [
  elementwise(
    { id: "relu", name: "ReLU", torch: "F.relu", formula: "max(0, x)", doc: "The notebook's activation." },
    (x) => (x > 0 ? x : 0),
    (x) => (x > 0 ? 1 : 0),
    {
      light: true,
      emit: ({ g, vt }, z) => {
        const m = g.letV(vt.gt(z, vt.c(0)));
        return { y: g.letV(vt.and(z, m)), d: g.letV(vt.and(vt.c(1), m)) };
      },
    },
  ),
  elementwise(
    {
      id: "leaky_relu",
      name: "LeakyReLU",
      torch: "F.leaky_relu(negative_slope=0.01)",
      formula: "x if x > 0 else 0.01·x",
      doc: "ReLU with a small slope for negative inputs.",
    },
    (x) => (x > 0 ? x : 0.01 * x),
    (x) => (x > 0 ? 1 : 0.01),
    {
      light: true,
      emit: ({ g, vt }, z) => {
        const m = g.letV(vt.gt(z, vt.c(0)));
        return { y: g.letV(vt.sel(m, z, vt.mul(z, vt.c(0.01)))), d: g.letV(vt.sel(m, vt.c(1), vt.c(0.01))) };
      },
    },
  ),
  elementwise(
    {
      id: "selu",
      name: "SELU",
      torch: "F.selu",
      formula: "λ·(x if x > 0 else α(eˣ − 1)), λ ≈ 1.0507, α ≈ 1.6733",
      doc: "Self-normalising ELU; goes down to −λα ≈ −1.76.",
    },
    (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    (x) => (x > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(x)),
    {
      emit: (m, z) => {
        const { g, vt } = m;
        const pos = g.letV(vt.gt(z, vt.c(0)));
        const { em1, ex } = m.expm1NonPos(z);
        return {
          y: g.letV(
            vt.sel(pos, vt.mul(vt.c(SELU_SCALE), z), vt.mul(vt.c(SELU_SCALE), vt.mul(vt.c(SELU_ALPHA), em1))),
          ),
          d: g.letV(vt.sel(pos, vt.c(SELU_SCALE), vt.mul(vt.c(SELU_SCALE * SELU_ALPHA), ex))),
        };
      },
    },
  ),
  eluAlpha1({
    id: "celu",
    name: "CELU",
    torch: "F.celu(alpha=1)",
    formula: "max(0, x) + min(0, α(e^{x/α} − 1)), α = 1",
    doc: "Continuously differentiable ELU; with α = 1 it equals ELU.",
  }),
  elementwise(
    {
      id: "gelu",
      name: "GELU",
      torch: "F.gelu(approximate='none')",
      formula: "x·Φ(x) = x/2·(1 + erf(x/√2))",
      doc: "Exact (erf) form, as PyTorch's default.",
    },
    (x) => x * 0.5 * (1 + erf(x * SQRT1_2)),
    (x) => 0.5 * (1 + erf(x * SQRT1_2)) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI,
    {
      // float64 GELU runs use this entry's JavaScript (vmath.ts has no float64 Φ)
      dtypes: ["f32"],
      emit: (m, z) => {
        const { g, vt } = m;
        const { Phi, phi } = m.normalCdfF32(z);
        return { y: g.letV(vt.mul(z, Phi)), d: g.letV(vt.madd(z, phi, Phi)) };
      },
    },
  ),
  elementwise(
    { id: "sigmoid", name: "Sigmoid", torch: "torch.sigmoid", formula: "1/(1 + e^{−x})", doc: "Logistic." },
    sigmoid,
    (_x, y) => y * (1 - y),
    {
      emit: (m, z) => {
        const { g, vt } = m;
        const { s } = m.sigmoid(z);
        return { y: s, d: g.letV(vt.mul(s, vt.sub(vt.c(1), s))) };
      },
    },
  ),
  elementwise(
    {
      id: "hardsigmoid",
      name: "Hardsigmoid",
      torch: "F.hardsigmoid",
      formula: "clamp(x/6 + 1/2, 0, 1)",
      doc: "Piecewise-linear sigmoid.",
    },
    (x) => (x <= -3 ? 0 : x >= 3 ? 1 : (x + 3) / 6),
    (x) => (x > -3 && x < 3 ? 1 / 6 : 0),
    {
      light: true,
      emit: ({ g, vt }, z) => {
        const lo = vt.le(z, vt.c(-3));
        const hi = g.letV(vt.ge(z, vt.c(3)));
        const mid = vt.div(vt.add(z, vt.c(3)), vt.c(6));
        const inside = vt.and(vt.gt(z, vt.c(-3)), vt.lt(z, vt.c(3)));
        return {
          y: g.letV(vt.sel(lo, vt.c(0), vt.sel(hi, vt.c(1), mid))),
          d: g.letV(vt.and(vt.c(1 / 6), inside)),
        };
      },
    },
  ),
  elementwise(
    {
      id: "silu",
      name: "SiLU / Swish",
      torch: "F.silu",
      formula: "x·σ(x)",
      doc: "Sigmoid-weighted linear unit.",
    },
    (x) => x * sigmoid(x),
    (x) => {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    },
    {
      emit: (m, z) => {
        const { g, vt } = m;
        const { s } = m.sigmoid(z);
        return {
          y: g.letV(vt.mul(z, s)),
          d: g.letV(vt.mul(s, vt.add(vt.c(1), vt.mul(z, vt.sub(vt.c(1), s))))),
        };
      },
    },
  ),
  elementwise(
    {
      id: "hardswish",
      name: "Hardswish",
      torch: "F.hardswish",
      formula: "x·relu6(x + 3)/6",
      doc: "Piecewise-quadratic swish; PyTorch's derivative is x/3 + 1/2 on [−3, 3).",
    },
    (x) => (x <= -3 ? 0 : x >= 3 ? x : (x * (x + 3)) / 6),
    (x) => (x < -3 ? 0 : x < 3 ? x / 3 + 0.5 : 1),
    {
      light: true,
      emit: ({ g, vt }, z) => {
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
    },
  ),
  elementwise(
    { id: "mish", name: "Mish", torch: "F.mish", formula: "x·tanh(softplus(x))", doc: "Self-regularised." },
    (x) => x * Math.tanh(softplus(x)),
    (x) => {
      const t = Math.tanh(softplus(x));
      return t + x * sigmoid(x) * (1 - t * t);
    },
    {
      emit: (m, z) => {
        const { g, vt } = m;
        // tanh(softplus(z)) = n/(n + 2) with n = w(w + 2), w = eᶻ; with n + 1 = (w + 1)², the derivative's
        // σ(z)·(1 − t²) = 4w(w + 1)/(n + 2)²: one division. Above softplus's threshold 20 PyTorch's softplus
        // is z itself and tanh(z) rounds to 1.
        const big = g.letV(vt.gt(z, vt.c(20)));
        const w = m.exp(vt.pmin(z, vt.c(20)), "clampBelow");
        const n = g.letV(vt.mul(w, vt.add(w, vt.c(2))));
        const inv = g.letV(vt.div(vt.c(1), vt.add(n, vt.c(2))));
        const t = g.letV(vt.mul(n, inv));
        const sigOneMinusT2 = vt.mul(vt.mul(vt.madd(w, w, w), vt.c(4)), vt.mul(inv, inv));
        const d = vt.madd(z, sigOneMinusT2, t);
        return { y: g.letV(vt.sel(big, z, vt.mul(z, t))), d: g.letV(vt.sel(big, vt.c(1), d)) };
      },
    },
  ),
  elementwise(
    {
      id: "softplus",
      name: "Softplus",
      torch: "F.softplus(beta=1, threshold=20)",
      formula: "log(1 + eˣ), x above 20",
      doc: "Smooth ReLU.",
    },
    softplus,
    (x) => (x > 20 ? 1 : sigmoid(x)),
    {
      emit: (m, z) => {
        const { g, vt } = m;
        const big = g.letV(vt.gt(z, vt.c(20)));
        const { s, log1pW } = m.sigmoidLog1p(z);
        const y = vt.add(vt.pmax(z, vt.c(0)), log1pW);
        return { y: g.letV(vt.sel(big, z, y)), d: g.letV(vt.sel(big, vt.c(1), s)) };
      },
    },
  ),
  elementwise(
    { id: "tanh", name: "Tanh", torch: "torch.tanh", formula: "tanh(x)", doc: "Odd, bounded in (−1, 1)." },
    Math.tanh,
    (_x, y) => 1 - y * y,
    {
      emit: (m, z) => {
        const y = m.tanh(z);
        return { y, d: m.g.letV(m.vt.sub(m.vt.c(1), m.vt.mul(y, y))) };
      },
    },
  ),
  elementwise(
    {
      id: "hardtanh",
      name: "Hardtanh",
      torch: "F.hardtanh(min_val=-1, max_val=1)",
      formula: "clamp(x, −1, 1)",
      doc: "Piecewise-linear tanh.",
    },
    (x) => (x < -1 ? -1 : x > 1 ? 1 : x),
    (x) => (x > -1 && x < 1 ? 1 : 0),
    {
      light: true,
      emit: ({ g, vt }, z) => {
        const y = vt.sel(vt.lt(z, vt.c(-1)), vt.c(-1), vt.sel(vt.gt(z, vt.c(1)), vt.c(1), z));
        const d = vt.and(vt.c(1), vt.and(vt.gt(z, vt.c(-1)), vt.lt(z, vt.c(1))));
        return { y: g.letV(y), d: g.letV(d) };
      },
    },
  ),
  eluAlpha1({
    id: "elu",
    name: "ELU",
    torch: "F.elu(alpha=1)",
    formula: "x if x > 0 else α(eˣ − 1), α = 1",
    doc: "Exponential linear unit.",
  }),
  elementwise(
    {
      id: "hardshrink",
      name: "Hardshrink",
      torch: "F.hardshrink(lambd=0.5)",
      formula: "x if |x| > 0.5 else 0",
      doc: "Zeroes a band around 0, identity outside.",
    },
    (x) => (x > 0.5 || x < -0.5 ? x : 0),
    (x) => (x > 0.5 || x < -0.5 ? 1 : 0),
    {
      light: true,
      emit: ({ g, vt }, z) => {
        const m = g.letV(vt.or(vt.gt(z, vt.c(0.5)), vt.lt(z, vt.c(-0.5))));
        return { y: g.letV(vt.and(z, m)), d: g.letV(vt.and(vt.c(1), m)) };
      },
    },
  ),
  {
    kind: "vector",
    id: "softmax",
    name: "Softmax",
    torch: "F.softmax(dim=features)",
    formula: "eˣⁱ / Σⱼ eˣʲ",
    doc: "Over the features of each sample (or over the batch with --softmax-dim batch).",
    forward: (z, y, o, s, n) => softmaxInto(z, y, o, s, n, 1),
    vjp: (_z, y, dy, dz, o, s, n) => softmaxVjp(y, dy, dz, o, s, n, 1),
  },
  {
    kind: "vector",
    id: "solu",
    name: "SoLU",
    torch: "x * F.softmax(x, dim=features)",
    formula: "x ⊙ softmax(x)",
    doc: "Softmax linear unit without the LayerNorm.",
    forward: (z, y, o, s, n) => {
      softmaxInto(z, y, o, s, n, 1);
      for (let k = 0, i = o; k < n; k++, i += s) y[i] *= z[i];
    },
    vjp: (z, _y, dy, dz, o, s, n) => {
      // With p = softmax(z) = y/z: dz = dy⊙p + p⊙(dy⊙z − ⟨dy⊙z, p⟩). p is recomputed, since y/z fails at z = 0.
      let max = -Infinity;
      for (let k = 0, i = o; k < n; k++, i += s) max = Math.max(max, z[i]);
      let sum = 0;
      for (let k = 0, i = o; k < n; k++, i += s) sum += Math.exp(z[i] - max);
      let dot = 0;
      for (let k = 0, i = o; k < n; k++, i += s) dot += dy[i] * z[i] * (Math.exp(z[i] - max) / sum);
      for (let k = 0, i = o; k < n; k++, i += s) {
        const p = Math.exp(z[i] - max) / sum;
        dz[i] = dy[i] * p + p * (dy[i] * z[i] - dot);
      }
    },
  },
  {
    kind: "vector",
    id: "log_softmax",
    name: "LogSoftmax",
    torch: "F.log_softmax(dim=features)",
    formula: "xᵢ − log Σⱼ eˣʲ",
    doc: "Always ≤ 0, so it cannot output the positive targets.",
    forward: (z, y, o, s, n) => {
      let max = -Infinity;
      for (let k = 0, i = o; k < n; k++, i += s) max = Math.max(max, z[i]);
      let sum = 0;
      for (let k = 0, i = o; k < n; k++, i += s) sum += Math.exp(z[i] - max);
      const logSum = max + Math.log(sum);
      for (let k = 0, i = o; k < n; k++, i += s) y[i] = z[i] - logSum;
    },
    vjp: (_z, y, dy, dz, o, s, n) => {
      let total = 0;
      for (let k = 0, i = o; k < n; k++, i += s) total += dy[i];
      for (let k = 0, i = o; k < n; k++, i += s) dz[i] = dy[i] - Math.exp(y[i]) * total;
    },
  },
  elementwise(
    {
      id: "logsigmoid",
      name: "LogSigmoid",
      torch: "F.logsigmoid",
      formula: "log σ(x) = −softplus(−x)",
      doc: "Always < 0.",
    },
    (x) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x))),
    (x) => sigmoid(-x),
    {
      emit: (m, z) => {
        const { g, vt } = m;
        // min(z, 0) − log1p(e^{−|z|}); derivative σ(−z) = 1/(1 + w) for z ≤ 0, w/(1 + w) above.
        const { w, inv, log1pW } = m.sigmoidLog1p(z);
        const y = vt.sub(vt.pmin(z, vt.c(0)), log1pW);
        return { y: g.letV(y), d: g.letV(vt.sel(vt.le(z, vt.c(0)), inv, vt.mul(w, inv))) };
      },
    },
  ),
  elementwise(
    { id: "exp", name: "Exp", torch: "torch.exp", formula: "eˣ", doc: "Overflows f32 above x ≈ 88.7." },
    Math.exp,
    (_x, y) => y,
    {
      emit: (m, z) => {
        const y = m.exp(z);
        return { y, d: y };
      },
    },
  ),
  elementwise(
    {
      id: "exp_linear",
      name: "Exp linear",
      torch: "x * torch.exp(x)",
      formula: "x·eˣ",
      doc: "The write-up does not define 'Exp linear'; we read it as x·eˣ, by analogy with SiLU = x·σ(x).",
    },
    (x) => x * Math.exp(x),
    (x) => (1 + x) * Math.exp(x),
    {
      emit: (m, z) => {
        const { g, vt } = m;
        const e = m.exp(z);
        return { y: g.letV(vt.mul(z, e)), d: g.letV(vt.mul(vt.add(vt.c(1), z), e)) };
      },
    },
  ),
  elementwise(
    {
      id: "tanhshrink",
      name: "Tanhshrink",
      torch: "F.tanhshrink",
      formula: "x − tanh(x)",
      doc: "Cubic near 0.",
    },
    (x) => x - Math.tanh(x),
    (x) => {
      const t = Math.tanh(x);
      return t * t;
    },
    {
      // x − tanh(x) cancels near 0: there, float32 uses x³·P(x²) (TANHSHRINK_P); from |x| = 1 on, x − tanh(x)
      // loses at most a factor 1/(1 − tanh(1)/1) ≈ 4 of tanh's accuracy (≤ 5e-7 relative). float64 computes
      // x − tanh(x) as the JavaScript does.
      emit: (m, z) => {
        const { g, vt } = m;
        const t = m.tanh(z);
        const d = g.letV(vt.mul(t, t));
        if (!vt.f32) return { y: g.letV(vt.sub(z, t)), d };
        const u = g.letV(vt.mul(z, z));
        const series = vt.mul(vt.mul(z, u), m.horner(u, TANHSHRINK_P));
        return { y: g.letV(vt.sel(vt.lt(m.abs(z), vt.c(1)), series, vt.sub(z, t))), d };
      },
    },
  ),
  elementwise(
    { id: "relu6", name: "ReLU6", torch: "F.relu6", formula: "min(max(0, x), 6)", doc: "ReLU capped at 6." },
    (x) => (x <= 0 ? 0 : x >= 6 ? 6 : x),
    (x) => (x > 0 && x < 6 ? 1 : 0),
    {
      light: true,
      emit: ({ g, vt }, z) => {
        const y = vt.sel(vt.le(z, vt.c(0)), vt.c(0), vt.sel(vt.ge(z, vt.c(6)), vt.c(6), z));
        const d = vt.and(vt.c(1), vt.and(vt.gt(z, vt.c(0)), vt.lt(z, vt.c(6))));
        return { y: g.letV(y), d: g.letV(d) };
      },
    },
  ),
  elementwise(
    { id: "relu2", name: "ReLU²", torch: "F.relu(x) ** 2", formula: "max(0, x)²", doc: "Squared ReLU." },
    (x) => (x > 0 ? x * x : 0),
    (x) => (x > 0 ? 2 * x : 0),
    {
      light: true,
      emit: ({ g, vt }, z) => {
        const m = g.letV(vt.gt(z, vt.c(0)));
        return { y: g.letV(vt.and(vt.mul(z, z), m)), d: g.letV(vt.and(vt.add(z, z), m)) };
      },
    },
  ),
  elementwise(
    {
      id: "softshrink",
      name: "Softshrink",
      torch: "F.softshrink(lambd=0.5)",
      formula: "x − 0.5·sign(x) if |x| > 0.5 else 0",
      doc: "Shrinks towards 0 by 0.5.",
    },
    (x) => (x > 0.5 ? x - 0.5 : x < -0.5 ? x + 0.5 : 0),
    (x) => (x > 0.5 || x < -0.5 ? 1 : 0),
    {
      light: true,
      emit: ({ g, vt }, z) => {
        const hi = g.letV(vt.gt(z, vt.c(0.5)));
        const lo = g.letV(vt.lt(z, vt.c(-0.5)));
        const y = vt.sel(hi, vt.sub(z, vt.c(0.5)), vt.sel(lo, vt.add(z, vt.c(0.5)), vt.c(0)));
        return { y: g.letV(y), d: g.letV(vt.and(vt.c(1), vt.or(hi, lo))) };
      },
    },
  ),
  elementwise(
    { id: "softsign", name: "Softsign", torch: "F.softsign", formula: "x/(1 + |x|)", doc: "Slow tanh." },
    (x) => x / (1 + Math.abs(x)),
    (x) => {
      const d = 1 + Math.abs(x);
      return 1 / (d * d);
    },
    {
      light: true,
      emit: ({ g, vt }, z) => {
        const den = g.letV(vt.add(vt.c(1), vt.abs(z)));
        return { y: g.letV(vt.div(z, den)), d: g.letV(vt.div(vt.c(1), vt.mul(den, den))) };
      },
    },
  ),
  {
    kind: "vector",
    id: "softmin",
    name: "Softmin",
    torch: "F.softmin(dim=features)",
    formula: "e^{−xᵢ} / Σⱼ e^{−xʲ}",
    doc: "softmax(−x): the largest input gets the smallest output.",
    forward: (z, y, o, s, n) => softmaxInto(z, y, o, s, n, -1),
    vjp: (_z, y, dy, dz, o, s, n) => softmaxVjp(y, dy, dz, o, s, n, -1),
  },
];

/** Activations by id, in the seed write-up's order (ReLU first). */
export const ACTIVATIONS: ReadonlyMap<string, Activation> = new Map(ENTRIES.map((a) => [a.id, a]));
export const ACTIVATION_IDS: readonly string[] = ENTRIES.map((a) => a.id);
/** The softmax family: the activations acting on a whole vector (kind "vector"). */
export const VECTOR_ACTIVATION_IDS: readonly string[] = ENTRIES.filter((a) => a.kind === "vector").map(
  (a) => a.id,
);

/** Thrown for an unknown id; lists the valid ones (the CLI turns it into exit 2). */
export class UnknownIdError extends Error {
  constructor(kind: string, id: string, valid: readonly string[]) {
    super(`unknown ${kind} '${id}'; choose from: ${valid.join(", ")}`);
    this.name = "UnknownIdError";
  }
}

/** Activations made at run time (user formulas, src/core/formula/), by id; a later definition replaces. */
const DEFINED = new Map<string, Activation>();
export function defineActivation(a: Activation): void {
  if (ACTIVATIONS.has(a.id)) throw new Error(`'${a.id}' is a built-in activation`);
  DEFINED.set(a.id, a);
}

export function getActivation(id: string): Activation {
  const a = ACTIVATIONS.get(id) ?? DEFINED.get(id);
  if (!a) throw new UnknownIdError("activation", id, ACTIVATION_IDS);
  return a;
}
