// The seed write-up's claims, tested on the store's numbers. Each finding states the claim, the method, the
// numbers and a verdict: supported, not supported, or inconclusive (with the reason, e.g. missing data and
// the command that would produce it). Every threshold used for a verdict is a named constant below.

import {
  activationName,
  isSparsityPreset,
  perInstance,
  type ReportData,
  type Series,
  seriesLabel,
  sparsities,
  sparsityLabel,
  superpositionScore,
  trivialLoss,
} from "./data.js";
import { interval, num, pct, pValue } from "./format.js";
import {
  bootstrap,
  cliffsDelta,
  cliffsMagnitude,
  cohensD,
  finite,
  geometricMean,
  kruskalWallis,
  mean,
  median,
  oneWayAnova,
  quantile,
  spearmanCI,
} from "./stats.js";
import { importanceNormRho } from "./tables.js";

export type Verdict = "supported" | "not supported" | "inconclusive";

export interface Finding {
  id: string;
  /** The write-up's claim, quoted or paraphrased. */
  claim: string;
  verdict: Verdict;
  /** One or two sentences: the answer with its key numbers. */
  summary: string;
  /** How it was computed, including the decision rule. */
  method: string;
  /** Supporting numbers, one line each. */
  evidence: string[];
  /** Why the verdict is inconclusive, and how to get the data, when it is for lack of data. */
  reason?: string;
  /** Machine-readable numbers (findings.json). */
  numbers: Record<string, number | string | null>;
}

/** Decision thresholds (documented in each finding's method). */
export const THRESHOLDS = {
  alpha: 0.05,
  /** Claim 1: share of (activation, sparsity) mean losses in [1e-4, 1e-3] needed for "in that range". */
  rangeShare: 0.75,
  /** Claim 1: a sparsity level "differs materially" if KW is significant and P90/P10 of activation means ≥ this. */
  materialFold: 2,
  /** Claim 1: share of levels differing materially at or below which "barely differs" holds / above which it fails. */
  spreadSupported: 0.2,
  spreadRejected: 0.5,
  /** Claim 2: minimum activations for a correlation analysis. */
  minActivations: 8,
  /** Claim 2: "at most one order of magnitude". */
  maxLossRatio: 10,
  /** Claim 3: equivalence margin on the mean log10 loss ratio (±0.1 ≈ ±26 %). */
  lossEquivalence: 0.1,
  /** Claim 4: dtype vs seed difference ratios. */
  dtypeSame: 0.5,
  dtypeDifferent: 2,
  /** Claim 6: an instance failed to converge if diverged or loss ≥ this fraction of the trivial loss. */
  trivialFraction: 0.95,
  bootstrapReps: 2000,
} as const;

const base = (data: ReportData, preset: string) => data.seriesOf(preset).filter((s) => s.variant === "");
const sparsityPresets = (data: ReportData) =>
  data.presets.filter((p) => isSparsityPreset(p, data.seriesOf(p)));
const seedMeans = (s: Series, f: (x: Series["cells"][number]["instances"][number]) => number) =>
  perInstance(s, (x) => f(x)).map((v) => mean(finite(v)));
const find = (data: ReportData, preset: string, activation: string, variant = "") =>
  data.seriesOf(preset).find((s) => s.activation === activation && s.variant === variant && s.cells.length);

function inconclusive(
  id: string,
  claim: string,
  method: string,
  reason: string,
  evidence: string[] = [],
): Finding {
  return {
    id,
    claim,
    verdict: "inconclusive",
    summary: `Inconclusive: ${reason}`,
    method,
    evidence,
    reason,
    numbers: {},
  };
}

// ---- 1. loss range and spread ---------------------------------------------------------------------------

