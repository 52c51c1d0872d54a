// Properties of an activation function computed from its table entry (forward and derivative) on a grid,
// not typed by hand: the same function works for any entry of the activation table's shape.
//
// Vector activations (the softmax family) have no single-variable graph; they are probed along one
// coordinate of an n-vector whose other coordinates are 0: f(x) = act([x, 0, …, 0])₀ and f′(x) = ∂f/∂x₀ (the
// diagonal of the Jacobian, from the entry's VJP). n defaults to 5, the intro preset's width; f(0) = 1/n for
// softmax. Properties of a vector activation therefore describe one output as its own input moves.

import type { Activation } from "./activations.js";

export interface ActivationProperties {
  id: string;
  kind: Activation["kind"];
  /** f(x) ≥ 0 for every x probed. */
  nonNegative: boolean;
  boundedBelow: boolean;
  boundedAbove: boolean;
  /** Non-decreasing or non-increasing everywhere probed. */
  monotonic: boolean;
  /** f(−x) = −f(x). */
  odd: boolean;
  /** f and f′ continuous (C¹): no jump in f or f′ anywhere on the grid. */
  smooth: boolean;
  /** f′ piecewise constant: the "hard" functions (relu, hardtanh, hardshrink, …). */
  piecewiseLinear: boolean;
  f0: number;
  fPrime0: number;
  /** inf of f on x < 0: how far negative inputs get through (0 for ReLU, −1 for ELU, −∞ for LeakyReLU). */
  minNegative: number;
  /** Which sides flatten out (|f′| → 0 as x → ±∞). */
  saturation: "none" | "left" | "right" | "both";
}

/** Boolean properties, in display order (the property analysis groups activations by these). */
export const BOOLEAN_PROPERTIES = [
  "nonNegative",
  "boundedBelow",
  "boundedAbove",
  "monotonic",
  "odd",
  "smooth",
  "piecewiseLinear",
] as const;
export type BooleanProperty = (typeof BOOLEAN_PROPERTIES)[number];

export const PROPERTY_LABELS: Record<BooleanProperty, string> = {
  nonNegative: "non-negative",
  boundedBelow: "bounded below",
  boundedAbove: "bounded above",
  monotonic: "monotonic",
  odd: "odd",
  smooth: "smooth (C¹)",
  piecewiseLinear: "piecewise linear",
};

/** The probe: a grid over [−GRID_HALF_WIDTH, GRID_HALF_WIDTH] with a binary step (so 0, ±0.5, ±3 are on it). */
export const GRID_HALF_WIDTH = 8;
export const GRID_STEP = 1 / 512;
/** Far points for boundedness and saturation. */
const FAR = [20, 1e3, 1e6];
/** A value or slope change counts as a jump if it exceeds this and 10× its neighbours' changes. */
const JUMP_FLOOR = 1e-4;
const JUMP_FACTOR = 10;
/** Slope changes below this are rounding (piecewise linear test). */
const FLAT = 1e-9;
/** Intervals of changing slope allowed for piecewise linear: the kinks themselves. */
const MAX_KINKS = 8;
/** |f′| below this far out counts as saturated. */
const SATURATED_SLOPE = 1e-3;
/** Growth from 1e3 to 1e6 above this counts as unbounded (catches log growth). */
const GROWTH = 1;
const TOL = 1e-9;

export interface ProbeOptions {
  /** Width of the vector a vector activation is applied to (default 5). */
  vectorWidth?: number;
}

/** f and f′ of an entry as scalar functions (vector entries probed along one coordinate). */
export function scalarView(
  act: Activation,
  options: ProbeOptions = {},
): { f: (x: number) => number; df: (x: number) => number } {
  if (act.kind === "elementwise")
    return { f: (x) => act.forward(x), df: (x) => act.derivative(x, act.forward(x)) };
  const n = options.vectorWidth ?? 5;
  const z = new Float64Array(n);
  const y = new Float64Array(n);
  const dy = new Float64Array(n);
  const dz = new Float64Array(n);
  const run = (x: number) => {
    z.fill(0);
    z[0] = x;
    act.forward(z, y, 0, 1, n);
  };
  return {
    f: (x) => {
      run(x);
      return y[0];
    },
    df: (x) => {
      run(x);
      dy.fill(0);
      dy[0] = 1;
      act.vjp(z, y, dy, dz, 0, 1, n);
      return dz[0];
    },
  };
}

