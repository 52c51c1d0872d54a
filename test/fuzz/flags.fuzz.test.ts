// Command-line flags fuzzed (fast-check): each command with 1–3 flags drawn from its own and unknown ones,
// with values from a list of awkward strings and random text. An independent model of each flag (below)
// says when the line is bad; then `tms` must exit 2 with one line naming the problem, and the real store it
// points at must not change. Lines the model cannot call bad run only where running is harmless (show,
// activations, a sweep the store refuses); those must exit 0 or be refused the same way.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { expectUnchanged, type StoreSnapshot, snapshotStore } from "../helpers/store-snapshot.js";
import { type Built, loadBuilt } from "./built.js";
import * as fuzz from "./harness.js";
import { type Fixture, makeFixtureStore } from "./store-fixture.js";

type Kind =
  | { kind: "int"; min: number; max?: number }
  | { kind: "positive" }
  | { kind: "choice"; choices: string[] }
  | { kind: "numbers" }
  | { kind: "text" };

const int = (min: number, max?: number): Kind => ({ kind: "int", min, max });
const choice = (...choices: string[]): Kind => ({ kind: "choice", choices });
const TEXT: Kind = { kind: "text" };

interface CommandModel {
  /** The command and its arguments before the fuzzed flags. */
  base: (store: string, out: string) => string[];
  flags: Record<string, Kind>;
  /** Whether a line the model cannot call bad may run here (fast, and writes nothing to the store). */
  safeToRun: boolean;
}

const COMMANDS: Record<string, CommandModel> = {
  train: {
    base: () => ["train", "--preset", "intro", "--steps", "1", "--batch-size", "8"],
    flags: {
      "--steps": int(1),
      "--batch-size": int(1),
      "--lr": { kind: "positive" },
      "--lr-schedule": choice("constant", "linear", "cosine"),
      "--seed": int(0),
      "--dtype": choice("f32", "f64"),
      "--softmax-dim": choice("features", "batch"),
      "--kernel": choice("auto", "reference", "sparse"),
    },
    safeToRun: false,
  },
  sweep: {
    base: (store) => ["sweep", "--out", store],
    flags: {
      "--steps": int(1),
      "--snapshots": int(0),
      "--workers": int(1),
      "--lockstep": int(1),
      "--seeds": TEXT,
      "--presets": TEXT,
      "--activations": TEXT,
      "--dtype": TEXT,
      "--softmax-dim": TEXT,
    },
    safeToRun: true,
  },
  show: {
    base: (store) => ["show", store],
    flags: { "--preset": TEXT, "--activation": TEXT },
    safeToRun: true,
  },
  report: {
    base: (store, out) => ["report", store, "--out", out, "--quiet"],
    flags: { "--format": TEXT },
    safeToRun: false,
  },
  serve: {
    base: (store) => ["serve", store],
    flags: { "--port": int(0, 65535), "--host": TEXT },
    safeToRun: false,
  },
  activations: {
    base: () => ["activations", "--json"],
    flags: { "--eval": { kind: "numbers" }, "--activation": TEXT },
    safeToRun: true,
  },
};

const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

/** The model: is `value` good for a flag of this kind? undefined when it cannot say (free text). */
function goodValue(k: Kind, value: string): boolean | undefined {
  switch (k.kind) {
    case "int": {
      if (!/^\s*\d+\s*$/.test(value)) return false;
      const v = Number(value);
      return Number.isSafeInteger(v) && v >= k.min && (k.max === undefined || v <= k.max);
    }
    case "positive":
      return DECIMAL.test(value) && Number.isFinite(Number(value)) && Number(value) > 0;
    case "choice":
      return k.choices.includes(value);
    case "numbers":
      return value.split(",").every((s) => DECIMAL.test(s) && Number.isFinite(Number(s)));
    case "text":
      return undefined;
  }
}

/** Hosts nothing can listen on (no name lookups that could wait on a network). */
const BAD_HOSTS = ["256.0.0.1", "1.2.3", "::1::", "999.999.999.999", "[::1]", "127.0.0.1:80"];

const AWKWARD = [
  "",
  " ",
  "0",
  "1",
  "-1",
  "-0",
  "1.5",
  "1e3",
  "1e-400",
  "1e400",
  "0x10",
  "0b1",
  "Infinity",
  "NaN",
  "99999999999999999999",
  "9007199254740993",
  "65536",
  "٣",
  "1,2",
  "5 ",
  "+5",
  "relu",
  "all",
  "intro",
  "f64",
  "csv",
  "html,pdf",
  "0-3",
  "3-0",
  "a\nb",
  "\u001b[31mred",
  "../..",
  "%2e%2e",
];
const flagValue = fc
  .oneof(
    { weight: 4, arbitrary: fc.constantFrom(...AWKWARD) },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: "binary" }) },
  )
  // a leading dash would be read as another flag (commander's business): left out
  .filter((v) => !/^-[^\d.]/.test(v) && !v.includes("\u0000"));

interface Line {
  command: string;
  flags: [string, string][];
}

const line: fc.Arbitrary<Line> = fc.constantFrom(...Object.keys(COMMANDS)).chain((command) =>
  fc.record({
    command: fc.constant(command),
    flags: fc.array(
      fc.tuple(
        fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom(...Object.keys(COMMANDS[command].flags)) },
          { weight: 1, arbitrary: fc.constantFrom("--stepz", "--out-dir", "--Steps", "--x") },
        ),
        fc.oneof(
          { weight: 5, arbitrary: flagValue },
          { weight: 1, arbitrary: fc.constantFrom(...BAD_HOSTS) },
        ),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  }),
);

