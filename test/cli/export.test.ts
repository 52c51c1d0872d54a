// `tms export` end to end on a small trained store: pandas reads the CSV, DuckDB (an independent Parquet
// reader) the Parquet, both with the documented columns and result.json's numbers; bad input is one line,
// exit 2, and leaves the store as it was.

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { beforeAll, describe, expect, it } from "vitest";
import type { CellResult } from "../../src/experiments/store-format.js";
import { documentedColumns } from "../../src/report/export.js";
import { type CliResult, ensureBuilt, runCli, tempDir } from "../helpers/cli.js";
import { python, pythonAvailable } from "../helpers/python.js";

const dir = tempDir("tms-export-cli-");
const store = join(dir, "store");

function results(): CellResult[] {
  const manifest = JSON.parse(readFileSync(join(store, "manifest.json"), "utf8"));
  return manifest.cells.map((k: string) => JSON.parse(readFileSync(join(store, k, "result.json"), "utf8")));
}

/** Every file of the store (exports excluded) with its content hash. */
function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/\.(csv|parquet|jsonl)$/.test(e))
        out[p] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(store);
  return out;
}

function expectUsageError(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
}

beforeAll(async () => {
  ensureBuilt();
  const sweep = await runCli([
    ...["sweep", "--presets", "intro,demo", "--activations", "relu,sigmoid", "--seeds", "0-1"],
    ...["--steps", "50", "--dtype", "f32,f64", "--workers", "2", "--out", store],
  ]);
  expect(sweep.code, sweep.stderr).toBe(0);
}, 240_000);

describe("tms export on a trained store", () => {
  const pandas = pythonAvailable("pandas");

  it.skipIf(!pandas.run)(
    "writes DIR/instances.csv, which pandas reads with the documented columns",
    async () => {
      if (pandas.failMessage) throw new Error(pandas.failMessage);
      const r = await runCli(["export", store]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/export: \d+ instance rows × \d+ columns \(csv\)/);
      const read = python(
        `import json, pandas as pd
df = pd.read_csv(${JSON.stringify(join(store, "instances.csv"))}, float_precision="round_trip").fillna({"variant": ""})
print(json.dumps({"columns": list(df.columns), "diverged": str(df.diverged.dtype), "seed": str(df.seed.dtype),
  "rows": [{k: (None if v != v else v) for k, v in r.items()} for r in
           df[["cell", "instance", "variant", "loss", "sparsity", "features_represented"]].to_dict(orient="records")]}))`,
      );
      const got = JSON.parse(read);
      expect(got.columns).toEqual(documentedColumns("instance").map((c) => c.name));
      expect([got.diverged, got.seed]).toEqual(["bool", "int64"]);
      const want = results().flatMap((c) =>
        c.instances.map((x, i) => ({ cell: c.key, instance: i, variant: c.variant, x })),
      );
      expect(got.rows).toHaveLength(want.length);
      expect(new Set(got.rows.map((r: { variant: string }) => r.variant))).toEqual(new Set(["", "f64"]));
      const byKey = new Map(want.map((w) => [`${w.cell}#${w.instance}`, w]));
      for (const row of got.rows) {
        const w = byKey.get(`${row.cell}#${row.instance}`);
        expect(w, row.cell).toBeDefined();
        // float_precision="round_trip": pandas reads the very float64 that result.json holds.
        expect(row.loss).toBe(w?.x.loss);
        expect(row.sparsity).toBe(w?.x.sparsity);
        expect(row.features_represented).toBe(w?.x.featuresRepresented);
      }
    },
  );

  it("Parquet: DuckDB reads the documented columns and result.json's exact numbers", async () => {
    const out = join(dir, "out", "features.parquet");
    const r = await runCli(["export", store, "--level", "feature", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("(parquet)");
    const con = await (await DuckDBInstance.create(":memory:")).connect();
    const names = (await con.runAndReadAll(`DESCRIBE SELECT * FROM '${out}'`)).getRowObjectsJS();
    expect(names.map((n) => n.column_name)).toEqual(documentedColumns("feature").map((c) => c.name));
    const rows = (
      await con.runAndReadAll(
        `SELECT cell, instance, feature, norm, loss FROM '${out}' ORDER BY cell, instance, feature`,
      )
    ).getRowObjectsJS();
    const cells = new Map(results().map((c) => [c.key, c]));
    const expected = [...cells.values()].reduce((n, c) => n + c.instances.length * c.nFeatures, 0);
    expect(rows).toHaveLength(expected);
    for (const row of rows) {
      const x = cells.get(String(row.cell))?.instances[Number(row.instance)];
      expect(row.norm).toBe(x?.norms[Number(row.feature)]);
      expect(row.loss).toBe(x?.loss);
    }
    con.closeSync();
  });

  it("JSON Lines to standard output", async () => {
    const r = await runCli(["export", store, "--format", "jsonl", "--out", "-", "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(results().reduce((n, c) => n + c.instances.length, 0));
    expect(Object.keys(JSON.parse(lines[0]))).toEqual(documentedColumns("instance").map((c) => c.name));
  });
});

describe.concurrent("tms export: bad input is one line, exit 2, and the store is untouched", () => {
  const file = join(dir, "a-file");
  const cases: [string, () => string[], RegExp][] = [
    ["a missing directory", () => ["export", join(dir, "nope")], /no such directory/],
    ["a directory that is not a store", () => ["export", dir], /not a tms-lab results store/],
    [
      "an unknown format",
      () => ["export", store, "--format", "xlsx"],
      /--format: unknown value 'xlsx'.*csv, parquet, jsonl/,
    ],
    [
      "an unknown level",
      () => ["export", store, "--level", "cell"],
      /--level: unknown value 'cell'.*instance, feature/,
    ],
    ["an output below a file", () => ["export", store, "--out", join(file, "x.csv")], /a-file is a file/],
    ["an output that is a directory", () => ["export", store, "--out", store], /is a directory/],
    [
      "an output that is a store file",
      () => ["export", store, "--out", join(store, "manifest.json")],
      /refusing to overwrite/,
    ],
  ];
  for (const [what, args, pattern] of cases) {
    it(what, async () => {
      writeFileSync(file, "x");
      mkdirSync(dir, { recursive: true });
      const before = snapshot();
      expectUsageError(await runCli(args()), pattern);
      expect(snapshot()).toEqual(before);
    });
  }
});
