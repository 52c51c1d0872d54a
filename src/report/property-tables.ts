// Tables of the property analysis and of the training guard: the activation property table (computed from
// the definitions), the property × outcome effects, the ridge model, and per instance whether it trained.

import { BOOLEAN_PROPERTIES, PROPERTY_LABELS } from "../core/activation-properties.js";
import { ACTIVATION_IDS, ACTIVATIONS, type Activation } from "../core/activations.js";
import { activationName, isSparsityPreset, type ReportData, sparsities, sparsityLabel } from "./data.js";
import { num, pValue } from "./format.js";
import { TRAINED_MAX_LOSS_SHARE, TRAINED_MIN_WEIGHT_CHANGE, trainingCheck } from "./measures.js";
import { activationProperties, analyseProperties } from "./property-analysis.js";
import { seriesActivation } from "./series-activation.js";
import { finite, median } from "./stats.js";
import type { ReportTable, TableCell } from "./tables.js";

const cell = (text: string, mark?: TableCell["mark"]): TableCell => (mark ? { text, mark } : { text });
const short = (v: number) => (Number.isFinite(v) ? num(v) : v > 0 ? "inf" : "-inf");

/** The 27 activations (and any other in the store that the table knows) with their computed properties. */
export function activationPropertiesTable(data: ReportData): ReportTable {
  // Built-ins by the table, formula activations rebuilt from the definition their result.json records.
  const acts = new Map<string, Activation>(ACTIVATION_IDS.map((id) => [id, ACTIVATIONS.get(id)!]));
  for (const s of data.series) {
    const act = acts.has(s.activation) ? undefined : seriesActivation(s);
    if (act) acts.set(s.activation, act);
  }
  const props = [...acts.values()].map((act) => activationProperties(act));
  const extra = ["f(0)", "f′(0)", "min f(x<0)", "saturates"];
  const header = ["Activation", ...BOOLEAN_PROPERTIES.map((k) => PROPERTY_LABELS[k]), ...extra];
  return {
    id: "activation-properties",
    title: "Activation properties, computed from the definitions",
    caption:
      "Each property is computed from the activation table's forward function and derivative on a grid over " +
      "[−8, 8] (step 1/512) plus far points (±20, ±10³, ±10⁶), not typed by hand: non-negative output, bounded " +
      "below/above, monotonic, odd (f(−x) = −f(x)), smooth (no jump in f or f′: C¹), piecewise linear (f′ piecewise " +
      "constant: the hard functions), f(0), f′(0), the infimum of f on x < 0 (how far negative inputs get through) " +
      "and which sides saturate (|f′| → 0). Vector activations (softmax family) are probed along one coordinate " +
      "of a 5-vector whose other entries are 0. Also: tms activations --properties [--json].",
    header,
    rows: props.map((p) => [
      cell(activationName(p.id)),
      ...BOOLEAN_PROPERTIES.map((k) => cell(p[k] ? "yes" : "—")),
      cell(short(p.f0)),
      cell(short(p.fPrime0)),
      cell(short(p.minNegative)),
      cell(p.saturation),
    ]),
    csvHeader: [
      "activation",
      "kind",
      ...BOOLEAN_PROPERTIES,
      "f0",
      "f_prime_0",
      "min_f_negative",
      "saturation",
    ],
    csvRows: props.map((p) => [
      p.id,
      p.kind,
      ...BOOLEAN_PROPERTIES.map((k) => String(p[k])),
      short(p.f0),
      short(p.fPrime0),
      short(p.minNegative),
      p.saturation,
    ]),
  };
}

