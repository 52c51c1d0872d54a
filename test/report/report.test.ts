// End to end: a small real store made by `tms sweep`, then `tms report` on it, and every output checked.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import JSZip from "jszip";
import { beforeAll, describe, expect, it } from "vitest";
import { loadReportData } from "../../src/report/data.js";
import { planFigures } from "../../src/report/figures.js";
import { propertyFigurePlans } from "../../src/report/property-figures.js";
import { generateReport, reportTables } from "../../src/report/report.js";
import { ROOT, runCli, tempDir, tms } from "../helpers/cli.js";
import { docxSection, readDocxBlocks } from "../helpers/docx.js";
import { expectUnchanged, snapshotStore } from "../helpers/store-snapshot.js";

const CLAIM_IDS = [
  "loss-range",
  "superposition-loss",
  "celu-gelu",
  "sigmoid-unimportant",
  "sigmoid-precision",
  "softsign-logsigmoid-worse",
  "tanh-hardtanh-selu-limited",
  "softmin-reversal",
  "log_softmax-fails",
  "exp-fails-low-sparsity",
  "solu-vs-softmax",
  "shrink-small-amplitude",
  "gelu-dense-superposition",
  "gelu-silu-less-than-relu",
  "sigmoid-many-neurons",
  "tanh-eliminates",
  "relu6-relu2-like-relu",
  "most-superposition",
  "negative-outputs-hinder",
  "softplus-every-feature",
  "swish-early-unimportant",
  "swish-hardswish-similar",
  "hardness-reduces",
  "superposition-lowers-loss",
  "nonneg-asymmetric-best",
];

/** Decodes a PNG far enough to prove it is whole: signature, IHDR, and IDAT inflating to the image size. */
function decodePng(bytes: Buffer): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  expect([...bytes.subarray(0, 8)]).toEqual(sig);
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  let ended = false;
  while (pos < bytes.length) {
    const len = bytes.readUInt32BE(pos);
    const type = bytes.toString("latin1", pos + 4, pos + 8);
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      expect(body[8]).toBe(8); // bit depth
      channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[body[9] as 0 | 2 | 4 | 6];
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") ended = true;
    pos += 12 + len;
  }
  expect(ended).toBe(true);
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe(height * (1 + width * channels));
  return { width, height };
}

/** A CSV field that is a number; and the numbers in a Word table cell's text (as shown: 4.9e-3, 0/100). */
const NUMBER = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i;
/** A training table's long CSV rows as the wide Word rows show them: per activation, per sparsity level,
 * trained-or-unknown seeds, seeds, the median weight change (when recorded) and the loss ratio. */
function trainingRowsAsShown(header: string[], rows: string[][]): number[][] {
  const col = (name: string) => header.indexOf(name);
  const out = new Map<string, number[]>();
  for (const row of rows) {
    const key = `${row[col("activation")]}~${row[col("variant")]}`;
    const moved = row[col("median_weight_change")];
    const shown = [
      Number(row[col("trained")]) + Number(row[col("unknown")]),
      Number(row[col("seeds")]),
      ...(NUMBER.test(moved) ? [Number(moved)] : []),
      Number(row[col("median_loss_over_trivial")]),
    ];
    out.set(key, [...(out.get(key) ?? []), ...shown]);
  }
  return [...out.values()];
}

/** Numbers in a Word cell, but not digits inside a name (ReLU6, log10). */
const NUMBERS = /(?<![A-Za-z\d.])-?\d+(\.\d+)?(e[-+]?\d+)?/gi;

/** Half a unit in the last digit shown: how far a rounded number may be from the value it shows. */
function halfUnit(shown: string): number {
  const [mantissa, exponent] = shown.toLowerCase().split("e");
  const decimals = mantissa.split(".")[1]?.length ?? 0;
  return 0.5 * 10 ** (Number(exponent ?? 0) - decimals) * (1 + 1e-9);
}

const parseCsv = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((l) => l.split(","));

