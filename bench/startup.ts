// Start-up overhead of a short study: `tms sweep` of the seed study (27 activations × intro + demo, seed 0)
// for 20 steps on 2 workers, whole-command wall and CPU time (user + system, all threads). At 20 steps the
// training proper is a few hundredths of a second, so nearly all of it is overhead: module loading, worker
// start-up, kernel generation and compilation (inside each cell's first step, so the results'
// trainSeconds include it), evaluation and the store's writes.
//
//   node dist/bench/startup.js [--runs N] [--steps N] [--base DIR] [--cache warm|cold|off] [--out DIR]
//
// --base DIR: a second build of tms-lab (a checkout with dist/ built) run alternately with this one, so
// both see the same load; medians are printed for each.
// --cache: the generated-module cache (experiments/kernel-cache.ts) each run sees: warm (default: one
// directory per build, filled by a run before the counted ones), cold (a new empty directory per run: a
// fresh clone's first run, which still reads the kernels the build shipped in dist/kernels) or off
// (TMS_KERNEL_CACHE=off: every module generated). Builds without the cache ignore it.
// --out DIR: the directory in which each study writes its cells (default: the system's temporary directory).
// File creation speed varies over time on shared machines, /tmp's and others' alike (54 cells' writes: 6 to
// 130 ms), so compare builds in one invocation.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

interface Sample {
  wall: number;
  cpu: number;
  work: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs the short seed study with the build in `checkout`; wall and CPU seconds and the cells' own time. */
export function shortStudy(
  checkout: string,
  steps: number,
  workers = 2,
  cacheDir = "off",
  outParent = tmpdir(),
): Sample {
  const out = mkdtempSync(join(outParent, "tms-startup-"));
  const args = [
    join(checkout, "bin", "tms.js"),
    "sweep",
    "--presets",
    "seed-study",
    "--activations",
    "all",
    "--seeds",
    "0",
    "--steps",
    String(steps),
    "--workers",
    String(workers),
    "--out",
    out,
  ];
  const hasTime = existsSync("/usr/bin/time");
  const options = { encoding: "utf8" as const, env: { ...process.env, TMS_KERNEL_CACHE: cacheDir } };
  const t0 = performance.now();
  const r = hasTime
    ? spawnSync("/usr/bin/time", ["-f", "TIME %U %S", process.execPath, ...args], options)
    : spawnSync(process.execPath, args, options);
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`short study failed (exit ${r.status}): ${r.stderr}`);
  const m = /TIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  let work = 0;
  for (const file of readdirSync(out, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith("result.json")) continue;
    const t = (JSON.parse(readFileSync(join(out, file), "utf8")) as { timings: Record<string, number> })
      .timings;
    work += t.trainSeconds + t.evalSeconds;
  }
  rmSync(out, { recursive: true, force: true });
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : Number.NaN, work: work / workers };
}

function main(): void {
  const argv = process.argv.slice(2);
  let runs = 5;
  let steps = 20;
  let base: string | undefined;
  let cache = "warm";
  let outParent = tmpdir();
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--runs") runs = Number(argv[++i]);
    else if (argv[i] === "--steps") steps = Number(argv[++i]);
    else if (argv[i] === "--base") base = argv[++i];
    else if (argv[i] === "--cache") cache = argv[++i];
    else if (argv[i] === "--out") outParent = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!["warm", "cold", "off"].includes(cache)) throw new Error(`--cache: warm, cold or off, not ${cache}`);
  const builds: [string, string][] = [
    ["this build", root],
    ...(base ? [["base", base] as [string, string]] : []),
  ];
  const samples = new Map<string, Sample[]>(builds.map(([name]) => [name, []]));
  const caches = mkdtempSync(join(tmpdir(), "tms-startup-cache-"));
  const warmDirs = new Map(builds.map(([name], k) => [name, join(caches, `build-${k}`)]));
  const cacheFor = (name: string, run: number) =>
    cache === "off"
      ? "off"
      : cache === "warm"
        ? (warmDirs.get(name) as string)
        : join(caches, `${name}-${run}`);
  if (cache === "warm")
    for (const [name, dir] of builds) shortStudy(dir, steps, 2, cacheFor(name, 0), outParent);
  process.stdout.write(`cache: ${cache}; load average before: ${loadavg()[0].toFixed(1)}\n`);
  for (let r = 0; r < runs; r++) {
    // alternate the order so neither build always runs first after a pause
    const order = r % 2 === 0 ? builds : [...builds].reverse();
    for (const [name, dir] of order) {
      const s = shortStudy(dir, steps, 2, cacheFor(name, r), outParent);
      samples.get(name)?.push(s);
      process.stdout.write(
        `${name.padEnd(10)} wall ${s.wall.toFixed(2)} s  cpu ${s.cpu.toFixed(2)} s  ` +
          `cells' trainSeconds + evalSeconds per worker ${s.work.toFixed(2)} s\n`,
      );
    }
  }
  for (const [name, list] of samples) {
    const wall = median(list.map((s) => s.wall));
    const cpu = median(list.map((s) => s.cpu));
    const work = median(list.map((s) => s.work));
    process.stdout.write(
      `${name}: median of ${list.length}: wall ${wall.toFixed(2)} s, cpu ${cpu.toFixed(2)} s, ` +
        `cells' own seconds per worker ${work.toFixed(2)} s\n`,
    );
  }
  rmSync(caches, { recursive: true, force: true });
  process.stdout.write(`load average after: ${loadavg()[0].toFixed(1)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
