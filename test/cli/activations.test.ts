// `tms activations` through the built binary: the list, and evaluation with the documented JSON shape.

import { beforeAll, describe, expect, it } from "vitest";
import { ACTIVATION_IDS } from "../../src/core/activations.js";
import { ensureBuilt, runCli } from "../helpers/cli.js";
import { type ActivationFixture, num, readFixture } from "../helpers/fixtures.js";

beforeAll(() => ensureBuilt());

describe("tms activations", () => {
  it("--json lists every activation with id, name, formula, torch, doc", async () => {
    const r = await runCli(["activations", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as Record<string, string>[];
    expect(list.map((a) => a.id)).toEqual([...ACTIVATION_IDS]);
    for (const a of list)
      for (const k of ["id", "name", "formula", "torch", "doc"])
        expect(typeof a[k], `${a.id}.${k}`).toBe("string");
  });

  it("--properties --json: the computed property table, ±∞ written as a string", async () => {
    const r = await runCli(["activations", "--properties", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows.map((p) => p.id)).toEqual([...ACTIVATION_IDS]);
    const by = (id: string) => rows.find((p) => p.id === id)!;
    expect(by("relu")).toMatchObject({ nonNegative: true, piecewiseLinear: true, minNegative: 0 });
    expect(by("tanh")).toMatchObject({ odd: true, boundedAbove: true, boundedBelow: true });
    expect(by("leaky_relu").minNegative).toBe("-Infinity");
    const table = await runCli(["activations", "--properties", "--activation", "softplus"]);
    expect(table.stdout).toContain("softplus");
    expect(table.stdout).toContain("piecewise linear");
  });

  it("without --json prints a table naming every activation", async () => {
    const r = await runCli(["activations"]);
    expect(r.code, r.stderr).toBe(0);
    for (const id of ACTIVATION_IDS) expect(r.stdout).toContain(id);
  });

  it('--eval "-1,0,2" --activation relu,softmax --json: {ID: {x, y, dy}}, dy a Jacobian for softmax', async () => {
    const r = await runCli(["activations", "--eval", "-1,0,2", "--activation", "relu,softmax", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { x: number[]; y: number[]; dy: unknown[] }>;
    expect(Object.keys(out).sort()).toEqual(["relu", "softmax"]);
    const xs = [-1, 0, 2];

    // relu: element-wise, against PyTorch's values at the same points.
    const fx = readFixture<ActivationFixture>("activations.json");
    expect(out.relu.x).toEqual(xs);
    xs.forEach((x, k) => {
      const p = fx.points.indexOf(x);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(out.relu.y[k]).toBe(num(fx.elementwise.relu.y[p]));
      expect(out.relu.dy[k]).toBe(num(fx.elementwise.relu.dy[p]));
    });

    // softmax: one vector; y = eˣ/Σeˣ and dy[i][j] = ∂y_i/∂x_j = y_i(δ_ij − y_j).
    const e = xs.map(Math.exp);
    const sum = e.reduce((a, b) => a + b, 0);
    const y = e.map((v) => v / sum);
    expect(out.softmax.x).toEqual(xs);
    expect(out.softmax.y).toHaveLength(3);
    out.softmax.y.forEach((v, i) => {
      expect(v).toBeCloseTo(y[i], 14);
    });
    const J = out.softmax.dy as number[][];
    expect(J).toHaveLength(3);
    J.forEach((row, i) => {
      expect(row).toHaveLength(3);
      row.forEach((v, j) => {
        expect(v).toBeCloseTo(y[i] * ((i === j ? 1 : 0) - y[j]), 14);
      });
    });
  });

  it.each([
    ["unknown activation", ["--activation", "nope", "--json"], "nope"],
    ["non-numeric --eval", ["--eval", "1,x", "--json"], "--eval"],
  ])("%s exits 2 with one line, no stack trace", async (_n, args, mentions) => {
    const r = await runCli(["activations", ...args]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(mentions);
    expect(r.stderr).not.toContain("    at ");
  });
});
