// The tidy export, in memory: one row per instance (or feature) with the report's own measures, missing
// values as null, the documented columns in order, and files that DuckDB (an independent Parquet reader) and
// a strict CSV split read back to the same numbers.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { reportDataFrom, superpositionScore, trivialLoss } from "../../src/report/data.js";
import {
  ACTIVATION_COLUMNS,
  activationColumns,
  buildExport,
  documentedColumns,
  type ExportRow,
} from "../../src/report/export.js";
import { exportCsv, exportJsonl, exportParquet } from "../../src/report/export-formats.js";
import { importanceNormRho } from "../../src/report/tables.js";
import { ROOT, tempDir } from "../helpers/cli.js";
import { inst, result } from "./synthetic.js";

function store() {
  const F = 3;
  const a = result({
    preset: "demo",
    activation: "relu",
    seed: 0,
    F,
    H: 2,
    instances: [
      inst({ p: 1, loss: 0.25, norms: [1, 0.4, 0.9], sup: 0.3 }, F),
      inst({ p: 0.1, loss: Number.NaN, diverged: true, norms: [0.2, 0.1, 0.7] }, F),
    ],
  });
  const b = result({
    preset: "demo",
    activation: "sigmoid",
    variant: "f64",
    seed: 1,
    F,
    H: 2,
    instances: [inst({ p: 0.5, loss: 0.5, norms: [0.6, 0.6, 0.1], sup: 0.05 }, F)],
  });
  // A newer store's optional field, on one instance only.
  Object.assign(b.instances[0], { weightChange: 1.75 });
  return reportDataFrom([a, b]);
}

describe("buildExport", () => {
  it("instance level: one row per instance, every value from the report's measures", () => {
    const data = store();
    const t = buildExport(data, "instance");
    expect(t.rows).toHaveLength(3);
    expect(t.columns.map((c) => c.name)).toEqual(documentedColumns("instance").map((c) => c.name));
    let k = 0;
    for (const s of data.series)
      for (const cell of s.cells)
        cell.instances.forEach((x, i) => {
          const row = t.rows[k++];
          expect(row.cell).toBe(cell.key);
          expect([row.preset, row.activation, row.variant, row.seed, row.instance]).toEqual([
            cell.preset,
            cell.activation,
            cell.variant,
            cell.seed,
            i,
          ]);
          expect(row.loss).toBe(Number.isFinite(x.loss) ? x.loss : null);
          expect(row.superposition).toBe(superpositionScore(x));
          expect(row.trivial_loss).toBe(trivialLoss(cell, i));
          expect(row.importance_norm_rho).toBe(importanceNormRho(x, cell, i));
          expect(row.features_represented).toBe(x.featuresRepresented);
          expect(row.diverged).toBe(x.diverged);
          expect(row.diverged_at_step).toBe(x.divergedAtStep);
          expect(row.activation_name).toBe(activationColumns(cell).activation_name);
        });
    expect(t.rows[0].activation_name).toBe("ReLU");
    // Properties from the definitions: ReLU non-negative, piecewise linear, not bounded above; sigmoid bounded.
    expect([
      t.rows[0].prop_non_negative,
      t.rows[0].prop_piecewise_linear,
      t.rows[0].prop_bounded_above,
    ]).toEqual([true, true, false]);
    expect([t.rows[2].prop_bounded_above, t.rows[2].prop_smooth, t.rows[2].prop_f0]).toEqual([
      true,
      true,
      0.5,
    ]);
    expect(t.rows[2].label).toBe("Sigmoid (f64)");
    // NaN loss (diverged) is a missing value, and so is the ratio built on it.
    expect(t.rows[1].loss).toBeNull();
    expect(t.rows[1].loss_over_trivial).toBeNull();
    expect(t.rows[1].diverged_at_step).toBe(7);
    // An optional field: present where the store recorded it, null elsewhere.
    expect(t.rows.map((r) => r.weight_change)).toEqual([null, null, 1.75]);
    // loss vs the all-zero predictor: 0.25 < 0.301 (p = 1), NaN loss, 0.5 > 0.151 (p = 0.5).
    expect(t.rows.map((r) => r.beats_zero_predictor)).toEqual([true, null, false]);
    expect(t.rows[0].trivial_loss).toBeCloseTo((1 + 0.9 + 0.81) / 9, 15);
  });

  it("feature level: one row per feature with its norm, superposition and importance", () => {
    const data = store();
    const t = buildExport(data, "feature");
    expect(t.rows).toHaveLength(9);
    expect(t.columns.map((c) => c.name)).toEqual(documentedColumns("feature").map((c) => c.name));
    const cell = data.series[0].cells[0];
    const rows = t.rows.filter((r) => r.cell === cell.key && r.instance === 0);
    expect(rows.map((r) => r.feature)).toEqual([0, 1, 2]);
    expect(rows.map((r) => r.norm)).toEqual(cell.instances[0].norms);
    expect(rows.map((r) => r.importance)).toEqual(cell.config.importance[0]);
    expect(rows.map((r) => r.feature_superposition)).toEqual(cell.instances[0].superposition);
    expect(rows.map((r) => r.represented)).toEqual([true, false, true]);
  });

  it("a formula activation adds its formula and one column per parameter, empty on other rows", () => {
    const data = store();
    const member = result({
      preset: "demo",
      activation: "swish_beta~beta=4",
      seed: 0,
      F: 3,
      H: 2,
      instances: [inst({ p: 1, loss: 0.1 }, 3)],
    });
    Object.assign(member, {
      formula: {
        id: "swish_beta~beta=4",
        name: "x·σ(βx)",
        formula: "x * sigmoid(beta * x)",
        params: { beta: 4 },
      },
    });
    const t = buildExport(reportDataFrom([...data.results, member]), "instance");
    const names = t.columns.map((c) => c.name);
    expect(names.slice(names.indexOf("cell") + 1, names.indexOf("dtype"))).toEqual([
      ...ACTIVATION_COLUMNS.map((c) => c.name),
      "formula",
      "param_beta",
    ]);
    expect(t.columns.find((c) => c.name === "param_beta")?.type).toBe("float");
    const row = t.rows.find((r) => r.activation === "swish_beta~beta=4");
    expect([row?.activation_name, row?.formula, row?.param_beta]).toEqual([
      "x·σ(βx)",
      "x * sigmoid(beta * x)",
      4,
    ]);
    const relu = t.rows.find((r) => r.activation === "relu");
    expect([relu?.formula, relu?.param_beta]).toEqual([null, null]);
    expect(exportCsv(t).split("\n")[0]).toContain(",prop_saturation,formula,param_beta,dtype,");
  });

  it("reports progress once per cell", () => {
    const seen: [number, number][] = [];
    buildExport(store(), "instance", (done, total) => seen.push([done, total]));
    expect(seen).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });
});