export function lossRangeFinding(data: ReportData): Finding {
  const id = "loss-range";
  const claim =
    "“Losses were in the 10^-4 – 10^-3 range. Loss was not marginally different between the functions.”";
  const T = THRESHOLDS;
  const method =
    `Range: share of (activation, sparsity) seed-mean losses inside [1e-4, 1e-3]; "in range" needs ≥ ${pct(T.rangeShare)}. ` +
    "Spread: per sparsity level, a Kruskal–Wallis test of the seeds' losses grouped by activation " +
    "(Bonferroni-corrected over levels) and the one-way ANOVA variance ratio F (between-activation over " +
    "between-seed mean square of log10 loss); a level differs materially if the KW test is significant and the " +
    `90th/10th percentile ratio of activation means is ≥ ${T.materialFold}. "Barely differs" is supported if ≤ ` +
    `${pct(T.spreadSupported)} of levels differ materially, not supported if ≥ ${pct(T.spreadRejected)}. ` +
    "Base variants only (no f64 or batch-softmax reruns).";
  const presets = sparsityPresets(data);
  const means: number[] = [];
  const evidence: string[] = [];
  let levels = 0;
  const foldAll: number[] = [];
  const fAll: number[] = [];
  const records: { preset: string; S: number; m: number[]; fold: number; H: number; p: number; F: number }[] =
    [];
  for (const p of presets) {
    const series = base(data, p).filter((s) => s.cells.length);
    const S = sparsities(series);
    const losses = series.map((s) => perInstance(s, (x) => x.loss));
    for (let i = 0; i < S.length; i++) {
      const groups = losses.map((l) => finite(l[i] ?? []));
      const m = groups.map(mean).filter(Number.isFinite);
      means.push(...m);
      if (m.length < 3) continue;
      levels++;
      const fold = quantile(m, 0.9) / quantile(m, 0.1);
      foldAll.push(fold);
      if (groups.filter((g) => g.length >= 2).length < 2) continue;
      const kw = kruskalWallis(groups);
      const anova = oneWayAnova(groups.map((g) => g.filter((x) => x > 0).map(Math.log10)));
      fAll.push(anova.statistic);
      records.push({ preset: p, S: S[i], m, fold, H: kw.statistic, p: kw.p, F: anova.statistic });
    }
  }
  const tested = records.length;
  let material = 0;
  for (const p of presets) {
    const parts = records
      .filter((r) => r.preset === p)
      .map((r) => {
        const pAdj = Math.min(1, r.p * tested);
        const differs = pAdj < T.alpha && r.fold >= T.materialFold;
        if (differs) material++;
        return (
          `${sparsityLabel(r.S)}: loss ${num(Math.min(...r.m))}–${num(Math.max(...r.m))}, P90/P10 ${num(r.fold)}×, ` +
          `KW H=${num(r.H)} (adj. p ${pValue(pAdj)}), F=${num(r.F)}${differs ? " — differs" : ""}`
        );
      });
    if (parts.length) evidence.push(`${p}: ${parts.join("; ")}.`);
  }
  if (means.length === 0)
    return inconclusive(
      id,
      claim,
      method,
      "the store has no complete cells of a sparsity preset (intro, demo).",
    );
  const inRange = means.filter((m) => m >= 1e-4 && m <= 1e-3).length / means.length;
  const rangeOk = inRange >= T.rangeShare;
  const lo = Math.min(...means);
  const hi = Math.max(...means);
  evidence.unshift(
    `All seed-mean losses: ${num(lo)} to ${num(hi)} (median ${num(median(means))}); ${pct(inRange)} of ` +
      `${means.length} (activation, sparsity) means lie in [1e-4, 1e-3].`,
  );
  let spread: Verdict = "inconclusive";
  let spreadText: string;
  if (tested === 0) {
    spreadText = "the spread between activations could not be tested (needs ≥ 2 seeds and ≥ 3 activations)";
  } else {
    const share = material / tested;
    spread =
      share <= T.spreadSupported ? "supported" : share >= T.spreadRejected ? "not supported" : "inconclusive";
    spreadText =
      `${material} of ${tested} sparsity levels show a material, significant difference between activations ` +
      `(median P90/P10 ${num(median(foldAll))}×, median variance ratio F ${num(median(fAll))})`;
  }
  const verdict: Verdict =
    !rangeOk || spread === "not supported"
      ? "not supported"
      : spread === "supported"
        ? "supported"
        : "inconclusive";
  return {
    id,
    claim,
    verdict,
    summary:
      `${pct(inRange)} of activation × sparsity mean losses lie in 1e-4–1e-3 (range ${num(lo)}–${num(hi)}), so ` +
      `the range part is ${rangeOk ? "supported" : "not supported"}; ${spreadText}.`,
    method,
    evidence,
    ...(tested === 0 ? { reason: "needs ≥ 2 seeds per activation; run tms sweep --seeds 0-2" } : {}),
    numbers: {
      lossMin: lo,
      lossMax: hi,
      shareInRange: inRange,
      levels,
      levelsTested: tested,
      levelsDifferMaterially: material,
      medianFoldP90P10: foldAll.length ? median(foldAll) : null,
      medianVarianceRatio: fAll.length ? median(fAll) : null,
    },
  };
}

