// `tms report DIR`: findings, tables, figures and documents from a results store (no training).

import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import Table from "cli-table3";
import { oneSentence } from "../../report/content.js";
import type { Finding } from "../../report/findings/index.js";
import {
  generateReport,
  REPORT_FORMATS,
  type ReportFormat,
  type ReportOutcome,
} from "../../report/report.js";
import { UsageError } from "../errors.js";

export interface ReportFlags {
  out?: string;
  format?: string;
  quiet?: boolean;
}

export function parseFormats(spec: string | undefined): ReportFormat[] {
  if (spec === undefined || spec.trim() === "" || spec === "all") return [...REPORT_FORMATS];
  const out: ReportFormat[] = [];
  for (const f of spec.split(",").map((x) => x.trim().toLowerCase())) {
    if (!f) continue;
    if (!(REPORT_FORMATS as readonly string[]).includes(f))
      throw new UsageError(`--format: unknown format '${f}'; choose from: ${REPORT_FORMATS.join(", ")}`);
    if (!out.includes(f as ReportFormat)) out.push(f as ReportFormat);
  }
  return out;
}

export async function reportCommand(dir: string, flags: ReportFlags = {}): Promise<ReportOutcome> {
  const formats = parseFormats(flags.format);
  const root = resolve(dir);
  if (!existsSync(root)) throw new UsageError(`${dir}: no such directory (expected a results store)`);
  if (!existsSync(join(root, "manifest.json")))
    throw new UsageError(`${dir} is not a tms-lab results store (no manifest.json); make one with tms sweep`);
  const log = flags.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  const outcome = await generateReport(root, { out: flags.out, formats, log });
  if (!flags.quiet) {
    process.stdout.write(`${whatWeFound(outcome.findings)}\n`);
    const count = (v: Finding["verdict"]) => outcome.findings.filter((f) => f.verdict === v).length;
    const verdicts = `${count("supported")} supported, ${count("not supported")} not supported, ${count("inconclusive")} inconclusive`;
    process.stderr.write(
      `report: ${outcome.figures.length} figures, ${outcome.tables.length} tables, ${outcome.findings.length} findings: ${verdicts}\n` +
        `report: ${outcome.files.length} files → ${relative(process.cwd(), outcome.out) || "."} (${outcome.seconds.toFixed(1)} s)\n`,
    );
    if (outcome.gaps.length)
      process.stderr.write(
        `report: ${outcome.gaps.length} gaps (see the Store section), e.g. ${outcome.gaps[0]}\n`,
      );
  }
  return outcome;
}

/** The "What we found" table for the terminal: claim id, verdict, one sentence. */
export function whatWeFound(findings: readonly Finding[]): string {
  const width = Math.max(60, Math.min(110, (process.stdout.columns ?? 140) - 50));
  const table = new Table({
    head: ["claim", "verdict", "in one sentence"],
    colWidths: [28, 15, width],
    wordWrap: true,
    style: { head: [], compact: true },
  });
  for (const f of findings) table.push([f.id, f.verdict, oneSentence(f, 200)]);
  return `What we found\n${table.toString()}`;
}
