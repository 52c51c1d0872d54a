// Running the built command line (`node bin/tms.js …`) from tests: to the end without blocking (runCli), to
// the end blocking (tms), or as a child to signal (spawnTms). `npm test` builds first; when dist/ is missing
// (a bare `npx vitest run`), ensureBuilt() builds once, with a lock so parallel test files don't race.
// (test/queue/harness.ts has its own, for workers and coordinators that run side by side.)

import {
  type ChildProcessWithoutNullStreams,
  execFileSync,
  type SpawnSyncReturns,
  spawn,
  spawnSync,
} from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./fixtures.js";

export const ROOT = REPO_ROOT;
const MAIN = `${REPO_ROOT}dist/src/cli/main.js`;
export const BIN = `${REPO_ROOT}bin/tms.js`;
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };

/** A fresh directory under the system's temp dir. */
export function tempDir(prefix = "tms-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs `tms …` to completion, blocking (quick commands; long ones would starve vitest's RPC: use runCli). */
export function tms(args: string[], o: { cwd?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: o.cwd ?? ROOT,
    encoding: "utf8",
    timeout: o.timeout ?? 240_000,
    env: ENV,
  });
}

/** `tms …` as a child process, for tests that signal it. */
export function spawnTms(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: ENV });
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function ensureBuilt(): void {
  if (existsSync(MAIN)) return;
  const lock = `${REPO_ROOT}node_modules/.tms-test-build.lock`;
  try {
    mkdirSync(lock);
  } catch {
    for (let waited = 0; existsSync(lock) && waited < 300_000; waited += 250) sleep(250);
    if (!existsSync(MAIN))
      throw new Error("the build by another test file failed (dist/src/cli/main.js missing)");
    return;
  }
  try {
    execFileSync("npm", ["run", "build"], { cwd: REPO_ROOT, stdio: "pipe" });
  } finally {
    rmdirSync(lock);
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/tms.js ...args` to completion (killed after `timeoutMs`). */
export function runCli(args: string[], timeoutMs = 600_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: ENV,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** runCli with the exit code named as spawnSync names it. */
export async function tmsAsync(
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runCli(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `jobs` with at most `limit` in flight; results in input order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  job: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await job(items[k]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
