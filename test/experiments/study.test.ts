import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { ACTIVATION_IDS } from "../../src/core/activations.js";
import { classifyPhase } from "../../src/core/metrics.js";
import { makeSpec } from "../../src/core/model.js";
import { train } from "../../src/core/train.js";
import { cellKey, parseCellKey } from "../../src/experiments/cell-key.js";
import {
  ConfigError,
  experimentSchema,
  parseSeeds,
  parseWith,
  studySchema,
} from "../../src/experiments/config.js";
import { experimentSpec, inferKind } from "../../src/experiments/experiment.js";
import { getPreset, PHASE_GRID, PRESET_IDS, phaseAxes } from "../../src/experiments/presets.js";
import PRESET_DATA from "../../src/experiments/presets.json" with { type: "json" };
import { type CellJob, groupForLockstep, planStudy } from "../../src/experiments/study.js";
import {
  defaultWorkers,
  estimatedWork,
  planGroups,
  WORK_PER_WORKER,
  workersFor,
} from "../../src/experiments/sweep.js";

const seedStudy = () =>
  parseWith(
    studySchema,
    parse(readFileSync(join(import.meta.dirname, "..", "..", "examples", "seed-study.toml"), "utf8")),
    "seed-study.toml",
  );

describe("study planning", () => {
  it("plans the seed study: every activation × intro, demo × 3 seeds, plus f64 reruns of (hard)sigmoid", () => {
    const jobs = planStudy(seedStudy());
    const keys = jobs.map((j) => j.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(jobs.filter((j) => j.variant === "")).toHaveLength(ACTIVATION_IDS.length * 2 * 3);
    expect(
      jobs
        .filter((j) => j.variant === "f64")
        .map((j) => j.activation)
        .sort(),
    ).toEqual([...Array(6).fill("hardsigmoid"), ...Array(6).fill("sigmoid")]);
    expect(keys).toContain("demo/sigmoid~f64/seed-2");
    expect(jobs.find((j) => j.key === "demo/sigmoid~f64/seed-2")?.options.dtype).toBe("f64");
  });

  it("parses seed lists and ranges, and rejects garbage", () => {
    expect(parseSeeds("0-4")).toEqual([0, 1, 2, 3, 4]);
    expect(parseSeeds("0,3,7")).toEqual([0, 3, 7]);
    expect(() => parseSeeds("a-b")).toThrow(ConfigError);
    expect(() => parseSeeds("4-1")).toThrow(/empty/);
  });

  it("defines the presets of the issue", () => {
    const sparsity = getPreset("sparsity").spec();
    expect([sparsity.nFeatures, sparsity.nHidden, sparsity.nInstances]).toEqual([100, 20, 20]);
    expect(sparsity.importance[99]).toBeCloseTo(0.01, 12);
    expect(sparsity.featureProbability[19]).toBeCloseTo(0.05, 12);
    const geometry = getPreset("geometry").spec();
    expect([geometry.nFeatures, geometry.nHidden]).toEqual([200, 20]);
    const phase = getPreset("phase").spec();
    expect(phase.nInstances).toBe(PHASE_GRID * PHASE_GRID);
    const { relativeImportance, featureProbability } = phaseAxes();
    expect(relativeImportance[0]).toBeCloseTo(0.1, 12);
    expect(relativeImportance.at(-1)).toBeCloseTo(10, 12);
    expect(featureProbability.at(-1)).toBeCloseTo(0.01, 12);
    // instance = row · 20 + column: importance of feature 2 follows the column, p the row
    expect(phase.importance[2 * (3 * PHASE_GRID + 5) + 1]).toBeCloseTo(relativeImportance[5], 12);
    expect(phase.featureProbability[3 * PHASE_GRID + 5]).toBeCloseTo(featureProbability[3], 12);
  });
});

describe("presets are data in the user experiments' schema", () => {
  it("validates every built-in preset with the schema a config file's [[experiments]] goes through", () => {
    for (const raw of PRESET_DATA) {
      const parsed = parseWith(experimentSchema, raw, `presets.json: ${raw.id}`);
      expect(parsed.kind, raw.id).toBeDefined();
      expect(experimentSpec(parsed), raw.id).toEqual(getPreset(raw.id).spec());
    }
    expect(PRESET_IDS).toEqual(["intro", "demo", "sparsity", "geometry", "phase"]);
  });

  it("builds the notebook's numbers bit for bit (the closed forms the presets were written as)", () => {
    const range = (n: number) => Array.from({ length: n }, (_, k) => k);
    const exact = (id: string, probs: number[], importance: (i: number, f: number) => number) => {
      const s = getPreset(id).spec();
      expect(Array.from(s.featureProbability), id).toEqual(probs);
      for (let i = 0; i < s.nInstances; i++)
        for (let f = 0; f < s.nFeatures; f++)
          expect(s.importance[i * s.nFeatures + f], `${id} ${i} ${f}`).toBe(importance(i, f));
    };
    exact(
      "intro",
      range(10).map((i) => 20 ** -(i / 9)),
      (_, f) => 0.9 ** f,
    );
    exact("demo", [1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001], (_, f) => 0.7 ** f);
    exact(
      "sparsity",
      range(20).map((i) => 20 ** -(i / 19)),
      (_, f) => 100 ** -(f / 99),
    );
    exact(
      "geometry",
      range(20).map((i) => 20 ** -(i / 19)),
      () => 1,
    );
    const log = (a: number, b: number) => range(20).map((k) => a * (b / a) ** (k / 19));
    exact(
      "phase",
      log(1, 0.01).flatMap((p) => range(20).map(() => p)),
      (i, f) => (f === 0 ? 1 : log(0.1, 10)[i % 20]),
    );
  });

  it("rejects an experiment with both or neither of featureProbability and phaseGrid, or a 3-feature grid", () => {
    const grid = {
      relativeImportance: { from: 0.1, to: 10, n: 3 },
      featureProbability: { from: 1, to: 0.1, n: 2 },
    };
    const base = { id: "x", nFeatures: 2, nHidden: 1 };
    expect(() => parseWith(experimentSchema, base, "t")).toThrow(/featureProbability or phaseGrid/);
    expect(() =>
      parseWith(experimentSchema, { ...base, featureProbability: [1], phaseGrid: grid }, "t"),
    ).toThrow(/one of them/);
    expect(() => parseWith(experimentSchema, { ...base, nFeatures: 3, phaseGrid: grid }, "t")).toThrow(
      /nFeatures = 2/,
    );
    expect(() =>
      parseWith(experimentSchema, { ...base, featureProbability: { power: 0.5, count: 3 } }, "t"),
    ).toThrow(/power must be ≥ 1/);
    const spec = experimentSpec(parseWith(experimentSchema, { ...base, phaseGrid: grid }, "t"));
    expect(spec.nInstances).toBe(6);
  });

  it("refuses a user experiment named like a built-in preset", () => {
    const study = parseWith(
      studySchema,
      {
        presets: ["intro"],
        experiments: [{ id: "intro", nFeatures: 3, nHidden: 2, featureProbability: [1] }],
      },
      "t",
    );
    expect(() => planStudy(study)).toThrow(/'intro' clashes with a built-in preset/);
  });

  it("gives an experiment without a kind the one its shape suggests", () => {
    expect(inferKind({ nFeatures: 2, nHidden: 1, nInstances: 400 })).toBe("phase");
    expect(inferKind({ nFeatures: 5, nHidden: 2, nInstances: 10 })).toBe("sparsity-2d");
    expect(inferKind({ nFeatures: 40, nHidden: 10, nInstances: 5 })).toBe("sparsity-gram");
    expect(inferKind({ nFeatures: 100, nHidden: 20, nInstances: 20 })).toBe("sparsity");
  });

  it("parses back every cell key it builds, and nothing else", () => {
    for (const [p, a, v, s] of [
      ["intro", "relu", "", 0],
      ["demo", "softmax", "f64+softmax-batch", 12],
      ["my_exp-2", "gelu", "f64", 3],
    ] as const) {
      expect(parseCellKey(cellKey(p, a, v, s))).toEqual({
        key: cellKey(p, a, v, s),
        preset: p,
        row: v ? `${a}~${v}` : a,
        activation: a,
        variant: v,
        seed: s,
      });
    }
    for (const bad of ["intro/relu", "intro/relu/seed-x", "a/b/c/seed-1", "intro/relu~/seed-1"])
      expect(parseCellKey(bad), bad).toBeUndefined();
  });
});

describe("phase classification", () => {
  it("classifies hand-made solutions", () => {
    expect(classifyPhase(1, 0)).toBe("feature2-absent");
    expect(classifyPhase(0.02, -0.98)).toBe("feature2-alone");
    expect(classifyPhase(-1, 1)).toBe("superposition");
    expect(classifyPhase(0.9, 0.8)).toBe("both-aligned");
    expect(classifyPhase(0.1, 0.1)).toBe("none");
  });

  it("finds the paper's three phases in trained 2 → 1 models", () => {
    // dense & feature 2 ten times as important → it takes the neuron; dense & ten times less → it is dropped;
    // sparse & equally important → antipodal superposition (some seeds stall in a local optimum with
    // |w₂| ≈ 0.4, so we ask it of at least one of four seeds and never a wrong phase).
    const spec = makeSpec(
      2,
      1,
      [1, 1, 0.02],
      [
        [1, 10],
        [1, 0.1],
        [1, 1],
      ],
    );
    const sparseOutcomes: string[] = [];
    for (const seed of [0, 1, 2, 3]) {
      const { params } = train({
        spec,
        activation: "relu",
        steps: 3000,
        batchSize: 1024,
        lr: 1e-2,
        lrSchedule: "constant",
        seed,
        dtype: "f32",
        softmaxDim: "features",
      });
      const W = params.W;
      expect(classifyPhase(W[0], W[1])).toBe("feature2-alone");
      expect(classifyPhase(W[2], W[3])).toBe("feature2-absent");
      sparseOutcomes.push(classifyPhase(W[4], W[5]));
    }
    expect(sparseOutcomes).toContain("superposition");
    for (const o of sparseOutcomes) expect(["superposition", "feature2-absent"]).toContain(o);
  });
});

describe("lockstep groups", () => {
  const study = (extra: Record<string, unknown> = {}) =>
    planStudy(
      parseWith(
        studySchema,
        { presets: ["seed-study"], activations: "all", seeds: "0-1", dtypes: ["f32", "f64"], ...extra },
        "test",
      ),
    );

  it("groups only cells that share their data (preset, seed, steps, batch, dtype), each cell once", () => {
    const jobs = study();
    const groups = groupForLockstep(jobs, 8);
    expect(
      groups
        .flat()
        .map((j) => j.key)
        .sort(),
    ).toEqual(jobs.map((j) => j.key).sort());
    for (const g of groups) {
      expect(g.length).toBeGreaterThan(0);
      expect(g.length).toBeLessThanOrEqual(8);
      const o = g[0].options;
      for (const j of g) {
        expect([j.preset, j.options.seed, j.options.steps, j.options.batchSize, j.options.dtype]).toEqual([
          g[0].preset,
          o.seed,
          o.steps,
          o.batchSize,
          o.dtype,
        ]);
      }
    }
    // 2 presets × 2 seeds × 2 dtypes buckets of 27 cells, each cut into 4 groups of 7,7,7,6
    expect(groups).toHaveLength(32);
    expect(groups.slice(0, 4).map((g) => g.length)).toEqual([7, 7, 7, 6]);
  });

  it("keeps every worker busy: smaller groups when cells are few, none with --lockstep 1", () => {
    const jobs = study({ dtypes: ["f32"], seeds: "0" });
    const two = planGroups(jobs, 2, 8);
    expect(two.flat()).toHaveLength(jobs.length);
    for (const g of two) expect(g.length).toBeLessThanOrEqual(8);
    const eight = planGroups(jobs, 8, 8);
    expect(eight.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...eight.map((g) => g.length))).toBe(4); // ⌈54 cells / (2 × 8 workers)⌉
    expect(planGroups(jobs, 2, 1)).toHaveLength(jobs.length);
    expect(planGroups(jobs.slice(0, 2), 2, 8)).toHaveLength(2);
  });

  it("starts as many workers as asked, or without --workers as many as the study's work pays for", () => {
    const at = (steps: number) => planGroups(study({ dtypes: ["f32"], seeds: "0", train: { steps } }), 2, 8);
    // the seed study: 20 steps ≈ 1.9·10⁹ units of estimated work, 100 steps ≈ 9.5·10⁹, 10 000 steps ≈ 10¹²
    const work = (groups: CellJob[][]) => groups.flat().reduce((sum, job) => sum + estimatedWork(job), 0);
    expect(work(at(20))).toBeLessThan(WORK_PER_WORKER);
    expect(work(at(100))).toBeGreaterThan(2 * WORK_PER_WORKER);
    expect(workersFor(at(20), "auto")).toBe(1);
    expect(workersFor(at(100), "auto")).toBe(Math.min(3, defaultWorkers()));
    expect(workersFor(at(10_000), "auto")).toBe(defaultWorkers());
    // asked for: that many (no more than there are groups)
    expect(workersFor(at(20), 2)).toBe(2);
    expect(workersFor(at(20), 64)).toBe(at(20).length);
    expect(workersFor([], "auto")).toBe(1);
  });

  it("dispatches the largest work first: demo's groups (20 → 5, 7 instances) before intro's (5 → 2)", () => {
    const jobs = study({ dtypes: ["f32"], seeds: "0" });
    const order = planGroups(jobs, 2, 8).map((g) => g[0].preset);
    expect(order).toEqual(["demo", "demo", "demo", "demo", "intro", "intro", "intro", "intro"]);
    const [demo] = jobs.filter((j) => j.preset === "demo");
    const [intro] = jobs.filter((j) => j.preset === "intro");
    expect(estimatedWork(demo)).toBeGreaterThan(estimatedWork(intro));
    expect(estimatedWork({ ...demo, options: { ...demo.options, dtype: "f64" } })).toBe(
      2 * estimatedWork(demo),
    );
  });
});

