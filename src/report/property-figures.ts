// Figures of the property analysis: activations placed by superposition and loss at one sparsity, marked by
// their properties; and the property × outcome effect-size heat map.

import { BOOLEAN_PROPERTIES, PROPERTY_LABELS } from "../core/activation-properties.js";
import { ACTIVATIONS } from "../core/activations.js";
import { activationName, type ReportData, sparsityLabel } from "./data.js";
import { type FigureDef, type FigurePlan, logField, OKABE_ITO, STYLE, type VlSpec } from "./figures.js";
import { num } from "./format.js";
import { activationProperties, analyseProperties } from "./property-analysis.js";

const spec = (title: string, subtitle: string, body: VlSpec): VlSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title: { text: title, subtitle },
  config: STYLE,
  ...body,
});

/** The sparsity shown in the scatter: per preset, the middle level (superposition has developed, not saturated). */
export function chosenSparsity(sparsities: readonly number[]): number | undefined {
  const s = [...new Set(sparsities)].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : undefined;
}

export function propertyScatterFigure(data: ReportData): FigureDef | undefined {
  const { points } = analyseProperties(data);
  const presets = [...new Set(points.map((p) => p.preset))];
  const rows: VlSpec[] = [];
  for (const preset of presets) {
    const pts = points.filter((p) => p.preset === preset);
    const S = chosenSparsity(pts.map((p) => p.sparsity));
    for (const p of pts.filter((q) => q.sparsity === S)) {
      const act = ACTIVATIONS.get(p.activation);
      if (!act || !Number.isFinite(p.superposition) || !(p.loss > 0)) continue;
      const pr = activationProperties(act);
      rows.push({
        panel: `${preset}, ${sparsityLabel(p.sparsity)}`,
        activation: activationName(p.activation),
        sup: p.superposition,
        loss: p.loss,
        group: pr.nonNegative && !pr.odd ? "non-negative, asymmetrical" : "other",
        hard: pr.piecewiseLinear ? "piecewise linear" : "not piecewise linear",
      });
    }
  }
  if (!rows.length) return undefined;
  const title = "Activations by superposition and loss, marked by property";
  const enc = {
    x: { field: "sup", type: "quantitative", title: "superposition" },
    y: logField(rows, "loss"),
  };
  return {
    id: "property-scatter",
    group: "across",
    title,
    caption:
      "One point per activation (base variants, seed means) at the middle sparsity level of each preset: " +
      "superposition (instances that trained) against evaluation loss (log). Colour: non-negative and not odd " +
      "(the write-up's 'non-negative, asymmetrical'); shape: piecewise linear ('hard'). Properties are computed " +
      "from the definitions (Activation properties table).",
    key: true,
    spec: spec(
      title,
      "Colour: non-negative & asymmetrical; shape: piecewise linear. Seed means, trained instances.",
      {
        data: { values: rows },
        facet: { field: "panel", type: "nominal", title: null },
        columns: 2,
        resolve: { scale: { x: "independent", y: "independent" } },
        spec: {
          width: 330,
          height: 260,
          layer: [
            {
              mark: { type: "point", filled: true, size: 70, opacity: 0.85 },
              encoding: {
                ...enc,
                color: {
                  field: "group",
                  type: "nominal",
                  title: null,
                  scale: { range: [OKABE_ITO[4], OKABE_ITO[3]] },
                },
                shape: { field: "hard", type: "nominal", title: null },
                tooltip: [
                  { field: "activation" },
                  { field: "sup", format: ".3f" },
                  { field: "loss", format: ".3e" },
                ],
              },
            },
            {
              mark: { type: "text", align: "left", dx: 6, fontSize: 8, color: "#333" },
              encoding: { ...enc, text: { field: "activation" } },
            },
          ],
        },
      },
    ),
  };
}

export function propertyHeatmapFigure(data: ReportData): FigureDef | undefined {
  const effects = analyseProperties(data).effects.filter((e) => e.level === "all");
  if (!effects.length) return undefined;
  const rows = effects.map((e) => ({
    property: PROPERTY_LABELS[e.property as keyof typeof PROPERTY_LABELS] ?? e.property,
    column: `${e.preset} · ${e.outcome}`,
    effect: e.effect,
    label: `${num(e.effect, 2)}${e.pHolm < 0.05 ? "*" : ""}`,
    p: e.pHolm,
  }));
  const title = "Property × outcome: rank-biserial effect sizes";
  return {
    id: "property-effects-heatmap",
    group: "across",
    title,
    caption:
      "For each property (rows) and preset × outcome (columns): the rank-biserial correlation between having the " +
      "property and the activation's mean rank of superposition or loss over sparsity levels. Orange: the " +
      "activations with the property have more superposition (or higher loss); blue: less. * Holm-corrected " +
      "permutation p < 0.05.",
    key: true,
    spec: spec(title, "Orange: more superposition / higher loss with the property; * Holm p < 0.05.", {
      data: { values: rows },
      width: { step: 90 },
      height: { step: 26 },
      encoding: {
        y: {
          field: "property",
          type: "nominal",
          title: null,
          sort: BOOLEAN_PROPERTIES.map((k) => PROPERTY_LABELS[k]),
        },
        x: { field: "column", type: "nominal", title: null, axis: { labelAngle: 0 } },
      },
      layer: [
        {
          mark: "rect",
          encoding: {
            color: {
              field: "effect",
              type: "quantitative",
              title: "rank-biserial",
              scale: { scheme: "blueorange", domain: [-1, 1] },
            },
            tooltip: [
              { field: "property" },
              { field: "column" },
              { field: "effect", format: ".2f" },
              { field: "p", format: ".3f" },
            ],
          },
        },
        { mark: { type: "text", fontSize: 10 }, encoding: { text: { field: "label" } } },
      ],
    }),
  };
}

/** The figure plans of this file (registered after the others). */
export function propertyFigurePlans(data: ReportData): FigurePlan[] {
  if (!analyseProperties(data).points.length) return [];
  return [
    { id: "property-scatter", group: "across", build: () => propertyScatterFigure(data) },
    { id: "property-effects-heatmap", group: "across", build: () => propertyHeatmapFigure(data) },
  ];
}
