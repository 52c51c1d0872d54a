// Shared machinery of the findings: which series and levels a claim is judged on, seed-paired contrasts with
// 95 % t-intervals over seeds, verdicts from an interval and a named threshold, and how the verdicts of
// several parts (activations, presets, sub-claims) combine into one.

import type { InstanceSummary } from "../../experiments/run.js";
import type { CellResult } from "../../experiments/store-format.js";
import {
  activationName,
  isSparsityPreset,
  type ReportData,
  type Series,
  sparsities,
  sparsityLabel,
} from "../data.js";
import { num } from "../format.js";
import { finite, mean, meanCI } from "../stats.js";
import CLAIMS from "./claims.json" with { type: "json" };
import type { Estimate, Finding, Verdict } from "./types.js";

/** The write-up's claim that finding `id` judges, as claims.json quotes it (in the write-up's order). */
export function claimOf(id: string): string {
  const claim = (CLAIMS as Record<string, string>)[id];
  if (claim === undefined) throw new Error(`findings/claims.json has no claim "${id}"`);
  return claim;
}

export type Metric = (inst: InstanceSummary, cell: CellResult, i: number) => number;

export const base = (data: ReportData, preset: string): Series[] =>
  data.seriesOf(preset).filter((s) => s.variant === "" && s.cells.length);
export const sparsityPresets = (data: ReportData): string[] =>
  data.presets.filter((p) => isSparsityPreset(p, data.seriesOf(p)));
export const find = (
  data: ReportData,
  preset: string,
  activation: string,
  variant = "",
): Series | undefined =>
  data.seriesOf(preset).find((s) => s.activation === activation && s.variant === variant && s.cells.length);

/** Which instances (sparsity levels) of a preset a part is judged on. */
export type Levels = "all" | "densest" | "sparsest-third" | "lower-half" | "upper-half";

export function levelIndices(data: ReportData, preset: string, which: Levels): number[] {
  const S = sparsities(base(data, preset));
  const order = S.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const n = order.length;
  const pick = (from: number, to: number) => order.slice(from, to).map(([, i]) => i);
  if (n === 0) return [];
  switch (which) {
    case "all":
      return pick(0, n);
    case "densest":
      return pick(0, 1);
    case "sparsest-third":
      return pick(n - Math.max(1, Math.round(n / 3)), n);
    case "lower-half":
      return pick(0, Math.ceil(n / 2));
    case "upper-half":
      return pick(Math.floor(n / 2), n);
  }
}

export function levelsText(data: ReportData, preset: string, which: Levels): string {
  const S = sparsities(base(data, preset));
  const idx = levelIndices(data, preset, which);
  if (!idx.length) return "none";
  const vals = idx.map((i) => S[i]);
  return vals.length === 1
    ? sparsityLabel(vals[0])
    : `${sparsityLabel(Math.min(...vals))}…${Math.max(...vals).toFixed(3)} (${vals.length} levels)`;
}

/** Per seed, the metric's mean over the given levels (NaN values, e.g. untrained instances, left out). */
export function seedMeans(s: Series, metric: Metric, levels: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const c of s.cells) {
    const v = finite(levels.filter((i) => c.instances[i]).map((i) => metric(c.instances[i], c, i)));
    if (v.length) out.set(c.seed, mean(v));
  }
  return out;
}

export const toEstimate = (xs: readonly number[]): Estimate => {
  const ci = meanCI(xs);
  return { estimate: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n };
};

/**
 * Seed-paired contrast of two series on the same levels: per seed (same seed = same init and data), the mean
 * over levels where both are finite of a − b ("diff") or mean(a)/mean(b) ("ratio"); a t-interval over seeds.
 */
export function contrast(
  a: Series,
  b: Series,
  metric: Metric,
  levels: readonly number[],
  kind: "diff" | "ratio",
  metricB: Metric = metric,
): Estimate {
  const values: number[] = [];
  for (const ca of a.cells) {
    const cb = b.cells.find((c) => c.seed === ca.seed);
    if (!cb) continue;
    const va: number[] = [];
    const vb: number[] = [];
    for (const i of levels) {
      if (!ca.instances[i] || !cb.instances[i]) continue;
      const x = metric(ca.instances[i], ca, i);
      const y = metricB(cb.instances[i], cb, i);
      if (Number.isFinite(x) && Number.isFinite(y)) {
        va.push(x);
        vb.push(y);
      }
    }
    if (!va.length) continue;
    values.push(kind === "diff" ? mean(va) - mean(vb) : mean(va) / mean(vb));
  }
  return toEstimate(values.filter(Number.isFinite));
}

