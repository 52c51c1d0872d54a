// `tms export DIR`: the store as one tidy table (CSV, Parquet or JSON Lines) for pandas, R or DuckDB.
// Every flag and the output path are checked before the store is read; the file is written atomically,
// and nothing inside the store is ever overwritten.

import { accessSync, constants, existsSync, statSync } from "node:fs";
import { basename, dirname, extname, relative, resolve } from "node:path";
import cliProgress from "cli-progress";
import { writeFileAtomic } from "../../experiments/store.js";
import { loadReportData } from "../../report/data.js";
import { buildExport, EXPORT_LEVELS, type ExportLevel, type Progress } from "../../report/export.js";
import { EXPORT_FORMATS, type ExportFormat, serialiseExport } from "../../report/export-formats.js";
import { UsageError } from "../errors.js";

export interface ExportFlags {
  out?: string;
  format?: string;
  level?: string;
  quiet?: boolean;
}

export interface ExportOutcome {
  out: string;
  rows: number;
  columns: number;
  seconds: number;
}

const EXTENSIONS: Record<string, ExportFormat> = {
  ".csv": "csv",
  ".parquet": "parquet",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
};

/** Files of the store itself, which an export must never replace. */
const STORE_FILES = /^(manifest\.json|result\.json|.*\.safetensors)$/;

/** The progress bar appears only when the export has already taken a second (large stores). */
const PROGRESS_AFTER_MS = 1000;

function pick<T extends string>(flag: string, raw: string, choices: readonly T[]): T {
  const v = raw.trim().toLowerCase() as T;
  if (!choices.includes(v))
    throw new UsageError(`${flag}: unknown value '${raw}'; choose from: ${choices.join(", ")}`);
  return v;
}

function formatOf(flags: ExportFlags): ExportFormat {
  if (flags.format !== undefined) return pick("--format", flags.format, EXPORT_FORMATS);
  return (flags.out && EXTENSIONS[extname(flags.out).toLowerCase()]) || "csv";
}

/** Refuses an output path that cannot be written, before any work is done. */
function checkWritable(out: string): void {
  if (STORE_FILES.test(basename(out)))
    throw new UsageError(`--out ${out}: refusing to overwrite a results-store file; choose another name`);
  if (existsSync(out)) {
    if (statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a directory; give a file name`);
    try {
      accessSync(out, constants.W_OK);
    } catch {
      throw new UsageError(`--out ${out}: file is not writable`);
    }
    return;
  }
  let parent = dirname(out);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  if (!statSync(parent).isDirectory())
    throw new UsageError(`--out ${out}: cannot create it, ${parent} is a file, not a directory`);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    throw new UsageError(`--out ${out}: directory ${parent} is not writable`);
  }
}

function progress(quiet: boolean | undefined): Progress {
  const started = performance.now();
  let bar: cliProgress.SingleBar | undefined;
  return (done, total) => {
    if (quiet || !process.stderr.isTTY) return;
    if (!bar && performance.now() - started > PROGRESS_AFTER_MS) {
      bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: "export {bar} {value}/{total} cells  ETA {eta_formatted}" },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, done);
    }
    bar?.update(done);
    if (done === total) bar?.stop();
  };
}

export function exportCommand(dir: string, flags: ExportFlags = {}): ExportOutcome {
  const t0 = performance.now();
  const format = formatOf(flags);
  const level: ExportLevel =
    flags.level === undefined ? "instance" : pick("--level", flags.level, EXPORT_LEVELS);
  const root = resolve(dir);
  if (!existsSync(root)) throw new UsageError(`${dir}: no such directory (expected a results store)`);
  if (!existsSync(resolve(root, "manifest.json")))
    throw new UsageError(`${dir} is not a tms-lab results store (no manifest.json); make one with tms sweep`);
  const toStdout = flags.out === "-";
  const out = toStdout ? "-" : resolve(flags.out ?? resolve(root, `${level}s.${format}`));
  if (!toStdout) checkWritable(out);

  const data = loadReportData(root);
  const table = buildExport(data, level, progress(flags.quiet));
  const contents = serialiseExport(table, format);
  if (toStdout) process.stdout.write(contents);
  else {
    try {
      writeFileAtomic(out, contents);
    } catch (e) {
      throw new UsageError(`--out ${out}: cannot write (${(e as Error).message.split("\n")[0]})`);
    }
  }
  const outcome = {
    out,
    rows: table.rows.length,
    columns: table.columns.length,
    seconds: (performance.now() - t0) / 1000,
  };
  if (!flags.quiet) {
    const skipped = data.missing.length + data.unreadable.length;
    const rel = relative(process.cwd(), out);
    const where = toStdout ? "standard output" : rel && !rel.startsWith("..") ? rel : out;
    process.stderr.write(
      `export: ${outcome.rows} ${level} rows × ${outcome.columns} columns (${format}) → ${where} ` +
        `(${outcome.seconds.toFixed(1)} s)\n` +
        (skipped
          ? `export: skipped ${data.missing.length} missing and ${data.unreadable.length} unreadable cells (see tms show)\n`
          : ""),
    );
  }
  return outcome;
}
