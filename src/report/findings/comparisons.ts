// Claims that compare one activation's superposition with another's (mostly ReLU's): seed-paired contrasts
// over the levels the claim is about, each judged by its 95 % t-interval over seeds against a named threshold.

import { activationName, type ReportData } from "../data.js";
import {
  featuresSuperposed,
  fractionSuperposed,
  guarded,
  superpositionAmplitude,
  superpositionScore,
} from "../measures.js";
import { ranks } from "../stats.js";
import {
  assemble,
  base,
  comparePart,
  directional,
  featuresText,
  find,
  type Levels,
  levelIndices,
  type Metric,
  missingPart,
  part,
  seedMeans,
  sparsityPresets,
  toEstimate,
} from "./common.js";
import { type Finding, THRESHOLDS } from "./types.js";

const sup: Metric = guarded((x) => superpositionScore(x));
const T = THRESHOLDS;
const RULE =
  "Per seed (seeds share init and data across activations), the mean over the levels judged of each " +
  "activation's measure, as a difference or ratio; a 95 % t-interval over seeds. Instances that did not train " +
  "are left out. Presets: each judged; all must agree; a definite verdict with an inconclusive one counts; " +
  "supported in one and not supported in the other is inconclusive (they disagree). Every part must hold.";
const scope = (data: ReportData, activations: string[], sparsities: string): Finding["scope"] => ({
  presets: sparsityPresets(data),
  sparsities,
  features: featuresText(data),
  activations,
});
const links = (data: ReportData, acts: string[], tables = ["superposition-{p}"]) =>
  sparsityPresets(data).flatMap((p) => [
    ...tables.map((t) => t.replace("{p}", p)),
    ...acts.map((a) => `${p}-features-${a}`),
  ]);

/** One comparison part of `a` against `b`. */
function vs(
  data: ReportData,
  label: string,
  o: {
    a: string;
    b: string;
    levels: Levels;
    kind: "diff" | "ratio";
    rule: { dir: 1 | -1; threshold: number } | { lo: number; hi: number };
    metric?: Metric;
    what?: string;
  },
) {
  return part(data, label, (p) => comparePart(data, p, { metric: sup, what: "superposition", ...o }));
}

/** a's measure minus ReLU's over `levels`, claimed above (dir 1) or below (dir −1) zero. */
function minusRelu(
  data: ReportData,
  label: string,
  a: string,
  levels: Levels,
  dir: 1 | -1,
  measure: { metric?: Metric; what?: string } = {},
) {
  return vs(data, label, { a, b: "relu", levels, kind: "diff", rule: { dir, threshold: 0 }, ...measure });
}

/** a's measure over ReLU's, all levels, judged by `rule` (a threshold with its side, or an equivalence band). */
function overRelu(
  data: ReportData,
  label: string,
  a: string,
  rule: { dir: 1 | -1; threshold: number } | { lo: number; hi: number },
) {
  return vs(data, label, { a, b: "relu", levels: "all", kind: "ratio", rule });
}

export function tanhSeluLimitedFinding(data: ReportData): Finding {
  const acts = ["tanh", "hardtanh", "selu"];
  return assemble({
    id: "tanh-hardtanh-selu-limited",
    method: `Each of Tanh, Hardtanh and SELU: its superposition over ReLU's, all levels; "very limited" if the ratio's interval lies below ${T.limitedRatio}, not supported if it lies at or above. ${RULE}`,
    scope: scope(data, [...acts, "relu"], "every level"),
    parts: acts.map((a) =>
      overRelu(data, `${activationName(a)} superposition below ${T.limitedRatio}× ReLU's`, a, {
        dir: -1,
        threshold: T.limitedRatio,
      }),
    ),
    links: links(data, [...acts, "relu"]),
  });
}

export function soluFinding(data: ReportData): Finding {
  const c = T.comparableRatio;
  return assemble({
    id: "solu-vs-softmax",
    method:
      `Three parts: at the densest level SoLU/Softmax superposition within [1/${c}, ${c}] (comparable); at the densest ` +
      "level SoLU − ReLU above 0; over the sparsest third of the levels SoLU − ReLU below 0. " +
      RULE,
    scope: scope(data, ["solu", "softmax", "relu"], "densest level; sparsest third"),
    parts: [
      vs(data, "SoLU comparable to Softmax when dense", {
        a: "solu",
        b: "softmax",
        levels: "densest",
        kind: "ratio",
        rule: { lo: 1 / c, hi: c },
      }),
      minusRelu(data, "SoLU above ReLU when dense", "solu", "densest", 1),
      minusRelu(data, "SoLU below ReLU when sparse", "solu", "sparsest-third", -1),
    ],
    links: links(data, ["solu", "softmax", "relu"]),
  });
}