// ---- 2. superposition vs loss ---------------------------------------------------------------------------

export function superpositionLossFinding(data: ReportData): Finding {
  const id = "superposition-loss";
  const claim =
    "“Degree of superposition did not seem to be correlated with loss beyond a certain threshold. More " +
    "superposition does seem to reduce loss by at most one degree of magnitude.”";
  const T = THRESHOLDS;
  const method =
    "Per sparsity level, over activations (base variants, seed means): Spearman ρ between superposition and loss " +
    `with a ${T.bootstrapReps}-resample bootstrap 95 % CI (resampling activations, fixed seed). Threshold: ` +
    "activations are split at the level's median superposition; ρ is recomputed above it. The effect size is the " +
    "ratio of the geometric-mean loss of the less-superposed half to that of the more-superposed half. Supported " +
    "if above the threshold ρ's CI includes 0 in ≥ 2/3 of levels, every ratio ≤ 10 and ρ's CI is not above 0 " +
    "(more superposition, higher loss) in half the levels or more; not supported if any of these fails; " +
    `inconclusive when fewer than ${T.minActivations} activations lie above the threshold (no power).`;
  const evidence: string[] = [];
  let levels = 0;
  let aboveNull = 0;
  let negOverall = 0;
  let posOverall = 0;
  let minAbove = Infinity;
  let maxRatio = 0;
  const rhos: number[] = [];
  let nAct = 0;
  for (const p of sparsityPresets(data)) {
    const series = base(data, p).filter((s) => s.cells.length);
    nAct = Math.max(nAct, series.length);
    if (series.length < T.minActivations) continue;
    const S = sparsities(series);
    const sup = series.map((s) => seedMeans(s, superpositionScore));
    const loss = series.map((s) => seedMeans(s, (x) => x.loss));
    const parts: string[] = [];
    for (let i = 0; i < S.length; i++) {
      const idx = series.map((_, k) => k).filter((k) => Number.isFinite(sup[k][i]) && loss[k][i] > 0);
      if (idx.length < T.minActivations) continue;
      levels++;
      const x = idx.map((k) => sup[k][i]);
      const y = idx.map((k) => loss[k][i]);
      const all = spearmanCI(x, y, { reps: T.bootstrapReps, seed: 1000 + levels });
      rhos.push(all.estimate);
      if (all.hi < 0) negOverall++;
      if (all.lo > 0) posOverall++;
      const thr = median(x);
      const above = x.map((v, j) => [v, y[j]] as const).filter(([v]) => v > thr);
      const below = x.map((v, j) => [v, y[j]] as const).filter(([v]) => v <= thr);
      const ab = spearmanCI(
        above.map((a) => a[0]),
        above.map((a) => a[1]),
        { reps: T.bootstrapReps, seed: 2000 + levels },
      );
      minAbove = Math.min(minAbove, above.length);
      const nullAbove = !(ab.lo > 0 || ab.hi < 0);
      if (nullAbove) aboveNull++;
      const ratio = geometricMean(below.map((b) => b[1])) / geometricMean(above.map((a) => a[1]));
      if (Number.isFinite(ratio)) maxRatio = Math.max(maxRatio, ratio);
      parts.push(
        `${sparsityLabel(S[i])}: ρ=${num(all.estimate, 2)} ${interval(all.lo, all.hi)}; above threshold ` +
          `${num(thr, 2)}: ρ=${num(ab.estimate, 2)} ${interval(ab.lo, ab.hi)}; loss ratio low/high superposition ${num(ratio)}×`,
      );
    }
    if (parts.length) evidence.push(`${p} (n = ${series.length} activations): ${parts.join("; ")}.`);
  }
  if (levels === 0)
    return inconclusive(
      id,
      claim,
      method,
      `needs ≥ ${T.minActivations} activations per preset, the store has ${nAct}; run tms sweep --activations all`,
    );
  // A: no correlation above the threshold (testable only with enough activations above it);
  // B: at most one order of magnitude; C: the direction (more superposition, lower loss) not contradicted.
  const testable = minAbove >= T.minActivations;
  const thresholdOk = aboveNull / levels >= 2 / 3;
  const ratioOk = maxRatio <= T.maxLossRatio;
  const directionOk = posOverall < levels / 2;
  const verdict: Verdict =
    !ratioOk || !directionOk || (testable && !thresholdOk)
      ? "not supported"
      : testable
        ? "supported"
        : "inconclusive";
  const reason = testable
    ? undefined
    : `only ${minAbove} activations lie above the threshold at some level (≥ ${T.minActivations} needed for the ` +
      "above-threshold correlation to mean anything); run tms sweep --activations all";
  return {
    id,
    claim,
    verdict,
    summary:
      `Across ${levels} sparsity levels the median ρ(superposition, loss) is ${num(median(rhos), 2)} ` +
      `(CI below 0 in ${negOverall}, above 0 in ${posOverall}); above the median superposition ρ's CI includes 0 ` +
      `in ${aboveNull} of ${levels} levels, and the less-superposed half has at most ${num(maxRatio)}× the loss of ` +
      `the more-superposed half${directionOk ? "" : " — more superposition goes with higher loss, the opposite of the claim"}.`,
    ...(reason ? { reason } : {}),
    method,
    evidence,
    numbers: {
      levels,
      medianRho: median(rhos),
      levelsNegativeRho: negOverall,
      levelsPositiveRho: posOverall,
      levelsNoCorrelationAboveThreshold: aboveNull,
      maxLossRatio: maxRatio,
    },
  };
}

