// Which features get the superposition: the (hard)sigmoid and softsign/logsigmoid preference for unimportant
// features, Softmin's importance reversal, Softplus touching every feature, (hard)swish at sparsity 0.

import { VECTOR_ACTIVATION_IDS } from "../../core/activations.js";
import { activationName, type ReportData } from "../data.js";
import { interval, num } from "../format.js";
import {
  featuresSuperposed,
  guarded,
  importanceNormRho,
  superpositionByImportance,
  superpositionScore,
  trivialLoss,
} from "../measures.js";
import { bootstrap, finite, geometricMean, mean } from "../stats.js";
import {
  assemble,
  claimOf,
  comparePart,
  featuresText,
  find,
  inconclusive,
  type Metric,
  overSeeds,
  part,
  sparsityPresets,
  valuePart,
} from "./common.js";
import { type Finding, THRESHOLDS, type Verdict } from "./types.js";

/** Superposition of the less important half minus the more important half (> 0: on unimportant features). */
export const unimportantExcess: Metric = guarded((x, c, i) => {
  const p = superpositionByImportance(x, c, i);
  return p.low - p.high;
});
/** Share of all features that are represented and in superposition. */
export const shareSuperposed: Metric = guarded((x) => featuresSuperposed(x) / x.norms.length);
const trainedSup: Metric = guarded((x) => superpositionScore(x));
const scopeOf = (data: ReportData, activations: string[], sparsities: string): Finding["scope"] => ({
  presets: sparsityPresets(data),
  sparsities,
  features: featuresText(data),
  activations,
});
const figs = (data: ReportData, acts: string[]) =>
  sparsityPresets(data).flatMap((p) => acts.map((a) => `${p}-features-${a}`));
const PRESET_RULE =
  " Presets: each judged; all must agree; a definite verdict with an inconclusive one counts; supported in one " +
  "and not supported in the other is inconclusive (they disagree). Every part must hold.";

// ---- 5. softmin importance reversal, softmax family under both dims ---------------------------------

const SOFTMAX_FAMILY = VECTOR_ACTIVATION_IDS;

export function softminFinding(data: ReportData): Finding {
  const id = "softmin-reversal";
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
          `loss/trivial ${num(vsTrivial)}; superposition ${num(mean(finite(inst.map(({ x, c, i }) => trainedSup(x, c, i)))), 2)}; ` +
          `diverged ${inst.filter(({ x }) => x.diverged).length}/${inst.length}.`,
      );
    }
  }
  const results = dims.map((d) => ({ ...d, r: rhoOf("softmin", d.variant) }));
  const present = results.filter((x) => x.r);
  if (!present.length)
    return inconclusive(
      id,
      method,
      "store has no Softmin cells; run tms sweep --activations softmin",
      evidence,
    );
  const reversed = present.filter((x) => x.r!.hi < 0);
  const numbers: Record<string, number | null> = {};
  const intervals: Finding["intervals"] = {};
  for (const x of results)
    if (x.r)
      intervals[`Softmin ρ(importance, ‖W_f‖), softmax over ${x.name} (over cells)`] = {
        ...x.r,
        n: x.r.cells,
      };
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
    claim: claimOf(id),
    verdict,
    headline:
      `${verdict[0].toUpperCase() + verdict.slice(1)}: Softmin's ρ(importance, ‖W_f‖) ${describe.join("; ")}` +
      ` (reversal: interval below 0)${relu ? `; ReLU ${num(relu.estimate, 2)}` : ""}.`,
    scope: scopeOf(data, ["softmin", "softmin~softmax-batch"], "every level"),
    intervals,
    links: ["softmax-dim", ...figs(data, ["softmin", "softmin-softmax-batch"])],
    summary:
      `Decided by the interval of Softmin's importance–norm correlation under each softmax dimension: ` +
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

// ---- (hard)sigmoid: superposition of unimportant features -------------------------------------------------

export function sigmoidUnimportantFinding(data: ReportData): Finding {
  const acts = ["sigmoid", "hardsigmoid"];
  const method =
    "Judged for Sigmoid and Hardsigmoid separately. (a) For unimportant features: per instance, the ‖W_f‖-" +
    "weighted superposition of the less important half of the features minus that of the more important half, " +
    "averaged over all levels per seed; supported if the 95 % t-interval over seeds lies above 0, not supported " +
    "if it lies at or below 0. (b) Enormous and quick: the activation's superposition minus ReLU's over the lower " +
    "half of the sparsity levels (seed-paired); supported if the interval lies above 0. Instances that did not " +
    `train are left out.${PRESET_RULE}`;
  const parts = acts.flatMap((a) => [
    part(data, `${activationName(a)}: superposition on unimportant features`, (p) =>
      valuePart(data, p, {
        a,
        metric: unimportantExcess,
        what: "superposition, unimportant − important half",
        levels: "all",
        dir: 1,
        threshold: 0,
      }),
    ),
    part(data, `${activationName(a)}: more superposition than ReLU at low sparsity`, (p) =>
      comparePart(data, p, {
        a,
        b: "relu",
        metric: trainedSup,
        what: "superposition",
        levels: "lower-half",
        kind: "diff",
        rule: { dir: 1, threshold: 0 },
      }),
    ),
  ]);
  return assemble({
    id: "sigmoid-unimportant",
    method,
    scope: scopeOf(data, [...acts, "relu"], "all levels (a); lower half of the levels (b)"),
    parts,
    links: figs(data, acts),
  });
}