export function shrinkFinding(data: ReportData): Finding {
  const acts = ["hardshrink", "softshrink", "tanhshrink"];
  return assemble({
    id: "shrink-small-amplitude",
    method:
      "For Hardshrink, Softshrink and Tanhshrink each, against ReLU over all levels: lots = the fraction of " +
      "represented features in superposition (per-feature superposition > 0.1) higher than ReLU's (difference " +
      "above 0); small amplitude = the mean per-feature superposition of those superposed features lower than " +
      `ReLU's (difference below 0). ${RULE}`,
    scope: scope(data, [...acts, "relu"], "every level"),
    parts: acts.flatMap((a) => [
      minusRelu(data, `${activationName(a)}: more features in superposition than ReLU`, a, "all", 1, {
        metric: guarded((x) => fractionSuperposed(x)),
        what: "fraction superposed",
      }),
      minusRelu(data, `${activationName(a)}: smaller amplitude than ReLU`, a, "all", -1, {
        metric: guarded((x) => superpositionAmplitude(x)),
        what: "amplitude of superposition",
      }),
    ]),
    links: links(data, [...acts, "relu"]),
  });
}

export function geluDenseFinding(data: ReportData): Finding {
  const acts = ["gelu", "silu"];
  return assemble({
    id: "gelu-dense-superposition",
    method: `For GELU and SiLU each: minus ReLU's superposition at the densest level above 0, and over the sparsest third of the levels below 0. ${RULE}`,
    scope: scope(data, [...acts, "relu"], "densest level; sparsest third"),
    parts: acts.flatMap((a) => [
      minusRelu(data, `${activationName(a)} above ReLU at S = 0`, a, "densest", 1),
      minusRelu(data, `${activationName(a)} below ReLU when sparse`, a, "sparsest-third", -1),
    ]),
    links: links(data, [...acts, "relu"]),
  });
}

export function geluSiluLessFinding(data: ReportData): Finding {
  const acts = ["gelu", "silu"];
  return assemble({
    id: "gelu-silu-less-than-relu",
    method: `For GELU and SiLU each: minus ReLU's superposition over all levels below 0. ${RULE}`,
    scope: scope(data, [...acts, "relu"], "every level"),
    parts: acts.map((a) =>
      minusRelu(data, `${activationName(a)} less superposition than ReLU`, a, "all", -1),
    ),
    links: links(data, [...acts, "relu"]),
  });
}

export function sigmoidManyFinding(data: ReportData): Finding {
  return assemble({
    id: "sigmoid-many-neurons",
    method: `Number of features in superposition (represented, per-feature superposition > 0.1): Sigmoid minus ReLU over all levels above 0. ${RULE}`,
    scope: scope(data, ["sigmoid", "relu"], "every level"),
    parts: [
      minusRelu(data, "Sigmoid has more features in superposition than ReLU", "sigmoid", "all", 1, {
        metric: guarded((x) => featuresSuperposed(x)),
        what: "features in superposition",
      }),
    ],
    links: links(data, ["sigmoid", "relu"], ["represented-{p}", "superposition-{p}"]),
  });
}

export function tanhEliminatesFinding(data: ReportData): Finding {
  return assemble({
    id: "tanh-eliminates",
    method: `Tanh's superposition over ReLU's, all levels; eliminated if the ratio's interval lies below ${T.eliminatedRatio}, not supported if at or above. ${RULE}`,
    scope: scope(data, ["tanh", "relu"], "every level"),
    parts: [
      overRelu(data, `Tanh superposition below ${T.eliminatedRatio}× ReLU's`, "tanh", {
        dir: -1,
        threshold: T.eliminatedRatio,
      }),
    ],
    links: links(data, ["tanh", "relu"]),
  });
}

export function relu6Relu2Finding(data: ReportData): Finding {
  const c = T.comparableRatio;
  const acts = ["relu6", "relu2"];
  return assemble({
    id: "relu6-relu2-like-relu",
    method: `For ReLU6 and ReLU² each: superposition over ReLU's, all levels, within [1/${c}, ${c}] (supported if the interval lies inside, not supported if it lies outside). ${RULE}`,
    scope: scope(data, [...acts, "relu"], "every level"),
    parts: acts.map((a) =>
      overRelu(data, `${activationName(a)} superposition like ReLU's`, a, { lo: 1 / c, hi: c }),
    ),
    links: links(data, [...acts, "relu"]),
  });
}

