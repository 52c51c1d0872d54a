// What a finding is, and every threshold a verdict depends on (one table, quoted in each finding's method).

export type Verdict = "supported" | "not supported" | "inconclusive";

/** An estimate with its 95 % interval (over seeds unless the finding's method says otherwise). */
export interface Estimate {
  estimate: number;
  lo: number;
  hi: number;
  /** Number of values the interval is over (seeds, levels, …). */
  n: number;
}

export interface Finding {
  id: string;
  /** The write-up's claim, quoted or paraphrased. */
  claim: string;
  verdict: Verdict;
  /** One or two sentences: the answer, the criterion that decided it, and the key numbers. */
  summary: string;
  /** One sentence for the "What we found" table: the verdict, the deciding criterion and its number. */
  headline?: string;
  /** How it was computed, including the decision rule and its named thresholds. */
  method: string;
  /** What it is judged on. */
  scope: { presets: string[]; sparsities: string; features: string; activations: string[] };
  /** Supporting numbers, one line each. */
  evidence: string[];
  /** Why the verdict is inconclusive (always present then): missing data with the command, or an interval. */
  reason?: string;
  /** Machine-readable numbers (findings.json). */
  numbers: Record<string, number | string | null>;
  /** Estimates with their 95 % intervals, by name. */
  intervals: Record<string, Estimate>;
  /** Figure and table ids (in the report) that show it. */
  links: string[];
}

/** Decision thresholds (documented in each finding's method). */
export const THRESHOLDS = {
  alpha: 0.05,
  /** loss-range: share of (activation, sparsity) mean losses in [1e-4, 1e-3] needed for "in that range". */
  rangeShare: 0.75,
  /** loss-range: a level "differs materially" if KW is significant and P90/P10 of activation means ≥ this. */
  materialFold: 2,
  /** loss-range: share of levels differing materially at or below which "barely differs" holds / above which it fails. */
  spreadSupported: 0.2,
  spreadRejected: 0.5,
  /** superposition-loss: minimum activations for a correlation analysis. */
  minActivations: 8,
  /** superposition-loss: "at most one order of magnitude". */
  maxLossRatio: 10,
  /** celu-gelu: equivalence margin on the mean log10 loss ratio (±0.1 ≈ ±26 %). */
  lossEquivalence: 0.1,
  /** celu-gelu: |Cliff's δ| from which a difference is large / below which it is small. */
  largeCliff: 0.474,
  smallCliff: 0.33,
  /** sigmoid-precision: dtype vs seed difference ratios. */
  dtypeSame: 0.5,
  dtypeDifferent: 2,
  /** Convergence: an instance failed if diverged or its loss ≥ this fraction of the trivial loss. */
  trivialFraction: 0.95,
  /** Convergence: an activation failed if the share of failed instances is above this. */
  failShare: 0.5,
  /** "very limited superposition": at most this fraction of ReLU's. */
  limitedRatio: 0.5,
  /** "eliminates superposition": at most this fraction of ReLU's. */
  eliminatedRatio: 0.1,
  /** "comparable" / "no significant impact" / "no large difference": a ratio within [1/x, x]. */
  comparableRatio: 1.5,
  /** "most superposition": among the top this share of activations by superposition rank. */
  topShare: 0.25,
  /** softplus-every-feature: share of all features in superposition for "every feature". */
  everyFeatureShare: 0.9,
  /** "already at sparsity 0": superposition at S = 0 at least this (the superposed threshold). */
  earlySuperposition: 0.1,
  /** superposition-lowers-loss: |ρ| below this is no correlation. */
  negligibleRho: 0.1,
  /** hardness-reduces: share of soft/hard pairs in which the hard one has less superposition. */
  pairShare: 0.75,
  /** Training guard: an instance trained if its loss < this × the all-zero predictor's … */
  trainedMaxLossShare: 0.95,
  /** … and ‖W − W₀‖_F/‖W₀‖_F ≥ this (when recorded). */
  trainedMinWeightChange: 0.25,
  /** Property analysis: ridge penalty on standardised properties. */
  ridgeLambda: 1,
  bootstrapReps: 2000,
  permutationReps: 4000,
} as const;
