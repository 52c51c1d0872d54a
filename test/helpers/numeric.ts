// Comparisons and small statistics shared by the tests.

/** |a − b| ≤ atol + rtol·|b|, with equal non-finite values (same infinity, or both NaN) counting as close. */
export function isClose(a: number, b: number, atol: number, rtol: number): boolean {
  if (!Number.isFinite(b) || !Number.isFinite(a))
    return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

/** Relative error |a − b| / |b| (absolute error when b = 0). */
export function relErr(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

/** Largest |a_j − b_j| and largest |b_j|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let j = 0; j < a.length; j++) {
    diff = Math.max(diff, Math.abs(a[j] - b[j]));
    scale = Math.max(scale, Math.abs(b[j]));
  }
  return { diff, scale };
}

/** Largest |a_j − ref_j| relative to the largest |ref_j| (or absolute when ref is all 0); ∞ if any is NaN. */
export function maxRelDiff(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  const { diff, scale } = maxAbsDiff(a, ref);
  return Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff / (scale || 1);
}

/** Bit-for-bit equality of two typed arrays of the same type. */
export function bitEqual(a: Float32Array | Float64Array, b: Float32Array | Float64Array): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < xs.length; j++) s += xs[j];
  return s / xs.length;
}

/** Unbiased (n − 1) sample variance. */
export function variance(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let s = 0;
  for (let j = 0; j < xs.length; j++) s += (xs[j] - m) ** 2;
  return s / (xs.length - 1);
}

export const std = (xs: ArrayLike<number>): number => Math.sqrt(variance(xs));

/** Pearson correlation of two equally long samples. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let j = 0; j < a.length; j++) {
    sab += (a[j] - ma) * (b[j] - mb);
    saa += (a[j] - ma) ** 2;
    sbb += (b[j] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Kolmogorov–Smirnov statistic of a sample against U(0, 1). */
export function ksUniform(sample: ArrayLike<number>): number {
  const xs = Float64Array.from(sample).sort();
  const n = xs.length;
  let d = 0;
  for (let j = 0; j < n; j++) d = Math.max(d, (j + 1) / n - xs[j], xs[j] - j / n);
  return d;
}

/**
 * Largest |a − b| over the largest |a|, per instance (a and b hold `instances` equal blocks), worst over the
 * instances: the comparison is up to float reassociation. Per instance, so a sparse instance's small
 * gradient is not measured against a dense instance's large one.
 */
export function relDiffPerInstance(a: ArrayLike<number>, b: ArrayLike<number>, instances: number): number {
  if (a.length !== b.length || a.length === 0 || a.length % instances !== 0) return Number.POSITIVE_INFINITY;
  const block = a.length / instances;
  let worst = 0;
  for (let i = 0; i < instances; i++) {
    let num = 0;
    let den = 0;
    for (let j = i * block; j < (i + 1) * block; j++) {
      num = Math.max(num, Math.abs(a[j] - b[j]));
      den = Math.max(den, Math.abs(a[j]));
    }
    if (Number.isNaN(num)) return Number.POSITIVE_INFINITY;
    worst = Math.max(worst, num / (den || 1));
  }
  return worst;
}

/** What one kernel step gives: per-instance losses and the gradients of W and b. */
export interface StepResult {
  losses: Float64Array;
  grads: { W: Float64Array; b: Float64Array };
}

/**
 * The largest relative difference per instance (relDiffPerInstance) of a step's losses, ∇W and ∇b from a
 * reference step's, by name.
 */
export function stepDiffs(ref: StepResult, got: StepResult, instances: number): [string, number][] {
  return [
    ["losses", relDiffPerInstance(ref.losses, got.losses, instances)],
    ["∇W", relDiffPerInstance(ref.grads.W, got.grads.W, instances)],
    ["∇b", relDiffPerInstance(ref.grads.b, got.grads.b, instances)],
  ];
}