/** Per seed, a value of one series over levels; t-interval over seeds. */
export function overSeeds(s: Series, metric: Metric, levels: readonly number[]): Estimate {
  return toEstimate([...seedMeans(s, metric, levels).values()]);
}

export interface Part {
  /** e.g. "intro: GELU − ReLU superposition at S=0.000". */
  label: string;
  preset?: string;
  verdict: Verdict;
  /** The estimate and rule applied, one clause. */
  text: string;
  reason?: string;
  estimate?: Estimate;
}

export const fmtEstimate = (e: Estimate): string =>
  Number.isFinite(e.lo)
    ? `${num(e.estimate)} [${num(e.lo, 2)}, ${num(e.hi, 2)}]`
    : `${num(e.estimate)} (no interval)`;

const noInterval = (label: string, e: Estimate) =>
  e.n === 0
    ? `${label}: no values (every instance there failed the training guard: diverged, loss not below predicting 0, or weights still at init)`
    : `${label}: only ${e.n} seed(s), no interval; run tms sweep --seeds 0-2`;

/** The inconclusive part for an estimate without a finite interval; undefined when it has one. */
function missingInterval(label: string, e: Estimate, preset?: string): Part | undefined {
  if (Number.isFinite(e.lo) && Number.isFinite(e.hi)) return undefined;
  return {
    label,
    preset,
    verdict: "inconclusive",
    text: `${label}: ${fmtEstimate(e)}`,
    reason: noInterval(label, e),
    estimate: e,
  };
}

/** A part with its verdict; `why` is given as the reason only when the verdict is inconclusive. */
export function judged(
  label: string,
  e: Estimate,
  preset: string | undefined,
  verdict: Verdict,
  text: string,
  why: string,
): Part {
  return {
    label,
    preset,
    verdict,
    text,
    estimate: e,
    ...(verdict === "inconclusive" ? { reason: why } : {}),
  };
}

/** Claim "value > t" (dir 1) or "value < t" (dir −1): supported if the interval clears t, not if it lies on the other side. */
export function directional(
  label: string,
  e: Estimate,
  threshold: number,
  dir: 1 | -1,
  preset?: string,
): Part {
  const rule = `${dir > 0 ? ">" : "<"} ${num(threshold)}`;
  const missing = missingInterval(label, e, preset);
  if (missing) return missing;
  const clears = dir > 0 ? e.lo > threshold : e.hi < threshold;
  const fails = dir > 0 ? e.hi <= threshold : e.lo >= threshold;
  const verdict: Verdict = clears ? "supported" : fails ? "not supported" : "inconclusive";
  return judged(
    label,
    e,
    preset,
    verdict,
    `${label}: ${fmtEstimate(e)}, claim ${rule}`,
    `${label}: the interval ${fmtEstimate(e)} straddles ${num(threshold)}`,
  );
}

/** Claim "lo ≤ value ≤ hi" (equivalence): supported if the interval lies inside, not if it lies outside. */
export function within(label: string, e: Estimate, lo: number, hi: number, preset?: string): Part {
  const missing = missingInterval(label, e, preset);
  if (missing) return missing;
  const inside = e.lo >= lo && e.hi <= hi;
  const outside = e.hi < lo || e.lo > hi;
  const verdict: Verdict = inside ? "supported" : outside ? "not supported" : "inconclusive";
  return judged(
    label,
    e,
    preset,
    verdict,
    `${label}: ${fmtEstimate(e)}, claim within [${num(lo)}, ${num(hi)}]`,
    `${label}: the interval ${fmtEstimate(e)} overlaps a bound of [${num(lo, 2)}, ${num(hi, 2)}]`,
  );
}

export const missingPart = (label: string, what: string, command: string, preset?: string): Part => ({
  label,
  preset,
  verdict: "inconclusive",
  text: `${label}: no data`,
  reason: `store has no ${what}; run ${command}`,
});

/**
 * Verdicts of one part over presets: all equal → that; supported and not supported → inconclusive (the
 * presets disagree); supported or not supported with inconclusive → the definite one.
 */
