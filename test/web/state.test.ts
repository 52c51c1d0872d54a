// The explorer's UI state logic (web/src/train-form, run-status, route, store-index, format, state-curve).

import { describe, expect, it } from "vitest";
import { ACTIVATION_IDS } from "../../src/core/activations.js";
import { parseCellKey } from "../../src/experiments/cell-key.js";
import { getPreset } from "../../src/experiments/presets.js";
import { formatSparsity, lossPosition } from "../../web/src/format.js";
import { formatRoute, parseRoute } from "../../web/src/route.js";
import { combinedStatus, controlsFor, nextStatus, type RunStatus } from "../../web/src/run-status.js";
import { appendCurve, CurveRecorder } from "../../web/src/state-curve.js";
import { gridModel, indexCells } from "../../web/src/store-index.js";
import {
  FORM_DEFAULTS,
  parseImportance,
  parseProbabilities,
  parseTrainForm,
  type TrainForm,
} from "../../web/src/train-form.js";

const specOf = (id: string) => getPreset(id).spec();
const parse = (over: Partial<TrainForm>) =>
  parseTrainForm({ ...FORM_DEFAULTS, ...over }, ACTIVATION_IDS, specOf);
/** The form with "custom" chosen as the preset and `over` in its model fields. */
const custom = (over: Partial<TrainForm>) => parse({ preset: "custom", ...over });

describe("Train form", () => {
  it("turns a built-in preset into the preset's exact spec", () => {
    const choices = { activationA: "gelu", activationB: "relu", steps: "500", lr: "3e-3", seed: "7" };
    for (const preset of ["intro", "demo", "phase"]) {
      const r = parse({ ...choices, preset });
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      const spec = getPreset(preset).spec();
      expect(r.plan.spec.nFeatures).toBe(spec.nFeatures);
      expect(r.plan.spec.nHidden).toBe(spec.nHidden);
      expect(r.plan.spec.featureProbability).toEqual(Array.from(spec.featureProbability));
      expect(r.plan.spec.importance).toEqual(Array.from(spec.importance));
      expect(r.plan).toMatchObject({ preset, activations: ["gelu", "relu"], steps: 500, lr: 3e-3, seed: 7 });
    }
  });

  it("trains one activation when the second is none", () => {
    const r = parse({ activationA: "relu", activationB: "" });
    expect(r.ok && r.plan.activations).toEqual(["relu"]);
  });

  it("builds a custom spec from F, H, probabilities and importance", () => {
    const r = custom({ features: "3", hidden: "2", probabilities: "1, 0.1", importance: "0.5" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.spec).toEqual({
      nFeatures: 3,
      nHidden: 2,
      featureProbability: [1, 0.1],
      importance: [1, 0.5, 0.25, 1, 0.5, 0.25],
    });
  });

  it("reports every invalid field, and nothing else", () => {
    const r = parse({ steps: "abc", lr: "-1", seed: "1.5", batchSize: "0", activationA: "nope" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.errors).sort()).toEqual(["activationA", "batchSize", "lr", "seed", "steps"]);
    const c = custom({ features: "0", hidden: "x", probabilities: "2", importance: "1" });
    expect(c.ok).toBe(false);
    if (!c.ok) expect(Object.keys(c.errors).sort()).toEqual(["features", "hidden", "probabilities"]);
  });

  it("refuses custom models too large to train interactively", () => {
    const r = custom({ features: "200", hidden: "64", probabilities: "1:0.01:40", importance: "1" });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.features).toMatch(/at most/);
  });

  it("parses probabilities as a list or log-spaced from:to:n", () => {
    expect(parseProbabilities("1, 0.3 0.1")).toEqual({ ok: true, value: [1, 0.3, 0.1] });
    const r = parseProbabilities("1:0.05:10");
    expect(r.ok).toBe(true);
    if (r.ok) {
      const intro = Array.from(getPreset("intro").spec().featureProbability);
      for (const [i, p] of r.value.entries()) expect(p).toBeCloseTo(intro[i], 12);
    }
    expect(parseProbabilities("0").ok).toBe(false);
    expect(parseProbabilities("1.5").ok).toBe(false);
    expect(parseProbabilities("1:0.1:0").ok).toBe(false);
    expect(parseProbabilities("").ok).toBe(false);
  });

  it("parses importance as a decay or one weight per feature", () => {
    expect(parseImportance("0.9", 3)).toEqual({ ok: true, value: [1, 0.9, 0.9 ** 2] });
    expect(parseImportance("1 2 3", 3)).toEqual({ ok: true, value: [1, 2, 3] });
    expect(parseImportance("1 2", 3).ok).toBe(false);
    expect(parseImportance("-1", 3).ok).toBe(false);
  });
});

