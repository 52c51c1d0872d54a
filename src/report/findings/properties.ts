// The write-up's conclusions about properties: hardness reduces superposition; non-negative, asymmetrical
// functions give the most superposition and the lowest losses. Judged with the soft/hard pairs and with the
// property analysis across all activations (src/report/property-analysis.ts).

import { PROPERTY_LABELS } from "../../core/activation-properties.js";
import { activationName, type ReportData } from "../data.js";
import { num, pValue } from "../format.js";
import { guarded, superpositionScore } from "../measures.js";
import { analyseProperties, groupEffect, type Outcome } from "../property-analysis.js";
import { holm } from "../property-stats.js";
import {
  acrossPresets,
  allOf,
  claimOf,
  comparePart,
  featuresText,
  fmtEstimate,
  type Part,
  perPreset,
  presetsConflict,
  sparsityPresets,
} from "./common.js";
import { type Finding, THRESHOLDS, type Verdict } from "./types.js";

const T = THRESHOLDS;
const sup = guarded((x) => superpositionScore(x));
const scope = (data: ReportData, activations: string[]): Finding["scope"] => ({
  presets: sparsityPresets(data),
  sparsities: "every level",
  features: featuresText(data),
  activations,
});

/** Ridge lines for the evidence: coefficients (per SD) and leave-one-activation-out error against the baseline. */
function ridgeEvidence(data: ReportData, outcome: Outcome): string[] {
  return analyseProperties(data)
    .ridge.filter((r) => r.outcome === outcome)
    .map(
      (r) =>
        `${r.preset}, ridge on all properties (λ = 1, n = ${r.n}) for the mean ${outcome} rank: ` +
        Object.entries(r.coefficients)
          .map(([k, v]) => `${PROPERTY_LABELS[k as keyof typeof PROPERTY_LABELS]} ${num(v, 2)}`)
          .join(", ") +
        `; leave-one-activation-out RMSE ${num(r.looRmse, 2)} vs ${num(r.baselineRmse, 2)} for the mean alone.`,
    );
}

const PAIRS: [string, string][] = [
  ["sigmoid", "hardsigmoid"],
  ["tanh", "hardtanh"],
  ["silu", "hardswish"],
  ["tanhshrink", "hardshrink"],
];