export function acrossPresets(label: string, parts: readonly Part[]): Part {
  if (!parts.length)
    return { label, verdict: "inconclusive", text: `${label}: no data`, reason: `${label}: no data` };
  const vs = new Set(parts.map((p) => p.verdict));
  const text = parts.map((p) => p.text).join("; ");
  const reasons = parts.map((p) => p.reason).filter(Boolean);
  if (vs.has("supported") && vs.has("not supported")) {
    const who = parts.map((p) => `${p.preset ?? "?"}: ${p.verdict}`).join(", ");
    return { label, verdict: "inconclusive", text, reason: `intro and demo disagree (${who})` };
  }
  const verdict: Verdict = vs.has("supported")
    ? "supported"
    : vs.has("not supported")
      ? "not supported"
      : "inconclusive";
  return { label, verdict, text, ...(verdict === "inconclusive" ? { reason: reasons.join("; ") } : {}) };
}

/** True when one preset supports a part and another does not (said in the finding). */
export const presetsConflict = (parts: readonly Part[]): boolean =>
  parts.some((p) => p.verdict === "supported") && parts.some((p) => p.verdict === "not supported");

/** True when the presets' verdicts of a part differ (said in the finding). */
export const presetsDisagree = (parts: readonly Part[]): boolean =>
  new Set(parts.map((p) => p.verdict)).size > 1;

/** All parts must hold: any not supported → not supported; else any inconclusive → inconclusive. */
export function allOf<P extends Part>(
  parts: readonly P[],
): { verdict: Verdict; decisive: P[]; reason?: string } {
  const no = parts.filter((p) => p.verdict === "not supported");
  if (no.length) return { verdict: "not supported", decisive: no };
  const maybe = parts.filter((p) => p.verdict === "inconclusive");
  if (maybe.length || !parts.length)
    return {
      verdict: "inconclusive",
      decisive: maybe,
      reason: parts.length ? maybe.map((p) => p.reason ?? p.text).join("; ") : "no data",
    };
  return { verdict: "supported", decisive: [...parts] };
}

const VERDICT_WORD: Record<Verdict, string> = {
  supported: "Supported",
  "not supported": "Not supported",
  inconclusive: "Inconclusive",
};

const CRITERION: Record<Verdict, string> = {
  supported: "holds",
  "not supported": "fails",
  inconclusive: "is undecided",
};

/** A finding from its parts (each judged per preset then combined, all must hold). */
export function assemble(o: {
  id: string;
  method: string;
  scope: Finding["scope"];
  parts: { label: string; perPreset: Part[] }[];
  links: string[];
  evidence?: string[];
  numbers?: Finding["numbers"];
  note?: string;
}): Finding {
  const combined = o.parts.map((p) => ({ ...acrossPresets(p.label, p.perPreset), perPreset: p.perPreset }));
  const { verdict, decisive, reason } = allOf(combined);
  const disagree = combined.filter((p) => presetsConflict(p.perPreset)).map((p) => p.label);
  const intervals: Finding["intervals"] = {};
  const numbers: Finding["numbers"] = { ...(o.numbers ?? {}) };
  for (const p of combined)
    for (const q of p.perPreset)
      if (q.estimate) {
        const key = `${q.preset ?? "all"}: ${q.label}`;
        intervals[key] = q.estimate;
      }
  const decidedBy =
    verdict === "supported" && combined.length > 1
      ? `every part holding (${combined.length} parts)`
      : decisive.map((p) => p.label).join("; ");
  const perPresetText = (p: (typeof combined)[number]) =>
    presetsDisagree(p.perPreset)
      ? ` (${p.perPreset.map((q) => `${q.preset}: ${q.verdict}`).join(", ")})`
      : "";
  const summary =
    `${verdict === "supported" ? "Supported" : verdict === "not supported" ? "Not supported" : "Inconclusive"}: ` +
    `decided by ${decidedBy || "missing data"}, which ${CRITERION[verdict]}` +
    (verdict === "inconclusive" && reason ? ` (${reason})` : "") +
    (combined.length > 1 || disagree.length
      ? `. ${combined.map((p) => `${p.label}: ${p.verdict}${perPresetText(p)}`).join("; ")}`
      : "") +
    "." +
    (disagree.length ? ` Intro and demo disagree on ${disagree.join(", ")}.` : "") +
    (o.note ? ` ${o.note}` : "");
  const lead = decisive[0];
  const leadText = lead
    ? (lead.perPreset.filter((q) => q.verdict === lead.verdict).length
        ? lead.perPreset.filter((q) => q.verdict === lead.verdict)
        : lead.perPreset
      )
        .map((q) => `${q.preset ?? ""} ${q.text.slice(q.label.length + 2)}`.trim())
        .join("; ")
    : "";
  const headline =
    `${VERDICT_WORD[verdict]}: ${lead ? lead.label : "no data"} ${CRITERION[verdict]}` +
    (leadText ? ` (${leadText})` : "") +
    (verdict === "inconclusive" && lead?.reason?.startsWith("intro and demo disagree")
      ? `; ${lead.reason}`
      : "") +
    (decisive.length > 1
      ? `; ${decisive.length - 1} more part(s) ${verdict === "supported" ? "hold" : "likewise"}`
      : "") +
    ".";
  return {
    id: o.id,
    claim: claimOf(o.id),
    verdict,
    summary,
    headline,
    method: o.method,
    scope: o.scope,
    evidence: [
      ...combined.flatMap((p) => p.perPreset.map((q) => `${q.preset ? `${q.preset}, ` : ""}${q.text}.`)),
      ...(o.evidence ?? []),
    ],
    ...(verdict === "inconclusive" ? { reason: reason ?? "no data" } : {}),
    numbers,
    intervals,
    links: o.links,
  };
}

