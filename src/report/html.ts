// report.html: one self-contained page (inline CSS and SVG, no scripts, nothing fetched), findings first.

import type { ReportContent } from "./content.js";
import { FIGURE_GROUPS, methodSection, oneSentence, resolveLinks, VERDICT_LABEL } from "./content.js";
import { escapeHtml as e } from "./format.js";
import { toHtmlTable } from "./tables.js";

const CSS = `
:root { --fg: #1b1b1b; --muted: #555; --line: #d6d6d6; --best: #cfe2f3; --worst: #fce4d6; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); margin: 0;
  line-height: 1.45; font-size: 15px; }
main { max-width: 1200px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.7rem; margin: 0.2rem 0 0.4rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; margin-top: 2.5rem; }
h3 { font-size: 1.1rem; margin: 1.6rem 0 0.4rem; }
.meta, .caption, figcaption { color: var(--muted); font-size: 0.9rem; }
nav.toc { background: #f6f6f6; border: 1px solid var(--line); padding: 0.6rem 1.2rem; margin: 1rem 0; }
nav.toc ol { margin: 0.2rem 0; padding-left: 1.3rem; }
nav.toc li { margin: 0.1rem 0; }
a { color: #0b5394; }
.finding { border: 1px solid var(--line); border-left-width: 6px; padding: 0.6rem 1rem; margin: 1rem 0; }
.finding.supported { border-left-color: #0072b2; }
.finding.not-supported { border-left-color: #d55e00; }
.finding.inconclusive { border-left-color: #999; }
.verdict { display: inline-block; font-weight: bold; padding: 0.05rem 0.5rem; border-radius: 3px; color: white;
  font-size: 0.85rem; margin-right: 0.4rem; }
.verdict.supported { background: #0072b2; }
.verdict.not-supported { background: #d55e00; }
.verdict.inconclusive { background: #6b6b6b; }
.claim { font-style: italic; }
details { margin: 0.4rem 0; }
details li { font-size: 0.88rem; }
.table-wrap { overflow-x: auto; margin: 0.5rem 0 1rem; }
table { border-collapse: collapse; font-size: 0.8rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 0.2rem 0.45rem; text-align: right; white-space: nowrap; }
thead th { background: #2f4f6f; color: white; text-align: center; position: sticky; top: 0; }
tbody th { text-align: left; font-weight: normal; background: #fafafa; }
td.best, th.best { background: var(--best); font-weight: bold; }
td.worst, th.worst { background: var(--worst); font-style: italic; }
.mk { color: #333; font-size: 0.75em; }
figure { margin: 1.2rem 0 2rem; }
figure .svg { overflow-x: auto; }
figure svg { max-width: 100%; height: auto; display: block; }
.gaps li { color: #8a3b00; }
section#found { page-break-after: always; }
table.found td, table.found th { white-space: normal; text-align: left; vertical-align: top; }
table.found td.sentence { min-width: 24rem; }
.links { font-size: 0.88rem; }
@media print { nav.toc { display: none; } figure, table { page-break-inside: avoid; } }
`;

const verdictClass = (v: string) => v.replace(/\s+/g, "-");