// ---- 3. CELU vs GELU -------------------------------------------------------------------------------------

export function celuGeluFinding(data: ReportData): Finding {
  const id = "celu-gelu";
  const claim =
    "“Small variations in activation functions lead to massive differences in superposition (see CELU vs. GELU), " +
    "which do not however translate into differences in the loss landscape.”";
  const T = THRESHOLDS;
  const method =
    "Over all (preset, sparsity) levels with both activations: the paired difference of seed-mean superposition " +
    "(GELU − CELU) and the paired log10 loss ratio (GELU / CELU), each with a bootstrap 95 % CI over levels; per " +
    "level, Cohen's d and Cliff's δ over seeds. Massive superposition difference: CI excludes 0 and median " +
    `|Cliff's δ| is large (≥ 0.474). No loss difference: the log10-ratio CI lies within ±${T.lossEquivalence}. ` +
    "Supported if both; not supported if the superposition difference is small (CI includes 0, |δ| < 0.33) or " +
    "the loss ratio CI lies outside the margin; otherwise inconclusive.";
  const dSup: number[] = [];
  const rLoss: number[] = [];
  const deltaSup: number[] = [];
  const deltaLoss: number[] = [];
  const dCohenSup: number[] = [];
  const dCohenLoss: number[] = [];
  const supLevels: number[] = [];
  for (const p of sparsityPresets(data)) {
    const celu = find(data, p, "celu");
    const gelu = find(data, p, "gelu");
    if (!celu || !gelu) continue;
    const sc = perInstance(celu, superpositionScore);
    const sg = perInstance(gelu, superpositionScore);
    const lc = perInstance(celu, (x) => x.loss);
    const lg = perInstance(gelu, (x) => x.loss);
    for (let i = 0; i < Math.min(sc.length, sg.length); i++) {
      const [a, b] = [finite(sg[i]), finite(sc[i])];
      const [la, lb] = [finite(lg[i]).filter((x) => x > 0), finite(lc[i]).filter((x) => x > 0)];
      if (!a.length || !b.length || !la.length || !lb.length) continue;
      dSup.push(mean(a) - mean(b));
      supLevels.push((mean(a) + mean(b)) / 2);
      rLoss.push(Math.log10(mean(la) / mean(lb)));
      deltaSup.push(cliffsDelta(a, b));
      deltaLoss.push(cliffsDelta(la, lb));
      dCohenSup.push(cohensD(a, b));
      dCohenLoss.push(cohensD(la.map(Math.log10), lb.map(Math.log10)));
    }
  }
  if (dSup.length < 3)
    return inconclusive(
      id,
      claim,
      method,
      "the store needs CELU and GELU cells (base variant) of a sparsity preset; run tms sweep --activations celu,gelu",
    );
  const opts = { reps: THRESHOLDS.bootstrapReps, seed: 33 };
  const supCI = bootstrap(dSup.length, (ix) => mean(ix.map((i) => dSup[i])), opts);
  const lossCI = bootstrap(rLoss.length, (ix) => mean(ix.map((i) => rLoss[i])), opts);
  const medDeltaSup = median(deltaSup.map(Math.abs));
  const medDeltaLoss = median(deltaLoss.map(Math.abs));
  const supExcludes0 = supCI.lo > 0 || supCI.hi < 0;
  const massive = supExcludes0 && medDeltaSup >= 0.474;
  const small = !supExcludes0 && medDeltaSup < 0.33;
  const lossSame = lossCI.lo >= -T.lossEquivalence && lossCI.hi <= T.lossEquivalence;
  const lossDiffers = lossCI.lo > T.lossEquivalence || lossCI.hi < -T.lossEquivalence;
  const verdict: Verdict =
    massive && lossSame ? "supported" : small || lossDiffers ? "not supported" : "inconclusive";
  const relDiff = mean(dSup) / mean(supLevels);
  return {
    id,
    claim,
    verdict,
    summary:
      `GELU − CELU superposition: ${num(supCI.estimate)} ${interval(supCI.lo, supCI.hi)} (${pct(relDiff)} of the ` +
      `mean level; median |Cliff's δ| ${num(medDeltaSup, 2)}, ${cliffsMagnitude(medDeltaSup)}); loss ratio GELU/CELU ` +
      `${num(10 ** lossCI.estimate)}× (log10 ${num(lossCI.estimate, 2)} ${interval(lossCI.lo, lossCI.hi)}; median ` +
      `|δ| ${num(medDeltaLoss, 2)}) over ${dSup.length} levels.`,
    method,
    evidence: [
      `Superposition difference per level: ${dSup.map((d) => num(d, 2)).join(", ")}.`,
      `Cohen's d per level (superposition): ${dCohenSup.map((d) => num(d, 2)).join(", ")}; median ${num(median(finite(dCohenSup)), 2)}.`,
      `log10 loss ratio per level: ${rLoss.map((d) => num(d, 2)).join(", ")}.`,
      `Cohen's d per level (log10 loss): ${dCohenLoss.map((d) => num(d, 2)).join(", ")}; median ${num(median(finite(dCohenLoss)), 2)}.`,
      `Cliff's δ per level, superposition: ${deltaSup.map((d) => num(d, 2)).join(", ")}; loss: ${deltaLoss.map((d) => num(d, 2)).join(", ")}.`,
    ],
    numbers: {
      levels: dSup.length,
      supDiffMean: supCI.estimate,
      supDiffLo: supCI.lo,
      supDiffHi: supCI.hi,
      supMedianAbsCliff: medDeltaSup,
      log10LossRatioMean: lossCI.estimate,
      log10LossRatioLo: lossCI.lo,
      log10LossRatioHi: lossCI.hi,
      lossMedianAbsCliff: medDeltaLoss,
    },
  };
}

