// report.docx: the findings, the comparison tables (dark header row, right-aligned numbers, best/worst
// shading) and the key figures as PNG, in one landscape Word document.

import {
  AlignmentType,
  BorderStyle,
  Document,
  HeadingLevel,
  ImageRun,
  Packer,
  PageOrientation,
  Paragraph,
  ShadingType,
  Table,
  TableCell,
  TableRow,
  TextRun,
  WidthType,
} from "docx";
import type { ReportContent } from "./content.js";
import { FIGURE_GROUPS, methodSection, oneSentence, resolveLinks, VERDICT_LABEL } from "./content.js";
import { shortClaim } from "./html.js";
import type { ReportTable } from "./tables.js";

const HEADER_FILL = "2F4F6F";
const FILL = { best: "CFE2F3", worst: "FCE4D6" } as const;
const VERDICT_COLOUR = { supported: "0072B2", "not supported": "D55E00", inconclusive: "6B6B6B" } as const;
const MARK_SYMBOL = { best: " ▲", worst: " ▽" } as const;
/** Usable width of a landscape Letter/A4 page with 1-inch margins, in pixels at 96 dpi. */
const PAGE_PX = { width: 860, height: 560 };

const para = (text: string, o: { italics?: boolean; size?: number; bold?: boolean } = {}) =>
  new Paragraph({ children: [new TextRun({ text, ...o })], spacing: { after: 100 } });

function docxTable(t: ReportTable, textColumns = false): Table {
  const cols = t.header.length;
  const size = cols > 9 ? 14 : cols > 6 ? 16 : 18; // half-points
  const border = { style: BorderStyle.SINGLE, size: 2, color: "BFBFBF" };
  const borders = { top: border, bottom: border, left: border, right: border };
  const header = new TableRow({
    tableHeader: true,
    children: t.header.map(
      (h) =>
        new TableCell({
          shading: { fill: HEADER_FILL, type: ShadingType.CLEAR, color: "auto" },
          borders,
          children: [
            new Paragraph({
              alignment: AlignmentType.CENTER,
              children: [new TextRun({ text: h, bold: true, color: "FFFFFF", size })],
            }),
          ],
        }),
    ),
  });
  const rows = t.rows.map(
    (r) =>
      new TableRow({
        children: r.map(
          (c, k) =>
            new TableCell({
              borders,
              ...(c.mark ? { shading: { fill: FILL[c.mark], type: ShadingType.CLEAR, color: "auto" } } : {}),
              children: [
                new Paragraph({
                  alignment: k === 0 || textColumns ? AlignmentType.LEFT : AlignmentType.RIGHT,
                  children: [
                    new TextRun({
                      text: c.text + (c.mark ? MARK_SYMBOL[c.mark] : ""),
                      size,
                      bold: c.mark === "best",
                      italics: c.mark === "worst",
                    }),
                  ],
                }),
              ],
            }),
        ),
      }),
  );
  if (!rows.length)
    rows.push(
      new TableRow({
        children: t.header.map(
          (_, k) => new TableCell({ borders, children: [para(k === 0 ? "none" : "—")] }),
        ),
      }),
    );
  return new Table({ rows: [header, ...rows], width: { size: 100, type: WidthType.PERCENTAGE } });
}

