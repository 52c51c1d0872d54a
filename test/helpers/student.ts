// Student's t and Fisher's F tail probabilities and quantiles, for the fidelity suites' critical values
// (K = the t quantile for a chosen false-alarm rate). Through the regularized incomplete beta function
// I_x(a, b) (Numerical Recipes' continued fraction, relative accuracy ~1e-14 for the arguments used here).

/** ln Γ(x), x > 0 (Lanczos, g = 7, 9 terms: ~1e-15 relative). */
function lnGamma(x: number): number {
  const c = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let s = c[0];
  for (let k = 1; k < 9; k++) s += c[k] / (z + k);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Continued fraction of I_x(a, b) (modified Lentz). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    for (const num of [
      (m * (b - m) * x) / ((a + m2 - 1) * (a + m2)),
      (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1)),
    ]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b), 0 ≤ x ≤ 1. */
export function betaInc(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(x, a, b)) / a
    : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** P(|T| > t) for T ~ Student's t with ν degrees of freedom. */
export function tTwoSided(t: number, nu: number): number {
  return betaInc(nu / (nu + t * t), nu / 2, 0.5);
}

/** P(F > f) for F ~ F(d1, d2). */
export function fUpper(f: number, d1: number, d2: number): number {
  return f <= 0 ? 1 : betaInc(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

/** The x in [0, hi] where the decreasing tail(x) crosses p (bisection on a log scale of x + 1). */
function invertTail(tail: (x: number) => number, p: number, hi: number): number {
  let lo = 0;
  let up = hi;
  for (let k = 0; k < 200 && up - lo > 1e-12 * up; k++) {
    const mid = 0.5 * (lo + up);
    if (tail(mid) > p) lo = mid;
    else up = mid;
  }
  return 0.5 * (lo + up);
}

/** K with P(|T_ν| > K) = alpha. */
export function tCritical(alpha: number, nu: number): number {
  return invertTail((t) => tTwoSided(t, nu), alpha, 1e12);
}

/** f with P(F(d1, d2) > f) = alpha. */
export function fCritical(alpha: number, d1: number, d2: number): number {
  return invertTail((f) => fUpper(f, d1, d2), alpha, 1e12);
}
