// Statistics of the property analysis, honest for n = 27 activations: the rank-biserial correlation of two
// groups, a two-sided permutation test of it (exact when the splits can be enumerated), Holm's step-down
// correction, and ridge regression with leave-one-out error.

import { cliffsDelta, mean, ranks, seededRandom } from "./stats.js";

/**
 * Rank-biserial correlation of `a` (the group with the property) against `b`: P(a > b) − P(a < b) over all
 * pairs (= 2·U/(n_a·n_b) − 1 with Mann–Whitney's U; ties count half). In [−1, 1]; > 0: the group is higher.
 */
export const rankBiserial = (a: readonly number[], b: readonly number[]): number => cliffsDelta(a, b);

function binomial(n: number, k: number): number {
  let r = 1;
  for (let j = 1; j <= k; j++) r = (r * (n - k + j)) / j;
  return r;
}

/** Calls visit with every k-subset of 0…n−1 (as a membership mask). */
function eachSubset(n: number, k: number, visit: (mask: boolean[]) => void): void {
  const mask = new Array<boolean>(n).fill(false);
  const rec = (start: number, left: number) => {
    if (left === 0) {
      visit(mask);
      return;
    }
    for (let j = start; j <= n - left; j++) {
      mask[j] = true;
      rec(j + 1, left - 1);
      mask[j] = false;
    }
  };
  rec(0, k);
}

export interface PermutationResult {
  /** Observed rank-biserial correlation. */
  effect: number;
  /** Two-sided p: share of group labellings with |effect| ≥ the observed one (observed labelling counted). */
  p: number;
  exact: boolean;
  permutations: number;
}

/**
 * Two-sided permutation test of the rank-biserial correlation between values with and without a property:
 * every relabelling when there are at most `reps` of them (exact), else `reps` random ones (seeded) with
 * p = (1 + #{|r*| ≥ |r|}) / (1 + reps).
 */
export function permutationTest(
  values: readonly number[],
  inGroup: readonly boolean[],
  options: { reps?: number; seed?: number } = {},
): PermutationResult {
  const reps = options.reps ?? 4000;
  const n = values.length;
  const k = inGroup.filter(Boolean).length;
  // With mid-ranks, 2·U/(k·(n − k)) − 1 equals P(a > b) − P(a < b): only the group's rank sum changes.
  const r = ranks(values);
  const split = (mask: readonly boolean[]) => {
    let sum = 0;
    for (let j = 0; j < n; j++) if (mask[j]) sum += r[j];
    return (2 * (sum - (k * (k + 1)) / 2)) / (k * (n - k)) - 1;
  };
  const effect = split(inGroup);
  if (k === 0 || k === n || !Number.isFinite(effect))
    return { effect: Number.NaN, p: Number.NaN, exact: true, permutations: 0 };
  const obs = Math.abs(effect) - 1e-12;
  if (binomial(n, k) <= reps) {
    let hits = 0;
    let total = 0;
    eachSubset(n, k, (mask) => {
      total++;
      if (Math.abs(split(mask)) >= obs) hits++;
    });
    return { effect, p: hits / total, exact: true, permutations: total };
  }
  const rand = seededRandom(options.seed ?? 1);
  const labels = [...inGroup];
  let hits = 0;
  for (let r = 0; r < reps; r++) {
    for (let j = n - 1; j > 0; j--) {
      const m = Math.floor(rand() * (j + 1));
      [labels[j], labels[m]] = [labels[m], labels[j]];
    }
    if (Math.abs(split(labels)) >= obs) hits++;
  }
  return { effect, p: (1 + hits) / (1 + reps), exact: false, permutations: reps };
}

/** Holm's step-down adjusted p-values (same order as the input; NaN stays NaN and is not counted). */
export function holm(ps: readonly number[]): number[] {
  const idx = ps.map((p, j) => [p, j] as const).filter(([p]) => Number.isFinite(p));
  idx.sort((a, b) => a[0] - b[0]);
  const m = idx.length;
  const out = ps.map(() => Number.NaN);
  let running = 0;
  idx.forEach(([p, j], r) => {
    running = Math.max(running, Math.min(1, (m - r) * p));
    out[j] = running;
  });
  return out;
}

/** Solves A x = b (A square, small) by Gaussian elimination with partial pivoting. */
export function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, j) => [...row, b[j]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    if (Math.abs(M[c][c]) < 1e-300) throw new Error("singular system");
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

export interface RidgeFit {
  intercept: number;
  /** Coefficients on the standardised columns (per standard deviation of each predictor). */
  coefficients: number[];
  means: number[];
  sds: number[];
  predict(x: readonly number[]): number;
}

/**
 * Ridge regression of y on the columns of X, standardised (constant columns get coefficient 0); the intercept
 * is not penalised: minimises Σ (y − ŷ)² + λ Σ β².
 */
export function ridge(X: readonly (readonly number[])[], y: readonly number[], lambda: number): RidgeFit {
  const n = y.length;
  const p = X[0]?.length ?? 0;
  const means = Array.from({ length: p }, (_, c) => mean(X.map((r) => r[c])));
  const sds = Array.from({ length: p }, (_, c) => Math.sqrt(mean(X.map((r) => (r[c] - means[c]) ** 2))));
  const Z = X.map((r) => r.map((v, c) => (sds[c] > 0 ? (v - means[c]) / sds[c] : 0)));
  const ym = mean(y);
  const A = Array.from({ length: p }, (_, a) =>
    Array.from({ length: p }, (_, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += Z[i][a] * Z[i][b];
      return s + (a === b ? lambda : 0);
    }),
  );
  const rhs = Array.from({ length: p }, (_, a) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Z[i][a] * (y[i] - ym);
    return s;
  });
  const beta = p ? solve(A, rhs) : [];
  return {
    intercept: ym,
    coefficients: beta,
    means,
    sds,
    predict: (x) => ym + x.reduce((s, v, c) => s + (sds[c] > 0 ? ((v - means[c]) / sds[c]) * beta[c] : 0), 0),
  };
}

/**
 * Leave-one-out root-mean-square error of ridge and of the intercept-only model (the mean of the others):
 * the model helps only if its error is below the baseline's.
 */
export function ridgeLoo(
  X: readonly (readonly number[])[],
  y: readonly number[],
  lambda: number,
): { rmse: number; baselineRmse: number } {
  let se = 0;
  let seBase = 0;
  for (let j = 0; j < y.length; j++) {
    const Xo = X.filter((_, i) => i !== j);
    const yo = y.filter((_, i) => i !== j);
    const fit = ridge(Xo, yo, lambda);
    se += (fit.predict(X[j]) - y[j]) ** 2;
    seBase += (mean(yo) - y[j]) ** 2;
  }
  return { rmse: Math.sqrt(se / y.length), baselineRmse: Math.sqrt(seBase / y.length) };
}
