// `npm run bench:ab -- --base DIR`: an A/B of two builds of tms-lab in one process, for changes too small for
// `npm run bench` to see on a shared machine. Both builds' dist/ are imported side by side; each row trains
// one trainer per build and alternates them in short chunks (default 20 steps × 150 rounds), keeping each
// build's minimum time per step. Alternating in one process puts both under the same load from other
// tenants, where separate runs minutes apart differ by ±30 %. Each build trains with its own native addon
// (its dist/native, as `tms train` does; WebAssembly where it has none). Make the base with a git worktree:
//
//   git worktree add /tmp/base HEAD && (cd /tmp/base && ln -s "$PWD/../<repo>/node_modules" . && npx tsc -p tsconfig.build.json && node scripts/build-native.mjs)
//   npm run bench:ab -- --base /tmp/base --rows demo-relu,intro-relu,demo-gelu
//
// Output per row: base and this build's µs per step, and their ratio (< 1: this build is faster). Rows whose
// ratio moves by more than a few per cent between two invocations are noise.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { enableRelaxedSimd } from "../src/cli/node-flags.js";

interface Build {
  root: string;
  Trainer: typeof import("../src/core/train.js").Trainer;
  TRAIN_DEFAULTS: typeof import("../src/core/train.js").TRAIN_DEFAULTS;
  getPreset: typeof import("../src/experiments/presets.js").getPreset;
  /** Which kernel the build's trainers use: its own native addon (dist/native), as `tms train` would. */
  kernel: string;
}

async function load(root: string): Promise<Build> {
  const at = (path: string) => pathToFileURL(join(root, "dist", path)).href;
  if (!existsSync(join(root, "dist", "src", "core", "train.js")))
    throw new Error(`${root} has no dist/src/core/train.js: build it first (npx tsc -p tsconfig.build.json)`);
  const train = (await import(at("src/core/train.js"))) as typeof import("../src/core/train.js");
  const presets = (await import(
    at("src/experiments/presets.js")
  )) as typeof import("../src/experiments/presets.js");
  const native = (await import(
    at("src/experiments/native-kernel.js")
  )) as typeof import("../src/experiments/native-kernel.js");
  const kernel = native.installNativeKernel(process.env, join(root, "dist", "native"));
  return {
    root,
    Trainer: train.Trainer,
    TRAIN_DEFAULTS: train.TRAIN_DEFAULTS,
    getPreset: presets.getPreset,
    kernel,
  };
}

function parseArgs(argv: string[]) {
  const a = { base: "", rows: ["demo-relu", "intro-relu", "demo-gelu"], chunk: 20, rounds: 150 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--base") a.base = argv[++i];
    else if (k === "--rows") a.rows = argv[++i].split(",");
    else if (k === "--chunk") a.chunk = Number(argv[++i]);
    else if (k === "--rounds") a.rounds = Number(argv[++i]);
    else
      throw new Error(`unknown argument ${k} (expected --base DIR [--rows a-b,…] [--chunk N] [--rounds N])`);
  }
  if (!a.base) throw new Error("--base DIR is required: the root of the other build (a git worktree)");
  return a;
}

async function main(): Promise<void> {
  enableRelaxedSimd();
  const args = parseArgs(process.argv.slice(2));
  const here = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const builds = [await load(resolve(args.base)), await load(here)];
  process.stdout.write(
    `base ${builds[0].root} (${builds[0].kernel})  vs  this build ${builds[1].root} (${builds[1].kernel})\n`,
  );
  for (const row of args.rows) {
    const [preset, activation] = row.split("-");
    const trainers = builds.map(
      (b) => new b.Trainer({ ...b.TRAIN_DEFAULTS, spec: b.getPreset(preset).spec(), activation, steps: 1e9 }),
    );
    for (const t of trainers) t.advance(200); // compile, tier up
    const best = trainers.map(() => Number.POSITIVE_INFINITY);
    for (let r = 0; r < args.rounds; r++)
      trainers.forEach((t, k) => {
        const t0 = performance.now();
        t.advance(args.chunk);
        best[k] = Math.min(best[k], ((performance.now() - t0) / args.chunk) * 1000);
      });
    process.stdout.write(
      `${row.padEnd(18)} base ${best[0].toFixed(1).padStart(7)} µs/step   this ${best[1].toFixed(1).padStart(7)} µs/step   ` +
        `ratio ${(best[1] / best[0]).toFixed(3)}\n`,
    );
  }
}

main().catch((e) => {
  process.stderr.write(`bench:ab: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
