// Formula activations in studies: config validation (one schema), expansion of parameter families into
// cells, lockstep grouping with built-ins, and the CLI end to end (exit 2 and an untouched store on a bad
// formula; result.json and manifest record formula and parameter values).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getActivation } from "../../src/core/activations.js";
import { executeCell, executeCells } from "../../src/experiments/cell.js";
import { ConfigError, parseWith, studySchema } from "../../src/experiments/config.js";
import { groupForLockstep, planStudy } from "../../src/experiments/study.js";
import { tempDir, tms } from "../helpers/cli.js";

const family = {
  id: "swish_beta",
  name: "x·σ(βx)",
  formula: "x * sigmoid(beta * x)",
  params: { beta: [0.5, 1, 4] },
};

/** The cells of a study config given as data. */
const jobsOf = (config: unknown) => planStudy(parseWith(studySchema, config, "test"));

describe("study configs with formulas", () => {
  it("expands a family into one cell per value, after the listed activations, carrying its definition", () => {
    const jobs = jobsOf({
      presets: ["intro"],
      activations: ["relu", "q=x*sigmoid(1.702*x)"],
      seeds: [0, 1],
      formulas: [family],
    });
    const ids = [...new Set(jobs.map((j) => j.activation))];
    expect(ids).toEqual(["relu", "q", "swish_beta~beta=0.5", "swish_beta~beta=1", "swish_beta~beta=4"]);
    const cell = jobs.find((j) => j.key === "intro/swish_beta~beta=4/seed-1");
    expect(cell?.formula).toEqual({
      id: "swish_beta~beta=4",
      name: "x·σ(βx) (beta=4)",
      formula: "x * sigmoid(beta * x)",
      params: { beta: 4 },
    });
    expect(jobs.find((j) => j.activation === "q")?.formula).toEqual({
      id: "q",
      formula: "x*sigmoid(1.702*x)",
    });
    expect(jobs.find((j) => j.activation === "relu")?.formula).toBeUndefined();
    const act = getActivation("swish_beta~beta=4");
    if (act.kind !== "elementwise") throw new Error("elementwise");
    expect(act.forward(1)).toBeCloseTo(1 / (1 + Math.exp(-4)), 15);
  });

  it("formula cells share lockstep groups with the built-ins of the same model and seed", () => {
    const groups = groupForLockstep(
      jobsOf({ presets: ["intro"], activations: ["relu"], formulas: [family] }),
      8,
    );
    expect(groups).toHaveLength(1);
    expect(groups[0].map((j) => j.activation)).toEqual([
      "relu",
      "swish_beta~beta=0.5",
      "swish_beta~beta=1",
      "swish_beta~beta=4",
    ]);
  });

  it.each([
    [
      { ...family, formula: "x * sigmoid(beta * x" },
      /formulas\.0\.formula: formula .*syntax error.*position 21/,
    ],
    [
      { ...family, formula: "x * sigmoid(gamma * x)" },
      /formulas\.0\.formula: .*unknown parameter 'gamma'.*position 13/,
    ],
    [
      { ...family, params: { beta: [] } },
      /formulas\.0\.params: .*parameter beta of 'swish_beta' has an empty list/,
    ],
    [{ ...family, params: { beta: [1, Number.POSITIVE_INFINITY] } }, /formulas\.0\.params\.beta.*finite/],
    [{ ...family, id: "relu" }, /formulas\.0\.id: .*'relu' is a built-in/],
    [{ ...family, formula: "beta * 2" }, /formulas\.0\.formula: .*does not use x/],
  ])("rejects a bad family with the problem and its place", (bad, message) => {
    expect(() => parseWith(studySchema, { formulas: [bad] }, "test")).toThrow(ConfigError);
    expect(() => parseWith(studySchema, { formulas: [bad] }, "test")).toThrow(message);
  });

  it("rejects a bad inline formula in the activation list", () => {
    expect(() => parseWith(studySchema, { activations: ["relu", "m=max(x, 0.1*x"] }, "flags")).toThrow(
      /flags: activations\.1: formula 'max\(x, 0\.1\*x': syntax error/,
    );
    expect(() => parseWith(studySchema, { activations: ["nope"] }, "flags")).toThrow(
      /unknown activation 'nope'/,
    );
  });

  it("refuses two different definitions of one id", () => {
    const study = parseWith(studySchema, { activations: ["m=x", "m=2*x"] }, "flags");
    expect(() => planStudy(study)).toThrow(/'m' is defined twice/);
  });
});

describe("formula cells in lockstep", () => {
  it("train side by side with built-ins exactly as alone (weights bit for bit)", () => {
    const jobs = jobsOf({
      presets: ["intro"],
      activations: ["relu", "m=max(x, 0.1*x)"],
      formulas: [family],
      train: { steps: 40 },
    });
    const env = { tmsLab: "test", gitCommit: null };
    const together = executeCells(jobs, env);
    for (const [k, job] of jobs.entries()) {
      const alone = executeCell(job, env);
      expect(Buffer.from(together[k].weights).equals(Buffer.from(alone.weights)), job.key).toBe(true);
      expect(together[k].result.formula).toEqual(job.formula);
    }
  });
});

describe("tms with formulas (built binary)", () => {
  it("train --activation name=formula trains it; a bad formula exits 2 with one line", () => {
    const ok = tms([
      "train",
      "--preset",
      "intro",
      "--activation",
      "q=x*sigmoid(1.702*x)",
      "--steps",
      "20",
      "--json",
    ]);
    expect(ok.status, ok.stderr).toBe(0);
    const summary = JSON.parse(ok.stdout);
    expect(summary.activation).toBe("q");
    expect(summary.formula).toEqual({ id: "q", formula: "x*sigmoid(1.702*x)" });
    const bad = tms(["train", "--preset", "intro", "--activation", "q=x*foo(x)", "--steps", "20"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/unknown function 'foo'.* at position 3/);
  });

  it("sweep: a family and an inline formula into the store; a bad formula changes nothing", () => {
    const dir = tempDir();
    const config = join(dir, "study.toml");
    writeFileSync(
      config,
      [
        'presets = ["intro"]',
        'activations = ["relu", "m=max(x, 0.1*x)"]',
        "[train]",
        "steps = 30",
        "[[formulas]]",
        'id = "sw"',
        'formula = "x * sigmoid(beta * x)"',
        "params = { beta = [1, 4] }",
      ].join("\n"),
    );
    const out = join(dir, "out");
    const r = tms(["sweep", "--config", config, "--out", out, "--workers", "1"]);
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.formulas["sw~beta=4"]).toMatchObject({
      formula: "x * sigmoid(beta * x)",
      params: { beta: 4 },
    });
    expect(manifest.formulas.m).toEqual({ id: "m", formula: "max(x, 0.1*x)" });
    const result = JSON.parse(readFileSync(join(out, "intro", "sw~beta=4", "seed-0", "result.json"), "utf8"));
    expect(result.activation).toBe("sw~beta=4");
    expect(result.formula.params).toEqual({ beta: 4 });
    const before = readFileSync(join(out, "manifest.json"), "utf8");
    const bad = tms(["sweep", "--activations", "relu,z=x*(2", "--out", out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/activations\.1: formula 'x\*\(2': syntax error/);
    expect(readFileSync(join(out, "manifest.json"), "utf8")).toBe(before);
    expect(existsSync(join(out, "intro", "z"))).toBe(false);
  });
});
