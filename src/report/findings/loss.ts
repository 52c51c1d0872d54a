// Loss claims: the range and spread of losses, superposition against loss, CELU vs GELU.

import { perInstance, type ReportData, type Series, sparsities, sparsityLabel } from "../data.js";
import { interval, num, pct, pValue } from "../format.js";
import { guarded, superpositionScore } from "../measures.js";
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
  spearman,
  spearmanCI,
} from "../stats.js";
import {
  assemble,
  base,
  claimOf,
  contrast,
  featuresText,
  find,
  fmtEstimate,
  inconclusive,
  judged,
  levelIndices,
  type Part,
  sparsityPresets,
  toEstimate,
} from "./common.js";
import { type Finding, THRESHOLDS, type Verdict } from "./types.js";

const cap = (v: Verdict) => v[0].toUpperCase() + v.slice(1);

/** Superposition of instances that trained (NaN otherwise, so left out). */
export const trainedSuperposition = guarded((x) => superpositionScore(x));
/** Per level, the mean over seeds of a metric (finite values only). */
const levelMeans = (s: Series, f: Parameters<typeof perInstance>[1]) =>
  perInstance(s, f).map((v) => mean(finite(v)));
const allScope = (data: ReportData, activations: string[] = ["all"]): Finding["scope"] => ({
  presets: sparsityPresets(data),
  sparsities: "every level",
  features: featuresText(data),
  activations,
});
const presetLinks = (data: ReportData, kinds: string[]) =>
  sparsityPresets(data).flatMap((p) => kinds.map((k) => k.replace("{p}", p)));

// ---- 1. loss range and spread ---------------------------------------------------------------------------