export async function renderDocx(c: ReportContent): Promise<Uint8Array> {
  const children: (Paragraph | Table)[] = [];
  children.push(new Paragraph({ text: c.title, heading: HeadingLevel.TITLE }));
  children.push(para(`Generated ${c.generatedAt} from ${c.dir} by tms report.`, { italics: true, size: 18 }));

  children.push(new Paragraph({ text: "What we found", heading: HeadingLevel.HEADING_1 }));
  children.push(
    docxTable(
      {
        id: "what-we-found",
        title: "What we found",
        caption: "",
        header: ["Claim", "Verdict", "In one sentence"],
        rows: c.findings.map((f) => [
          { text: f.id },
          { text: VERDICT_LABEL[f.verdict] },
          { text: oneSentence(f) },
        ]),
        csvHeader: [],
        csvRows: [],
      },
      true,
    ),
  );
  children.push(new Paragraph({ text: "", pageBreakBefore: true }));
  const m = methodSection();
  children.push(new Paragraph({ text: "Method: measures and thresholds", heading: HeadingLevel.HEADING_1 }));
  for (const x of m.measures)
    children.push(
      new Paragraph({
        bullet: { level: 0 },
        children: [
          new TextRun({ text: `${x.name}: `, bold: true, size: 18 }),
          new TextRun({ text: x.definition, size: 18 }),
        ],
      }),
    );
  children.push(para(`Thresholds: ${m.thresholds.map(([k, v]) => `${k} = ${v}`).join(" · ")}`, { size: 16 }));

  children.push(new Paragraph({ text: "Findings", heading: HeadingLevel.HEADING_1 }));
  c.findings.forEach((f, k) => {
    children.push(
      new Paragraph({ text: `${k + 1}. ${f.id}: ${shortClaim(f.claim)}`, heading: HeadingLevel.HEADING_2 }),
    );
    children.push(
      new Paragraph({
        spacing: { after: 100 },
        children: [
          new TextRun({
            text: `${VERDICT_LABEL[f.verdict]}. `,
            bold: true,
            color: VERDICT_COLOUR[f.verdict],
          }),
          new TextRun({ text: f.summary }),
        ],
      }),
    );
    children.push(para(`Claim: ${f.claim}`, { italics: true, size: 18 }));
    if (f.reason) children.push(para(`Why inconclusive: ${f.reason}`, { size: 18 }));
    const links = resolveLinks(c, f);
    if (links.length)
      children.push(
        para(`Shown in: ${links.map((l) => `${l.kind} “${l.title}”`).join(" · ")}`, { size: 16 }),
      );
    children.push(para(`Method: ${f.method}`, { size: 16 }));
    for (const x of f.evidence)
      children.push(new Paragraph({ bullet: { level: 0 }, children: [new TextRun({ text: x, size: 16 })] }));
  });

  children.push(new Paragraph({ text: "Store", heading: HeadingLevel.HEADING_1 }));
  children.push(para(c.dir, { size: 18 }));
  for (const x of c.overview) children.push(new Paragraph({ text: x, bullet: { level: 0 } }));
  for (const x of c.gaps) children.push(new Paragraph({ text: x, bullet: { level: 0 } }));

  children.push(new Paragraph({ text: "Tables", heading: HeadingLevel.HEADING_1 }));
  for (const t of c.tables) {
    children.push(new Paragraph({ text: t.title, heading: HeadingLevel.HEADING_2 }));
    children.push(para(t.caption, { italics: true, size: 16 }));
    children.push(docxTable(t));
    children.push(para(""));
  }

  const keyFigures = c.figures.filter((f) => f.def.key && f.png);
  if (keyFigures.length) {
    children.push(new Paragraph({ text: "Figures", heading: HeadingLevel.HEADING_1 }));
    for (const g of FIGURE_GROUPS) {
      for (const f of keyFigures.filter((x) => x.def.group === g.group)) {
        const png = f.png!;
        const s = Math.min(PAGE_PX.width / png.width, PAGE_PX.height / png.height, 1);
        children.push(new Paragraph({ text: f.def.title, heading: HeadingLevel.HEADING_2 }));
        children.push(
          new Paragraph({
            alignment: AlignmentType.CENTER,
            children: [
              new ImageRun({
                type: "png",
                data: png.data,
                transformation: { width: Math.round(png.width * s), height: Math.round(png.height * s) },
                altText: { name: f.def.id, title: f.def.title, description: f.def.caption },
              }),
            ],
          }),
        );
        children.push(para(f.def.caption, { italics: true, size: 16 }));
      }
    }
  }

  const doc = new Document({
    creator: "tms-lab",
    title: c.title,
    styles: { default: { document: { run: { font: "Calibri", size: 20 } } } },
    sections: [
      {
        properties: {
          page: {
            size: { orientation: PageOrientation.LANDSCAPE },
            margin: { top: 1080, bottom: 1080, left: 1080, right: 1080 },
          },
        },
        children,
      },
    ],
  });
  return new Uint8Array(await Packer.toBuffer(doc));
}