export function hardnessFinding(data: ReportData): Finding {
  const pairs = PAIRS.map(([soft, hard]) => {
    const perPresetParts = perPreset(data, (p) =>
      comparePart(data, p, {
        a: hard,
        b: soft,
        metric: sup,
        what: "superposition",
        levels: "all",
        kind: "diff",
        rule: { dir: -1, threshold: 0 },
      }),
    );
    return {
      ...acrossPresets(`${activationName(hard)} below ${activationName(soft)}`, perPresetParts),
      perPreset: perPresetParts,
    };
  });
  const yes = pairs.filter((p) => p.verdict === "supported").length;
  const no = pairs.filter((p) => p.verdict === "not supported").length;
  const pairIntervals: Finding["intervals"] = {};
  for (const p of pairs)
    for (const q of p.perPreset) if (q.estimate) pairIntervals[`${q.preset}: ${q.label}`] = q.estimate;
  const pl = analyseProperties(data).effects.filter(
    (e) => e.property === "piecewiseLinear" && e.outcome === "superposition" && e.level === "all",
  );
  const plAgainst = pl.filter((e) => e.pHolm < T.alpha && e.effect > 0);
  let verdict: Verdict;
  let decided: string;
  if (no / PAIRS.length >= 0.5 || plAgainst.length) {
    verdict = "not supported";
    decided = plAgainst.length
      ? "the property analysis (piecewise-linear activations have significantly more superposition)"
      : `the pairs (${no} of ${PAIRS.length} hard functions have more superposition than their soft twin)`;
  } else if (yes / PAIRS.length >= T.pairShare) {
    verdict = "supported";
    decided = `the pairs (${yes} of ${PAIRS.length} hard functions have less superposition)`;
  } else {
    verdict = "inconclusive";
    decided = `the pairs (${yes} of ${PAIRS.length} reduce, ${no} increase; ${T.pairShare * 100} % needed)`;
  }
  const reason =
    verdict === "inconclusive"
      ? `only ${yes} of ${PAIRS.length} pairs show less superposition for the hard function (≥ ${T.pairShare * PAIRS.length} needed): ` +
        pairs
          .filter((p) => p.verdict === "inconclusive")
          .map((p) => p.reason)
          .join("; ")
      : undefined;
  const intervals: Finding["intervals"] = { ...pairIntervals };
  for (const e of pl)
    if (e.perSeed)
      intervals[`${e.preset}: piecewise-linear rank-biserial on superposition, over seeds`] = e.perSeed;
  return {
    id: "hardness-reduces",
    claim: claimOf("hardness-reduces"),
    verdict,
    headline:
      `${verdict[0].toUpperCase() + verdict.slice(1)}: ${yes} of ${PAIRS.length} hard functions have less ` +
      `superposition than their soft twin, ${no} more (≥ ${T.pairShare * PAIRS.length} needed); piecewise linear ` +
      `vs not, rank-biserial ${pl.map((e) => `${e.preset} ${num(e.effect, 2)} (Holm p ${pValue(e.pHolm)})`).join(", ")}.`,
    summary:
      `Decided by ${decided}. ` +
      pairs.map((p) => `${p.label}: ${p.verdict}`).join("; ") +
      ". " +
      pl
        .map(
          (e) =>
            `${e.preset}: piecewise-linear vs smooth activations, rank-biserial ${num(e.effect, 2)} on superposition (Holm p ${pValue(e.pHolm)}).`,
        )
        .join(" "),
    method:
      "Four soft/hard pairs (Sigmoid/Hardsigmoid, Tanh/Hardtanh, SiLU/Hardswish, Tanhshrink/Hardshrink): per pair the " +
      "seed-paired difference hard − soft of superposition over all levels, judged per preset by its 95 % t-interval " +
      "over seeds (below 0: the hard one has less) and combined over presets (disagreement is inconclusive). Across " +
      "all activations, the property analysis compares piecewise-linear with other activations (rank-biserial of the " +
      "mean superposition rank, permutation p, Holm across properties). Supported if ≥ " +
      `${T.pairShare * 100} % of pairs are supported and the property analysis does not find significantly more ` +
      "superposition for piecewise-linear functions; not supported if half of the pairs or more are not supported, " +
      "or the property analysis finds the opposite (Holm p < 0.05); otherwise inconclusive.",
    scope: scope(data, PAIRS.flat()),
    evidence: [
      ...pairs.map((p) => `${p.text}.`),
      ...pl.map(
        (e) =>
          `${e.preset}: piecewise linear (${e.nWith}) vs not (${e.nWithout}): rank-biserial ${num(e.effect, 2)}, ` +
          `p ${pValue(e.p)}, Holm ${pValue(e.pHolm)}` +
          (e.perSeed ? `; per seed ${fmtEstimate(e.perSeed)}` : "") +
          ".",
      ),
      ...ridgeEvidence(data, "superposition"),
    ],
    ...(reason ? { reason } : {}),
    numbers: { pairs: PAIRS.length, pairsSupported: yes, pairsNotSupported: no },
    intervals,
    links: ["property-effects", "property-effects-heatmap", "activation-properties"],
  };
}

