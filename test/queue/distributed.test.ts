// Distributed sweeps end to end, against a real redis-server and real `tms worker` processes: same numbers
// as a local sweep, a worker killed mid-cell, enqueuing twice with a coordinator killed in between, a
// poisoned cell, Redis restarts with AOF.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CAN_RUN,
  coordinatorDoneCounts,
  killStarted,
  type RedisServer,
  removeTempDirs,
  replyLosingProxy,
  sleep,
  startRedis,
  tempDir,
  tms,
  tmsRun,
  waitFor,
  workerDoneCounts,
} from "./harness.js";

const INTRO = ["--presets", "intro", "--activations", "relu,gelu,tanh", "--seeds", "0-1", "--steps", "100"];
const INTRO_KEYS = ["relu", "gelu", "tanh"].flatMap((a) => [0, 1].map((s) => `intro/${a}/seed-${s}`));
/** Quick stalled-job detection, so a killed worker's cell is retried within a few seconds. */
const FAST_STALL = ["--lock-duration", "3000", "--stalled-interval", "1500"];

const readResult = (root: string, key: string) =>
  JSON.parse(readFileSync(join(root, key, "result.json"), "utf8")) as Record<string, unknown> & {
    timings: { worker?: string };
  };

/** A result without what legitimately differs between two runs: timings and where it ran. */
function numbersOf(r: Record<string, unknown>) {
  const { timings: _t, seconds: _s, evalSeconds: _e, versions: _v, gitCommit: _g, ...rest } = r;
  return rest;
}

async function stopWorker(w: ReturnType<typeof tms>) {
  w.kill("SIGTERM");
  expect(await w.exited).toBe(0);
}