export function lossRangeFinding(data: ReportData): Finding {
  const id = "loss-range";
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
    const series = base(data, p);
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
    return inconclusive(id, method, "the store has no complete cells of a sparsity preset (intro, demo).");
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
  const reason =
    verdict !== "inconclusive"
      ? undefined
      : tested === 0
        ? "needs ≥ 2 seeds per activation; run tms sweep --seeds 0-2"
        : `${material} of ${tested} levels differ materially: ${pct(material / tested)} lies between the ` +
          `thresholds ${pct(T.spreadSupported)} (barely differs) and ${pct(T.spreadRejected)} (differs)`;
  const fold = foldOverSeeds(data);
  const decided = !rangeOk
    ? "the range criterion (share in [1e-4, 1e-3])"
    : "the spread criterion (share of levels that differ materially)";
  return {
    id,
    claim: claimOf(id),
    verdict,
    summary:
      `Decided by ${decided}. ${pct(inRange)} of activation × sparsity mean losses lie in 1e-4–1e-3 (range ` +
      `${num(lo)}–${num(hi)}), so the range part is ${rangeOk ? "supported" : "not supported"}; ${spreadText}.`,
    method,
    headline:
      `${cap(verdict)}: ${pct(inRange)} of mean losses lie in 1e-4–1e-3 (≥ ${pct(T.rangeShare)} needed) and ` +
      `${tested ? `${material} of ${tested}` : "no"} levels differ materially between activations (≤ ` +
      `${pct(T.spreadSupported)} for "barely differs").`,
    scope: allScope(data),
    evidence,
    ...(reason ? { reason } : {}),
    intervals: fold.n ? { "P90/P10 loss fold across activations, mean over levels": fold } : {},
    links: presetLinks(data, ["loss-{p}", "{p}-loss-heatmap", "{p}-loss-vs-sparsity"]),
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

/** Per seed: the P90/P10 ratio of activations' losses, averaged over levels and presets; t-interval over seeds. */
function foldOverSeeds(data: ReportData) {
  const perSeed = new Map<number, number[]>();
  for (const p of sparsityPresets(data)) {
    const series = base(data, p);
    const S = sparsities(series);
    const seeds = new Set(series.flatMap((s) => s.cells.map((c) => c.seed)));
    for (const seed of seeds) {
      for (let i = 0; i < S.length; i++) {
        const v = finite(
          series.map((s) => s.cells.find((c) => c.seed === seed)?.instances[i]?.loss ?? Number.NaN),
        );
        if (v.length < 3) continue;
        perSeed.set(seed, [...(perSeed.get(seed) ?? []), quantile(v, 0.9) / quantile(v, 0.1)]);
      }
    }
  }
  return toEstimate([...perSeed.values()].map(mean));
}

// ---- 2. superposition vs loss ---------------------------------------------------------------------------

export function superpositionLossFinding(data: ReportData): Finding {
  const id = "superposition-loss";
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
    const series = base(data, p);
    nAct = Math.max(nAct, series.length);
    if (series.length < T.minActivations) continue;
    const S = sparsities(series);
    const sup = series.map((s) => levelMeans(s, trainedSuperposition));
    const loss = series.map((s) => levelMeans(s, (x) => x.loss));
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
  const reason =
    verdict !== "inconclusive"
      ? undefined
      : `only ${minAbove} activations lie above the threshold at some level (≥ ${T.minActivations} needed for the ` +
        "above-threshold correlation to mean anything); run tms sweep --activations all";
  const decided = !ratioOk
    ? `the magnitude criterion (loss ratio ≤ ${T.maxLossRatio}×)`
    : !directionOk
      ? "the direction criterion (ρ's CI above 0 in half the levels or more)"
      : "the threshold criterion (ρ above the median superposition)";
  const rho = rhoOverSeeds(data);
  return {
    id,
    claim: claimOf(id),
    verdict,
    headline:
      `${cap(verdict)}: above the median superposition ρ(superposition, loss) is indistinguishable from 0 in ` +
      `${aboveNull} of ${levels} levels (≥ 2/3 needed) and the less-superposed half has at most ${num(maxRatio)}× ` +
      `the loss (≤ ${T.maxLossRatio}× claimed).`,
    scope: allScope(data),
    intervals: rho.n ? { "ρ(superposition, loss) per seed, mean over levels": rho } : {},
    links: presetLinks(data, ["{p}-superposition-vs-loss", "ranking-{p}"]),
    summary:
      `Decided by ${decided}. Across ${levels} sparsity levels the median ρ(superposition, loss) is ${num(median(rhos), 2)} ` +
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

/**
 * Per seed, Spearman ρ between superposition (trained instances) and loss across activations at each level,
 * averaged over levels and presets; t-interval over seeds.
 */
export function rhoOverSeeds(data: ReportData, presets = sparsityPresets(data)) {
  const perSeed = new Map<number, number[]>();
  for (const p of presets) {
    const series = base(data, p);
    const S = sparsities(series);
    const seeds = new Set(series.flatMap((s) => s.cells.map((c) => c.seed)));
    for (const seed of seeds) {
      for (let i = 0; i < S.length; i++) {
        const pts = series
          .map((s) => {
            const c = s.cells.find((x) => x.seed === seed);
            const inst = c?.instances[i];
            return c && inst ? [trainedSuperposition(inst, c, i), inst.loss] : [Number.NaN, Number.NaN];
          })
          .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
        if (pts.length < T_MIN_POINTS) continue;
        const r = spearman(
          pts.map((q) => q[0]),
          pts.map((q) => q[1]),
        );
        if (Number.isFinite(r)) perSeed.set(seed, [...(perSeed.get(seed) ?? []), r]);
      }
    }
  }
  return toEstimate([...perSeed.values()].map(mean));
}
const T_MIN_POINTS = 4;

// ---- 3. CELU vs GELU -------------------------------------------------------------------------------------

export function celuGeluFinding(data: ReportData): Finding {
  const id = "celu-gelu";
  const T = THRESHOLDS;
  const method =
    "Over all (preset, sparsity) levels with both activations: the paired difference of seed-mean superposition " +
    "(GELU − CELU) and the paired log10 loss ratio (GELU / CELU), each with a bootstrap 95 % CI over levels; per " +
    "level, Cohen's d and Cliff's δ over seeds. Massive superposition difference: CI excludes 0 and median " +
    `|Cliff's δ| is large (≥ ${T.largeCliff}). No loss difference: the log10-ratio CI lies within ±${T.lossEquivalence}. ` +
    `Supported if both; not supported if the superposition difference is small (CI includes 0, |δ| < ${T.smallCliff}) or ` +
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
    const sc = perInstance(celu, trainedSuperposition);
    const sg = perInstance(gelu, trainedSuperposition);
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
      method,
      "the store needs CELU and GELU cells (base variant) of a sparsity preset; run tms sweep --activations celu,gelu",
    );
  const opts = { reps: THRESHOLDS.bootstrapReps, seed: 33 };
  const supCI = bootstrap(dSup.length, (ix) => mean(ix.map((i) => dSup[i])), opts);
  const lossCI = bootstrap(rLoss.length, (ix) => mean(ix.map((i) => rLoss[i])), opts);
  const medDeltaSup = median(deltaSup.map(Math.abs));
  const medDeltaLoss = median(deltaLoss.map(Math.abs));
  const supExcludes0 = supCI.lo > 0 || supCI.hi < 0;
  const massive = supExcludes0 && medDeltaSup >= T.largeCliff;
  const small = !supExcludes0 && medDeltaSup < T.smallCliff;
  const lossSame = lossCI.lo >= -T.lossEquivalence && lossCI.hi <= T.lossEquivalence;
  const lossDiffers = lossCI.lo > T.lossEquivalence || lossCI.hi < -T.lossEquivalence;
  const verdict: Verdict =
    massive && lossSame ? "supported" : small || lossDiffers ? "not supported" : "inconclusive";
  const relDiff = mean(dSup) / mean(supLevels);
  const reason =
    verdict !== "inconclusive"
      ? undefined
      : `the superposition difference is neither massive (CI excluding 0 with |δ| ≥ ${T.largeCliff}) nor small, ` +
        `or the loss-ratio interval ${interval(lossCI.lo, lossCI.hi)} overlaps the ±${T.lossEquivalence} margin`;
  const decided =
    verdict === "supported"
      ? "both criteria (massive superposition difference, loss within the margin)"
      : lossDiffers
        ? "the loss criterion (log10 ratio outside the margin)"
        : small
          ? "the superposition criterion (difference small)"
          : "neither criterion being met";
  const seedSup = [...sparsityPresets(data)].flatMap((p) => {
    const c = find(data, p, "celu");
    const g = find(data, p, "gelu");
    return c && g ? [contrast(g, c, trainedSuperposition, levelIndices(data, p, "all"), "diff")] : [];
  });
  return {
    id,
    claim: claimOf(id),
    verdict,
    ...(reason ? { reason } : {}),
    headline:
      `${cap(verdict)}: GELU − CELU superposition ${num(supCI.estimate)} ${interval(supCI.lo, supCI.hi)} (median ` +
      `|δ| ${num(medDeltaSup, 2)}), log10 loss ratio ${num(lossCI.estimate, 2)} ${interval(lossCI.lo, lossCI.hi)} ` +
      `(claim: within ±${T.lossEquivalence}).`,
    scope: allScope(data, ["celu", "gelu"]),
    intervals: Object.fromEntries(
      seedSup.map((e, k) => [`${sparsityPresets(data)[k]}: GELU − CELU superposition, over seeds`, e]),
    ),
    links: [
      ...presetLinks(data, ["superposition-{p}", "loss-{p}", "{p}-features-celu", "{p}-features-gelu"]),
    ],
    summary:
      `Decided by ${decided}. GELU − CELU superposition: ${num(supCI.estimate)} ${interval(supCI.lo, supCI.hi)} (${pct(relDiff)} of the ` +
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

// ---- superposition lowers loss ----------------------------------------------------------------------------

export function superpositionLowersLossFinding(data: ReportData): Finding {
  const T = THRESHOLDS;
  const method =
    "Per preset and seed: Spearman ρ between superposition (instances that trained) and loss across activations " +
    "at each sparsity level, averaged over levels; a 95 % t-interval over seeds (seeds share init and data across " +
    "activations). Supported if the interval lies below 0 (more superposition, lower loss); not supported if it " +
    `lies above −${T.negligibleRho} (no meaningful negative correlation); otherwise inconclusive. Presets: all ` +
    "must agree; a definite verdict with an inconclusive one counts; supported with not supported is inconclusive.";
  const judge = (preset: string): Part => {
    const e = rhoOverSeeds(data, [preset]);
    const label = "ρ(superposition, loss)";
    const text = `${label}: ${fmtEstimate(e)}`;
    if (!Number.isFinite(e.lo))
      return judged(
        label,
        e,
        preset,
        "inconclusive",
        text,
        `${preset}: needs ≥ 2 seeds and ≥ 4 activations; run tms sweep --seeds 0-2 --activations all`,
      );
    const verdict: Verdict =
      e.hi < 0 ? "supported" : e.lo > -T.negligibleRho ? "not supported" : "inconclusive";
    return judged(
      label,
      e,
      preset,
      verdict,
      text,
      `${preset}: the interval ${fmtEstimate(e)} includes 0 and values below −${T.negligibleRho}`,
    );
  };
  return assemble({
    id: "superposition-lowers-loss",
    method,
    scope: allScope(data),
    parts: [{ label: "ρ(superposition, loss) below 0", perPreset: sparsityPresets(data).map(judge) }],
    links: presetLinks(data, ["{p}-superposition-vs-loss", "property-scatter"]),
  });
}
