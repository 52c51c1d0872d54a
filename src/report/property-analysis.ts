// Which properties of an activation go with more superposition and with lower loss? For each boolean
// property of src/core/activation-properties.ts, the activations with it against those without, per preset,
// per sparsity level and over all levels (each activation's mean within-level rank): rank-biserial effect,
// two-sided permutation p, Holm-corrected across the properties of one (preset, outcome, level); plus one ridge
// model on all properties with leave-one-activation-out error, so correlated properties are not counted twice.

import {
  type ActivationProperties,
  BOOLEAN_PROPERTIES,
  type BooleanProperty,
  activationProperties as computeProperties,
} from "../core/activation-properties.js";
import { ACTIVATIONS } from "../core/activations.js";
import { isSparsityPreset, type ReportData, type Series, sparsities } from "./data.js";
import { THRESHOLDS } from "./findings/types.js";
import { guarded, superpositionScore } from "./measures.js";
import { holm, permutationTest, rankBiserial, ridge, ridgeLoo } from "./property-stats.js";
import { finite, mean, meanCI, ranks } from "./stats.js";

const propertyCache = new WeakMap<object, ActivationProperties>();
/** activationProperties, computed once per table entry. */
export function activationProperties(act: Parameters<typeof computeProperties>[0]): ActivationProperties {
  let p = propertyCache.get(act);
  if (!p) {
    p = computeProperties(act);
    propertyCache.set(act, p);
  }
  return p;
}

export type Outcome = "superposition" | "loss";
export const OUTCOMES: Outcome[] = ["superposition", "loss"];
export const RIDGE_LAMBDA = THRESHOLDS.ridgeLambda;
export const PERMUTATION_REPS = THRESHOLDS.permutationReps;

export interface PropertyEffect {
  property: string;
  preset: string;
  outcome: Outcome;
  /** Sparsity of the level, or "all" for the mean within-level rank over levels. */
  level: number | "all";
  nWith: number;
  nWithout: number;
  /** Rank-biserial: > 0 the activations with the property have more superposition / higher loss. */
  effect: number;
  p: number;
  pHolm: number;
  /** For level "all": the effect per seed, mean and 95 % t-interval over seeds. */
  perSeed?: { estimate: number; lo: number; hi: number; n: number };
}

export interface RidgeSummary {
  preset: string;
  outcome: Outcome;
  coefficients: Record<string, number>;
  looRmse: number;
  baselineRmse: number;
  n: number;
}

export interface ActivationPoint {
  preset: string;
  activation: string;
  sparsity: number;
  superposition: number;
  loss: number;
}

export interface PropertyAnalysis {
  properties: Map<string, ActivationProperties>;
  effects: PropertyEffect[];
  ridge: RidgeSummary[];
  points: ActivationPoint[];
}

/** Per activation: the seed-mean outcome at each level ([activation][level]); superposition of trained instances only. */
function outcomeMatrix(series: readonly Series[], outcome: Outcome, seed?: number): number[][] {
  const metric =
    outcome === "superposition"
      ? guarded((x) => superpositionScore(x))
      : (x: Series["cells"][number]["instances"][number]) => (x.loss > 0 ? Math.log10(x.loss) : Number.NaN);
  const S = sparsities(series);
  return series.map((s) =>
    S.map((_, i) => {
      const cells = s.cells.filter((c) => seed === undefined || c.seed === seed);
      return mean(finite(cells.map((c) => (c.instances[i] ? metric(c.instances[i], c, i) : Number.NaN))));
    }),
  );
}

/** Each activation's mean over levels of its rank among the activations at that level (NaN if never ranked). */
function meanRanks(m: number[][]): number[] {
  const n = m.length;
  const sum = new Array<number>(n).fill(0);
  const cnt = new Array<number>(n).fill(0);
  const L = m[0]?.length ?? 0;
  for (let i = 0; i < L; i++) {
    const idx = m.map((_, k) => k).filter((k) => Number.isFinite(m[k][i]));
    if (idx.length < 3) continue;
    const r = ranks(idx.map((k) => m[k][i]));
    idx.forEach((k, j) => {
      sum[k] += r[j] / idx.length;
      cnt[k]++;
    });
  }
  return sum.map((s, k) => (cnt[k] ? s / cnt[k] : Number.NaN));
}

/** A group membership by property value, or by any predicate on the properties. */
export type Grouping = BooleanProperty | ((p: ActivationProperties) => boolean);
const member = (g: Grouping, p: ActivationProperties) => (typeof g === "function" ? g(p) : p[g]);