describe("run lifecycle", () => {
  it("moves through train → started → stop → resume → finished", () => {
    let s: RunStatus = "idle";
    s = nextStatus(s, "train");
    expect(s).toBe("starting");
    s = nextStatus(s, "started");
    expect(s).toBe("running");
    s = nextStatus(s, "stop");
    expect(s).toBe("paused");
    expect(nextStatus(s, "started")).toBe("paused");
    s = nextStatus(s, "resume");
    expect(s).toBe("running");
    s = nextStatus(s, "finished");
    expect(s).toBe("done");
    expect(nextStatus(s, "resume")).toBe("done");
    expect(nextStatus(s, "stop")).toBe("done");
    expect(nextStatus(s, "train")).toBe("starting");
    expect(nextStatus("running", "failed")).toBe("error");
  });

  it("enables Stop only while training and Resume only when stopped", () => {
    expect(controlsFor("running", true)).toEqual({ train: true, stop: true, resume: false, export: true });
    expect(controlsFor("paused", true)).toEqual({ train: true, stop: false, resume: true, export: true });
    expect(controlsFor("done", true)).toMatchObject({ stop: false, resume: false, export: true });
    expect(controlsFor("idle", false)).toMatchObject({ stop: false, resume: false, export: false });
  });

  it("combines side-by-side runs: running wins, then paused", () => {
    expect(combinedStatus(["done", "running"])).toBe("running");
    expect(combinedStatus(["done", "paused"])).toBe("paused");
    expect(combinedStatus(["done", "done"])).toBe("done");
    expect(combinedStatus([])).toBe("idle");
  });
});

describe("routes", () => {
  it("round-trips tabs, cells and instances through the hash", () => {
    for (const r of [
      { tab: "train" as const },
      { tab: "browse" as const },
      { tab: "browse" as const, cell: "intro/relu/seed-0" },
      { tab: "browse" as const, cell: "demo/gelu~f64/seed-2", instance: 3 },
    ]) {
      expect(parseRoute(formatRoute(r))).toEqual(r);
    }
    expect(parseRoute("")).toEqual({ tab: "train" });
    expect(parseRoute("#nonsense")).toEqual({ tab: "train" });
    expect(parseRoute("#browse/not/a/key")).toEqual({ tab: "browse" });
  });
});

describe("results store index", () => {
  const cells = [
    "intro/relu/seed-0",
    "intro/relu/seed-1",
    "intro/gelu/seed-0",
    "intro/relu~f64/seed-0",
    "demo/relu/seed-0",
    "bogus",
  ];

  it("parses cell keys with variants", () => {
    expect(parseCellKey("intro/relu~f64/seed-3")).toEqual({
      key: "intro/relu~f64/seed-3",
      preset: "intro",
      row: "relu~f64",
      activation: "relu",
      variant: "f64",
      seed: 3,
    });
    expect(parseCellKey("intro/relu")).toBeUndefined();
  });

  it("groups cells by preset into rows (activations) and seeds", () => {
    const idx = indexCells(cells);
    expect(idx.map((p) => p.preset)).toEqual(["intro", "demo"]);
    expect(idx[0].rows).toEqual(["relu", "gelu", "relu~f64"]);
    expect(idx[0].seeds).toEqual([0, 1]);
    expect(idx[0].keys.get("relu")?.get(1)).toBe("intro/relu/seed-1");
  });

  it("builds the activation × sparsity grid, with missing runs and per-column colour ranges", () => {
    const idx = indexCells(cells)[0];
    const inst = (loss: number, p: number) => ({ sparsity: 1 - p, loss, diverged: false });
    const results = new Map([
      ["intro/relu/seed-0", { instances: [inst(0.1, 1), inst(0.01, 0.5)] }],
      ["intro/gelu/seed-0", { instances: [inst(0.2, 1), { ...inst(Number.NaN, 0.5), diverged: true }] }],
    ]);
    const g = gridModel(idx, 0, results);
    expect(g.sparsity).toEqual([0, 0.5]);
    expect(g.rows.map((r) => [r.row, r.missing])).toEqual([
      ["relu", false],
      ["gelu", false],
      ["relu~f64", true],
    ]);
    expect(g.rows[1].cells[1]).toMatchObject({ loss: undefined, diverged: true });
    expect(g.columnRange[0][0]).toBeCloseTo(-1);
    expect(g.columnRange[0][1]).toBeCloseTo(Math.log10(0.2));
    expect(lossPosition(0.1, g.columnRange[0])).toBe(0);
    expect(lossPosition(0.2, g.columnRange[0])).toBe(1);
  });

  it("labels sparsity with enough digits", () => {
    expect(formatSparsity(1)).toBe("0");
    expect(formatSparsity(0.3)).toBe("0.70");
    expect(formatSparsity(0.001)).toBe("0.9990");
  });
});

describe("live loss curve", () => {
  it("records the mean loss between points, at log-spaced and every-1% steps", () => {
    const rec = new CurveRecorder(1000, 2);
    for (let s = 1; s <= 1000; s++) rec.add(s, [s, Number.NaN]);
    const c = rec.all();
    expect(c.step[0]).toBe(1);
    expect(c.step.at(-1)).toBe(1000);
    expect(c.step).toContain(500);
    expect(c.step.length).toBe(rec.capacity);
    expect([...c.step].sort((a, b) => a - b)).toEqual(c.step);
    // the point at step 1000 averages the steps since the previous point
    const prev = c.step.at(-2) ?? 0;
    expect(c.loss.at(-1)?.[0]).toBeCloseTo((prev + 1 + 1000) / 2);
    expect(Number.isNaN(c.loss[0][1])).toBe(true);
  });

  it("hands out only new points, which append to the same curve", () => {
    const rec = new CurveRecorder(200, 1);
    const curve = { step: [] as number[], loss: [] as number[][] };
    for (let s = 1; s <= 200; s++) {
      rec.add(s, [1 / s]);
      if (s % 37 === 0 || s === 200) appendCurve(curve, rec.takeNew());
    }
    expect(curve).toEqual(rec.all());
    expect(rec.takeNew().step).toEqual([]);
  });
});
