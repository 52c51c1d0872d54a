// Generates, at build time, the WebAssembly kernels (and samplers, optimizers) of the seed study
// (examples/seed-study.toml: intro and demo × 27 activations in float32, its float64 variants) and of the
// large presets' relu into dist/kernels/. Every installation reads them when its own kernel cache misses
// (experiments/kernel-cache.ts), so a fresh clone's first short run compiles these kernels but does not
// generate them (≈ 10 ms of CPU each with the generator's JavaScript still cold). Entries are named by the
// generator's fingerprint and checked as any cache entry is: a stale or damaged one is simply a miss.
//
//   node scripts/prebuild-kernels.mjs          (npm run build runs it after the bundle)

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const shipped = join(root, "dist", "kernels");
const out = mkdtempSync(join(tmpdir(), "tms-prebuild-"));
const env = { ...process.env, TMS_KERNEL_CACHE: shipped };

/** Runs `tms …` with the shipped directory as the kernel cache; a failure fails the build. */
function tms(args) {
  const r = spawnSync(process.execPath, [join(root, "bin", "tms.js"), ...args], {
    cwd: root,
    env,
    encoding: "utf8",
  });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(`prebuild-kernels: tms ${args.join(" ")} failed (exit ${r.status})`);
  }
}

rmSync(shipped, { recursive: true, force: true });
try {
  // one step is enough: which kernels a cell needs depends on its shape, activation and precision only
  tms([
    "sweep",
    "--config",
    "examples/seed-study.toml",
    "--seeds",
    "0",
    "--steps",
    "1",
    "--workers",
    "1",
    "--out",
    out,
  ]);
  for (const preset of ["sparsity", "geometry"]) tms(["train", "--preset", preset, "--steps", "1", "--json"]);
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.stdout.write(`prebuild-kernels: ${readdirSync(shipped).length} modules in dist/kernels\n`);