export function renderHtml(c: ReportContent): string {
  const toc: string[] = [];
  const body: string[] = [];

  toc.push(
    `<li><a href="#findings">Findings</a><ol>${c.findings
      .map(
        (f) =>
          `<li><a href="#finding-${f.id}">${e(shortClaim(f.claim))}</a> — ${e(VERDICT_LABEL[f.verdict])}</li>`,
      )
      .join("")}</ol></li>`,
  );
  toc.unshift('<li><a href="#method">Method: measures and thresholds</a></li>');
  body.push(methodHtml());
  body.push('<section id="findings"><h2>Findings</h2>');
  body.push(
    '<p class="caption">Each claim of the seed write-up, tested on this store. Verdicts follow the stated rules; ' +
      "with few seeds or steps, read them as provisional.</p>",
  );
  c.findings.forEach((f, k) => {
    body.push(
      `<div class="finding ${verdictClass(f.verdict)}" id="finding-${f.id}">` +
        `<h3>${k + 1}. <span class="verdict ${verdictClass(f.verdict)}">${e(VERDICT_LABEL[f.verdict])}</span></h3>` +
        `<p class="claim">${e(f.claim)}</p><p>${e(f.summary)}</p>` +
        (f.reason ? `<p><strong>Why inconclusive:</strong> ${e(f.reason)}</p>` : "") +
        linksHtml(c, f) +
        `<details><summary>Method and numbers</summary><p>${e(f.method)}</p><ul>${f.evidence
          .map((x) => `<li>${e(x)}</li>`)
          .join("")}</ul></details></div>`,
    );
  });
  body.push("</section>");

  toc.push('<li><a href="#store">Store</a></li>');
  body.push('<section id="store"><h2>Store</h2>');
  body.push(`<p class="meta">${e(c.dir)}</p><ul>${c.overview.map((x) => `<li>${e(x)}</li>`).join("")}</ul>`);
  if (c.gaps.length)
    body.push(`<h3>Gaps</h3><ul class="gaps">${c.gaps.map((x) => `<li>${e(x)}</li>`).join("")}</ul>`);
  else body.push("<p>Every cell the manifest lists is complete.</p>");
  body.push("</section>");

  toc.push(
    `<li><a href="#tables">Tables</a><ol>${c.tables
      .map((t) => `<li><a href="#table-${t.id}">${e(t.title)}</a></li>`)
      .join("")}</ol></li>`,
  );
  body.push('<section id="tables"><h2>Tables</h2>');
  for (const t of c.tables) {
    body.push(
      `<h3>${e(t.title)}</h3><p class="caption">${e(t.caption)}</p><div class="table-wrap">${toHtmlTable(t)}</div>`,
    );
  }
  body.push("</section>");

  toc.push('<li><a href="#figures">Figures</a><ol>');
  body.push('<section id="figures"><h2>Figures</h2>');
  if (!c.figures.length)
    body.push("<p>No figures (the store has no complete cells, or no figure format).</p>");
  for (const g of FIGURE_GROUPS) {
    const figs = c.figures.filter((f) => f.def.group === g.group);
    if (!figs.length) continue;
    toc.push(
      `<li><a href="#figures-${g.group}">${e(g.title)}</a><ol>${figs
        .map((f) => `<li><a href="#fig-${f.def.id}">${e(f.def.title)}</a></li>`)
        .join("")}</ol></li>`,
    );
    body.push(`<h3 id="figures-${g.group}">${e(g.title)}</h3>`);
    for (const f of figs) {
      body.push(
        `<figure id="fig-${f.def.id}" data-figure="${f.def.id}"><div class="svg">${f.svg}</div>` +
          `<figcaption><strong>${e(f.def.title)}.</strong> ${e(f.def.caption)}</figcaption></figure>`,
      );
    }
  }
  toc.push("</ol></li>");
  body.push("</section>");

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(c.title)}</title><style>${CSS}</style></head>
<body><main>
<h1>${e(c.title)}</h1>
<p class="meta">Generated ${e(c.generatedAt)} from ${e(c.dir)} by tms report.</p>
${foundHtml(c)}
<nav class="toc" aria-label="Contents"><strong>Contents</strong><ol>${toc.join("")}</ol></nav>
${body.join("\n")}
</main></body></html>
`;
}

/** The one-page "What we found": every claim id, its verdict and one sentence. */
function foundHtml(c: ReportContent): string {
  const rows = c.findings
    .map(
      (f) =>
        `<tr><th scope="row"><a href="#finding-${f.id}">${e(f.id)}</a></th>` +
        `<td><span class="verdict ${verdictClass(f.verdict)}">${e(VERDICT_LABEL[f.verdict])}</span></td>` +
        `<td class="sentence">${e(oneSentence(f))}</td></tr>`,
    )
    .join("\n");
  return (
    '<section id="found"><h2>What we found</h2><p class="caption">Every claim of the seed write-up, its verdict ' +
    "on this store and the criterion that decided it. Details, numbers with 95 % intervals and the rules follow " +
    `below.</p><div class="table-wrap"><table class="found"><thead><tr><th>Claim</th><th>Verdict</th><th>In one sentence</th></tr></thead><tbody>${rows}</tbody></table></div></section>`
  );
}

function linksHtml(c: ReportContent, f: ReportContent["findings"][number]): string {
  const links = resolveLinks(c, f);
  if (!links.length) return "";
  return `<p class="links">Shown in: ${links
    .map((l) => `<a href="#${l.kind === "figure" ? "fig" : "table"}-${l.id}">${e(l.title)}</a>`)
    .join(" · ")}</p>`;
}

function methodHtml(): string {
  const m = methodSection();
  return (
    '<section id="method"><h2>Method: measures and thresholds</h2><p class="caption">Defined once ' +
    "(src/report/measures.ts) and used by every finding, table and figure.</p><dl>" +
    m.measures.map((x) => `<dt><strong>${e(x.name)}</strong></dt><dd>${e(x.definition)}</dd>`).join("") +
    '</dl><p class="caption">Every threshold a verdict depends on (src/report/findings/types.ts):</p><p>' +
    m.thresholds.map(([k, v]) => `<code>${e(k)}</code> = ${e(v)}`).join(" · ") +
    "</p></section>"
  );
}

/** The first sentence of a claim, for the table of contents. */
export function shortClaim(claim: string): string {
  const s = claim.replace(/^“/, "").split(/[.”]/)[0];
  return s.length > 90 ? `${s.slice(0, 87)}…` : s;
}
