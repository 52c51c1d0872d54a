// Results stores fuzzed (fast-check): one file of a real store — manifest.json, a cell's result.json, its
// weights or snapshots — truncated, bit-flipped, replaced by random JSON, or with one value deep inside
// replaced or deleted; safetensors files also with random headers. `tms show` and `tms report` on it must
// give a report (naming the damage as a gap) or one named error line, exit 2 — never a crash — and leave
// every file of the store as it was. The safetensors decoder must throw only its own named error.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors, SafetensorsError } from "../../src/experiments/safetensors.js";
import { expectUnchanged, snapshotStore } from "../helpers/store-snapshot.js";
import * as fuzz from "./harness.js";
import { type Fixture, makeFixtureStore } from "./store-fixture.js";

function filesOf(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

/** Every path to a value inside a JSON document: [] is the root. */
function jsonPaths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(v)) for (const [k, x] of v.entries()) jsonPaths(x, [...at, k], out);
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) jsonPaths(x, [...at, k], out);
  return out;
}

type Damage =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; at: number[]; bits: number[] }
  | { kind: "random json"; value: unknown }
  | { kind: "deep"; path: number; action: "replace" | "delete"; value: unknown }
  | { kind: "safetensors header"; header: unknown; extra: number };

const anyJson = fc.jsonValue({ maxDepth: 2 });
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    bits: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 4, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant("random json" as const), value: anyJson }),
  fc.record({
    kind: fc.constant("deep" as const),
    path: fc.nat(),
    action: fc.constantFrom("replace" as const, "delete" as const),
    value: fc.oneof(anyJson, fc.constantFrom(-1, 0, 1e308, "", [], {}, [[]], "NaN")),
  }),
  fc.record({
    kind: fc.constant("safetensors header" as const),
    header: fc.oneof(
      anyJson,
      fc.dictionary(
        fc.constantFrom("W", "b", "__metadata__", "x"),
        fc.record(
          {
            dtype: fc.constantFrom("F32", "F64", "I8", "f32", 3),
            shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 12 }), { maxLength: 3 }), anyJson),
            data_offsets: fc.oneof(fc.array(fc.integer({ min: -8, max: 2000 }), { maxLength: 3 }), anyJson),
          },
          { requiredKeys: [] },
        ),
      ),
    ),
    extra: fc.nat({ max: 2000 }),
  }),
);

/** The damaged bytes of `original` (a file of the store at `name`). */
function damaged(original: Buffer, name: string, d: Damage): Buffer {
  switch (d.kind) {
    case "truncate":
      return original.subarray(0, d.at % Math.max(1, original.length));
    case "flip": {
      const out = Buffer.from(original);
      for (const [k, p] of d.at.entries()) if (out.length) out[p % out.length] ^= d.bits[k];
      return out;
    }
    case "random json":
      return Buffer.from(JSON.stringify(d.value) ?? "");
    case "deep": {
      if (!name.endsWith(".json")) return damaged(original, name, { kind: "truncate", at: d.path });
      const doc = JSON.parse(original.toString("utf8"));
      const paths = jsonPaths(doc);
      const path = paths[d.path % paths.length];
      if (path.length === 0) return Buffer.from(JSON.stringify(d.value) ?? "");
      type Node = Record<string | number, unknown>;
      const parent = path.slice(0, -1).reduce<Node>((o, k) => o[k] as Node, doc);
      const last = path[path.length - 1];
      if (d.action === "delete" && Array.isArray(parent)) (parent as unknown[]).splice(Number(last), 1);
      else if (d.action === "delete") delete parent[last];
      else parent[last] = d.value;
      return Buffer.from(JSON.stringify(doc));
    }
    case "safetensors header": {
      const json = Buffer.from(JSON.stringify(d.header) ?? "null");
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([head, json, Buffer.alloc(d.extra, 0x3f)]);
    }
  }
}

