// The export's file formats: CSV (pandas' read_csv), JSON Lines, and Parquet (hyparquet-writer). Missing
// values (null) are an empty CSV field, JSON null and a Parquet null; column types and units travel in the
// Parquet file's key-value metadata.

import type { BasicType, ColumnSource } from "hyparquet-writer";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { ColumnType, ExportTable, ExportValue } from "./export.js";

export const EXPORT_FORMATS = ["csv", "parquet", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

function csvField(v: ExportValue): string {
  if (v === null) return "";
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** RFC 4180 CSV with a header line; numbers in shortest round-trip form, booleans as pandas spells them. */
export function exportCsv(t: ExportTable): string {
  const names = t.columns.map((c) => c.name);
  const lines = [names.map(csvField).join(",")];
  for (const row of t.rows) lines.push(names.map((n) => csvField(row[n] ?? null)).join(","));
  return `${lines.join("\n")}\n`;
}

/** One JSON object per line, keys in column order. */
export function exportJsonl(t: ExportTable): string {
  const names = t.columns.map((c) => c.name);
  let out = "";
  for (const row of t.rows) {
    const ordered: Record<string, ExportValue> = {};
    for (const n of names) ordered[n] = row[n] ?? null;
    out += `${JSON.stringify(ordered)}\n`;
  }
  return out;
}

const PARQUET_TYPE: Record<ColumnType, BasicType> = {
  string: "STRING",
  int: "INT64",
  float: "DOUBLE",
  bool: "BOOLEAN",
};

/** A Parquet file (one row group, snappy), every column nullable. */
export function exportParquet(t: ExportTable): Uint8Array {
  const columnData: ColumnSource[] = t.columns.map((c) => ({
    name: c.name,
    type: PARQUET_TYPE[c.type],
    nullable: true,
    data: t.rows.map((r) => parquetValue(r[c.name] ?? null, c.type)),
  }));
  const docs = t.columns.map(({ name, type, unit, doc }) => ({ name, type, unit, doc }));
  const buffer = parquetWriteBuffer({
    columnData,
    kvMetadata: [
      { key: "tms-lab.level", value: t.level },
      { key: "tms-lab.columns", value: JSON.stringify(docs) },
    ],
  });
  return new Uint8Array(buffer);
}

function parquetValue(v: ExportValue, type: ColumnType): ExportValue | bigint {
  if (v === null) return null;
  if (type === "int" && typeof v === "number") return BigInt(v);
  if (type === "string") return String(v);
  return v;
}

/** The file contents of a table in one format. */
export function serialiseExport(t: ExportTable, format: ExportFormat): string | Uint8Array {
  return format === "csv" ? exportCsv(t) : format === "jsonl" ? exportJsonl(t) : exportParquet(t);
}