/** Indices k where |d[k]| is a jump: above the floor and 10× both neighbours. */
function jumps(d: Float64Array): number[] {
  const out: number[] = [];
  for (let k = 0; k < d.length; k++) {
    const a = Math.abs(d[k]);
    const left = k > 0 ? Math.abs(d[k - 1]) : 0;
    const right = k + 1 < d.length ? Math.abs(d[k + 1]) : 0;
    if (a > JUMP_FLOOR && a > JUMP_FACTOR * Math.max(left, right)) out.push(k);
  }
  return out;
}

/** f grows without bound (up: sign 1, down: sign −1) as x → direction·∞. */
const grows = (f: (x: number) => number, direction: 1 | -1, sign: 1 | -1): boolean => {
  const vals = FAR.map((x) => sign * f(direction * x));
  if (vals.some((v) => v === Infinity)) return true;
  // a log-like growth still rises by more than GROWTH between 1e3 and 1e6
  return vals[2] - vals[1] > GROWTH;
};

/** The properties of one activation entry. */
export function activationProperties(act: Activation, options: ProbeOptions = {}): ActivationProperties {
  const { f, df } = scalarView(act, options);
  const n = Math.round((2 * GRID_HALF_WIDTH) / GRID_STEP) + 1;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const ds = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    xs[k] = -GRID_HALF_WIDTH + k * GRID_STEP;
    ys[k] = f(xs[k]);
    ds[k] = df(xs[k]);
  }
  const far = [...FAR, ...FAR.map((x) => -x)].map((x) => f(x));
  const all = [...ys, ...far].filter((v) => !Number.isNaN(v));
  const nonNegative = all.every((v) => v >= -TOL);
  const dy = new Float64Array(n - 1);
  const dd = new Float64Array(n - 1);
  let up = true;
  let down = true;
  for (let k = 0; k + 1 < n; k++) {
    dy[k] = ys[k + 1] - ys[k];
    dd[k] = ds[k + 1] - ds[k];
    const scale = TOL * (1 + Math.abs(ys[k]));
    if (dy[k] < -scale) up = false;
    if (dy[k] > scale) down = false;
  }
  // the far points must continue the grid's direction
  const chain = [-1e6, -1e3, -20, xs[0], xs[n - 1], 20, 1e3, 1e6].map((x) => f(x));
  for (let k = 0; k + 1 < chain.length; k++) {
    if (!Number.isFinite(chain[k]) || !Number.isFinite(chain[k + 1])) continue;
    if (chain[k + 1] < chain[k] - TOL) up = false;
    if (chain[k + 1] > chain[k] + TOL) down = false;
  }
  let odd = true;
  for (let k = 0; k < n; k++) {
    const mirror = ys[n - 1 - k];
    if (Math.abs(ys[k] + mirror) > 1e-7 * (1 + Math.abs(ys[k]))) odd = false;
  }
  const smooth = jumps(dy).length === 0 && jumps(dd).length === 0;
  const changing = dd.reduce((c, v) => c + (Math.abs(v) > FLAT ? 1 : 0), 0);
  const piecewiseLinear = changing <= MAX_KINKS;
  let minNegative = Infinity;
  for (let k = 0; k < n && xs[k] < 0; k++) minNegative = Math.min(minNegative, ys[k]);
  for (const x of FAR) {
    const v = f(-x);
    if (!Number.isNaN(v)) minNegative = Math.min(minNegative, v);
  }
  const flat = (x: number) => {
    const v = df(x);
    return Number.isFinite(v) && Math.abs(v) < SATURATED_SLOPE && Number.isFinite(f(x));
  };
  const left = flat(-1e3) && flat(-1e6);
  const right = flat(1e3) && flat(1e6);
  if (grows(f, -1, -1)) minNegative = -Infinity;
  return {
    id: act.id,
    kind: act.kind,
    nonNegative,
    boundedBelow: !grows(f, 1, -1) && !grows(f, -1, -1),
    boundedAbove: !grows(f, 1, 1) && !grows(f, -1, 1),
    monotonic: up || down,
    odd,
    smooth,
    piecewiseLinear,
    f0: f(0),
    fPrime0: df(0),
    minNegative,
    saturation: left && right ? "both" : left ? "left" : right ? "right" : "none",
  };
}
