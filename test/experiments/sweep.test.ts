import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../../src/experiments/safetensors.js";
import { expectUnchanged, snapshotStore } from "../helpers/store-snapshot.js";
import { tempDir, tms, tmsAsync } from "./cli-helpers.js";

const STUDY = [
  "--presets",
  "intro",
  "--activations",
  "relu,gelu,softmin,tanh",
  "--seeds",
  "0-1",
  "--steps",
  "120",
];

/** The numbers of every cell of a store: what must not depend on how the sweep was run. */
function numbers(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  for (const key of manifest.cells as string[]) {
    const cell = join(dir, ...key.split("/"));
    const r = JSON.parse(readFileSync(join(cell, "result.json"), "utf8"));
    const weights = readFileSync(join(cell, "weights.safetensors")).toString("base64");
    out.set(key, JSON.stringify([r.instances, r.lossCurve, weights]));
  }
  return out;
}

function listTemporaries(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.includes(".tmp-")) found.push(join(d, e.name));
      else if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return found;
}

describe("tms sweep", () => {
  let serial: string;
  beforeAll(() => {
    serial = tempDir();
    const r = tms(["sweep", ...STUDY, "--workers", "1", "--out", serial]);
    expect(r.status, r.stderr).toBe(0);
  });

  it("writes one complete cell per preset × activation × seed, with manifest and safetensors weights", () => {
    const manifest = JSON.parse(readFileSync(join(serial, "manifest.json"), "utf8"));
    expect(manifest.cells).toHaveLength(8);
    const cell = join(serial, "intro", "gelu", "seed-1");
    const result = JSON.parse(readFileSync(join(cell, "result.json"), "utf8"));
    expect(result).toMatchObject({
      preset: "intro",
      activation: "gelu",
      seed: 1,
      steps: 120,
      nInstances: 10,
    });
    expect(result.lossCurve.step.at(-1)).toBe(120);
    expect(result.versions.tmsLab).toMatch(/^\d+\.\d+\.\d+/);
    const { tensors } = decodeSafetensors(readFileSync(join(cell, "weights.safetensors")));
    expect(tensors.W.shape).toEqual([10, 5, 2]);
    expect(tensors.b.shape).toEqual([10, 5]);
  });

  it("gives identical numbers with 2 workers as with 1", () => {
    const parallel = tempDir();
    const r = tms(["sweep", ...STUDY, "--workers", "2", "--out", parallel]);
    expect(r.status, r.stderr).toBe(0);
    expect(numbers(parallel)).toEqual(numbers(serial));
  });

  it("gives identical numbers with lockstep groups off (--lockstep 1) as with them (the default)", () => {
    const alone = tempDir();
    const r = tms(["sweep", ...STUDY, "--workers", "2", "--lockstep", "1", "--out", alone]);
    expect(r.status, r.stderr).toBe(0);
    expect(numbers(alone)).toEqual(numbers(serial));
  });

  it("resumes after SIGKILL: no lost, duplicated or corrupt cells, and the same numbers", async () => {
    const dir = tempDir();
    const child = tmsAsync(["sweep", ...STUDY, "--workers", "1", "--out", dir]);
    await new Promise<void>((resolve) => {
      let log = "";
      child.stderr.on("data", (chunk) => {
        log += chunk;
        if (/\[\d+\/8\] .* done/.test(log)) {
          child.kill("SIGKILL");
          resolve();
        }
      });
    });
    await new Promise((resolve) => child.on("exit", resolve));
    const written = readdirSync(join(dir, "intro")).length;
    expect(written).toBeGreaterThan(0);
    const again = tms(["sweep", ...STUDY, "--workers", "1", "--out", dir]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/already in the store/);
    const trainedAgain = Number(/(\d+) cells trained/.exec(again.stderr)?.[1]);
    const present = Number(/(\d+) already present/.exec(again.stderr)?.[1]);
    expect(trainedAgain + present).toBe(8);
    expect(present).toBeGreaterThan(0);
    expect(listTemporaries(dir)).toEqual([]);
    expect(numbers(dir)).toEqual(numbers(serial));
  });

  it("does nothing when run again, and --force recomputes", () => {
    const again = tms(["sweep", ...STUDY, "--out", serial]);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/0 cells trained, 8 already present/);
    const before = statSync(join(serial, "intro", "relu", "seed-0", "result.json")).mtimeMs;
    const forced = tms([
      "sweep",
      ...STUDY,
      "--activations",
      "relu",
      "--seeds",
      "0",
      "--force",
      "--out",
      serial,
    ]);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/1 cells trained/);
    expect(statSync(join(serial, "intro", "relu", "seed-0", "result.json")).mtimeMs).toBeGreaterThan(before);
  });

  it("refuses a store written by a different configuration, touching nothing", () => {
    const before = snapshotStore(serial);
    const r = tms(["sweep", ...STUDY, "--steps", "77", "--out", serial]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/different configuration/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expectUnchanged(before);
  });

  it("uses common random numbers: every activation starts from the same W", () => {
    const dir = tempDir();
    const r = tms([
      "sweep",
      "--presets",
      "demo",
      "--activations",
      "relu,sigmoid,softmax",
      "--seeds",
      "3",
      "--steps",
      "20",
      "--snapshots",
      "3",
      "--out",
      dir,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const initial = (act: string) => {
      const { tensors, metadata } = decodeSafetensors(
        readFileSync(join(dir, "demo", act, "seed-3", "snapshots.safetensors")),
      );
      expect(JSON.parse(metadata.steps)[0]).toBe(0);
      const perSnapshot = 7 * 20 * 5;
      return Array.from(tensors.W.data.subarray(0, perSnapshot));
    };
    expect(initial("sigmoid")).toEqual(initial("relu"));
    expect(initial("softmax")).toEqual(initial("relu"));
  });

  it("lists complete and missing cells with tms show", () => {
    const r = tms(["show", serial]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/8 of 8 cells complete/);
    expect(r.stdout).toMatch(/intro\/softmin/);
  });
});

describe("config validation", () => {
  const cases: [string, string, RegExp][] = [
    ["unknown-key.json", JSON.stringify({ presets: ["intro"], stepz: 3 }), /stepz/],
    ["wrong-type.json", JSON.stringify({ presets: ["intro"], train: { steps: "many" } }), /train\.steps/],
    [
      "bad-probability.toml",
      '[[experiments]]\nid = "mine"\nnFeatures = 4\nnHidden = 2\nfeatureProbability = [0.5, 1.5]\n',
      /experiments\.0\.featureProbability\.1/,
    ],
    [
      "zero-probability.toml",
      '[[experiments]]\nid = "mine"\nnFeatures = 4\nnHidden = 2\nfeatureProbability = [0]\n',
      /> 0/,
    ],
    [
      "fractional-size.json",
      JSON.stringify({ experiments: [{ id: "x", nFeatures: 4.5, nHidden: 2, featureProbability: [1] }] }),
      /nFeatures/,
    ],
    [
      "unknown-activation.json",
      JSON.stringify({ presets: ["intro"], activations: ["relu", "swishy"] }),
      /activations\.1/,
    ],
    ["unknown-preset.json", JSON.stringify({ presets: ["nope"] }), /unknown preset 'nope'/],
    ["not-toml.toml", "presets = [intro", /not valid TOML/],
  ];
  const dir = tempDir();
  const out = join(dir, "store");
  beforeAll(() => {
    const r = tms(["sweep", ...STUDY, "--activations", "relu", "--seeds", "0", "--steps", "5", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
  });

  it.each(cases)("%s → exit 2 naming the problem, a real store untouched", (name, text, message) => {
    writeFileSync(join(dir, name), text);
    const before = snapshotStore(out);
    const r = tms(["sweep", "--config", join(dir, name), "--out", out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expectUnchanged(before);
  });

  it("accepts the examples/ configs", () => {
    for (const file of readdirSync(join(import.meta.dirname, "..", "..", "examples"))) {
      const r = tms([
        "sweep",
        "--config",
        join("examples", file),
        "--steps",
        "2",
        "--seeds",
        "0",
        "--activations",
        "relu",
        "--out",
        join(dir, file),
      ]);
      expect(r.status, `${file}: ${r.stderr}`).toBe(0);
    }
  });
});
