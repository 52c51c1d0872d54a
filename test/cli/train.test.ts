// `tms train` end to end through the built binary: the documented JSON shape, agreement with the library
// call it wraps, and clean usage errors (exit 2, one line on stderr, no stack trace).

import { beforeAll, describe, expect, it } from "vitest";
import { getPreset } from "../../src/experiments/presets.js";
import { runTraining } from "../../src/experiments/run.js";
import { type CliResult, ensureBuilt, runCli } from "../helpers/cli.js";

beforeAll(() => ensureBuilt());

const TOP_KEYS = [
  "preset",
  "activation",
  "nFeatures",
  "nHidden",
  "nInstances",
  "steps",
  "batchSize",
  "lr",
  "seed",
  "dtype",
  "seconds",
  "instances",
];
const INSTANCE_KEYS = [
  "featureProbability",
  "sparsity",
  "loss",
  "trainLoss",
  "diverged",
  "divergedAtStep",
  "norms",
  "superposition",
  "dimsPerFeature",
];

function parseSingleJson(r: CliResult): Record<string, unknown> {
  const lines = r.stdout.split("\n").filter((l) => l.trim() !== "");
  expect(lines, r.stdout).toHaveLength(1);
  return JSON.parse(lines[0]) as Record<string, unknown>;
}

describe("tms train --json", () => {
  let result: CliResult;
  let out: Record<string, unknown>;
  beforeAll(async () => {
    result = await runCli(["train", "--preset", "intro", "--activation", "relu", "--steps", "200", "--json"]);
    out = parseSingleJson(result);
  });

  it("exits 0 and prints one JSON object with the documented keys", () => {
    expect(result.code, result.stderr).toBe(0);
    for (const k of TOP_KEYS) expect(out, k).toHaveProperty(k);
    expect(out.preset).toBe("intro");
    expect(out.activation).toBe("relu");
    expect(out.steps).toBe(200);
    expect(out.dtype).toBe("f32");
    expect(typeof out.seconds).toBe("number");
    expect(out.seconds as number).toBeGreaterThan(0);
  });

  it("describes the intro preset: 5 features, 2 hidden, 10 instances with p = 20^(−i/9)", () => {
    const spec = getPreset("intro").spec();
    expect(out.nFeatures).toBe(spec.nFeatures);
    expect(out.nHidden).toBe(spec.nHidden);
    expect(out.nInstances).toBe(10);
    const instances = out.instances as Record<string, unknown>[];
    expect(instances).toHaveLength(10);
    instances.forEach((r, i) => {
      for (const k of INSTANCE_KEYS) expect(r, `${i}.${k}`).toHaveProperty(k);
      expect(r.featureProbability).toBeCloseTo(20 ** -(i / 9), 12);
      expect(r.sparsity).toBeCloseTo(1 - 20 ** -(i / 9), 12);
      expect(r.loss as number).toBeGreaterThan(0);
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(Number.isFinite(r.trainLoss)).toBe(true);
      expect(r.diverged).toBe(false);
      expect(r.divergedAtStep).toBeNull();
      expect(r.norms).toHaveLength(5);
      expect(r.superposition).toHaveLength(5);
      expect(typeof r.dimsPerFeature).toBe("number");
    });
  });

  it("flags reach the engine: the CLI's numbers equal runTraining with the same options", async () => {
    const args = ["--seed", "3", "--lr", "0.002", "--dtype", "f64", "--batch-size", "128", "--steps", "60"];
    const r = await runCli(["train", "--preset", "intro", "--activation", "gelu", ...args, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const cli = parseSingleJson(r);
    expect(cli).toMatchObject({ seed: 3, lr: 0.002, dtype: "f64", batchSize: 128, steps: 60 });
    const lib = runTraining("intro", getPreset("intro").spec(), "gelu", {
      steps: 60,
      batchSize: 128,
      lr: 0.002,
      lrSchedule: "constant",
      seed: 3,
      dtype: "f64",
      softmaxDim: "features",
    }).summary;
    const rows = cli.instances as { loss: number; trainLoss: number; norms: number[] }[];
    expect(lib.instances).toHaveLength(10);
    expect(rows).toHaveLength(lib.instances.length);
    rows.forEach((row, i) => {
      expect(row.loss).toBe(lib.instances[i].loss);
      expect(row.trainLoss).toBe(lib.instances[i].trainLoss);
      expect(row.norms).toEqual(lib.instances[i].norms);
    });
  });

  it("--optimizer sgd trains with SGD (the summary names it; the numbers are runTraining's with sgd)", async () => {
    const args = ["--seed", "2", "--steps", "40", "--lr", "0.05", "--dtype", "f64"];
    const r = await runCli(["train", "--preset", "intro", ...args, "--optimizer", "sgd", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const cli = parseSingleJson(r);
    expect(cli.optimizer).toBe("sgd");
    const options = {
      steps: 40,
      batchSize: 1024,
      lr: 0.05,
      lrSchedule: "constant" as const,
      seed: 2,
      dtype: "f64" as const,
      softmaxDim: "features" as const,
    };
    const spec = getPreset("intro").spec();
    const sgd = runTraining("intro", spec, "relu", { ...options, optimizer: "sgd" }).summary;
    const adamw = runTraining("intro", spec, "relu", options).summary;
    const losses = (cli.instances as { trainLoss: number }[]).map((row) => row.trainLoss);
    expect(losses).toEqual(sgd.instances.map((row) => row.trainLoss));
    expect(losses).not.toEqual(adamw.instances.map((row) => row.trainLoss));
    expect(adamw).not.toHaveProperty("optimizer");
  });
});

describe("tms train: bad input exits 2 with one line naming the problem", () => {
  const cases: [string, string[], string][] = [
    ["unknown activation", ["--activation", "nope"], "nope"],
    ["unknown preset", ["--preset", "nope"], "nope"],
    ["non-numeric steps", ["--steps", "abc"], "--steps"],
    ["zero steps", ["--steps", "0"], "--steps"],
    ["negative lr", ["--lr", "-1"], "--lr"],
    ["unknown dtype", ["--dtype", "f16"], "--dtype"],
    ["unknown optimizer", ["--optimizer", "lbfgs"], "--optimizer"],
  ];
  it.each(cases)("%s", async (_name, args, mentions) => {
    const r = await runCli(["train", "--preset", "intro", "--steps", "5", ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(mentions);
    expect(r.stderr).not.toContain("    at ");
  });

  it("the unknown-activation message lists the valid ids", async () => {
    const r = await runCli(["train", "--activation", "nope", "--steps", "5"]);
    expect(r.stderr).toContain("relu");
    expect(r.stderr).toContain("softmin");
  });
});
