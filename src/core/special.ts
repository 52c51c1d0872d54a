// Special functions that JavaScript's Math lacks. Plain float64, no Node APIs.

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * Error function in float64: within 7 ulp of glibc's erf on a 60 001-point grid over [−7, 7] (the slow
 * `erfAccurate` it is built from: 46 ulp), for the cost of one polynomial of degree 12. GELU's kernels
 * call it for the bias of every instance each step (the all-zero samples' activation), where the series
 * below took up to 60 terms, each with a division, and all 200 at x = 0 (the bias starts at 0).
 * |x| < 0.5: the Maclaurin series to x²³ (relative accuracy, also for tiny x); 0.5 ≤ |x| < 6: a Taylor
 * polynomial of degree ERF_DEGREE about the centre c of each piece of width 1/4 (|x − c| ≤ 1/8), built at
 * load; beyond, ±1 (erfc(6) ≈ 2e-17 is below half an ulp of 1).
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (!(ax < ERF_ONE_FROM)) return Number.isNaN(x) ? Number.NaN : Math.sign(x);
  if (ax < ERF_PIECES_FROM) {
    const x2 = x * x;
    let acc = ERF_MACLAURIN[ERF_MACLAURIN.length - 1];
    for (let k = ERF_MACLAURIN.length - 2; k >= 0; k--) acc = acc * x2 + ERF_MACLAURIN[k];
    return x * acc;
  }
  const piece = Math.floor((ax - ERF_PIECES_FROM) * ERF_PIECES_PER_UNIT);
  const h = ax - (ERF_PIECES_FROM + (piece + 0.5) / ERF_PIECES_PER_UNIT);
  const at = piece * (ERF_DEGREE + 1);
  let r = ERF_TAYLOR[at + ERF_DEGREE];
  for (let k = ERF_DEGREE - 1; k >= 0; k--) r = r * h + ERF_TAYLOR[at + k];
  return x < 0 ? -r : r;
}

/**
 * Error function in float64 by slowly converging series: within ~50 ulp (46 measured, near |x| ≈ 2.36, where
 * the series loses digits). `erf` is built from its values at a few points.
 * |x| < 2.4: the Maclaurin series (all terms alternate but stay below e^{x²} ≈ 320, so at most ~3 digits of
 * the 16 are lost to cancellation); beyond: erf = 1 − erfc, with erfc from its Laplace continued fraction,
 * which converges quickly there.
 */
export function erfAccurate(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const ax = Math.abs(x);
  if (ax < 2.4) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  const r = 1 - erfcLarge(ax);
  return x < 0 ? -r : r;
}

/** erfc(x) for x ≥ 2.4 by the continued fraction erfc(x) = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))). */
function erfcLarge(x: number): number {
  if (x > 27) return 0;
  // Modified Lentz evaluation of K = x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))).
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 300; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (f * 1.7724538509055159);
}

const ERF_PIECES_FROM = 0.5;
const ERF_ONE_FROM = 6;
const ERF_PIECES_PER_UNIT = 4;
const ERF_DEGREE = 12;

/** erf(x)/x = Σ c_k x^{2k}, c_k = (2/√π)(−1)^k/(k!(2k + 1)); 12 terms leave < 1e-17 relative at |x| = 0.5. */
const ERF_MACLAURIN = Array.from({ length: 12 }, (_, k) => {
  let factorial = 1;
  for (let j = 2; j <= k; j++) factorial *= j;
  return (TWO_OVER_SQRT_PI * (k % 2 ? -1 : 1)) / (factorial * (2 * k + 1));
});

/**
 * Taylor coefficients of erf about each piece's centre c: erf(c) (from erfAccurate), then
 * erf⁽ᵏ⁾(c)/k! = (2/√π)·(−1)^{k−1}·H_{k−1}(c)·e^{−c²}/k! with the Hermite polynomials H (H₀ = 1, H₁ = 2c,
 * H_{n+1} = 2c·H_n − 2n·H_{n−1}). Each coefficient is computed on its own, so none carries another's
 * rounding error (interpolating from sampled values did: ~10 ulp at the pieces' ends).
 */
const ERF_TAYLOR = (() => {
  const n = ERF_DEGREE + 1;
  const pieces = (ERF_ONE_FROM - ERF_PIECES_FROM) * ERF_PIECES_PER_UNIT;
  const out = new Float64Array(pieces * n);
  for (let p = 0; p < pieces; p++) {
    const c = ERF_PIECES_FROM + (p + 0.5) / ERF_PIECES_PER_UNIT;
    const gauss = TWO_OVER_SQRT_PI * Math.exp(-c * c);
    out[p * n] = erfAccurate(c);
    let hPrev = 0;
    let h = 1;
    let factorial = 1;
    for (let k = 1; k < n; k++) {
      factorial *= k;
      out[p * n + k] = ((k % 2 ? 1 : -1) * h * gauss) / factorial;
      const next = 2 * c * h - 2 * (k - 1) * hPrev;
      hPrev = h;
      h = next;
    }
  }
  return out;
})();