export function nonnegAsymmetricFinding(data: ReportData): Finding {
  const group = (p: { nonNegative: boolean; odd: boolean }) => p.nonNegative && !p.odd;
  const raw = sparsityPresets(data).flatMap((preset) =>
    (["superposition", "loss"] as Outcome[]).map((outcome) => ({
      preset,
      outcome,
      g: groupEffect(data, preset, outcome, group, outcome === "loss" ? 23 : 29),
    })),
  );
  const adj = holm(raw.map((r) => r.g?.p ?? Number.NaN));
  const judge = (outcome: Outcome): Part[] =>
    raw
      .map((r, k) => ({ ...r, pHolm: adj[k] }))
      .filter((r) => r.outcome === outcome)
      .map((r): Part => {
        const dir = outcome === "superposition" ? 1 : -1;
        const label = `non-negative asymmetrical ${outcome === "superposition" ? "more superposition" : "lower loss"}`;
        if (!r.g?.perSeed || r.g.nWith === 0 || r.g.nWithout === 0)
          return {
            label,
            preset: r.preset,
            verdict: "inconclusive",
            text: `${label}: no data`,
            reason: `${r.preset}: needs ≥ 4 activations with and without the property; run tms sweep --activations all`,
          };
        const e = r.g.perSeed;
        const sig = r.pHolm < T.alpha;
        const right = Math.sign(r.g.effect) === dir;
        const ciOpposite = dir > 0 ? e.hi <= 0 : e.lo >= 0;
        const ciRight = dir > 0 ? e.lo > 0 : e.hi < 0;
        const verdict: Verdict =
          sig && right && ciRight
            ? "supported"
            : (sig && !right) || ciOpposite
              ? "not supported"
              : "inconclusive";
        const text =
          `${label}: rank-biserial ${num(r.g.effect, 2)} (${r.g.nWith} vs ${r.g.nWithout} activations), Holm p ` +
          `${pValue(r.pHolm)}, per seed ${fmtEstimate(e)}`;
        return {
          label,
          preset: r.preset,
          verdict,
          text,
          estimate: e,
          ...(verdict === "inconclusive"
            ? {
                reason: `${r.preset}: ${label} — Holm p ${pValue(r.pHolm)} ≥ ${T.alpha} or the per-seed interval ${fmtEstimate(e)} includes 0`,
              }
            : {}),
        };
      });
  const parts = [
    acrossPresets("more superposition", judge("superposition")),
    acrossPresets("lower loss", judge("loss")),
  ];
  const perPart = [judge("superposition"), judge("loss")];
  const { verdict, decisive, reason } = allOf(parts);
  const intervals: Finding["intervals"] = {};
  for (const q of perPart.flat())
    if (q.estimate) intervals[`${q.preset}: ${q.label}, rank-biserial over seeds`] = q.estimate;
  return {
    id: "nonneg-asymmetric-best",
    claim: claimOf("nonneg-asymmetric-best"),
    verdict,
    headline:
      `${verdict[0].toUpperCase() + verdict.slice(1)}: ` +
      perPart
        .flat()
        .map((q) => `${q.preset} ${q.text.replace("non-negative asymmetrical ", "")}`)
        .join("; ") +
      ".",
    summary:
      `Decided by ${decisive.map((p) => p.label).join(" and ") || "missing data"}. ` +
      parts.map((p) => `${p.label}: ${p.verdict}`).join("; ") +
      "." +
      perPart
        .filter((ps) => presetsConflict(ps))
        .map(
          (ps) =>
            ` Intro and demo disagree on ${ps[0].label} (${ps.map((q) => `${q.preset}: ${q.verdict}`).join(", ")}).`,
        )
        .join(""),
    method:
      "Group: activations whose computed properties are non-negative and not odd (asymmetrical), against the " +
      "rest. Outcome per activation: its mean within-level rank of superposition (trained instances) and of log " +
      "loss over all levels. Effect: rank-biserial correlation; two-sided permutation p (4 000 relabellings), Holm " +
      "across the four tests (2 outcomes × 2 presets); the per-seed effect with a 95 % t-interval over seeds. A part " +
      "is supported if Holm p < 0.05, the effect has the claimed sign (more superposition, lower loss) and the " +
      "per-seed interval excludes 0 on that side; not supported if significant with the wrong sign or the interval " +
      "lies on the wrong side; otherwise inconclusive. Presets combined as elsewhere; both parts must hold.",
    scope: scope(data, ["all"]),
    evidence: [
      ...perPart.flat().map((q) => `${q.preset}, ${q.text}.`),
      ...ridgeEvidence(data, "superposition"),
      ...ridgeEvidence(data, "loss"),
    ],
    ...(verdict === "inconclusive" ? { reason: reason ?? "no data" } : {}),
    numbers: {},
    intervals,
    links: ["property-scatter", "property-effects-heatmap", "property-effects", "activation-properties"],
  };
}