describe("export formats", () => {
  it("CSV: a header of the column names, empty fields for missing values, exact numbers", () => {
    const t = buildExport(store(), "instance");
    const lines = exportCsv(t).trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    const header = lines[0].split(",");
    expect(header).toEqual(t.columns.map((c) => c.name));
    const row1 = Object.fromEntries(lines[2].split(",").map((v, k) => [header[k], v]));
    expect(row1.loss).toBe("");
    expect(row1.diverged).toBe("True");
    const row2 = Object.fromEntries(lines[3].split(",").map((v, k) => [header[k], v]));
    expect(Number(row2.trivial_loss)).toBe(t.rows[2].trivial_loss);
    expect(row2.label).toBe("Sigmoid (f64)");
  });

  it("CSV quotes fields with commas or quotes", () => {
    const t = {
      level: "instance" as const,
      columns: [{ name: "label", type: "string" as const, unit: "", doc: "" }],
      rows: [{ label: 'a,"b"' }],
    };
    expect(exportCsv(t)).toBe('label\n"a,""b"""\n');
  });

  it("JSON Lines: one object per row, keys in column order, null for missing", () => {
    const t = buildExport(store(), "instance");
    const objs = exportJsonl(t)
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as ExportRow);
    expect(objs).toHaveLength(3);
    expect(Object.keys(objs[0])).toEqual(t.columns.map((c) => c.name));
    expect(objs[1].loss).toBeNull();
    expect(objs).toEqual(t.rows.map((r) => Object.fromEntries(t.columns.map((c) => [c.name, r[c.name]]))));
  });

  it("Parquet: DuckDB reads back every column with its type and every value", async () => {
    const t = buildExport(store(), "feature");
    const path = join(tempDir("tms-export-"), "features.parquet");
    writeFileSync(path, exportParquet(t));
    const db = await DuckDBInstance.create(":memory:");
    const con = await db.connect();
    const described = (await con.runAndReadAll(`DESCRIBE SELECT * FROM '${path}'`)).getRowObjectsJS();
    const duckType = { string: "VARCHAR", int: "BIGINT", float: "DOUBLE", bool: "BOOLEAN" };
    expect(described.map((d) => [d.column_name, d.column_type])).toEqual(
      t.columns.map((c) => [c.name, duckType[c.type]]),
    );
    const rows = (await con.runAndReadAll(`SELECT * FROM '${path}'`)).getRowObjectsJS();
    expect(rows).toHaveLength(t.rows.length);
    rows.forEach((r, k) => {
      for (const c of t.columns) {
        const v = r[c.name];
        expect(typeof v === "bigint" ? Number(v) : v, `${c.name} of row ${k}`).toEqual(t.rows[k][c.name]);
      }
    });
    const meta = (
      await con.runAndReadAll(
        `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${path}')`,
      )
    ).getRowObjectsJS();
    const columns = JSON.parse(String(meta.find((m) => m.k === "tms-lab.columns")?.v));
    expect(columns).toEqual(t.columns);
    con.closeSync();
    expect(readFileSync(path).subarray(0, 4).toString()).toBe("PAR1");
  });
});

describe("the README's From Python section", () => {
  it("documents every column with its type and unit, in table order", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(
      readme.indexOf("## From Python"),
      readme.indexOf("\n## ", readme.indexOf("## From Python") + 3),
    );
    const rows = [...section.matchAll(/^\| `(\w+)` \| (\w+) \| ([^|]+) \|/gm)].map((m) => [
      m[1],
      m[2],
      m[3].trim(),
    ]);
    const instance = documentedColumns("instance");
    const names = new Set(instance.map((c) => c.name));
    const expected = [...instance, ...documentedColumns("feature").filter((c) => !names.has(c.name))];
    expect(rows).toEqual(expected.map((c) => [c.name, c.type, c.unit || "—"]));
  });
});