export function inconclusive(
  id: string,
  method: string,
  reason: string,
  evidence: string[] = [],
  extra: Partial<Finding> = {},
): Finding {
  return {
    id,
    claim: claimOf(id),
    verdict: "inconclusive",
    summary: `Inconclusive: ${reason}`,
    method,
    scope: { presets: [], sparsities: "", features: "", activations: [] },
    evidence,
    reason,
    numbers: {},
    intervals: {},
    links: [],
    ...extra,
  };
}

/** "ReLU, GELU" */
export const names = (ids: readonly string[]): string => ids.map(activationName).join(", ");

/** A part for each sparsity preset present: `judge(preset)`; or a missing part if none. */
export function perPreset(data: ReportData, judge: (preset: string) => Part | undefined): Part[] {
  return sparsityPresets(data)
    .map(judge)
    .filter((p): p is Part => Boolean(p));
}

/** Scope text of features for the sparsity presets in the store. */
export function featuresText(data: ReportData): string {
  return sparsityPresets(data)
    .map((p) => {
      const c = base(data, p)[0]?.cells[0];
      return c ? `${p}: ${c.nFeatures} features in ${c.nHidden} dims` : p;
    })
    .join("; ");
}

/** `a` against `b` on one preset: a seed-paired contrast judged by `directional` or `within`. */
export function comparePart(
  data: ReportData,
  preset: string,
  o: {
    a: string;
    b: string;
    metric: Metric;
    what: string;
    levels: Levels;
    kind: "diff" | "ratio";
    rule: { dir: 1 | -1; threshold: number } | { lo: number; hi: number };
    metricB?: Metric;
  },
): Part {
  const A = find(data, preset, o.a);
  const B = find(data, preset, o.b);
  const label = `${activationName(o.a)} ${o.kind === "diff" ? "−" : "/"} ${activationName(o.b)} ${o.what} (${levelsText(data, preset, o.levels)})`;
  if (!A || !B) {
    const miss = [!A ? o.a : "", !B ? o.b : ""].filter(Boolean).join(",");
    return missingPart(
      label,
      `${miss} cells in ${preset}`,
      `tms sweep --presets ${preset} --activations ${o.a},${o.b}`,
      preset,
    );
  }
  const e = contrast(A, B, o.metric, levelIndices(data, preset, o.levels), o.kind, o.metricB);
  return "dir" in o.rule
    ? directional(label, e, o.rule.threshold, o.rule.dir, preset)
    : within(label, e, o.rule.lo, o.rule.hi, preset);
}

/** One activation's value of a metric on one preset, over seeds, judged against a threshold. */
export function valuePart(
  data: ReportData,
  preset: string,
  o: { a: string; metric: Metric; what: string; levels: Levels; dir: 1 | -1; threshold: number },
): Part {
  const A = find(data, preset, o.a);
  const label = `${activationName(o.a)} ${o.what} (${levelsText(data, preset, o.levels)})`;
  if (!A)
    return missingPart(
      label,
      `${o.a} cells in ${preset}`,
      `tms sweep --presets ${preset} --activations ${o.a}`,
      preset,
    );
  return directional(
    label,
    overSeeds(A, o.metric, levelIndices(data, preset, o.levels)),
    o.threshold,
    o.dir,
    preset,
  );
}

/** A part judged per preset: label and the per-preset parts. */
export const part = (data: ReportData, label: string, judge: (preset: string) => Part) => ({
  label,
  perPreset: perPreset(data, judge),
});
