// Small number formats and helpers shared by the explorer's views.

export function lossPosition(loss: number, [lo, hi]: [number, number]): number {
  if (!(loss > 0)) return 0;
  return hi > lo ? Math.min(1, Math.max(0, (Math.log10(loss) - lo) / (hi - lo))) : 0.5;
}

export function formatLoss(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return "—";
  return x === 0 ? "0" : x.toExponential(2);
}

/** Sparsity label: S = 1 − p, with enough digits to tell the notebook's levels apart. */
export function formatSparsity(p: number): string {
  const s = 1 - p;
  if (s === 0) return "0";
  return s >= 0.99 ? s.toFixed(4) : s.toFixed(2);
}

/** Mean of the finite values, or undefined. */
export function finiteMean(values: ArrayLike<number>): number | undefined {
  let sum = 0;
  let n = 0;
  for (let k = 0; k < values.length; k++) {
    if (Number.isFinite(values[k])) {
      sum += values[k];
      n++;
    }
  }
  return n > 0 ? sum / n : undefined;
}