describe.skipIf(!CAN_RUN)("distributed sweeps (BullMQ on a real redis-server)", () => {
  let redis: RedisServer;
  let client: Redis;
  const db = (n: number) => {
    client = new Redis({ port: redis.port, host: "127.0.0.1", db: n });
    return redis.url(n);
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await killStarted();
    client?.disconnect();
  });
  afterAll(async () => {
    await redis?.stop();
    removeTempDirs();
  });

  it("2 worker processes give results identical to a local sweep with the same seeds", async () => {
    const url = db(1);
    const dir = tempDir("queue-same");
    const local = tmsRun(["sweep", ...INTRO, "--workers", "1", "--out", join(dir, "local")]);
    const w1 = tms(["worker", "--queue", url]);
    const w2 = tms(["worker", "--queue", url]);
    const coord = await tmsRun(["sweep", ...INTRO, "--queue", url, "--out", join(dir, "queue")]);
    expect(coord.code, coord.output).toBe(0);
    expect((await local).code, (await local).output).toBe(0);
    expect(coord.output).toMatch(/6 cells trained, 0 already present, 0 failed/);
    await stopWorker(w1);
    await stopWorker(w2);

    const pids = [w1.child.pid, w2.child.pid].map(String);
    for (const key of INTRO_KEYS) {
      const a = readFileSync(join(dir, "local", key, "weights.safetensors"));
      const b = readFileSync(join(dir, "queue", key, "weights.safetensors"));
      expect(b.equals(a), `${key}: weights bytes`).toBe(true);
      const q = readResult(join(dir, "queue"), key);
      expect(numbersOf(q)).toEqual(numbersOf(readResult(join(dir, "local"), key)));
      expect(pids).toContain(/pid-(\d+)\/thread-\d+$/.exec(q.timings.worker ?? "")?.[1]);
    }
    const trained = workerDoneCounts(w1.output(), w2.output());
    expect([...trained.keys()].sort()).toEqual([...INTRO_KEYS].sort());
    expect([...trained.values()].every((n) => n === 1)).toBe(true);
    expect([...coordinatorDoneCounts(coord.output).values()]).toEqual([1, 1, 1, 1, 1, 1]);
    // Collected results are removed: nothing is left behind in Redis.
    expect(await client.zcard("bull:tms-cells:completed")).toBe(0);
    expect(await client.keys("bull:tms-cells:tms-collect:*")).toEqual([]);
  });

  it("a worker killed (SIGKILL) mid-cell: its cell is retried by the other, every cell completes exactly once", async () => {
    const url = db(2);
    const out = join(tempDir("queue-kill"), "store");
    const victim = tms(["worker", "--queue", url, ...FAST_STALL]);
    const survivor = tms(["worker", "--queue", url, ...FAST_STALL]);
    await waitFor("workers", () => /at a time/.test(victim.output()) && /at a time/.test(survivor.output()));
    // Long enough (≈ 1 s a cell) that the victim is still training 300 ms after it started.
    const study = ["--presets", "demo", "--activations", "relu,gelu", "--seeds", "0-1", "--steps", "5000"];
    const coord = tms(["sweep", ...study, "--queue", url, "--out", out]);
    await waitFor("the victim to start a cell", () => / start \S+/.test(victim.output()));
    const killedKey = / start (\S+)/.exec(victim.output())![1];
    await sleep(300);
    expect(victim.output()).not.toContain(`done  ${killedKey}`);
    victim.kill("SIGKILL");

    expect(await coord.exited, coord.output()).toBe(0);
    await stopWorker(survivor);
    const keys = ["relu", "gelu"].flatMap((a) => [0, 1].map((s) => `demo/${a}/seed-${s}`));
    // Written once each by the coordinator, trained to the end once each.
    const written = coordinatorDoneCounts(coord.output());
    expect([...written.keys()].sort()).toEqual(keys.sort());
    expect([...written.values()].every((n) => n === 1)).toBe(true);
    const trained = workerDoneCounts(victim.output(), survivor.output());
    expect([...trained.values()].every((n) => n === 1)).toBe(true);
    expect(trained.size).toBe(4);
    expect(survivor.output()).toContain(`stalled ${killedKey}`);
    expect(readResult(out, killedKey).timings.worker).toContain(`pid-${survivor.child.pid}/`);
  });

  it("enqueuing the same study twice (coordinator killed in between) does no work twice", async () => {
    const url = db(3);
    const out = join(tempDir("queue-twice"), "store");
    // A coordinator enqueues with no worker running, then dies.
    const first = tms(["sweep", ...INTRO, "--queue", url, "--out", out]);
    await waitFor("enqueue", () => /6 cells enqueued/.test(first.output()));
    first.kill("SIGKILL");
    await first.exited;
    // The cells are trained while no coordinator runs; Redis keeps their results.
    const worker = tms(["worker", "--queue", url]);
    await waitFor(
      "6 uncollected results",
      async () => (await client.zcard("bull:tms-cells:completed")) === 6,
    );
    // Two coordinators of the same study and store at once: they enqueue nothing new and collect it all.
    const [a, b] = [0, 1].map(() => tms(["sweep", ...INTRO, "--queue", url, "--out", out]));
    expect(await a.exited, a.output()).toBe(0);
    expect(await b.exited, b.output()).toBe(0);
    // (one may start after the other has collected everything, and then finds it all in the store)
    for (const c of [a, b]) {
      expect(c.output()).toMatch(/: 0 cells enqueued, |0 cells trained, 6 already present/);
    }
    for (const key of INTRO_KEYS) expect(existsSync(join(out, key, "result.json")), key).toBe(true);
    expect(await client.zcard("bull:tms-cells:completed")).toBe(0);
    // And a third time: nothing to do.
    const again = await tmsRun(["sweep", ...INTRO, "--queue", url, "--out", out]);
    expect(again.output).toMatch(/0 cells trained, 6 already present/);
    await stopWorker(worker);
    const trained = workerDoneCounts(worker.output());
    expect(trained.size).toBe(6);
    expect([...trained.values()].every((n) => n === 1)).toBe(true);
  });

  it("a poisoned cell fails after --attempts tries, the rest completes, the coordinator names it and exits 1", async () => {
    const url = db(4);
    const dir = tempDir("queue-poison");
    const config = join(dir, "study.json");
    // Valid config, but the worker cannot build a model with 10^12 features.
    writeFileSync(
      config,
      JSON.stringify({
        presets: ["intro", "poison"],
        activations: ["relu", "gelu"],
        seeds: [0],
        train: { steps: 100 },
        experiments: [{ id: "poison", nFeatures: 1e12, nHidden: 2, featureProbability: [0.5] }],
      }),
    );
    const worker = tms(["worker", "--queue", url]);
    const out = join(dir, "store");
    const r = await tmsRun(["sweep", "--config", config, "--queue", url, "--attempts", "2", "--out", out]);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/2 cells trained, 0 already present, 2 failed/);
    for (const a of ["relu", "gelu"]) {
      expect(r.output).toContain(`failed: poison/${a}/seed-0: Invalid array length (2 attempts)`);
      expect(existsSync(join(out, `intro/${a}/seed-0/result.json`))).toBe(true);
      expect(existsSync(join(out, `poison/${a}/seed-0`))).toBe(false);
      expect(worker.output().split(`FAILED poison/${a}/seed-0`).length - 1).toBe(2);
    }
    const status = await tmsRun(["queue", "status", "--queue", url, "--json"]);
    const s = JSON.parse(status.output);
    expect(s.counts.failed).toBe(2);
    expect(s.failed.map((f: { key: string }) => f.key).sort()).toEqual([
      "poison/gelu/seed-0",
      "poison/relu/seed-0",
    ]);
    expect((await tmsRun(["queue", "clean", "--queue", url])).output).toMatch(/removed 2 failed/);
    await stopWorker(worker);
  });

  it("a lost reply to the collect claim (SET NX sent again on reconnect) does not hold up collecting", async () => {
    // The claim's SET NX reaches Redis but its reply is lost; ioredis sends it again on reconnect and gets
    // "already set" for the coordinator's own claim. Held for the claim's 120 s lifetime, it stalled the
    // Redis-restart test below into its 120 s timeout.
    const url = db(5);
    const proxy = await replyLosingProxy(redis.port, /\r\nset\r\n[\s\S]*tms-collect:/i);
    try {
      const out = join(tempDir("queue-lost-reply"), "store");
      const worker = tms(["worker", "--queue", url]);
      const started = Date.now();
      const coord = tms(["sweep", ...INTRO, "--queue", `${proxy.url(5)}`, "--out", out]);
      const code = await Promise.race([coord.exited, sleep(45_000).then(() => "still running after 45 s")]);
      expect(code, coord.output()).toBe(0);
      expect(proxy.cuts()).toBe(1);
      expect(coord.output()).toMatch(/6 cells trained, 0 already present, 0 failed/);
      expect(Date.now() - started).toBeLessThan(45_000);
      for (const key of INTRO_KEYS) expect(existsSync(join(out, key, "result.json")), key).toBe(true);
      await stopWorker(worker);
    } finally {
      await killStarted();
      await proxy.close();
    }
  });

  it("Redis restarts with appendonly yes lose nothing: queued cells survive, coordinator and worker reconnect", async () => {
    const aof = await startRedis({ appendonly: true });
    try {
      const url = aof.url();
      const out = join(tempDir("queue-aof"), "store");
      const coord = tms(["sweep", ...INTRO, "--queue", url, "--out", out]);
      await waitFor("enqueue", () => /6 cells enqueued/.test(coord.output()));
      await aof.restart(); // nothing was trained yet: the queue lives only in the AOF
      const worker = tms(["worker", "--queue", url]);
      await waitFor("a first result", () => /\[1\/6\]/.test(coord.output()));
      await aof.restart(); // while cells are being trained and collected
      // its own limit below the test's, so that a hang (once under the full suite's load) shows both sides
      const code = await Promise.race([coord.exited, sleep(80_000).then(() => "still running after 80 s")]);
      expect(code, `coordinator:\n${coord.output()}\nworker:\n${worker.output()}`).toBe(0);
      expect(coord.output()).toMatch(/6 cells trained/);
      for (const key of INTRO_KEYS) expect(existsSync(join(out, key, "result.json")), key).toBe(true);
      await stopWorker(worker);
    } finally {
      await killStarted();
      await aof.stop();
    }
  });
});
