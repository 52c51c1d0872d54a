// Shared by the property-based tests of bad input (fast-check): how many inputs each property runs, the
// command line run in this process (fast; most runs) or as `node bin/tms.js` (slow; a smaller sample), and
// the one verdict every rejection must meet: exit 2, one line `error: …` naming the problem, no stack trace.

import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { type CliResult, runCli } from "../helpers/cli.js";
import { loadBuilt } from "./built.js";

/**
 * Generated inputs per property. In-process runs take milliseconds; a spawned CLI about a second on a busy
 * 2-core machine, so those run a sample. FUZZ_SCALE multiplies both for a longer local search.
 */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
export const RUNS = {
  inProcess: Math.round(200 * SCALE),
  /** Damaged stores: each is a copy of the store, then `tms show` and `tms report --format csv` on it. */
  stores: Math.round(100 * SCALE),
  /** In-process runs that render a whole report (figures included): about a second each. */
  slowInProcess: Math.round(3 * SCALE),
  spawned: Math.round(4 * SCALE),
  /** Pure functions (decoders, URL checks): microseconds each. */
  pure: Math.round(2000 * SCALE),
};

/** A fixed seed unless FUZZ_SEED is set, so CI is reproducible; failures print the seed and path. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261207);

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** How a check runs `tms`: runInProcess or runSpawned. */
export type Runner = (args: readonly string[]) => Promise<Outcome>;

/** Runs `tms …args` in this process (dist/'s `main`, as bin/tms.js calls it), capturing its output. */
export async function runInProcess(args: readonly string[]): Promise<Outcome> {
  const { main } = await loadBuilt();
  const saved = process.exitCode;
  process.exitCode = undefined;
  let stdout = "";
  let stderr = "";
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    await main(["node", "tms", ...args]);
  } catch (e) {
    stderr += `uncaught: ${e instanceof Error ? e.stack : String(e)}`;
    process.exitCode = 99;
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = saved;
  return { code, stdout, stderr };
}

export async function runSpawned(args: readonly string[]): Promise<Outcome> {
  const r: CliResult = await runCli([...args], 60_000);
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The hint commander adds under its own usage errors. */
const HELP_HINT = "(run with --help for usage)";

/** Whether `o` is a clean rejection: exit 2, one `error: …` line (plus commander's hint), no stack trace. */
export function isCleanRejection(o: Outcome): boolean {
  const lines = o.stderr.trimEnd().split("\n");
  const extra = lines.slice(1);
  return (
    o.code === 2 &&
    /^error: \S/.test(lines[0]) &&
    (extra.length === 0 || (extra.length === 1 && extra[0] === HELP_HINT)) &&
    !/\n\s+at /.test(o.stderr) &&
    !o.stderr.includes("internal error")
  );
}

export function expectCleanRejection(o: Outcome, what: string, mentions?: string | RegExp): void {
  expect(isCleanRejection(o), `${what}: exit ${o.code}, stderr:\n${o.stderr}`).toBe(true);
  if (mentions !== undefined) expect(o.stderr.split("\n")[0], what).toMatch(mentions);
}

/** Counts and prints how many inputs a property ran, and how many it skipped (valid inputs, left alone). */
export class Tally {
  ran = 0;
  skipped = 0;
  storeChecks = 0;
  private readonly started = performance.now();
  constructor(readonly name: string) {}
  report(): string {
    const seconds = (performance.now() - this.started) / 1000;
    const line =
      `[fuzz] ${this.name}: ${this.ran} generated inputs run, ${this.skipped} skipped as valid, ` +
      `${this.storeChecks} store comparisons, 0 stores changed (${seconds.toFixed(1)} s)`;
    console.log(line);
    return line;
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A copy of a store (with its files' times kept), to corrupt without touching the original. */
export function copyStore(store: string, prefix = "tms-fuzz-store-"): string {
  const dir = join(tempDir(prefix), "store");
  cpSync(store, dir, { recursive: true, preserveTimestamps: true });
  return dir;
}