/** Property × (preset, outcome) over all levels: rank-biserial, permutation p, Holm p, per-seed interval. */
export function propertyEffectsTable(data: ReportData): ReportTable | undefined {
  const a = analyseProperties(data);
  const rows = a.effects.filter((e) => e.level === "all");
  if (!rows.length) return undefined;
  const ridge = a.ridge
    .map(
      (r) =>
        `${r.preset}/${r.outcome}: leave-one-activation-out RMSE ${num(r.looRmse, 2)} vs ${num(r.baselineRmse, 2)} ` +
        `for the mean alone (n = ${r.n})`,
    )
    .join("; ");
  return {
    id: "property-effects",
    title: "Which properties go with more superposition and with lower loss",
    caption:
      "For each property, the activations with it against those without, per preset. Outcome per activation: its " +
      "rank (0–1) among the activations at each sparsity level, averaged over levels, of superposition (instances " +
      "that trained) and of loss. Effect: rank-biserial correlation (> 0: the activations with the property rank " +
      "higher: more superposition, or higher loss); p: two-sided permutation test (4 000 relabellings, exact when " +
      "fewer); Holm: corrected across the properties of one preset and outcome; per seed: the effect computed per " +
      `seed, mean and 95 % t-interval. Ridge on all properties (λ = 1): ${ridge || "not fitted"}. Per-level effects ` +
      "follow in the next table.",
    header: ["Property", "Preset", "Outcome", "With / without", "Rank-biserial", "p", "Holm p", "Per seed"],
    rows: rows.map((e) => {
      const mark = e.pHolm < 0.05 ? "best" : undefined;
      return [
        cell(PROPERTY_LABELS[e.property as keyof typeof PROPERTY_LABELS] ?? e.property),
        cell(e.preset),
        cell(e.outcome),
        cell(`${e.nWith} / ${e.nWithout}`),
        cell(num(e.effect, 2), mark),
        cell(pValue(e.p)),
        cell(pValue(e.pHolm), mark),
        cell(
          e.perSeed && Number.isFinite(e.perSeed.lo)
            ? `${num(e.perSeed.estimate, 2)} [${num(e.perSeed.lo, 2)}, ${num(e.perSeed.hi, 2)}]`
            : "—",
        ),
      ];
    }),
    csvHeader: [
      "property",
      "preset",
      "outcome",
      "n_with",
      "n_without",
      "rank_biserial",
      "p",
      "p_holm",
      "per_seed_mean",
      "per_seed_lo",
      "per_seed_hi",
    ],
    csvRows: rows.map((e) => {
      const ps = e.perSeed && Number.isFinite(e.perSeed.lo) ? e.perSeed : undefined;
      return [
        e.property,
        e.preset,
        e.outcome,
        String(e.nWith),
        String(e.nWithout),
        num(e.effect, 2),
        pValue(e.p),
        pValue(e.pHolm),
        ps ? num(ps.estimate, 2) : "",
        ps ? num(ps.lo, 2) : "",
        ps ? num(ps.hi, 2) : "",
      ];
    }),
  };
}

/** The same effects at each sparsity level: property × preset × outcome rows, one column per level. */
export function propertyEffectsByLevelTable(data: ReportData): ReportTable | undefined {
  const effects = analyseProperties(data).effects.filter((e) => e.level !== "all");
  if (!effects.length) return undefined;
  const levels = [...new Set(effects.map((e) => e.level as number))].sort((x, y) => x - y);
  const keys = [...new Set(effects.map((e) => `${e.property}|${e.preset}|${e.outcome}`))];
  const text = (prop: string, preset: string, outcome: string, S: number) => {
    const e = effects.find(
      (x) => x.property === prop && x.preset === preset && x.outcome === outcome && x.level === S,
    );
    return e ? `${num(e.effect, 2)}${e.pHolm < 0.05 ? "*" : ""}` : "";
  };
  const grid = keys.map((k) => {
    const [prop, preset, outcome] = k.split("|");
    return { prop, preset, outcome, values: levels.map((S) => text(prop, preset, outcome, S)) };
  });
  return {
    id: "property-effects-by-level",
    title: "Property effects at each sparsity level",
    caption:
      "Rank-biserial correlation of having the property with the seed-mean outcome at each sparsity level (levels " +
      "a preset does not have are empty); * Holm-corrected permutation p < 0.05 (across the properties of one " +
      "preset, outcome and level).",
    header: ["Property", "Preset", "Outcome", ...levels.map(sparsityLabel)],
    rows: grid.map((g) => [
      cell(PROPERTY_LABELS[g.prop as keyof typeof PROPERTY_LABELS] ?? g.prop),
      cell(g.preset),
      cell(g.outcome),
      ...g.values.map((v) => cell(v || "—", v.endsWith("*") ? "best" : undefined)),
    ]),
    csvHeader: ["property", "preset", "outcome", ...levels.map(sparsityLabel)],
    csvRows: grid.map((g) => [g.prop, g.preset, g.outcome, ...g.values]),
  };
}

