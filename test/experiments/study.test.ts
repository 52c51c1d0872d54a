import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { ACTIVATION_IDS } from "../../src/core/activations.js";
import { classifyPhase } from "../../src/core/metrics.js";
import { makeSpec } from "../../src/core/model.js";
import { train } from "../../src/core/train.js";
import { ConfigError, parseSeeds, parseWith, studySchema } from "../../src/experiments/config.js";
import { getPreset, PHASE_GRID, phaseAxes } from "../../src/experiments/presets.js";
import { groupForLockstep, planStudy } from "../../src/experiments/study.js";
import { estimatedWork, planGroups } from "../../src/experiments/sweep.js";

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
    expect(planGroups(jobs, 2, 8).every((g) => g.length <= 8)).toBe(true);
    const eight = planGroups(jobs, 8, 8);
    expect(eight.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...eight.map((g) => g.length))).toBe(4); // ⌈54 cells / (2 × 8 workers)⌉
    expect(planGroups(jobs, 2, 1)).toHaveLength(jobs.length);
    expect(planGroups(jobs.slice(0, 2), 2, 8)).toHaveLength(2);
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
