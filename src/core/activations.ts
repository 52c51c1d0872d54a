// The 27 activation functions of the seed study, one table entry each: the forward function and its
// derivative side by side (micrograd style), with PyTorch's name and default parameters.
//
// Derivatives follow PyTorch's backward formulas, including its choice at kinks (relu'(0) = 0,
// hardswish'(−3) = −0.5, hardswish'(3) = 1, hardtanh'(±1) = 0, …), so training matches torch.autograd exactly.
// Every entry is checked against PyTorch in test/activations.test.ts (fixtures/activations.json).

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
): ElementwiseActivation {
  return { kind: "elementwise", ...info, forward, derivative };
}

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
  ),
  elementwise(
    {
      id: "celu",
      name: "CELU",
      torch: "F.celu(alpha=1)",
      formula: "max(0, x) + min(0, α(e^{x/α} − 1)), α = 1",
      doc: "Continuously differentiable ELU; with α = 1 it equals ELU.",
    },
    (x) => (x > 0 ? x : Math.expm1(x)),
    (x) => (x > 0 ? 1 : Math.exp(x)),
  ),
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
  ),
  elementwise(
    { id: "sigmoid", name: "Sigmoid", torch: "torch.sigmoid", formula: "1/(1 + e^{−x})", doc: "Logistic." },
    sigmoid,
    (_x, y) => y * (1 - y),
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
  ),
  elementwise(
    { id: "mish", name: "Mish", torch: "F.mish", formula: "x·tanh(softplus(x))", doc: "Self-regularised." },
    (x) => x * Math.tanh(softplus(x)),
    (x) => {
      const t = Math.tanh(softplus(x));
      return t + x * sigmoid(x) * (1 - t * t);
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
  ),
  elementwise(
    { id: "tanh", name: "Tanh", torch: "torch.tanh", formula: "tanh(x)", doc: "Odd, bounded in (−1, 1)." },
    Math.tanh,
    (_x, y) => 1 - y * y,
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
  ),
  elementwise(
    {
      id: "elu",
      name: "ELU",
      torch: "F.elu(alpha=1)",
      formula: "x if x > 0 else α(eˣ − 1), α = 1",
      doc: "Exponential linear unit.",
    },
    (x) => (x > 0 ? x : Math.expm1(x)),
    (x) => (x > 0 ? 1 : Math.exp(x)),
  ),
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
  ),
  elementwise(
    { id: "exp", name: "Exp", torch: "torch.exp", formula: "eˣ", doc: "Overflows f32 above x ≈ 88.7." },
    Math.exp,
    (_x, y) => y,
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
  ),
  elementwise(
    { id: "relu6", name: "ReLU6", torch: "F.relu6", formula: "min(max(0, x), 6)", doc: "ReLU capped at 6." },
    (x) => (x <= 0 ? 0 : x >= 6 ? 6 : x),
    (x) => (x > 0 && x < 6 ? 1 : 0),
  ),
  elementwise(
    { id: "relu2", name: "ReLU²", torch: "F.relu(x) ** 2", formula: "max(0, x)²", doc: "Squared ReLU." },
    (x) => (x > 0 ? x * x : 0),
    (x) => (x > 0 ? 2 * x : 0),
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
  ),
  elementwise(
    { id: "softsign", name: "Softsign", torch: "F.softsign", formula: "x/(1 + |x|)", doc: "Slow tanh." },
    (x) => x / (1 + Math.abs(x)),
    (x) => {
      const d = 1 + Math.abs(x);
      return 1 / (d * d);
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
