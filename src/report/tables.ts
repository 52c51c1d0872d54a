// The comparison tables, as data: a display grid (with best/worst marks) and a machine-readable CSV view
// whose numbers are the same strings the display shows. Writers for CSV, Markdown and HTML are here;
// the Word writer is in docx.ts.

import type { InstanceSummary } from "../experiments/run.js";
import type { ReportData, Series } from "./data.js";
import {
  isSparsityPreset,
  perInstance,
  sparsities,
  sparsityLabel,
  superpositionScore,
  trivialLoss,
} from "./data.js";
import { escapeHtml, meanPm, num } from "./format.js";
import { importanceNormRho } from "./measures.js";
import { finite, geometricMean, mean, meanCI, ranks } from "./stats.js";

export interface TableCell {
  text: string;
  mark?: "best" | "worst";
}

export interface ReportTable {
  /** File stem: tables/<id>.csv */
  id: string;
  title: string;
  caption: string;
  header: string[];
  rows: TableCell[][];
  csvHeader: string[];
  csvRows: string[][];
}

type Metric = (inst: InstanceSummary, cell: Series["cells"][number], i: number) => number;

export const METRICS: Record<string, { label: string; metric: Metric }> = {
  loss: { label: "evaluation loss", metric: (x) => x.loss },
  superposition: { label: "superposition", metric: (x) => superpositionScore(x) },
  represented: { label: "features represented", metric: (x) => x.featuresRepresented },
};

export { importanceNormRho };

const cell = (text: string, mark?: TableCell["mark"]): TableCell => (mark ? { text, mark } : { text });

function divergedMark(s: Series, i: number): string {
  return s.cells.some((c) => c.instances[i]?.diverged) ? " †" : "";
}

/** activation × sparsity table of mean ± 95 % CI over seeds; best/worst marked when `better` is given. */
export function metricTable(
  data: ReportData,
  preset: string,
  kind: keyof typeof METRICS,
  better: "low" | "high" | null,
): ReportTable | undefined {
  const series = data.seriesOf(preset);
  if (!isSparsityPreset(preset, series)) return undefined;
  const S = sparsities(series);
  const { label, metric } = METRICS[kind];
  const stats = series.map((s) => perInstance(s, metric).map((v) => meanCI(v)));
  const marks: (TableCell["mark"] | undefined)[][] = series.map(() => S.map(() => undefined));
  if (better) {
    for (let i = 0; i < S.length; i++) {
      const vals = stats.map((st) => st[i]?.mean ?? Number.NaN);
      const ok = vals.map((v, k) => [v, k] as const).filter(([v]) => Number.isFinite(v));
      if (ok.length < 2) continue;
      const sorted = [...ok].sort((a, b) => a[0] - b[0]);
      const [lo, hi] = [sorted[0], sorted[sorted.length - 1]];
      if (lo[0] === hi[0]) continue;
      marks[(better === "low" ? lo : hi)[1]][i] = "best";
      marks[(better === "low" ? hi : lo)[1]][i] = "worst";
    }
  }
  const header = ["Activation", ...S.map(sparsityLabel)];
  const rows = series.map((s, k) => [
    cell(s.label),
    ...S.map((_, i) => {
      const st = stats[k][i];
      if (!st || st.n === 0) return cell("—");
      const extra = kind === "loss" ? divergedMark(s, i) : "";
      return cell(meanPm(st.mean, st.half) + extra, marks[k][i]);
    }),
  ]);
  const csvHeader = [
    "preset",
    "activation",
    "variant",
    "seeds",
    ...S.flatMap((x) => [`${sparsityLabel(x)} mean`, `${sparsityLabel(x)} ci95`]),
  ];
  const csvRows = series.map((s, k) => [
    preset,
    s.activation,
    s.variant,
    String(s.cells.length),
    ...S.flatMap((_, i) => {
      const st = stats[k][i];
      return st && st.n > 0 ? [num(st.mean), Number.isFinite(st.half) ? num(st.half, 2) : ""] : ["", ""];
    }),
  ]);
  const what =
    kind === "superposition"
      ? "superposition (the notebook's per-feature polysemanticity, averaged with weights ‖W_f‖)"
      : kind === "represented"
        ? "number of features with ‖W_f‖ > 0.5"
        : "evaluation loss (importance-weighted MSE on 8 192 fresh samples)";
  return {
    id: `${kind}-${preset}`,
    title: `${capital(label)} by activation and sparsity — ${preset}`,
    caption:
      `Mean ± 95 % t-interval over seeds of the ${what}.` +
      (better
        ? ` Best per column: ${better === "low" ? "lowest" : "highest"} mean (marked ▲), worst marked ▽.`
        : "") +
      (kind === "loss" ? " † at least one seed diverged at this sparsity." : ""),
    header,
    rows,
    csvHeader,
    csvRows,
  };
}