/** Per activation and sparsity: how many seeds trained, and the median weight change from the init. */
export function trainingTable(data: ReportData, preset: string): ReportTable | undefined {
  const series = data.seriesOf(preset).filter((s) => s.cells.length);
  if (!isSparsityPreset(preset, series)) return undefined;
  const S = sparsities(series);
  const csvRows: string[][] = [];
  const rows = series.map((s) => [
    cell(s.label),
    ...S.map((_, i) => {
      const checks = s.cells.filter((c) => c.instances[i]).map((c) => trainingCheck(c.instances[i], c, i));
      const ok = checks.filter((c) => c.status === "trained").length;
      const unknown = checks.filter((c) => c.status === "unknown").length;
      const moved = median(finite(checks.map((c) => c.weightChange ?? Number.NaN)));
      const ratio = median(finite(checks.map((c) => c.lossOverTrivial)));
      csvRows.push([
        preset,
        s.activation,
        s.variant,
        sparsityLabel(S[i]),
        String(checks.length),
        String(ok),
        String(unknown),
        Number.isFinite(moved) ? num(moved) : "unknown",
        num(ratio),
        checks
          .map((c) => c.why)
          .filter(Boolean)
          .join("; "),
      ]);
      const untrained = checks.length - ok - unknown;
      const text = `${ok + unknown}/${checks.length} · ${Number.isFinite(moved) ? num(moved) : "?"} · ${num(ratio)}`;
      return cell(text, untrained > 0 ? "worst" : undefined);
    }),
  ]);
  return {
    id: `training-${preset}`,
    title: `Did each instance train? — ${preset}`,
    caption:
      "Per activation and sparsity: seeds whose instance trained / seeds · the median relative distance of W " +
      `from its initialisation ‖W − W₀‖_F/‖W₀‖_F ("?" for stores written before it was recorded) · the median loss ` +
      "over the all-zero predictor's (1 = learned nothing). An instance did " +
      `not train (cell marked ▽) if it diverged, if its loss is ≥ ${TRAINED_MAX_LOSS_SHARE} × the all-zero ` +
      `predictor's, or if its weights moved less than ${TRAINED_MIN_WEIGHT_CHANGE}; its superposition is left out ` +
      "of every finding (its W is not learned structure).",
    header: ["Activation", ...S.map(sparsityLabel)],
    rows,
    csvHeader: [
      "preset",
      "activation",
      "variant",
      "sparsity",
      "seeds",
      "trained",
      "unknown",
      "median_weight_change",
      "median_loss_over_trivial",
      "why_not_trained",
    ],
    csvRows,
  };
}

/** The tables of this file, in document order (after the comparison tables). */
export function propertyTables(data: ReportData): ReportTable[] {
  const presets = data.presets.filter((p) => isSparsityPreset(p, data.seriesOf(p)));
  return [
    ...presets.map((p) => trainingTable(data, p)),
    activationPropertiesTable(data),
    propertyEffectsTable(data),
    propertyEffectsByLevelTable(data),
  ].filter((t): t is ReportTable => Boolean(t));
}
