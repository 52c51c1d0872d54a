// Running the built command line (`node bin/tms.js …`) from tests. `npm test` builds first; when dist/ is
// missing (a bare `npx vitest run`), ensureBuilt() builds once, with a lock so parallel test files don't race.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import { REPO_ROOT } from "./fixtures.js";

const MAIN = `${REPO_ROOT}dist/src/cli/main.js`;
const BIN = `${REPO_ROOT}bin/tms.js`;

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
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
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
