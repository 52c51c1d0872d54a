// `tms report`: reads a results store and writes the findings, tables, figures and documents. No training:
// re-running it only re-reads files.
//   OUT/report.html            self-contained page (inline SVG), findings first
//   OUT/report.md              Markdown, figures linked from figures/
//   OUT/report.docx            Word: findings, tables, key figures as PNG
//   OUT/findings.json          the findings' verdicts and numbers
//   OUT/tables/<id>.csv        every table
//   OUT/figures/<id>.svg|.png  every figure

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describeStore, type RenderedFigure, type ReportContent } from "./content.js";
import { loadReportData, type ReportData } from "./data.js";
import { renderDocx } from "./docx.js";
import { familyFigurePlans } from "./family-figures.js";
import { planFigures } from "./figures.js";
import { buildFindings, type Finding } from "./findings/index.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { propertyFigurePlans } from "./property-figures.js";
import { propertyTables } from "./property-tables.js";
import { type Png, renderPng, renderSvg } from "./render.js";
import { buildTables, type ReportTable, toCsv } from "./tables.js";

export const REPORT_FORMATS = ["html", "md", "docx", "csv", "svg", "png"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  /** Output directory; default DIR/report. */
  out?: string;
  formats?: readonly ReportFormat[];
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface ReportOutcome {
  out: string;
  files: string[];
  findings: Finding[];
  tables: ReportTable[];
  figures: string[];
  /** Missing cells and anything that could not be drawn. */
  gaps: string[];
  seconds: number;
}

/** Removes files a previous run wrote into a sub-directory (only ours: by extension). */
function clearDir(dir: string, exts: string[]): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir))
    if (exts.some((x) => f.endsWith(x))) rmSync(join(dir, f), { force: true });
}

/** Runs at most `limit` promises at once. */
class Pool {
  private running = new Set<Promise<void>>();
  constructor(private readonly limit: number) {}
  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    const p: Promise<void> = task().finally(() => this.running.delete(p));
    this.running.add(p);
  }
  async drain(): Promise<void> {
    await Promise.all(this.running);
  }
}

/** Every table of the report: the store's tables, then the activation property analysis's. */
export function reportTables(data: ReportData): ReportTable[] {
  return [...buildTables(data), ...propertyTables(data)];
}

export async function generateReport(dir: string, options: ReportOptions = {}): Promise<ReportOutcome> {
  const t0 = performance.now();
  const formats = new Set(options.formats ?? REPORT_FORMATS);
  const log = options.log ?? (() => {});
  const root = resolve(dir);
  const out = resolve(options.out ?? join(root, "report"));
  const data = loadReportData(root);
  mkdirSync(out, { recursive: true });
  const files: string[] = [];
  const write = (rel: string, content: string | Uint8Array) => {
    const path = join(out, rel);
    writeFileSync(path, content);
    files.push(path);
  };

  const findings = buildFindings(data);
  const tables = reportTables(data);
  log(`report: ${data.results.length} cells read; ${findings.length} findings, ${tables.length} tables`);

  if (formats.has("csv")) {
    mkdirSync(join(out, "tables"), { recursive: true });
    clearDir(join(out, "tables"), [".csv"]);
    for (const t of tables) write(join("tables", `${t.id}.csv`), toCsv(t));
  }
  write("findings.json", `${JSON.stringify(findings, null, 1)}\n`);

  // Figures: SVG on the main thread, PNG rasterised concurrently in resvg's thread pool.
  const wantSvgFiles = formats.has("svg");
  const wantPngFiles = formats.has("png");
  const needFigures =
    wantSvgFiles || wantPngFiles || formats.has("html") || formats.has("md") || formats.has("docx");
  const figures: RenderedFigure[] = [];
  const gaps: string[] = [];
  if (wantSvgFiles || wantPngFiles) {
    mkdirSync(join(out, "figures"), { recursive: true });
    clearDir(join(out, "figures"), [".svg", ".png"]);
  }
  const pool = new Pool(2);
  if (needFigures && data.results.length) {
    for (const plan of [...planFigures(data), ...propertyFigurePlans(data), ...familyFigurePlans(data)]) {
      try {
        const def = plan.build();
        if (!def) {
          gaps.push(`figure ${plan.id}: no data to draw (missing cells or weights)`);
          continue;
        }
        const svg = await renderSvg(def.spec, def.id);
        const fig: RenderedFigure = { def, svg };
        figures.push(fig);
        if (wantSvgFiles) write(join("figures", `${def.id}.svg`), svg);
        const keep = def.key && formats.has("docx");
        if (wantPngFiles || keep) {
          await pool.add(async () => {
            let png: Png;
            try {
              png = await renderPng(svg, {
                scale: def.group === "per-activation" ? 1.25 : 1.6,
                maxWidth: 2000,
              });
            } catch (e) {
              gaps.push(`figure ${def.id}: PNG rendering failed: ${(e as Error).message}`);
              return;
            }
            if (wantPngFiles) write(join("figures", `${def.id}.png`), png.data);
            if (keep) fig.png = png;
          });
        }
      } catch (e) {
        gaps.push(`figure ${plan.id} failed: ${(e as Error).message.split("\n")[0]}`);
      }
    }
    await pool.drain();
  }
  log(`report: ${figures.length} figures rendered`);

  const store = describeStore(data);
  const content: ReportContent = {
    title: "Toy Models of Superposition across activation functions",
    dir: root,
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    overview: store.overview,
    gaps: [...store.gaps, ...data.problems, ...gaps],
    findings,
    tables,
    figures,
    figureFiles: wantSvgFiles ? "svg" : wantPngFiles ? "png" : null,
  };
  if (formats.has("html")) write("report.html", renderHtml(content));
  if (formats.has("md")) write("report.md", renderMarkdown(content));
  if (formats.has("docx")) write("report.docx", await renderDocx(content));

  return {
    out,
    files,
    findings,
    tables,
    figures: figures.map((f) => f.def.id),
    gaps: content.gaps,
    seconds: (performance.now() - t0) / 1000,
  };
}