/** Bad: what the error line may name (any of the wrong flags or hosts, whichever is parsed first). */
type Verdict = { bad: true; mentions: string[] } | { bad: false; safe: boolean };

describe("fuzz: command-line flags", () => {
  let fixture: Fixture;
  let before: StoreSnapshot;
  let built: Built;
  const out = fuzz.tempDir("tms-fuzz-flags-out-");

  beforeAll(async () => {
    fixture = await makeFixtureStore();
    before = snapshotStore(fixture.store);
    built = await loadBuilt();
  }, 120_000);

  /** What the model expects of `l`. */
  function judge(l: Line): Verdict {
    const model = COMMANDS[l.command];
    // commander keeps the last value of a repeated flag
    const last = new Map(l.flags);
    const wrong = l.flags
      .filter(([flag, value]) => !(flag in model.flags) || goodValue(model.flags[flag], value) === false)
      .map(([flag]) => flag);
    const host = last.get("--host");
    if (l.command === "serve" && host !== undefined && BAD_HOSTS.includes(host)) wrong.push(host);
    if (wrong.length > 0) return { bad: true, mentions: wrong };
    if (l.command === "serve") return { bad: false, safe: false };
    if (l.command === "report") {
      const spec = last.get("--format") ?? "";
      if (spec.trim() === "" || spec === "all") return { bad: false, safe: false };
      const formats = spec
        .split(",")
        .map((f) => f.trim().toLowerCase())
        .filter(Boolean);
      const known = ["html", "md", "docx", "csv", "svg", "png"];
      const unknown = formats.find((f) => !known.includes(f));
      if (unknown !== undefined) return { bad: true, mentions: ["--format"] };
      return { bad: false, safe: formats.length > 0 && formats.every((f) => f === "csv") };
    }
    if (l.command === "sweep") {
      // a study the store's manifest describes would resume it (and train): not run
      try {
        const flags: Record<string, string | number> = Object.fromEntries(
          [...last].map(([f, v]) => [f.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase()), v]),
        );
        for (const k of ["steps", "snapshots"]) if (k in flags) flags[k] = Number(flags[k]);
        const jobs = built.planStudy(built.studyFromFlags({ ...flags, out: fixture.store }));
        if (built.configHash(jobs) === fixture.configHash) return { bad: false, safe: false };
      } catch {
        // refused before it touches the store: the property checks how
      }
    }
    return { bad: false, safe: model.safeToRun };
  }

  async function check(l: Line, run: fuzz.Runner, tally: fuzz.Tally): Promise<void> {
    const verdict = judge(l);
    if (!verdict.bad && !verdict.safe) {
      tally.skipped++;
      return;
    }
    const args = [...COMMANDS[l.command].base(fixture.store, out), ...l.flags.flat()];
    const o = await run(args);
    tally.ran++;
    const what = `tms ${JSON.stringify(args)}`;
    if (verdict.bad) {
      fuzz.expectCleanRejection(o, what);
      const first = o.stderr.split("\n")[0];
      expect(
        verdict.mentions.some((m) => first.includes(m)),
        `${what}: names one of ${verdict.mentions}`,
      ).toBe(true);
    } else
      expect(o.code === 0 || fuzz.isCleanRejection(o), `${what}: exit ${o.code}\n${o.stderr}`).toBe(true);
    expectUnchanged(before, what);
    tally.storeChecks++;
  }

  it(`every command with awkward and random flags: ${fuzz.RUNS.inProcess * 2} in process`, async () => {
    const tally = new fuzz.Tally("CLI flags (in process)");
    await fc.assert(
      fc.asyncProperty(line, (l) => check(l, fuzz.runInProcess, tally)),
      { numRuns: fuzz.RUNS.inProcess * 2, seed: fuzz.FUZZ_SEED },
    );
    tally.report();
    expect(tally.ran).toBeGreaterThan(fuzz.RUNS.inProcess);
  }, 120_000);

  it("every flag of every command with every awkward value, in process", async () => {
    const tally = new fuzz.Tally("CLI flags, every flag × awkward value (in process)");
    for (const [command, model] of Object.entries(COMMANDS))
      for (const flag of Object.keys(model.flags))
        for (const value of [...AWKWARD, ...BAD_HOSTS].filter((v) => !/^-[^\d.]/.test(v)))
          await check({ command, flags: [[flag, value]] }, fuzz.runInProcess, tally);
    tally.report();
    expect(tally.ran).toBeGreaterThan(300);
  }, 120_000);

  it(`the real CLI (node bin/tms.js) on a sample: ${fuzz.RUNS.spawned} spawned`, async () => {
    const tally = new fuzz.Tally("CLI flags (spawned CLI)");
    const sample = fc
      .sample(line, { numRuns: 50, seed: fuzz.FUZZ_SEED + 2 })
      .filter((l) => judge(l).bad)
      .slice(0, fuzz.RUNS.spawned);
    expect(sample).toHaveLength(fuzz.RUNS.spawned);
    for (const l of sample) await check(l, fuzz.runSpawned, tally);
    tally.report();
  }, 120_000);

  it("the model is not vacuous: its own examples of good values pass it", () => {
    expect(goodValue(int(1), "5")).toBe(true);
    expect(goodValue(int(1), "0")).toBe(false);
    expect(goodValue({ kind: "positive" }, "1e-3")).toBe(true);
    expect(goodValue({ kind: "positive" }, "0x10")).toBe(false);
    expect(goodValue({ kind: "numbers" }, "-1,0,2.5")).toBe(true);
    expect(existsSync(join(fixture.store, "manifest.json"))).toBe(true);
    expect(JSON.parse(readFileSync(join(fixture.store, "manifest.json"), "utf8")).cells).toHaveLength(4);
  });
});