// ---- 4. (hard)sigmoid f32 vs f64 ------------------------------------------------------------------------

export function sigmoidPrecisionFinding(data: ReportData): Finding {
  const id = "sigmoid-precision";
  const claim =
    "“(Hard)sigmoid show a very strange pattern: enormous, quick superposition, for unimportant features. This may " +
    "be a bug/floating point error.”";
  const T = THRESHOLDS;
  const method =
    "Sigmoid and Hardsigmoid cells trained in float32 and rerun in float64 with the same seeds: per instance, the " +
    "f32–f64 difference of log10 loss and of superposition, compared with the seed-to-seed difference of the f32 " +
    `cells (ratio = mean |f32 − f64| / mean |seed − seed'|). Float error supported if a ratio > ${T.dtypeDifferent}; ` +
    `not supported if both ratios < ${T.dtypeSame} (f64 reproduces f32 within seed noise); otherwise inconclusive. ` +
    "The pattern itself: superposition of the less important half of features vs the more important half.";
  const dLoss: number[] = [];
  const dSup: number[] = [];
  const sLoss: number[] = [];
  const sSup: number[] = [];
  const evidence: string[] = [];
  let pairs = 0;
  let present = false;
  for (const act of ["sigmoid", "hardsigmoid"]) {
    for (const p of sparsityPresets(data)) {
      const a = find(data, p, act, "");
      const b = find(data, p, act, "f64");
      if (a) present = true;
      if (a) {
        const lg = perInstance(a, (x) => (x.loss > 0 ? Math.log10(x.loss) : Number.NaN));
        const sp = perInstance(a, superpositionScore);
        for (let i = 0; i < lg.length; i++) {
          for (let u = 0; u < lg[i].length; u++) {
            for (let v = u + 1; v < lg[i].length; v++) {
              if (Number.isFinite(lg[i][u] - lg[i][v])) sLoss.push(Math.abs(lg[i][u] - lg[i][v]));
              sSup.push(Math.abs(sp[i][u] - sp[i][v]));
            }
          }
        }
        const pattern = patternOf(a);
        evidence.push(
          `${p}/${a.label}: superposition of less vs more important features ${num(pattern.low, 2)} vs ${num(pattern.high, 2)} (f32)` +
            (b ? `, ${num(patternOf(b).low, 2)} vs ${num(patternOf(b).high, 2)} (f64)` : "") +
            ".",
        );
      }
      if (!a || !b) continue;
      for (const c32 of a.cells) {
        const c64 = b.cells.find((c) => c.seed === c32.seed);
        if (!c64) continue;
        pairs++;
        c32.instances.forEach((x, i) => {
          const y = c64.instances[i];
          if (!y) return;
          if (x.loss > 0 && y.loss > 0) dLoss.push(Math.abs(Math.log10(x.loss) - Math.log10(y.loss)));
          dSup.push(Math.abs(superpositionScore(x) - superpositionScore(y)));
        });
      }
    }
  }
  if (!present)
    return inconclusive(
      id,
      claim,
      method,
      "store has no sigmoid or hardsigmoid cells; run tms sweep --activations sigmoid,hardsigmoid --dtype f32,f64",
    );
  if (pairs === 0)
    return inconclusive(
      id,
      claim,
      method,
      "store has no f64 reruns; run tms sweep --dtype f32,f64 --activations sigmoid,hardsigmoid",
      evidence,
    );
  const rLoss = mean(dLoss) / mean(sLoss);
  const rSup = mean(dSup) / mean(sSup);
  const haveBaseline = sLoss.length > 0 && sSup.length > 0;
  let verdict: Verdict;
  if (!haveBaseline) verdict = "inconclusive";
  else if (rLoss > T.dtypeDifferent || rSup > T.dtypeDifferent) verdict = "supported";
  else if (rLoss < T.dtypeSame && rSup < T.dtypeSame) verdict = "not supported";
  else verdict = "inconclusive";
  evidence.unshift(
    `${pairs} f32/f64 cell pairs: mean |Δ log10 loss| f32 vs f64 ${num(mean(dLoss))}, between seeds ${num(mean(sLoss))}; ` +
      `mean |Δ superposition| f32 vs f64 ${num(mean(dSup))}, between seeds ${num(mean(sSup))}.`,
  );
  return {
    id,
    claim,
    verdict,
    summary: haveBaseline
      ? `float64 changes log10 loss by ${num(rLoss, 2)}× and superposition by ${num(rSup, 2)}× the seed-to-seed ` +
        `difference: the pattern ${verdict === "not supported" ? "is not" : verdict === "supported" ? "is" : "may be"} a float32 artefact.`
      : "Only one seed per cell: no seed-to-seed baseline to compare the f32–f64 difference with.",
    method,
    evidence,
    ...(haveBaseline ? {} : { reason: "needs ≥ 2 seeds; run tms sweep --seeds 0-2" }),
    numbers: {
      pairs,
      meanAbsDlog10LossDtype: mean(dLoss),
      meanAbsDlog10LossSeed: mean(sLoss),
      meanAbsDsupDtype: mean(dSup),
      meanAbsDsupSeed: mean(sSup),
      ratioLoss: rLoss,
      ratioSuperposition: rSup,
    },
  };
}

