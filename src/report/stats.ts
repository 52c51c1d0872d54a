// Statistics for the report's findings: descriptive statistics, t-based confidence intervals, rank
// correlation, a seeded bootstrap, Kruskal–Wallis and one-way ANOVA tests, and effect sizes. Special
// functions, distributions and the two tests come from @stdlib; written here is only what it lacks in this
// form: a bootstrap with a seeded generator (reproducible reports), Spearman on tie-averaged ranks, effect
// sizes, and NaN for tests that have nothing to test. Pure functions on plain arrays; non-finite values are
// the caller's business (see `finite`).

import betainc from "@stdlib/math-base-special-betainc";
import gammainc from "@stdlib/math-base-special-gammainc";
import gammaln from "@stdlib/math-base-special-gammaln";
import anova1 from "@stdlib/stats-anova1";
import tcdf from "@stdlib/stats-base-dists-t-cdf";
import tquantile from "@stdlib/stats-base-dists-t-quantile";
import kruskalTest from "@stdlib/stats-kruskal-test";

/** The finite values of xs. */
export const finite = (xs: readonly number[]): number[] => xs.filter((x) => Number.isFinite(x));

export function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? sum(xs) / xs.length : Number.NaN;
}

/** Sample variance (n − 1 in the denominator); NaN for fewer than two values. */
export function variance(xs: readonly number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return s / (xs.length - 1);
}

export const sd = (xs: readonly number[]): number => Math.sqrt(variance(xs));

/** Linear-interpolated quantile (type 7, as R and numpy default) of unsorted xs. */
export function quantile(xs: readonly number[], q: number): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);

export function geometricMean(xs: readonly number[]): number {
  const pos = xs.filter((x) => x > 0 && Number.isFinite(x));
  return pos.length ? Math.exp(mean(pos.map(Math.log))) : Number.NaN;
}

// ---- special functions and distributions (@stdlib) ---------------------------------------------------

/** ln Γ(x). */
export const lnGamma = (x: number): number => gammaln(x);

/** Regularised lower incomplete gamma P(a, x). */
export const gammaP = (a: number, x: number): number => (x <= 0 ? 0 : gammainc(x, a, true, false));

/** Regularised upper incomplete gamma Q(a, x) = 1 − P(a, x), computed directly (no cancellation). */
export const gammaQ = (a: number, x: number): number => (x <= 0 ? 1 : gammainc(x, a, true, true));

/** Regularised incomplete beta I_x(a, b). */
export function betaInc(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return betainc(x, a, b, true, false);
}

/** P(T ≤ t) for Student's t with df degrees of freedom. */
export const tCdf = (t: number, df: number): number => tcdf(t, df);

/** The p-quantile of Student's t with df degrees of freedom. */
export function tQuantile(p: number, df: number): number {
  if (p <= 0 || p >= 1) return p <= 0 ? -Infinity : Infinity;
  return tquantile(p, df);
}

/** P(X > x) for a chi-square variable with df degrees of freedom. */
export const chiSquareSf = (x: number, df: number): number => gammaQ(df / 2, x / 2);

/** P(X > f) for an F(d1, d2) variable. */
export const fSf = (f: number, d1: number, d2: number): number =>
  f <= 0 ? 1 : betaInc(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);

// ---- intervals ---------------------------------------------------------------------------------------

export interface MeanCI {
  n: number;
  mean: number;
  /** Half-width of the interval (NaN when n < 2). */
  half: number;
  lo: number;
  hi: number;
}

/** Mean with a two-sided t-interval (default 95 %) over the finite values of xs. */
export function meanCI(xs: readonly number[], level = 0.95): MeanCI {
  const v = finite(xs);
  const m = mean(v);
  if (v.length < 2) return { n: v.length, mean: m, half: Number.NaN, lo: Number.NaN, hi: Number.NaN };
  const half = (tQuantile(1 - (1 - level) / 2, v.length - 1) * sd(v)) / Math.sqrt(v.length);
  return { n: v.length, mean: m, half, lo: m - half, hi: m + half };
}

// ---- ranks and correlation ---------------------------------------------------------------------------

/** Ranks 1…n, ties sharing their average rank. */
export function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[order[k][1]] = avg;
    i = j + 1;
  }
  return r;
}

export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = Math.min(x.length, y.length);
  if (n < 2) return Number.NaN;
  const mx = mean(x.slice(0, n));
  const my = mean(y.slice(0, n));
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : Number.NaN;
}

/** Spearman's rank correlation (Pearson on average ranks, so ties are handled). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(ranks(x), ranks(y));
}

// ---- seeded bootstrap --------------------------------------------------------------------------------

/** mulberry32: a small, fast, seeded 32-bit generator; returns uniforms in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapCI {
  estimate: number;
  lo: number;
  hi: number;
  reps: number;
}

/**
 * Percentile bootstrap of a statistic of n items (rows resampled with replacement, indices passed to
 * `stat`). Deterministic for a given seed. Resamples whose statistic is not finite are dropped.
 */