describe("tms report on a small trained store", () => {
  const dir = tempDir();
  const store = join(dir, "store");
  const out = join(store, "report");
  let reportSeconds = 0;

  beforeAll(async () => {
    const sweep = await runCli([
      "sweep",
      "--presets",
      "intro,demo",
      "--activations",
      "relu,softmin",
      "--seeds",
      "0-1",
      "--steps",
      "50",
      "--softmax-dim",
      "features,batch",
      "--workers",
      "2",
      "--out",
      store,
    ]);
    expect(sweep.code, sweep.stderr).toBe(0);
    const t0 = performance.now();
    const report = await runCli(["report", store]);
    reportSeconds = (performance.now() - t0) / 1000;
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).toContain("findings:");
  }, 240_000);

  it("writes every document, table and figure", () => {
    for (const f of ["report.html", "report.md", "report.docx", "findings.json"])
      expect(existsSync(join(out, f)), f).toBe(true);
    const tables = readdirSync(join(out, "tables")).sort();
    for (const t of [
      "loss-intro",
      "superposition-intro",
      "represented-intro",
      "ranking-intro",
      "loss-demo",
      "superposition-demo",
      "represented-demo",
      "ranking-demo",
      "divergence",
      "softmax-dim",
    ])
      expect(tables).toContain(`${t}.csv`);
    const loaded = loadReportData(store);
    const planned = [...planFigures(loaded), ...propertyFigurePlans(loaded)].map((p) => p.id);
    expect(planned).toContain("intro-features-overview");
    expect(planned).toContain("demo-features-softmin-softmax-batch");
    const figures = readdirSync(join(out, "figures"));
    for (const id of planned) {
      expect(figures, id).toContain(`${id}.svg`);
      expect(figures, id).toContain(`${id}.png`);
    }
    expect(figures).toHaveLength(2 * planned.length);
    const findings = JSON.parse(readFileSync(join(out, "findings.json"), "utf8"));
    expect(findings).toHaveLength(25);
    for (const f of findings) if (f.verdict === "inconclusive") expect(f.reason, f.id).toBeTruthy();
    for (const f of findings) expect(["supported", "not supported", "inconclusive"]).toContain(f.verdict);
    // This store has no CELU/GELU and no f64 cells: those findings say so.
    expect(findings.find((f: { id: string }) => f.id === "sigmoid-precision").verdict).toBe("inconclusive");
    expect(findings.find((f: { id: string }) => f.id === "celu-gelu").reason).toContain("tms sweep");
  });

  it("every SVG parses and every PNG decodes, at the SVG's proportions", () => {
    const dirF = join(out, "figures");
    for (const f of readdirSync(dirF).filter((x) => x.endsWith(".svg"))) {
      const svg = readFileSync(join(dirF, f), "utf8");
      expect(XMLValidator.validate(svg), f).toBe(true);
      const root = new XMLParser({ ignoreAttributes: false }).parse(svg).svg;
      const w = Number(root["@_width"]);
      const h = Number(root["@_height"]);
      expect(w > 50 && h > 50, f).toBe(true);
      const png = decodePng(readFileSync(join(dirF, f.replace(/\.svg$/, ".png"))));
      expect(png.width / png.height).toBeCloseTo(w / h, 1);
      expect(png.width).toBeGreaterThanOrEqual(w);
    }
  });

  it("the Word document's findings section: every finding's title and verdict, in order", async () => {
    const blocks = await readDocxBlocks(readFileSync(join(out, "report.docx")));
    const findings = JSON.parse(readFileSync(join(out, "findings.json"), "utf8")) as {
      id: string;
      claim: string;
      verdict: "supported" | "not supported" | "inconclusive";
      summary: string;
    }[];
    // The write-up's claims as issue #15 lists them, in its order.
    expect(findings.map((f) => f.id)).toEqual(CLAIM_IDS);
    const section = docxSection(blocks, "Findings");
    const headings = section.filter((b) => b.kind === "paragraph" && b.style === "Heading2");
    expect(headings).toHaveLength(findings.length);
    const label = { supported: "Supported", "not supported": "Not supported", inconclusive: "Inconclusive" };
    findings.forEach((f, k) => {
      const at = section.indexOf(headings[k]);
      const heading = headings[k].kind === "paragraph" ? headings[k].text : "";
      // "k. id: " then the claim's first sentence (shortened with … when long)
      expect(heading, f.id).toMatch(new RegExp(`^${k + 1}\\. ${f.id}: `));
      const title = heading.replace(/^\d+\. [\w-]+: /, "").replace(/…$/, "");
      expect(title.length, f.id).toBeGreaterThan(10);
      expect(f.claim.replace(/^“/, ""), f.id).toContain(title);
      const verdict = section[at + 1];
      expect(verdict.kind === "paragraph" && verdict.runs[0], f.id).toBe(`${label[f.verdict]}. `);
      expect(verdict.kind === "paragraph" && verdict.text, f.id).toBe(`${label[f.verdict]}. ${f.summary}`);
    });
  });

  it("the Word document's tables hold the CSV tables' values, cell by cell", async () => {
    const blocks = await readDocxBlocks(readFileSync(join(out, "report.docx")));
    const xml = await (await JSZip.loadAsync(readFileSync(join(out, "report.docx"))))
      .file("word/document.xml")!
      .async("string");
    const section = docxSection(blocks, "Tables");
    const titles = new Map(reportTables(loadReportData(store)).map((t) => [t.id, t.title]));
    const csvs = readdirSync(join(out, "tables")).filter((f) => f.endsWith(".csv"));
    expect(csvs.length).toBeGreaterThanOrEqual(8);
    let compared = 0;
    for (const f of csvs) {
      const [header, ...rows] = parseCsv(readFileSync(join(out, "tables", f), "utf8"));
      const title = titles.get(f.replace(/\.csv$/, ""));
      const at = section.findIndex(
        (b) => b.kind === "paragraph" && b.style === "Heading2" && b.text === title,
      );
      expect(at, `${f}: a table titled ${title}`).toBeGreaterThanOrEqual(0);
      const table = section.slice(at).find((b) => b.kind === "table");
      if (table?.kind !== "table") throw new Error(`${f}: no table after its heading`);
      const body = table.rows.slice(1);
      if (rows.length === 0) {
        expect(
          body.map((r) => r[0]),
          f,
        ).toEqual(["none"]);
        continue;
      }
      // The numbers of each CSV row, in order, are the numbers of the same row of the Word table, as
      // shown (rounded to the digits shown); seed counts are CSV-only. The training tables' CSV is long (a
      // row per activation and sparsity) where the Word table is wide (a cell "trained/seeds · moved · ratio").
      const wanted = f.startsWith("training-")
        ? trainingRowsAsShown(header, rows)
        : rows.map((row) => {
            const shown = header.map((h) => !["seeds", "cells"].includes(h));
            return row.filter((v, k) => shown[k] && NUMBER.test(v)).map(Number);
          });
      expect(body, f).toHaveLength(wanted.length);
      wanted.forEach((want, r) => {
        const got = body[r].flatMap((cell) => [...cell.matchAll(NUMBERS)].map((m) => m[0]));
        expect(got.length, `${f} row ${r + 1}: ${body[r].join(" | ")}`).toBe(want.length);
        got.forEach((g, k) => {
          expect(Math.abs(Number(g) - want[k]), `${f} row ${r + 1}: ${g} vs ${want[k]}`).toBeLessThanOrEqual(
            halfUnit(g),
          );
          compared++;
        });
      });
    }
    // 382 numbers in this store's tables
    expect(compared).toBeGreaterThan(300);
    // Tables and figures are there: header shading and embedded PNGs.
    expect(xml).toContain('w:fill="2F4F6F"');
    const zip = await JSZip.loadAsync(readFileSync(join(out, "report.docx")));
    expect(Object.keys(zip.files).some((n) => n.startsWith("word/media/") && n.endsWith(".png"))).toBe(true);
  });

  it("the HTML page holds every figure inline and fetches nothing", () => {
    const html = readFileSync(join(out, "report.html"), "utf8");
    const loaded = loadReportData(store);
    const planned = [...planFigures(loaded), ...propertyFigurePlans(loaded)].map((p) => p.id);
    for (const id of planned)
      expect(html, id).toMatch(new RegExp(`<figure id="fig-${id}"[^>]*><div class="svg"><svg`));
    expect(html.indexOf('id="findings"')).toBeLessThan(html.indexOf('id="tables"'));
    expect(html.indexOf('id="tables"')).toBeLessThan(html.indexOf('id="figures"'));
    expect(html).toContain('<nav class="toc"');
    expect(html).not.toMatch(/<script|<link |src="http|url\(http/);
    const md = readFileSync(join(out, "report.md"), "utf8");
    for (const id of planned) expect(md).toContain(`(figures/${id}.svg)`);
  });

  it("re-running is cheap and gives the same tables and findings", async () => {
    const again = join(dir, "again");
    const outcome = await generateReport(store, { out: again, formats: ["csv"] });
    for (const f of readdirSync(join(out, "tables")))
      expect(readFileSync(join(again, "tables", f), "utf8")).toBe(
        readFileSync(join(out, "tables", f), "utf8"),
      );
    const a = JSON.parse(readFileSync(join(again, "findings.json"), "utf8"));
    const b = JSON.parse(readFileSync(join(out, "findings.json"), "utf8"));
    expect(a).toEqual(b);
    expect(outcome.seconds).toBeLessThan(10);
    expect(reportSeconds).toBeLessThan(60);
  });

  it("a store with missing cells and a bad weights file still gives a report that says so", async () => {
    const partial = join(dir, "partial");
    cpSync(store, partial, { recursive: true });
    rmSync(join(partial, "report"), { recursive: true, force: true });
    rmSync(join(partial, "intro", "softmin", "seed-1"), { recursive: true });
    rmSync(join(partial, "demo", "relu"), { recursive: true });
    cpSync(join(partial, "manifest.json"), join(partial, "intro", "relu", "seed-0", "weights.safetensors"));
    const outcome = await generateReport(partial, { formats: ["html", "md", "csv"] });
    const md = readFileSync(join(partial, "report", "report.md"), "utf8");
    expect(md).toContain("Missing cells");
    expect(md).toContain("intro/softmin/seed-1");
    expect(md).toContain("demo/relu/seed-0");
    expect(outcome.gaps.some((g) => g.includes("weights of intro/relu/seed-0 unreadable"))).toBe(true);
    expect(existsSync(join(partial, "report", "report.html"))).toBe(true);
  });

  it("a store whose cells are all missing gives a report that says so", async () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    cpSync(join(store, "manifest.json"), join(empty, "manifest.json"));
    const outcome = await generateReport(empty, { formats: ["html", "md", "docx", "csv"] });
    expect(outcome.figures).toEqual([]);
    expect(outcome.findings.map((f) => f.verdict)).toEqual(Array(CLAIM_IDS.length).fill("inconclusive"));
    expect(outcome.findings.every((f) => (f.reason ?? "").length > 10)).toBe(true);
    const md = readFileSync(join(empty, "report", "report.md"), "utf8");
    expect(md).toContain("The store has no complete cells");
    expect(md).toContain("0 of 12 cells complete, 12 missing");
  });

  it("bad input: one clear line and exit 2, the store untouched", () => {
    const before = snapshotStore(store);
    const notStore = tms(["report", join(dir, "nowhere")]);
    expect(notStore.status).toBe(2);
    expect(notStore.stderr.trim().split("\n")).toHaveLength(1);
    expect(notStore.stderr).toMatch(/^error: .*no such directory/);
    const noManifest = tms(["report", ROOT + "/src"]);
    expect(noManifest.status).toBe(2);
    expect(noManifest.stderr).toMatch(/^error: .*not a tms-lab results store/);
    const badFormat = tms(["report", store, "--format", "html,pdf"]);
    expect(badFormat.status).toBe(2);
    expect(badFormat.stderr.trim()).toBe(
      "error: --format: unknown format 'pdf'; choose from: html, md, docx, csv, svg, png",
    );
    expectUnchanged(before);
  });

  it("nothing in the report's compiled code imports the trainer", () => {
    const dist = join(ROOT, "dist", "src", "report");
    const files = readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((x) => x.endsWith(".js"));
    expect(files).toContain(join("figures", "phase.js"));
    for (const f of files) {
      const js = readFileSync(join(dist, f), "utf8");
      const imports = [...js.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
      for (const m of imports)
        expect(m, `${f} imports ${m}`).not.toMatch(/train|sweep|cell\.js|evaluate|kernels|cli\//);
    }
  });
});
