// report.md: the same content as the HTML page, with the figures linked from figures/.

import type { ReportContent } from "./content.js";
import { FIGURE_GROUPS, methodSection, oneSentence, resolveLinks, VERDICT_LABEL } from "./content.js";
import { shortClaim } from "./html.js";
import { toMarkdown } from "./tables.js";

export function renderMarkdown(c: ReportContent): string {
  const out: string[] = [];
  out.push(`# ${c.title}`, "", `Generated ${c.generatedAt} from \`${c.dir}\` by \`tms report\`.`, "");
  out.push("## What we found", "");
  out.push(
    "Every claim of the seed write-up, its verdict on this store and the criterion that decided it.",
    "",
    "| Claim | Verdict | In one sentence |",
    "| --- | --- | --- |",
  );
  for (const f of c.findings)
    out.push(`| \`${f.id}\` | **${VERDICT_LABEL[f.verdict]}** | ${oneSentence(f).replace(/\|/g, "\\|")} |`);
  out.push("", "## Contents", "", "1. [Method](#method-measures-and-thresholds)", "2. [Findings](#findings)");
  out.push("3. [Store](#store)", "4. [Tables](#tables)", "5. [Figures](#figures)", "");

  const m = methodSection();
  out.push("## Method: measures and thresholds", "");
  for (const x of m.measures) out.push(`- **${x.name}**: ${x.definition}`);
  out.push("", `Thresholds: ${m.thresholds.map(([k, v]) => `\`${k}\` = ${v}`).join(" · ")}`, "");

  out.push("## Findings", "");
  c.findings.forEach((f, k) => {
    out.push(`### ${k + 1}. ${shortClaim(f.claim)} — **${VERDICT_LABEL[f.verdict]}**`, "");
    out.push(`> ${f.claim}`, "", f.summary, "");
    if (f.reason) out.push(`*Why inconclusive:* ${f.reason}`, "");
    const links = resolveLinks(c, f);
    if (links.length)
      out.push(
        `Shown in: ${links
          .map((l) =>
            l.kind === "table"
              ? `[${l.title}](tables/${l.id}.csv)`
              : c.figureFiles
                ? `[${l.title}](figures/${l.id}.${c.figureFiles})`
                : l.title,
          )
          .join(" · ")}`,
        "",
      );
    out.push(`*Method.* ${f.method}`, "");
    for (const x of f.evidence) out.push(`- ${x}`);
    out.push("");
  });

  out.push("## Store", "", `\`${c.dir}\``, "");
  for (const x of c.overview) out.push(`- ${x}`);
  out.push("");
  if (c.gaps.length) {
    out.push("### Gaps", "");
    for (const x of c.gaps) out.push(`- ${x}`);
    out.push("");
  }

  out.push("## Tables", "");
  for (const t of c.tables) {
    out.push(
      `### ${t.title}`,
      "",
      t.caption,
      "",
      toMarkdown(t),
      "",
      `CSV: [tables/${t.id}.csv](tables/${t.id}.csv)`,
      "",
    );
  }

  out.push("## Figures", "");
  if (!c.figureFiles)
    out.push("Figure files were not requested (--format without svg or png); see report.html.", "");
  for (const g of FIGURE_GROUPS) {
    const figs = c.figures.filter((f) => f.def.group === g.group);
    if (!figs.length) continue;
    out.push(`### ${g.title}`, "");
    for (const f of figs) {
      out.push(`#### ${f.def.title}`, "");
      if (c.figureFiles) out.push(`![${f.def.title}](figures/${f.def.id}.${c.figureFiles})`, "");
      out.push(f.def.caption, "");
    }
  }
  return `${out.join("\n")}\n`;
}