export function bootstrap(
  n: number,
  stat: (indices: readonly number[]) => number,
  options: { reps?: number; seed?: number; level?: number } = {},
): BootstrapCI {
  const reps = options.reps ?? 2000;
  const level = options.level ?? 0.95;
  const rand = seededRandom(options.seed ?? 1);
  const all = Array.from({ length: n }, (_, i) => i);
  const estimate = stat(all);
  const values: number[] = [];
  const idx = new Array<number>(n);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rand() * n);
    const v = stat(idx);
    if (Number.isFinite(v)) values.push(v);
  }
  if (values.length < reps / 2) return { estimate, lo: Number.NaN, hi: Number.NaN, reps: values.length };
  return {
    estimate,
    lo: quantile(values, (1 - level) / 2),
    hi: quantile(values, 1 - (1 - level) / 2),
    reps: values.length,
  };
}

/** Bootstrap CI of Spearman's ρ between paired x and y. */
export function spearmanCI(
  x: readonly number[],
  y: readonly number[],
  options: { reps?: number; seed?: number } = {},
): BootstrapCI {
  return bootstrap(
    x.length,
    (ix) =>
      spearman(
        ix.map((i) => x[i]),
        ix.map((i) => y[i]),
      ),
    options,
  );
}

/** Bootstrap CI of the mean of xs. */
export function meanBootstrapCI(xs: readonly number[], options: { reps?: number; seed?: number } = {}) {
  return bootstrap(xs.length, (ix) => mean(ix.map((i) => xs[i])), options);
}

// ---- tests -------------------------------------------------------------------------------------------

export interface TestResult {
  statistic: number;
  df: number;
  p: number;
}

/** Kruskal–Wallis H test (tie-corrected) with the chi-square approximation for p (@stdlib). */
export function kruskalWallis(groups: readonly (readonly number[])[]): TestResult & { df: number } {
  const gs = groups.map(finite).filter((g) => g.length > 0);
  const N = gs.reduce((n, g) => n + g.length, 0);
  const k = gs.length;
  // Fewer than two groups, one value per group, or all values tied: no test.
  if (k < 2 || N <= k || new Set(gs.flat()).size < 2)
    return { statistic: Number.NaN, df: k - 1, p: Number.NaN };
  const [first, ...rest] = gs;
  const r = kruskalTest(first, ...rest);
  return { statistic: r.statistic, df: r.df, p: r.pValue };
}

/** One-way ANOVA: F = between-group mean square / within-group mean square, with its p-value (@stdlib). */
export function oneWayAnova(groups: readonly (readonly number[])[]): TestResult & { dfWithin: number } {
  const gs = groups.map(finite).filter((g) => g.length > 0);
  const N = gs.reduce((n, g) => n + g.length, 0);
  const d1 = gs.length - 1;
  const d2 = N - gs.length;
  if (d1 < 1 || d2 < 1) return { statistic: Number.NaN, df: d1, dfWithin: d2, p: Number.NaN };
  // No spread within groups: F is infinite (or undefined when the means agree too); anova1 would divide by 0.
  if (gs.every((g) => g.every((x) => x === g[0]))) {
    const sameMeans = gs.every((g) => g[0] === gs[0][0]);
    return {
      statistic: sameMeans ? Number.NaN : Infinity,
      df: d1,
      dfWithin: d2,
      p: sameMeans ? Number.NaN : 0,
    };
  }
  const r = anova1(
    gs.flat(),
    gs.flatMap((g, k) => g.map(() => k)),
  );
  return { statistic: r.statistic, df: d1, dfWithin: d2, p: r.pValue };
}

// ---- effect sizes ------------------------------------------------------------------------------------

/** Cohen's d = (mean(a) − mean(b)) / pooled SD. */
export function cohensD(a: readonly number[], b: readonly number[]): number {
  const na = a.length;
  const nb = b.length;
  if (na < 2 || nb < 2) return Number.NaN;
  const pooled = Math.sqrt(((na - 1) * variance(a) + (nb - 1) * variance(b)) / (na + nb - 2));
  const diff = mean(a) - mean(b);
  if (pooled === 0) return diff === 0 ? 0 : Math.sign(diff) * Infinity;
  return diff / pooled;
}

/** Cliff's δ = P(a > b) − P(a < b) over all pairs; in [−1, 1]. */
export function cliffsDelta(a: readonly number[], b: readonly number[]): number {
  if (!a.length || !b.length) return Number.NaN;
  let gt = 0;
  let lt = 0;
  for (const x of a) {
    for (const y of b) {
      if (x > y) gt++;
      else if (x < y) lt++;
    }
  }
  return (gt - lt) / (a.length * b.length);
}

/** Romano et al. (2006) labels for |Cliff's δ|. */
export function cliffsMagnitude(delta: number): "negligible" | "small" | "medium" | "large" {
  const d = Math.abs(delta);
  return d < 0.147 ? "negligible" : d < 0.33 ? "small" : d < 0.474 ? "medium" : "large";
}
