// `npm run bench`: tms-lab against the PyTorch reference recipe, side by side in one invocation.
// A benchmark, not a test: it prints a table and writes bench/results.json. Both sides train the same
// preset, activation and number of steps on one core; we compare their training-loop seconds (each side
// times its own loop, without start-up or evaluation), alternating the two so machine load hits both.
//
//   npm run bench [-- --steps 2000] [-- --rows demo:relu,intro:mish] [-- --full] [-- --no-torch]

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getPreset } from "../src/experiments/presets.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};

const baseSteps = Number(value("--steps", "2000"));
/** sparsity (100→20) and geometry (200→20) cost PyTorch ~0.1–0.3 s per step: they run a tenth of the steps. */
const stepsFor = (preset: string) =>
  preset === "sparsity" || preset === "geometry" ? Math.max(1, Math.round(baseSteps / 10)) : baseSteps;
let steps = baseSteps;
const rows = value(
  "--rows",
  "demo:relu,demo:gelu,demo:mish,demo:softmax,intro:relu,intro:mish,sparsity:relu,geometry:relu",
)
  .split(",")
  .map((r) => r.split(":") as [string, string]);

function torchAvailable(): boolean {
  if (flag("--no-torch")) return false;
  return spawnSync("/usr/bin/python3", ["-c", "import torch"], { stdio: "ignore" }).status === 0;
}

/** PyTorch's presets are only intro and demo; larger presets are run through a patched copy of the recipe. */
function torchSeconds(preset: string, activation: string): number | null {
  const script = join(root, "reference", "tms_torch.py");
  let path = script;
  if (preset !== "intro" && preset !== "demo") {
    const spec = getPreset(preset).spec();
    const dir = mkdtempSync(join(tmpdir(), "tms-bench-"));
    path = join(dir, "tms_torch.py");
    const probs = JSON.stringify(Array.from(spec.featureProbability));
    const base = preset === "sparsity" ? 100 ** (-1 / 99) : 1;
    const source = readFileSync(script, "utf8").replace(
      '    "demo": (20, 5, 0.7, [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001]),',
      `    "demo": (20, 5, 0.7, [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001]),\n    "${preset}": (${spec.nFeatures}, ${spec.nHidden}, ${base}, ${probs}),`,
    );
    writeFileSync(path, source);
  }
  const out = spawnSync(
    "/usr/bin/python3",
    [path, "--preset", preset, "--act", activation, "--steps", String(steps), "--threads", "1"],
    { encoding: "utf8" },
  );
  if (path !== script) rmSync(dirname(path), { recursive: true, force: true });
  if (out.status !== 0) return null;
  return JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "{}").seconds ?? null;
}

function tmsSeconds(preset: string, activation: string): number {
  const out = execFileSync(
    process.execPath,
    [
      join(root, "bin", "tms.js"),
      "train",
      "--preset",
      preset,
      "--activation",
      activation,
      "--steps",
      String(steps),
      "--json",
    ],
    { encoding: "utf8" },
  );
  return JSON.parse(out).seconds;
}

/** Dense-equivalent work of a step: forward Wᵀx and W h, backward three more F·H products, 2 flops each. */
function denseGflop(preset: string): number {
  const s = getPreset(preset).spec();
  return (10 * s.nFeatures * s.nHidden * 1024 * s.nInstances * steps) / 1e9;
}

function cpuGHz(): number {
  const fromOs = cpus()[0]?.speed ?? 0;
  if (fromOs > 0) return fromOs / 1000;
  const m = existsSync("/proc/cpuinfo")
    ? /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))
    : null;
  return m ? Number(m[1]) / 1000 : Number.NaN;
}

const useTorch = torchAvailable();
const ghz = cpuGHz();
// One core, 128-bit WebAssembly SIMD: an f32x4 multiply and an f32x4 add per cycle = 8 flops/cycle.
const boundGflops = ghz * 8;
console.log(
  `tms-lab bench: ${baseSteps} steps per run (sparsity, geometry: ${stepsFor("sparsity")}), one core each; PyTorch ${useTorch ? "found" : "NOT available (install python3-torch to compare)"}`,
);
console.log(
  `machine bound (1 core, f32x4 mul+add per cycle at ${ghz.toFixed(2)} GHz): ${boundGflops.toFixed(1)} GFLOP/s\n`,
);

interface Row {
  work: string;
  torchSeconds: number | null;
  tmsSeconds: number;
  ratio: number | null;
  denseGflops: number;
}
const results: Row[] = [];
const pad = (s: string, n: number) => s.padEnd(n);
console.log(
  `${pad("work (steps)", 30)}${pad("PyTorch s", 12)}${pad("tms-lab s", 12)}${pad("ratio", 10)}dense-equiv. GFLOP/s`,
);
for (const [preset, activation] of rows) {
  steps = stepsFor(preset);
  const t = tmsSeconds(preset, activation);
  const p = useTorch ? torchSeconds(preset, activation) : null;
  const row: Row = {
    work: `${preset}/${activation} (${steps})`,
    torchSeconds: p,
    tmsSeconds: t,
    ratio: p === null ? null : p / t,
    denseGflops: denseGflop(preset) / t,
  };
  results.push(row);
  console.log(
    `${pad(row.work, 30)}${pad(p === null ? "—" : p.toFixed(2), 12)}${pad(t.toFixed(3), 12)}${pad(row.ratio === null ? "—" : `${row.ratio.toFixed(1)}×`, 10)}${row.denseGflops.toFixed(2)}`,
  );
}

let fullStudy: { seconds: number; workers: number } | undefined;
if (flag("--full")) {
  const out = mkdtempSync(join(tmpdir(), "tms-bench-study-"));
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      join(root, "bin", "tms.js"),
      "sweep",
      "--presets",
      "seed-study",
      "--activations",
      "all",
      "--seeds",
      "0",
      "--workers",
      "2",
      "--out",
      out,
    ],
    { encoding: "utf8" },
  );
  const seconds = (performance.now() - t0) / 1000;
  rmSync(out, { recursive: true, force: true });
  steps = 10_000;
  if (r.status === 0) {
    fullStudy = { seconds, workers: 2 };
    console.log(
      `\nseed study (27 activations × intro + demo, 1 seed, 10 000 steps, 2 workers): ${seconds.toFixed(1)} s wall`,
    );
  } else console.log(`\nseed study failed: ${r.stderr}`);
}

const file = join(root, "bench", "results.json");
if (existsSync(dirname(file))) {
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), steps: baseSteps, cpu: cpus()[0]?.model, boundGflops, torch: useTorch, rows: results, fullStudy }, null, 1)}\n`,
  );
  console.log(`\nwrote ${file}`);
}
