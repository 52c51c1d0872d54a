// sigmoid-precision: is the (hard)sigmoid pattern a float32 artefact? float32 cells against float64 reruns.

import { perInstance, type ReportData, type Series } from "../data.js";
import { num } from "../format.js";
import { superpositionByImportance } from "../measures.js";
import { finite, mean } from "../stats.js";
import { claimOf, contrast, featuresText, find, inconclusive, sparsityPresets } from "./common.js";
import { trainedSuperposition } from "./loss.js";
import { type Finding, THRESHOLDS, type Verdict } from "./types.js";

/** Mean ‖W_f‖-weighted superposition of the less and the more important half of the features. */
export function patternOf(s: Series): { low: number; high: number } {
  const low: number[] = [];
  const high: number[] = [];
  for (const c of s.cells)
    c.instances.forEach((x, i) => {
      const p = superpositionByImportance(x, c, i);
      low.push(p.low);
      high.push(p.high);
    });
  return { low: mean(finite(low)), high: mean(finite(high)) };
}

// ---- 4. (hard)sigmoid f32 vs f64 ------------------------------------------------------------------------

export function sigmoidPrecisionFinding(data: ReportData): Finding {
  const id = "sigmoid-precision";
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
        const sp = perInstance(a, trainedSuperposition);
        for (let i = 0; i < lg.length; i++) {
          for (let u = 0; u < lg[i].length; u++) {
            for (let v = u + 1; v < lg[i].length; v++) {
              if (Number.isFinite(lg[i][u] - lg[i][v])) sLoss.push(Math.abs(lg[i][u] - lg[i][v]));
              if (Number.isFinite(sp[i][u] - sp[i][v])) sSup.push(Math.abs(sp[i][u] - sp[i][v]));
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
          const d = trainedSuperposition(x, c32, i) - trainedSuperposition(y, c64, i);
          if (Number.isFinite(d)) dSup.push(Math.abs(d));
        });
      }
    }
  }
  if (!present)
    return inconclusive(
      id,
      method,
      "store has no sigmoid or hardsigmoid cells; run tms sweep --activations sigmoid,hardsigmoid --dtype f32,f64",
    );
  if (pairs === 0)
    return inconclusive(
      id,
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
  const reason = !haveBaseline
    ? "needs ≥ 2 seeds; run tms sweep --seeds 0-2"
    : verdict === "inconclusive"
      ? `the f32–f64 / seed-to-seed ratios (loss ${num(rLoss, 2)}, superposition ${num(rSup, 2)}) lie between ` +
        `${T.dtypeSame} and ${T.dtypeDifferent}`
      : undefined;
  evidence.unshift(
    `${pairs} f32/f64 cell pairs: mean |Δ log10 loss| f32 vs f64 ${num(mean(dLoss))}, between seeds ${num(mean(sLoss))}; ` +
      `mean |Δ superposition| f32 vs f64 ${num(mean(dSup))}, between seeds ${num(mean(sSup))}.`,
  );
  return {
    id,
    claim: claimOf(id),
    verdict,
    summary: haveBaseline
      ? `Decided by the ratio of the f32–f64 difference to the seed-to-seed difference: float64 changes log10 loss by ${num(rLoss, 2)}× and superposition by ${num(rSup, 2)}× the seed-to-seed ` +
        `difference: the pattern ${verdict === "not supported" ? "is not" : verdict === "supported" ? "is" : "may be"} a float32 artefact.`
      : "Only one seed per cell: no seed-to-seed baseline to compare the f32–f64 difference with.",
    method,
    evidence,
    ...(reason ? { reason } : {}),
    headline:
      `${verdict[0].toUpperCase() + verdict.slice(1)}: float64 reruns move log10 loss by ${num(rLoss, 2)}× and ` +
      `superposition by ${num(rSup, 2)}× the seed-to-seed difference (> ${T.dtypeDifferent} would mean a float artefact).`,
    scope: {
      presets: sparsityPresets(data),
      sparsities: "every level",
      features: featuresText(data),
      activations: ["sigmoid", "hardsigmoid", "sigmoid~f64", "hardsigmoid~f64"],
    },
    intervals: Object.fromEntries(
      sparsityPresets(data).flatMap((p) =>
        ["sigmoid", "hardsigmoid"].flatMap((act) => {
          const a = find(data, p, act, "");
          const b = find(data, p, act, "f64");
          if (!a || !b) return [];
          const levels = a.cells[0].instances.map((_, i) => i);
          return [
            [
              `${p}: ${act} f32 − f64 superposition, over seeds`,
              contrast(a, b, trainedSuperposition, levels, "diff"),
            ],
          ];
        }),
      ),
    ),
    links: ["dtype", ...sparsityPresets(data).map((p) => `${p}-features-sigmoid-f64`)],
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
