// Running the built CLI from the report's tests (`npm test` builds dist first).

import { type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const BIN = join(ROOT, "bin", "tms.js");

export function tms(args: string[], timeout = 240_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout,
    env: { ...process.env, FORCE_COLOR: "0" },
  });
}

export function tempDir(prefix = "tms-report-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Like `tms`, without blocking the test worker's event loop (long sweeps would starve vitest's RPC). */
export function tmsAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}