/** Mean polysemanticity (weighted by ‖W_f‖) of the less and the more important half of the features. */
function patternOf(s: Series): { low: number; high: number } {
  const low: number[] = [];
  const high: number[] = [];
  for (const c of s.cells) {
    c.instances.forEach((x, i) => {
      const imp = c.config?.importance?.[i];
      if (!imp) return;
      const order = imp.map((v, f) => [v, f] as const).sort((a, b) => b[0] - a[0]);
      const half = Math.floor(order.length / 2);
      const w = (fs: readonly (readonly [number, number])[]) => {
        let n = 0;
        let d = 0;
        for (const [, f] of fs) {
          n += x.norms[f] * x.superposition[f];
          d += x.norms[f];
        }
        return d > 0 ? n / d : 0;
      };
      high.push(w(order.slice(0, half)));
      low.push(w(order.slice(half)));
    });
  }
  return { low: mean(finite(low)), high: mean(finite(high)) };
}

// ---- 5. softmin importance reversal, softmax family under both dims ---------------------------------

const SOFTMAX_FAMILY = ["softmax", "softmin", "log_softmax", "solu"];

export function softminFinding(data: ReportData): Finding {
  const id = "softmin-reversal";
  const claim =
    "“Softmin and LogSoftmax are bad. The first showed an importance reversing effect” — and the softmax family " +
    "under both softmax dimensions.";
  const method =
    "Per instance, Spearman ρ between feature importance and ‖W_f‖ (positive: important features get the larger " +
    "weights, as for ReLU; negative: reversal). Mean ρ over instances, with a bootstrap 95 % CI resampling cells " +
    "(seeds × presets). Reversal under a softmax dimension if the CI lies below 0. Supported if Softmin reverses " +
    "under at least one dimension; not supported if it reverses under neither with both present; inconclusive if " +
    "a dimension is missing and the present one shows no reversal.";
  const dims = [
    { variant: "", name: "features" },
    { variant: "softmax-batch", name: "batch" },
  ];
  const rhoOf = (act: string, variant: string) => {
    const cells = sparsityPresets(data).flatMap((p) => find(data, p, act, variant)?.cells ?? []);
    const perCell = cells.map((c) => finite(c.instances.map((x, i) => importanceNormRho(x, c, i))));
    const ok = perCell.filter((v) => v.length);
    if (!ok.length) return undefined;
    const ci = bootstrap(ok.length, (ix) => mean(ix.flatMap((i) => ok[i])), {
      reps: THRESHOLDS.bootstrapReps,
      seed: 55,
    });
    return { ...ci, cells: ok.length };
  };
  const evidence: string[] = [];
  const relu = rhoOf("relu", "");
  if (relu)
    evidence.push(
      `Reference ReLU: ρ(importance, ‖W_f‖) = ${num(relu.estimate, 2)} ${interval(relu.lo, relu.hi)}.`,
    );
  for (const act of SOFTMAX_FAMILY) {
    for (const d of dims) {
      const r = rhoOf(act, d.variant);
      if (!r) continue;
      const cells = sparsityPresets(data).flatMap((p) => find(data, p, act, d.variant)?.cells ?? []);
      const inst = cells.flatMap((c) => c.instances.map((x, i) => ({ x, c, i })));
      const vsTrivial = geometricMean(inst.map(({ x, c, i }) => x.loss / trivialLoss(c, i)));
      evidence.push(
        `${activationName(act)}, normalised over ${d.name}: ρ = ${num(r.estimate, 2)} ${interval(r.lo, r.hi)} (${r.cells} cells); ` +
          `loss/trivial ${num(vsTrivial)}; superposition ${num(mean(inst.map(({ x }) => superpositionScore(x))), 2)}; ` +
          `diverged ${inst.filter(({ x }) => x.diverged).length}/${inst.length}.`,
      );
    }
  }
  const results = dims.map((d) => ({ ...d, r: rhoOf("softmin", d.variant) }));
  const present = results.filter((x) => x.r);
  if (!present.length)
    return inconclusive(
      id,
      claim,
      method,
      "store has no Softmin cells; run tms sweep --activations softmin",
      evidence,
    );
  const reversed = present.filter((x) => x.r!.hi < 0);
  const numbers: Record<string, number | null> = {};
  for (const x of results) {
    numbers[`softminRho_${x.name}`] = x.r ? x.r.estimate : null;
    numbers[`softminRhoLo_${x.name}`] = x.r ? x.r.lo : null;
    numbers[`softminRhoHi_${x.name}`] = x.r ? x.r.hi : null;
  }
  const describe = present.map(
    (x) => `over ${x.name}: ρ = ${num(x.r!.estimate, 2)} ${interval(x.r!.lo, x.r!.hi)}`,
  );
  let verdict: Verdict;
  let reason: string | undefined;
  if (reversed.length) verdict = "supported";
  else if (present.length === dims.length) verdict = "not supported";
  else {
    verdict = "inconclusive";
    const miss = results.find((x) => !x.r)!;
    reason = `no Softmin cells with the softmax over ${miss.name}; run tms sweep --softmax-dim features,batch --activations softmin,log_softmax,softmax,solu`;
  }
  return {
    id,
    claim,
    verdict,
    summary:
      `Softmin importance–norm correlation ${describe.join("; ")}` +
      (reversed.length
        ? ` — importance is reversed with the softmax over ${reversed.map((x) => x.name).join(" and ")}.`
        : " — no reversal.") +
      (relu ? ` (ReLU: ${num(relu.estimate, 2)}.)` : ""),
    method,
    evidence,
    ...(reason ? { reason } : {}),
    numbers,
  };
}