const capital = (s: string) => s[0].toUpperCase() + s.slice(1);

/** Ranking of the activations of one preset by their loss rank averaged over sparsity levels. */
export function rankingTable(data: ReportData, preset: string): ReportTable | undefined {
  const series = data.seriesOf(preset).filter((s) => s.cells.length > 0);
  if (!isSparsityPreset(preset, series) || series.length < 2) return undefined;
  const S = sparsities(series);
  const loss = series.map((s) => perInstance(s, (x) => x.loss).map((v) => mean(finite(v))));
  const rankSum = series.map(() => 0);
  const rankCount = series.map(() => 0);
  for (let i = 0; i < S.length; i++) {
    const idx = series.map((_, k) => k).filter((k) => Number.isFinite(loss[k][i]));
    const r = ranks(idx.map((k) => loss[k][i]));
    idx.forEach((k, j) => {
      rankSum[k] += r[j];
      rankCount[k]++;
    });
  }
  const entries = series.map((s, k) => {
    const all = s.cells.flatMap((c) => c.instances);
    return {
      s,
      meanRank: rankCount[k] ? rankSum[k] / rankCount[k] : Number.NaN,
      geoLoss: geometricMean(loss[k]),
      sup: mean(all.map(superpositionScore)),
      rep: mean(all.map((x) => x.featuresRepresented)),
      vsTrivial: geometricMean(s.cells.flatMap((c) => c.instances.map((x, i) => x.loss / trivialLoss(c, i)))),
      diverged: all.filter((x) => x.diverged).length,
      total: all.length,
    };
  });
  entries.sort((a, b) => (a.meanRank || Infinity) - (b.meanRank || Infinity));
  const header = [
    "Rank",
    "Activation",
    "Mean loss rank",
    "Geo-mean loss",
    "Loss / trivial",
    "Superposition",
    "Features represented",
    "Diverged instances",
  ];
  const rows = entries.map((e, k) => {
    const mark = k === 0 ? "best" : k === entries.length - 1 ? "worst" : undefined;
    return [
      cell(String(k + 1), mark),
      cell(e.s.label, mark),
      cell(num(e.meanRank), mark),
      cell(num(e.geoLoss)),
      cell(num(e.vsTrivial)),
      cell(num(e.sup)),
      cell(num(e.rep)),
      cell(`${e.diverged}/${e.total}`),
    ];
  });
  return {
    id: `ranking-${preset}`,
    title: `Ranking of activations by loss — ${preset}`,
    caption:
      `Activations ordered by their loss rank (1 = lowest mean loss over seeds) averaged over the ${S.length} ` +
      "sparsity levels. Geo-mean loss: geometric mean over levels of the seed-mean loss; loss / trivial: geometric " +
      "mean of loss divided by the loss of predicting 0 (1 = learned nothing); superposition and features " +
      "represented are means over all instances and seeds.",
    header,
    rows,
    csvHeader: [
      "preset",
      "rank",
      "activation",
      "variant",
      "mean_loss_rank",
      "geomean_loss",
      "loss_over_trivial",
      "superposition",
      "features_represented",
      "diverged",
      "instances",
    ],
    csvRows: entries.map((e, k) => [
      preset,
      String(k + 1),
      e.s.activation,
      e.s.variant,
      num(e.meanRank),
      num(e.geoLoss),
      num(e.vsTrivial),
      num(e.sup),
      num(e.rep),
      String(e.diverged),
      String(e.total),
    ]),
  };
}