export function swishSimilarFinding(data: ReportData): Finding {
  const c = T.comparableRatio;
  return assemble({
    id: "swish-hardswish-similar",
    method: `Hardswish's superposition over SiLU's (swish), all levels, within [1/${c}, ${c}]. ${RULE}`,
    scope: scope(data, ["silu", "hardswish"], "every level"),
    parts: [
      vs(data, "Hardswish superposition like SiLU's", {
        a: "hardswish",
        b: "silu",
        levels: "all",
        kind: "ratio",
        rule: { lo: 1 / c, hi: c },
      }),
    ],
    links: links(data, ["silu", "hardswish"]),
  });
}

export function negativeOutputsFinding(data: ReportData): Finding {
  const pairs: [string, string, 1 | -1][] = [
    ["gelu", "celu", 1],
    ["gelu", "elu", 1],
    ["softplus", "celu", 1],
    ["softplus", "elu", 1],
    ["selu", "celu", -1],
    ["selu", "elu", -1],
  ];
  return assemble({
    id: "negative-outputs-hinder",
    method:
      "Six seed-paired differences of superposition over all levels: GELU and Softplus each above CELU and ELU " +
      "(above 0), SELU below CELU and ELU (below 0). The property analysis (non-negative, min f on x < 0) is in " +
      `its own table. ${RULE}`,
    scope: scope(data, ["gelu", "softplus", "celu", "elu", "selu"], "every level"),
    parts: pairs.map(([a, b, dir]) =>
      vs(data, `${activationName(a)} ${dir > 0 ? "above" : "below"} ${activationName(b)}`, {
        a,
        b,
        levels: "all",
        kind: "diff",
        rule: { dir, threshold: 0 },
      }),
    ),
    links: [
      ...links(data, ["gelu", "softplus", "celu", "elu", "selu"]),
      "activation-properties",
      "property-effects",
    ],
  });
}

/** Per seed, each activation's superposition rank (1 = most) among the activations of a preset. */
function rankEstimate(data: ReportData, preset: string, activation: string) {
  const series = base(data, preset);
  const levels = levelIndices(data, preset, "all");
  const means = series.map((s) => seedMeans(s, sup, levels));
  const seeds = [...new Set(series.flatMap((s) => s.cells.map((c) => c.seed)))];
  const k = series.findIndex((s) => s.activation === activation);
  const perSeed: number[] = [];
  let n = 0;
  for (const seed of seeds) {
    const idx = series.map((_, j) => j).filter((j) => Number.isFinite(means[j].get(seed) ?? Number.NaN));
    if (!idx.includes(k)) continue;
    const r = ranks(idx.map((j) => -(means[j].get(seed) as number)));
    perSeed.push(r[idx.indexOf(k)]);
    n = Math.max(n, idx.length);
  }
  return { e: toEstimate(perSeed), n };
}

export function mostSuperpositionFinding(data: ReportData): Finding {
  const acts = ["relu", "leaky_relu", "gelu", "softplus"];
  const parts = acts.map((a) =>
    part(data, `${activationName(a)} among the most superposition`, (p) => {
      const label = `${activationName(a)} superposition rank`;
      if (!find(data, p, a))
        return missingPart(label, `${a} cells in ${p}`, `tms sweep --presets ${p} --activations ${a}`, p);
      const { e, n } = rankEstimate(data, p, a);
      const K = Math.max(1, Math.ceil(T.topShare * n));
      return directional(`${label} (top ${K} of ${n})`, e, K + 0.5, -1, p);
    }),
  );
  return assemble({
    id: "most-superposition",
    method:
      "Per preset and seed, activations are ranked by their superposition averaged over all levels (1 = most). " +
      `Each named activation must rank in the top ⌈${T.topShare} × n⌉: its mean rank's 95 % t-interval over seeds ` +
      "below that rank + 0.5 (not supported if at or above it). Presets: all must agree; a definite verdict with an " +
      "inconclusive one counts; supported with not supported is inconclusive. Every activation must hold.",
    scope: scope(data, acts, "every level"),
    parts,
    links: sparsityPresets(data).flatMap((p) => [`superposition-${p}`, `ranking-${p}`]),
  });
}
