import { type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const BIN = join(ROOT, "bin", "tms.js");

/** Runs `tms …` to completion (the package must be built: `npm test` builds first). */
export function tms(args: string[], cwd = ROOT): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0" },
  });
}

export function tmsAsync(args: string[]) {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: "0" } });
}

export function tempDir(prefix = "tms-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