describe("fuzz: damaged results stores", () => {
  let fixture: Fixture;
  let files: string[];
  const out = fuzz.tempDir("tms-fuzz-store-out-");

  beforeAll(async () => {
    fixture = await makeFixtureStore();
    files = filesOf(fixture.store);
    expect(files.filter((f) => f.endsWith("result.json"))).toHaveLength(4);
    expect(files.filter((f) => f.endsWith(".safetensors"))).toHaveLength(8);
  }, 120_000);

  const case_ = fc.tuple(fc.nat(), damage);

  async function check(
    [which, d]: [number, Damage],
    commands: string[][],
    run: fuzz.Runner,
    tally: fuzz.Tally,
  ): Promise<void> {
    const store = fuzz.copyStore(fixture.store);
    const name = files[which % files.length];
    const path = join(store, name);
    const original = readFileSync(path);
    writeFileSync(path, damaged(original, name, d));
    const before = snapshotStore(store);
    for (const args of commands) {
      const full = args.map((a) => (a === "STORE" ? store : a === "OUT" ? out : a));
      const o = await run(full);
      tally.ran++;
      const what = `${name} damaged by ${JSON.stringify(d).slice(0, 200)}; tms ${full.join(" ")}`;
      expect(o.code === 0 || fuzz.isCleanRejection(o), `${what}: exit ${o.code}\n${o.stderr}`).toBe(true);
      expectUnchanged(before, what);
      tally.storeChecks++;
    }
  }

  it(`tms show and tms report --format csv on a damaged store: ${fuzz.RUNS.stores} stores in process`, async () => {
    const tally = new fuzz.Tally("damaged stores: show + report csv (in process)");
    await fc.assert(
      fc.asyncProperty(case_, (c) =>
        check(
          c,
          [
            ["show", "STORE"],
            ["report", "STORE", "--out", "OUT", "--format", "csv", "--quiet"],
          ],
          fuzz.runInProcess,
          tally,
        ),
      ),
      { numRuns: fuzz.RUNS.stores, seed: fuzz.FUZZ_SEED },
    );
    tally.report();
  }, 120_000);

  it(`the whole report (figures, html, md, docx) on a damaged store: ${fuzz.RUNS.slowInProcess} in process`, async () => {
    const tally = new fuzz.Tally("damaged stores: full report (in process)");
    await fc.assert(
      fc.asyncProperty(case_, (c) =>
        check(
          c,
          [["report", "STORE", "--out", "OUT", "--format", "html,md,docx", "--quiet"]],
          fuzz.runInProcess,
          tally,
        ),
      ),
      { numRuns: fuzz.RUNS.slowInProcess, seed: fuzz.FUZZ_SEED },
    );
    tally.report();
  }, 120_000);

  it(`the real CLI (node bin/tms.js): ${fuzz.RUNS.spawned} damaged stores, tms show`, async () => {
    const tally = new fuzz.Tally("damaged stores: show (spawned CLI)");
    for (const c of fc.sample(case_, { numRuns: fuzz.RUNS.spawned, seed: fuzz.FUZZ_SEED + 3 }))
      await check(c, [["show", "STORE"]], fuzz.runSpawned, tally);
    tally.report();
  }, 120_000);

  it(`decodeSafetensors throws only SafetensorsError: ${fuzz.RUNS.pure} damaged weights files`, () => {
    const tally = new fuzz.Tally("safetensors decoder (pure)");
    const real = files
      .filter((f) => f.endsWith(".safetensors"))
      .map((f) => readFileSync(join(fixture.store, f)));
    fc.assert(
      fc.property(fc.nat(), damage, (k, d) => {
        const bytes = damaged(real[k % real.length], "weights.safetensors", d);
        tally.ran++;
        try {
          const { tensors } = decodeSafetensors(new Uint8Array(bytes));
          for (const t of Object.values(tensors))
            expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        } catch (e) {
          expect(e, `${(e as Error).stack}`).toBeInstanceOf(SafetensorsError);
        }
      }),
      { numRuns: fuzz.RUNS.pure, seed: fuzz.FUZZ_SEED },
    );
    tally.report();
  });
});