// ---- 6. LogSoftmax and Exp convergence ------------------------------------------------------------------

export function convergenceFinding(data: ReportData): Finding {
  const id = "convergence";
  const claim =
    "“LogSoftmax … failed to converge, likely due to being unstable.” “Exp(Linear) … for low sparsities failed to converge.”";
  const T = THRESHOLDS;
  const method =
    "An instance failed to converge if it diverged (non-finite loss or gradient) or its final evaluation loss is " +
    `≥ ${T.trivialFraction} × the loss of the trivial all-zero predictor (mean over features of importance·p/3). ` +
    "An activation failed if, in a majority of its seeds, at least one instance failed (base variant). Supported " +
    "if both LogSoftmax and Exp failed, not supported if neither did, inconclusive if only one did or one is missing.";
  const evidence: string[] = [];
  const verdictOf = (act: string, variant = "") => {
    const cells = sparsityPresets(data).flatMap((p) => find(data, p, act, variant)?.cells ?? []);
    if (!cells.length) return undefined;
    let failed = 0;
    let total = 0;
    let diverged = 0;
    const ratios: number[] = [];
    const failedSparsities: number[] = [];
    let seedsFailing = 0;
    for (const c of cells) {
      let any = false;
      c.instances.forEach((x, i) => {
        const ratio = x.loss / trivialLoss(c, i);
        ratios.push(ratio);
        total++;
        if (x.diverged) diverged++;
        if (x.diverged || !Number.isFinite(x.loss) || ratio >= T.trivialFraction) {
          failed++;
          any = true;
          failedSparsities.push(x.sparsity);
        }
      });
      if (any) seedsFailing++;
    }
    const fails = seedsFailing > cells.length / 2;
    evidence.push(
      `${seriesLabel(act, variant)}: ${failed}/${total} instances failed (${diverged} diverged), in ` +
        `${seedsFailing}/${cells.length} cells; median loss/trivial ${num(median(finite(ratios)))}` +
        (failedSparsities.length
          ? `; failing sparsities ${num(Math.min(...failedSparsities))}–${num(Math.max(...failedSparsities))}`
          : "") +
        ".",
    );
    return { fails, failed, total, diverged, medianRatio: median(finite(ratios)) };
  };
  const relu = verdictOf("relu");
  const ls = verdictOf("log_softmax");
  const ex = verdictOf("exp");
  verdictOf("exp_linear");
  verdictOf("log_softmax", "softmax-batch");
  if (relu) evidence.push("(ReLU is listed for reference.)");
  const numbers = {
    logSoftmaxFailed: ls?.failed ?? null,
    logSoftmaxInstances: ls?.total ?? null,
    logSoftmaxDiverged: ls?.diverged ?? null,
    logSoftmaxMedianLossOverTrivial: ls?.medianRatio ?? null,
    expFailed: ex?.failed ?? null,
    expInstances: ex?.total ?? null,
    expDiverged: ex?.diverged ?? null,
    expMedianLossOverTrivial: ex?.medianRatio ?? null,
  };
  if (!ls || !ex) {
    const missing = [!ls ? "log_softmax" : "", !ex ? "exp" : ""].filter(Boolean).join(",");
    return {
      ...inconclusive(
        id,
        claim,
        method,
        `store has no ${missing} cells; run tms sweep --activations ${missing}`,
        evidence,
      ),
      numbers,
    };
  }
  const verdict: Verdict =
    ls.fails && ex.fails ? "supported" : !ls.fails && !ex.fails ? "not supported" : "inconclusive";
  const say = (name: string, v: typeof ls) =>
    `${name} ${v.fails ? "failed" : "converged"} (${v.failed}/${v.total} instances failed, ${v.diverged} diverged, median loss/trivial ${num(v.medianRatio)})`;
  return {
    id,
    claim,
    verdict,
    summary: `${say("LogSoftmax", ls)}; ${say("Exp", ex)}.`,
    method,
    evidence,
    numbers,
  };
}

export function buildFindings(data: ReportData): Finding[] {
  const builders = [
    lossRangeFinding,
    superpositionLossFinding,
    celuGeluFinding,
    sigmoidPrecisionFinding,
    softminFinding,
    convergenceFinding,
  ];
  return builders.map((b) => {
    try {
      return b(data);
    } catch (e) {
      return inconclusive(b.name, b.name, "", `could not be computed: ${(e as Error).message}`);
    }
  });
}
