// `tms sweep` starts its worker threads while it loads and plans (experiments/sweep-pool.ts). Run in-process
// (the explorer, the fuzz tests), a sweep that then fails on bad input must leave no thread behind, and a huge
// --workers must not start more threads ahead than the machine has cores: the full suite once crashed a test
// process ("Failed to reserve virtual memory for CodeRange") on fuzzed --workers values.

import { existsSync, readdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { runInProcess } from "../fuzz/harness.js";

const threads = () => readdirSync("/proc/self/task").length;
const settle = () => new Promise((r) => setTimeout(r, 500));

describe.skipIf(!existsSync("/proc/self/task"))("tms sweep's early worker threads", () => {
  it("a sweep that fails on a bad config, run in-process, leaves no thread running", async () => {
    const before = threads();
    for (let i = 0; i < 5; i++) {
      const o = await runInProcess(["sweep", "--config", "/nonexistent/study.toml", "--workers", "64"]);
      expect(o.code).toBe(2);
      expect(o.stderr).toMatch(/nonexistent/);
    }
    await settle();
    // started workers are terminated; allow the few threads Node itself may add (e.g. its thread pool)
    expect(threads() - before).toBeLessThanOrEqual(availableParallelism());
  });
});