/** The effect of one grouping on one outcome at level "all", with its per-seed interval. */
export function groupEffect(
  data: ReportData,
  preset: string,
  outcome: Outcome,
  grouping: Grouping,
  seed = 11,
): Omit<PropertyEffect, "pHolm" | "property"> | undefined {
  const series = baseWithProperties(data, preset);
  if (series.length < 4) return undefined;
  const props = series.map((s) => activationProperties(ACTIVATIONS.get(s.activation)!));
  const inGroup = props.map((p) => member(grouping, p));
  const y = meanRanks(outcomeMatrix(series, outcome));
  const ok = y.map((v, k) => [v, inGroup[k]] as const).filter(([v]) => Number.isFinite(v));
  const test = permutationTest(
    ok.map((o) => o[0]),
    ok.map((o) => o[1]),
    { reps: PERMUTATION_REPS, seed },
  );
  const seeds = [...new Set(series.flatMap((s) => s.cells.map((c) => c.seed)))];
  const perSeedValues = seeds.map((sd) => {
    const ys = meanRanks(outcomeMatrix(series, outcome, sd));
    const a = ys.filter((v, k) => inGroup[k] && Number.isFinite(v));
    const b = ys.filter((v, k) => !inGroup[k] && Number.isFinite(v));
    return rankBiserial(a, b);
  });
  const ci = meanCI(perSeedValues);
  return {
    preset,
    outcome,
    level: "all",
    nWith: ok.filter((o) => o[1]).length,
    nWithout: ok.filter((o) => !o[1]).length,
    effect: test.effect,
    p: test.p,
    perSeed: { estimate: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n },
  };
}

/** Base series of a preset whose activation is in the activation table (properties computable). */
function baseWithProperties(data: ReportData, preset: string): Series[] {
  return data
    .seriesOf(preset)
    .filter((s) => s.variant === "" && s.cells.length && ACTIVATIONS.has(s.activation));
}

const cache = new WeakMap<ReportData, PropertyAnalysis>();

/** The whole analysis (cached per store). */
export function analyseProperties(data: ReportData): PropertyAnalysis {
  const hit = cache.get(data);
  if (hit) return hit;
  const properties = new Map<string, ActivationProperties>();
  const effects: PropertyEffect[] = [];
  const ridgeOut: RidgeSummary[] = [];
  const points: ActivationPoint[] = [];
  const presets = data.presets.filter((p) => isSparsityPreset(p, data.seriesOf(p)));
  for (const preset of presets) {
    const series = baseWithProperties(data, preset);
    for (const s of series)
      if (!properties.has(s.activation))
        properties.set(s.activation, activationProperties(ACTIVATIONS.get(s.activation)!));
    if (series.length < 4) continue;
    const props = series.map((s) => properties.get(s.activation)!);
    const S = sparsities(series);
    const mats = {
      superposition: outcomeMatrix(series, "superposition"),
      loss: outcomeMatrix(series, "loss"),
    };
    series.forEach((s, k) => {
      S.forEach((sp, i) => {
        points.push({
          preset,
          activation: s.activation,
          sparsity: sp,
          superposition: mats.superposition[k][i],
          loss: 10 ** mats.loss[k][i],
        });
      });
    });
    for (const outcome of OUTCOMES) {
      const levels: (number | "all")[] = ["all", ...S.map((_, i) => i)];
      for (const level of levels) {
        const y = level === "all" ? meanRanks(mats[outcome]) : mats[outcome].map((r) => r[level]);
        const family: PropertyEffect[] = [];
        BOOLEAN_PROPERTIES.forEach((prop, j) => {
          const ok = y.map((v, k) => [v, props[k][prop]] as const).filter(([v]) => Number.isFinite(v));
          const t = permutationTest(
            ok.map((o) => o[0]),
            ok.map((o) => o[1]),
            { reps: PERMUTATION_REPS, seed: 101 + j },
          );
          if (!Number.isFinite(t.p)) return;
          family.push({
            property: prop,
            preset,
            outcome,
            level: level === "all" ? "all" : S[level],
            nWith: ok.filter((o) => o[1]).length,
            nWithout: ok.filter((o) => !o[1]).length,
            effect: t.effect,
            p: t.p,
            pHolm: Number.NaN,
          });
        });
        const adj = holm(family.map((f) => f.p));
        family.forEach((f, k) => {
          f.pHolm = adj[k];
        });
        if (level === "all")
          for (const f of family) {
            const g = groupEffect(data, preset, outcome, f.property as BooleanProperty);
            if (g?.perSeed) f.perSeed = g.perSeed;
          }
        effects.push(...family);
      }
      const y = meanRanks(mats[outcome]);
      const rows = props.map((p, k) => [p, y[k]] as const).filter(([, v]) => Number.isFinite(v));
      if (rows.length >= 6) {
        const X = rows.map(([p]) => BOOLEAN_PROPERTIES.map((prop) => (p[prop] ? 1 : 0)));
        const yy = rows.map(([, v]) => v);
        const fit = ridge(X, yy, RIDGE_LAMBDA);
        const loo = ridgeLoo(X, yy, RIDGE_LAMBDA);
        ridgeOut.push({
          preset,
          outcome,
          coefficients: Object.fromEntries(BOOLEAN_PROPERTIES.map((prop, j) => [prop, fit.coefficients[j]])),
          looRmse: loo.rmse,
          baselineRmse: loo.baselineRmse,
          n: rows.length,
        });
      }
    }
  }
  const out = { properties, effects, ridge: ridgeOut, points };
  cache.set(data, out);
  return out;
}