describe("reading results back", () => {
  it("turns the nulls JSON writes for NaN/±Infinity back into NaN, keeping divergedAtStep null", async () => {
    const { reviveResult } = await import("../../src/experiments/store-format.js");
    const instances = [
      { loss: Number.POSITIVE_INFINITY, trainLoss: 0.5, diverged: true, divergedAtStep: 7 },
      { loss: 0.25, trainLoss: Number.NaN, diverged: false, divergedAtStep: null },
    ];
    const written = JSON.parse(
      JSON.stringify({
        instances,
        lossCurve: { step: [1], loss: [[Number.NaN, 0.125]] },
      }),
    );
    expect(written.instances[0].loss).toBeNull();
    const back = reviveResult(written);
    expect(back.instances[0].loss).toBeNaN();
    expect(back.instances[0].divergedAtStep).toBe(7);
    expect(back.instances[1].trainLoss).toBeNaN();
    expect(back.instances[1].loss).toBe(0.25);
    expect(back.instances[1].divergedAtStep).toBeNull();
    expect(back.lossCurve.loss[0][0]).toBeNaN();
    expect(back.lossCurve.loss[0][1]).toBe(0.125);
  });
});

describe("the optimizer as a study setting", () => {
  const plan = (train: Record<string, unknown>) =>
    planStudy(
      parseWith(studySchema, { presets: ["intro"], activations: ["relu"], seeds: [0], train }, "test"),
    );

  it("train.optimizer reaches every cell's options, and a non-AdamW optimizer tags the cell key", () => {
    const [sgd] = plan({ optimizer: "sgd" });
    expect(sgd.options.optimizer).toBe("sgd");
    expect(sgd.key).toBe("intro/relu~sgd/seed-0");
    const [adamw] = plan({});
    expect(adamw.options.optimizer).toBe("adamw");
    expect(adamw.key).toBe("intro/relu/seed-0");
  });

  it("an unknown optimizer is a ConfigError naming the key", () => {
    expect(() => plan({ optimizer: "lbfgs" })).toThrow(ConfigError);
    expect(() => plan({ optimizer: "lbfgs" })).toThrow(/optimizer/);
  });
});
