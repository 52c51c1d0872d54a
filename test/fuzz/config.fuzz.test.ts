// Config files fuzzed (fast-check): random keys, types and values as JSON and TOML, and the examples/ configs
// truncated, cut and spliced. `tms sweep --config FILE --out STORE` on a real store must refuse each with one
// named line and exit 2, leaving every file of the store as it was. (A config that happens to be valid and
// to describe the store's own study would resume it; those are counted and left alone.)

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { stringify as toToml } from "smol-toml";
import { beforeAll, describe, expect, it } from "vitest";
import { expectUnchanged, type StoreSnapshot, snapshotStore } from "../helpers/store-snapshot.js";
import { type Built, loadBuilt } from "./built.js";
import * as fuzz from "./harness.js";
import { type Fixture, makeFixtureStore } from "./store-fixture.js";

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples");

const TOP_KEYS = [
  "presets",
  "activations",
  "seeds",
  "softmaxDims",
  "dtypes",
  "snapshots",
  "variants",
  "experiments",
  "train",
];
const TRAIN_KEYS = ["steps", "batchSize", "lr", "lrSchedule", "dtype", "softmaxDim"];
const EXPERIMENT_KEYS = ["id", "title", "nFeatures", "nHidden", "featureProbability", "importance"];
const WORDS = ["intro", "demo", "seed-study", "relu", "gelu", "softmin", "all", "f32", "f64", "batch", "0-2"];

/** Values a config might hold: right-looking words and numbers at their edges, and anything JSON. */
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.constantFrom(0, -1, 1, 2, 0.5, 1.5, 1e300, -0, 2 ** 53, 1e-320),
  fc.array(fc.constantFrom(...WORDS, 0, 1, -1, 0.3), { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const key = (known: string[]) => fc.oneof(fc.constantFrom(...known), fc.string({ maxLength: 12 }));
const train = fc.dictionary(key(TRAIN_KEYS), value, { maxKeys: 4 });
const experiment = fc.dictionary(key(EXPERIMENT_KEYS), value, { maxKeys: 7 });
const config = fc
  .tuple(
    fc.dictionary(key(TOP_KEYS), value, { maxKeys: 5 }),
    fc.option(train, { nil: undefined }),
    fc.option(fc.array(experiment, { maxLength: 2 }), { nil: undefined }),
  )
  .map(([top, t, e]) => ({ ...top, ...(t ? { train: t } : {}), ...(e ? { experiments: e } : {}) }));

/** As a file: JSON, or TOML when TOML can say it (no nulls, no mixed arrays in old TOML). */
const configFile = fc.tuple(config, fc.boolean()).map(([c, asToml]): [string, string] => {
  if (asToml) {
    try {
      return [toToml(c), ".toml"];
    } catch {
      // not expressible in TOML: fall through to JSON
    }
  }
  return [JSON.stringify(c, null, 1), ".json"];
});

/** The shipped configs (and each as JSON), cut, spliced and truncated. */
function mutatedExamples(): fc.Arbitrary<[string, string]> {
  const files = readdirSync(EXAMPLES).filter((f) => /\.(toml|json)$/.test(f));
  const bases: [string, string][] = files.map((f) => [
    readFileSync(join(EXAMPLES, f), "utf8"),
    f.endsWith(".toml") ? ".toml" : ".json",
  ]);
  return fc
    .tuple(
      fc.constantFrom(...bases),
      fc.nat(),
      fc.nat(),
      fc.constantFrom("truncate", "cut", "insert", "replace"),
      fc.string({ maxLength: 8, unit: "binary" }),
    )
    .map(([[text, ext], a, b, how, junk]): [string, string] => {
      const i = a % (text.length + 1);
      const j = i + (b % Math.max(1, Math.min(40, text.length - i + 1)));
      if (how === "truncate") return [text.slice(0, i), ext];
      if (how === "cut") return [text.slice(0, i) + text.slice(j), ext];
      if (how === "insert") return [text.slice(0, i) + junk + text.slice(i), ext];
      return [text.slice(0, i) + junk + text.slice(i + junk.length), ext];
    });
}

describe("fuzz: config files (tms sweep --config) on a real store", () => {
  let fixture: Fixture;
  let built: Built;
  let before: StoreSnapshot;
  const dir = fuzz.tempDir("tms-fuzz-config-");
  let n = 0;

  beforeAll(async () => {
    fixture = await makeFixtureStore();
    built = await loadBuilt();
    before = snapshotStore(fixture.store);
  }, 120_000);

  /** Runs one config; returns false if it was valid for the store's own study (not run). */
  async function check([text, ext]: [string, string], run: fuzz.Runner, tally: fuzz.Tally): Promise<void> {
    const file = join(dir, `config-${n++}${ext}`);
    writeFileSync(file, text);
    let planned: string | undefined;
    try {
      planned = built.configHash(built.planStudy(built.studyFromFlags({ config: file, out: fixture.store })));
    } catch (e) {
      expect(built.isUserError(e), `${file}: ${(e as Error).stack}`).toBe(true);
    }
    if (planned === fixture.configHash) {
      tally.skipped++;
      return;
    }
    const o = await run(["sweep", "--config", file, "--out", fixture.store]);
    tally.ran++;
    fuzz.expectCleanRejection(
      o,
      `${file}:\n${text.slice(0, 300)}`,
      planned ? /different configuration/ : undefined,
    );
    expectUnchanged(before, file);
    tally.storeChecks++;
  }

  it(`random keys, types and values, as JSON and TOML: ${fuzz.RUNS.inProcess} in process`, async () => {
    const tally = new fuzz.Tally("config files, random (in process)");
    await fc.assert(
      fc.asyncProperty(configFile, (c) => check(c, fuzz.runInProcess, tally)),
      { numRuns: fuzz.RUNS.inProcess, seed: fuzz.FUZZ_SEED },
    );
    tally.report();
    expect(tally.ran).toBeGreaterThan(fuzz.RUNS.inProcess / 2);
  });

  it(`the examples/ configs truncated, cut and spliced: ${fuzz.RUNS.inProcess} in process`, async () => {
    const tally = new fuzz.Tally("config files, mutated examples (in process)");
    await fc.assert(
      fc.asyncProperty(mutatedExamples(), (c) => check(c, fuzz.runInProcess, tally)),
      { numRuns: fuzz.RUNS.inProcess, seed: fuzz.FUZZ_SEED },
    );
    tally.report();
    expect(tally.ran).toBeGreaterThan(fuzz.RUNS.inProcess / 2);
  });

  it(`the real CLI (node bin/tms.js) on a sample of both: ${fuzz.RUNS.spawned} spawned`, async () => {
    const tally = new fuzz.Tally("config files (spawned CLI)");
    const half = Math.ceil(fuzz.RUNS.spawned / 2);
    const inputs = [
      ...fc.sample(configFile, { numRuns: half, seed: fuzz.FUZZ_SEED + 1 }),
      ...fc.sample(mutatedExamples(), { numRuns: fuzz.RUNS.spawned - half, seed: fuzz.FUZZ_SEED + 1 }),
    ];
    for (const c of inputs) await check(c, fuzz.runSpawned, tally);
    tally.report();
  }, 120_000);
});
