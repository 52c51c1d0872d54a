// The queue's edges: job ids, the wire format, connection errors (bounded, one line, exit 2) and the
// operator's `tms queue status|clean` on a real redis-server.

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { studySchema } from "../../src/experiments/config.js";
import { decodeCellFiles, encodeCellFiles, jobIdOf, keyOfJobId } from "../../src/experiments/queue/wire.js";
import type { CellFiles, CellResult } from "../../src/experiments/store-format.js";
import { planStudy } from "../../src/experiments/study.js";
import {
  CAN_RUN,
  freePort,
  type RedisServer,
  removeTempDirs,
  startRedis,
  tempDir,
  tmsRun,
} from "./harness.js";

const plan = (steps: number) =>
  planStudy(
    studySchema.parse({ presets: ["intro"], activations: ["relu"], seeds: [0, 1], train: { steps } }),
  );

describe("job ids and the wire format", () => {
  it("job ids are deterministic, readable, BullMQ-safe, and differ between configurations", () => {
    const [a, b] = plan(100);
    expect(jobIdOf(a)).toBe(jobIdOf(plan(100)[0]));
    expect(jobIdOf(a)).toMatch(/^intro\/relu\/seed-0@[0-9a-f]{12}$/);
    expect(jobIdOf(a)).not.toBe(jobIdOf(b));
    expect(jobIdOf(a)).not.toBe(jobIdOf(plan(200)[0]));
    const odd = { ...a, key: "x:y%z/123" };
    expect(jobIdOf(odd)).not.toContain(":");
    expect(keyOfJobId(jobIdOf(odd))).toBe("x:y%z/123");
    expect(keyOfJobId(jobIdOf(a))).toBe(a.key);
  });

  it("a cell's files survive the trip through JSON, and a result for another cell is refused", () => {
    const files: CellFiles = {
      result: { key: "intro/relu/seed-0" } as CellResult,
      weights: new Uint8Array([0, 1, 2, 250, 255]),
      snapshots: new Uint8Array([9, 8, 7]),
    };
    const wire = JSON.parse(JSON.stringify(encodeCellFiles(files)));
    const back = decodeCellFiles(wire, "intro/relu/seed-0");
    expect([...back.weights]).toEqual([0, 1, 2, 250, 255]);
    expect([...(back.snapshots ?? [])]).toEqual([9, 8, 7]);
    expect(() => decodeCellFiles(wire, "intro/relu/seed-1")).toThrow(/intro\/relu\/seed-0/);
    expect(() => decodeCellFiles(null, "k")).toThrow(/no result/);
  });
});

describe.skipIf(!CAN_RUN)("connection errors and `tms queue`", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    removeTempDirs();
  });

  it("an unreachable Redis is a one-line error naming the URL, exit 2, within seconds", async () => {
    const port = await freePort(); // nothing listens there
    const url = `redis://127.0.0.1:${port}`;
    const out = join(tempDir("queue-refused"), "store");
    const sweep = ["sweep", "--presets", "intro", "--activations", "relu", "--out", out, "--queue", url];
    const t0 = Date.now();
    const runs = await Promise.all(
      [sweep, ["worker", "--queue", url], ["queue", "status", "--queue", url]].map(tmsRun),
    );
    for (const r of runs) {
      expect(r.code, r.output).toBe(2);
      expect(r.output).toContain(`error: cannot use Redis at ${url}: connection refused`);
      expect(r.output).toContain("Is redis-server running");
      expect(r.output).not.toMatch(/^\s+at /m);
    }
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it("malformed URLs and a missing --queue are usage errors", async () => {
    const [bad, db, none] = await Promise.all(
      [
        ["queue", "status", "--queue", "http://127.0.0.1:6379"],
        ["queue", "clean", "--queue", "redis://127.0.0.1:6379/abc"],
        ["worker"],
      ].map(tmsRun),
    );
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/not a redis:\/\/ or rediss:\/\/ URL/);
    expect(db.code).toBe(2);
    expect(db.output).toMatch(/database number/);
    expect(none.code).toBe(2);
    expect(none.output).toMatch(/--queue/);
  });

  it("status of an empty queue: counts, Redis facts and the appendonly advice; clean removes nothing", async () => {
    const url = redis.url(5);
    const text = await tmsRun(["queue", "status", "--queue", url]);
    expect(text.code, text.output).toBe(0);
    expect(text.output).toMatch(/queue tms-cells on redis:\/\/127\.0\.0\.1:\d+\/5: Redis \d/);
    expect(text.output).toMatch(/appendonly is off/);
    const json = JSON.parse((await tmsRun(["queue", "status", "--queue", url, "--json"])).output);
    expect(json.counts).toMatchObject({ waiting: 0, active: 0, completed: 0, failed: 0 });
    expect(json.workers).toEqual([]);
    const clean = await tmsRun(["queue", "clean", "--queue", url, "--all"]);
    expect(clean.code, clean.output).toBe(0);
    expect(clean.output).toMatch(/removed 0 jobs/);
  });
});