// ---- softsign and logsigmoid: even worse -------------------------------------------------------------------

export function softsignLogsigmoidFinding(data: ReportData): Finding {
  const acts = ["softsign", "logsigmoid"];
  return assemble({
    id: "softsign-logsigmoid-worse",
    method:
      "Each of Softsign and LogSigmoid against Sigmoid: the seed-paired difference of the unimportant-feature " +
      "excess (superposition of the less important half minus the more important half, ‖W_f‖-weighted), averaged " +
      "over all levels; supported if the 95 % t-interval over seeds lies above 0, not supported if at or below 0." +
      PRESET_RULE,
    scope: scopeOf(data, [...acts, "sigmoid"], "every level"),
    parts: acts.map((a) =>
      part(data, `${activationName(a)} more unimportant-feature superposition than Sigmoid`, (p) =>
        comparePart(data, p, {
          a,
          b: "sigmoid",
          metric: unimportantExcess,
          what: "unimportant-feature excess",
          levels: "all",
          kind: "diff",
          rule: { dir: 1, threshold: 0 },
        }),
      ),
    ),
    links: figs(data, [...acts, "sigmoid"]),
  });
}

// ---- softplus touches every feature ------------------------------------------------------------------------

export function softplusEveryFeatureFinding(data: ReportData): Finding {
  const T = THRESHOLDS;
  const evidence: string[] = [];
  for (const p of sparsityPresets(data)) {
    const s = find(data, p, "softplus");
    const r = find(data, p, "relu");
    if (!s) continue;
    const rho = (x: typeof s) =>
      overSeeds(x, (inst, c, i) => importanceNormRho(inst, c, i), [
        ...Array(x.cells[0].instances.length).keys(),
      ]);
    evidence.push(
      `${p}: importance preference ρ(importance, ‖W_f‖) Softplus ${num(rho(s).estimate, 2)}` +
        (r ? `, ReLU ${num(rho(r).estimate, 2)}` : "") +
        " (mean over levels and seeds).",
    );
  }
  return assemble({
    id: "softplus-every-feature",
    method:
      "Share of all features that are represented (‖W_f‖ > 0.5) and in superposition (per-feature superposition " +
      "> 0.1), averaged over the sparsest third of the levels per seed; supported if the 95 % t-interval over " +
      `seeds lies above ${T.everyFeatureShare}, not supported if it lies at or below it. The importance preference ` +
      `(ρ of importance and ‖W_f‖) is reported alongside.${PRESET_RULE}`,
    scope: scopeOf(data, ["softplus"], "sparsest third of the levels"),
    parts: [
      part(data, "Softplus: every feature in superposition", (p) =>
        valuePart(data, p, {
          a: "softplus",
          metric: shareSuperposed,
          what: "share of features in superposition",
          levels: "sparsest-third",
          dir: 1,
          threshold: T.everyFeatureShare,
        }),
      ),
    ],
    evidence,
    links: [...figs(data, ["softplus"]), ...sparsityPresets(data).map((p) => `represented-${p}`)],
  });
}

// ---- (hard)swish: early superposition on unimportant features --------------------------------------------

export function swishEarlyFinding(data: ReportData): Finding {
  const T = THRESHOLDS;
  const acts = ["silu", "hardswish"];
  return assemble({
    id: "swish-early-unimportant",
    method:
      "For SiLU (swish) and Hardswish each, at the densest level (S = 0): (a) superposition above " +
      `${T.earlySuperposition} (the superposed threshold), and (b) the unimportant-feature excess (superposition of ` +
      "the less important half minus the more important half) above 0; each by its 95 % t-interval over seeds." +
      PRESET_RULE,
    scope: scopeOf(data, acts, "densest level (S = 0)"),
    parts: acts.flatMap((a) => [
      part(data, `${activationName(a)}: superposition at S = 0`, (p) =>
        valuePart(data, p, {
          a,
          metric: trainedSup,
          what: "superposition",
          levels: "densest",
          dir: 1,
          threshold: T.earlySuperposition,
        }),
      ),
      part(data, `${activationName(a)}: prefers less important features at S = 0`, (p) =>
        valuePart(data, p, {
          a,
          metric: unimportantExcess,
          what: "unimportant-feature excess",
          levels: "densest",
          dir: 1,
          threshold: 0,
        }),
      ),
    ]),
    links: figs(data, acts),
  });
}