/** Every diverged instance: where and when its gradient turned non-finite. */
export function divergenceTable(data: ReportData): ReportTable {
  const rows: TableCell[][] = [];
  const csvRows: string[][] = [];
  for (const s of data.series) {
    for (const c of s.cells) {
      c.instances.forEach((x, i) => {
        if (!x.diverged) return;
        const step = x.divergedAtStep === null ? "NA" : String(x.divergedAtStep);
        rows.push([
          cell(s.preset),
          cell(s.label),
          cell(String(c.seed)),
          cell(String(i)),
          cell(num(x.sparsity)),
          cell(step),
          cell(num(x.loss)),
        ]);
        csvRows.push([
          s.preset,
          s.activation,
          s.variant,
          String(c.seed),
          String(i),
          num(x.sparsity),
          step,
          num(x.loss),
        ]);
      });
    }
  }
  return {
    id: "divergence",
    title: "Diverged instances",
    caption:
      rows.length === 0
        ? "No instance diverged (no non-finite loss or gradient) in this store."
        : `${rows.length} instances diverged: their loss or gradient became non-finite at the given step, after ` +
          "which their weights were frozen. The loss column is the evaluation loss of the frozen weights.",
    header: ["Preset", "Activation", "Seed", "Instance", "Sparsity", "Step", "Loss"],
    rows,
    csvHeader: ["preset", "activation", "variant", "seed", "instance", "sparsity", "step", "loss"],
    csvRows,
  };
}

/** Pairs of variants of the same activation (e.g. softmax over features vs batch, f32 vs f64). */
export function variantComparisonTable(
  data: ReportData,
  kind: "softmax-dim" | "dtype",
): ReportTable | undefined {
  const pairs: [string, string][] =
    kind === "softmax-dim"
      ? [
          ["", "softmax-batch"],
          ["f64", "f64+softmax-batch"],
        ]
      : [
          ["", "f64"],
          ["softmax-batch", "f64+softmax-batch"],
        ];
  const rows: TableCell[][] = [];
  const csvRows: string[][] = [];
  for (const preset of data.presets) {
    const series = data.seriesOf(preset);
    if (!isSparsityPreset(preset, series)) continue;
    const S = sparsities(series);
    for (const [va, vb] of pairs) {
      for (const a of series.filter((s) => s.variant === va)) {
        const b = series.find((s) => s.activation === a.activation && s.variant === vb);
        if (!b) continue;
        for (const s of [a, b]) {
          const loss = perInstance(s, (x) => x.loss).map((v) => mean(finite(v)));
          const all = s.cells.flatMap((c) => c.instances);
          const rho = s.cells.flatMap((c) => c.instances.map((x, i) => importanceNormRho(x, c, i)));
          const setting =
            kind === "softmax-dim"
              ? s.variant.includes("softmax-batch")
                ? "batch"
                : "features"
              : s.variant.includes("f64")
                ? "f64"
                : "f32";
          const values = [
            num(geometricMean(loss)),
            num(loss[0]),
            num(loss[S.length - 1]),
            num(mean(all.map(superpositionScore))),
            num(mean(all.map((x) => x.featuresRepresented))),
            num(mean(finite(rho))),
            String(all.filter((x) => x.diverged).length),
          ];
          rows.push([
            cell(preset),
            cell(a.label.replace(/ \(.*\)$/, "")),
            cell(setting),
            ...values.map((v) => cell(v)),
          ]);
          csvRows.push([preset, s.activation, s.variant, setting, String(s.cells.length), ...values]);
        }
      }
    }
  }
  if (rows.length === 0) return undefined;
  const what = kind === "softmax-dim" ? "Softmax dimension" : "Precision";
  return {
    id: kind === "softmax-dim" ? "softmax-dim" : "dtype",
    title:
      kind === "softmax-dim"
        ? "Softmax family: normalised over features vs over the batch"
        : "float32 vs float64 reruns",
    caption:
      (kind === "softmax-dim"
        ? "The softmax family normalised over each sample's features (--softmax-dim features) or over the batch " +
          "dimension (--softmax-dim batch, what PyTorch's implicit dim picks for a 3-D input). "
        : "The same cells trained in float32 and in float64 (same seeds). ") +
      "Loss: geometric mean over sparsity levels of the seed-mean loss, and the seed-mean loss at the lowest and " +
      "highest sparsity; importance ρ: Spearman correlation of importance and ‖W_f‖ per instance, averaged " +
      "(negative = less important features get larger weights).",
    header: [
      "Preset",
      "Activation",
      what,
      "Geo-mean loss",
      "Loss, lowest S",
      "Loss, highest S",
      "Superposition",
      "Features represented",
      "Importance ρ",
      "Diverged",
    ],
    rows,
    csvHeader: [
      "preset",
      "activation",
      "variant",
      kind === "softmax-dim" ? "softmax_dim" : "dtype",
      "seeds",
      "geomean_loss",
      "loss_lowest_sparsity",
      "loss_highest_sparsity",
      "superposition",
      "features_represented",
      "importance_norm_rho",
      "diverged",
    ],
    csvRows,
  };
}

