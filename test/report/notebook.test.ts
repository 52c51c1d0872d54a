// examples/notebooks/explore-store.ipynb run headless (jupyter-nbconvert) on a small trained store: it runs
// clean, draws its three figures, and the numbers it computed from the export and from the safetensors
// (written to TMS_NOTEBOOK_CHECKS) agree with result.json.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { CellResult } from "../../src/experiments/store-format.js";
import { superpositionScore } from "../../src/report/data.js";
import { ensureBuilt, ROOT, runCli, tempDir } from "../helpers/cli.js";
import { NBCONVERT, pythonAvailable } from "../helpers/python.js";

const NOTEBOOK = join(ROOT, "examples", "notebooks", "explore-store.ipynb");

interface Check {
  cell: string;
  instance: number;
  loss: number | null;
  sparsity: number;
  norms: number[];
  superposition_per_feature: number[];
  dims_per_feature: number | null;
  superposition: number;
  features_represented: number;
}

function run(cmd: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

/** |a − b| ≤ tol·max(|a|, |b|, 1e-12): the safetensors hold float32 W, summed in another order by numpy. */
function close(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b), 1e-12);
}

const tools = pythonAvailable("notebook");

describe.skipIf(!tools.run)("the explore-store notebook, headless", () => {
  const dir = tempDir("tms-notebook-");
  const store = join(dir, "store");
  const checksFile = join(dir, "checks.json");
  let executed: { cells: { outputs?: { output_type: string; data?: Record<string, unknown> }[] }[] };
  let log = "";

  beforeAll(async () => {
    if (tools.failMessage) throw new Error(tools.failMessage);
    ensureBuilt();
    const sweep = await runCli([
      ...["sweep", "--presets", "intro,demo", "--activations", "relu,gelu", "--seeds", "0-1"],
      ...["--steps", "60", "--workers", "2", "--out", store],
    ]);
    expect(sweep.code, sweep.stderr).toBe(0);
    const exp = await runCli(["export", store]);
    expect(exp.code, exp.stderr).toBe(0);
    const nb = await run(
      NBCONVERT,
      ["--to", "notebook", "--execute", NOTEBOOK, "--output-dir", dir, "--ExecutePreprocessor.timeout=120"],
      { TMS_STORE: store, TMS_ACTIVATION: "gelu", TMS_NOTEBOOK_CHECKS: checksFile },
    );
    log = nb.out;
    expect(nb.code, nb.out).toBe(0);
    executed = JSON.parse(readFileSync(join(dir, "explore-store.ipynb"), "utf8"));
  }, 240_000);

  it("runs every cell without an error and draws the three figures", () => {
    const outputs = executed.cells.flatMap((c) => c.outputs ?? []);
    expect(
      outputs.filter((o) => o.output_type === "error"),
      log,
    ).toEqual([]);
    expect(outputs.filter((o) => o.data?.["image/png"]).length).toBe(3);
  });

  it("its numbers from the export and from the weights agree with result.json", () => {
    const checks: Check[] = JSON.parse(readFileSync(checksFile, "utf8"));
    const manifest = JSON.parse(readFileSync(join(store, "manifest.json"), "utf8"));
    const results: CellResult[] = manifest.cells.map((k: string) =>
      JSON.parse(readFileSync(join(store, k, "result.json"), "utf8")),
    );
    expect(checks).toHaveLength(results.reduce((n, r) => n + r.instances.length, 0));
    const byCell = new Map(results.map((r) => [r.key, r]));
    for (const c of checks) {
      const x = byCell.get(c.cell)?.instances[c.instance];
      if (!x) throw new Error(`the notebook checked ${c.cell} #${c.instance}, which the store does not hold`);
      const what = `${c.cell} instance ${c.instance}`;
      // From the CSV, read with float_precision="round_trip": the very float64 of result.json.
      expect(c.loss, `loss of ${what}`).toBe(x.loss);
      expect(c.sparsity, `sparsity of ${what}`).toBe(x.sparsity);
      // From the safetensors, recomputed with numpy.
      expect(c.norms).toHaveLength(x.norms.length);
      for (let f = 0; f < c.norms.length; f++) {
        expect(close(c.norms[f], x.norms[f], 1e-12), `‖W_${f}‖ of ${what}`).toBe(true);
        const sup = c.superposition_per_feature[f];
        expect(close(sup, x.superposition[f], 1e-9), `superposition of feature ${f}, ${what}`).toBe(true);
      }
      expect(close(c.dims_per_feature ?? Number.NaN, x.dimsPerFeature, 1e-12), `D* of ${what}`).toBe(true);
      expect(close(c.superposition, superpositionScore(x), 1e-9), `superposition of ${what}`).toBe(true);
      expect(c.features_represented, what).toBe(x.featuresRepresented);
    }
  });
});
