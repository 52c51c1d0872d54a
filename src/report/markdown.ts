// report.md: the same content as the HTML page, with the figures linked from figures/.

import { FIGURE_GROUPS, type ReportContent, VERDICT_LABEL } from "./content.js";
import { shortClaim } from "./html.js";
import { toMarkdown } from "./tables.js";

export function renderMarkdown(c: ReportContent): string {
  const out: string[] = [];
  out.push(`# ${c.title}`, "", `Generated ${c.generatedAt} from \`${c.dir}\` by \`tms report\`.`, "");
  out.push("## Contents", "", "1. [Findings](#findings)", "2. [Store](#store)", "3. [Tables](#tables)");
  out.push("4. [Figures](#figures)", "");

  out.push("## Findings", "");
  c.findings.forEach((f, k) => {
    out.push(`### ${k + 1}. ${shortClaim(f.claim)} — **${VERDICT_LABEL[f.verdict]}**`, "");
    out.push(`> ${f.claim}`, "", f.summary, "");
    if (f.reason) out.push(`*Missing data:* ${f.reason}`, "");
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