/** All tables of a report, in document order. */
export function buildTables(data: ReportData): ReportTable[] {
  const out: ReportTable[] = [];
  const sparsityPresets = data.presets.filter((p) => isSparsityPreset(p, data.seriesOf(p)));
  for (const p of sparsityPresets) {
    for (const t of [
      metricTable(data, p, "loss", "low"),
      metricTable(data, p, "superposition", null),
      metricTable(data, p, "represented", null),
      rankingTable(data, p),
    ])
      if (t) out.push(t);
  }
  out.push(divergenceTable(data));
  for (const t of [variantComparisonTable(data, "softmax-dim"), variantComparisonTable(data, "dtype")])
    if (t) out.push(t);
  return out;
}

// ---- writers -----------------------------------------------------------------------------------------

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(t: ReportTable): string {
  return `${[t.csvHeader, ...t.csvRows].map((r) => r.map(csvField).join(",")).join("\n")}\n`;
}

const MARK_SYMBOL = { best: " ▲", worst: " ▽" } as const;

export function toMarkdown(t: ReportTable): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const fmt = (c: TableCell) =>
    c.mark === "best"
      ? `**${esc(c.text)}**${MARK_SYMBOL.best}`
      : esc(c.text) + (c.mark ? MARK_SYMBOL[c.mark] : "");
  const lines = [
    `| ${t.header.map(esc).join(" | ")} |`,
    `|${t.header.map((_, k) => (k === 0 ? " --- " : " ---: ")).join("|")}|`,
    ...t.rows.map((r) => `| ${r.map(fmt).join(" | ")} |`),
  ];
  if (t.rows.length === 0) lines.push(`| ${t.header.map(() => "—").join(" | ")} |`);
  return lines.join("\n");
}

export function toHtmlTable(t: ReportTable): string {
  const head = `<tr>${t.header.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("")}</tr>`;
  const body = t.rows
    .map(
      (r) =>
        `<tr>${r
          .map((c, k) => {
            const cls = c.mark ? ` class="${c.mark}"` : "";
            const text =
              escapeHtml(c.text) + (c.mark ? `<span class="mk">${MARK_SYMBOL[c.mark]}</span>` : "");
            return k === 0 ? `<th scope="row"${cls}>${text}</th>` : `<td${cls}>${text}</td>`;
          })
          .join("")}</tr>`,
    )
    .join("\n");
  return `<table id="table-${t.id}"><thead>${head}</thead><tbody>\n${body || `<tr><td colspan="${t.header.length}">none</td></tr>`}\n</tbody></table>`;
}
