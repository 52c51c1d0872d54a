// `npm run bench`: tms-lab against its peers, one core each: the PyTorch reference recipe
// (reference/tms_torch.py, the notebook's eager PyTorch) and a jit-compiled JAX/XLA implementation
// (reference/tms_jax.py, one jitted lax.scan; skipped with a note where jax is not installed).
// A benchmark, not a test: it prints a table and writes bench/results.json.
//
//   node dist/bench/bench.js [--steps N] [--big-steps N] [--rows demo-relu,intro-mish] [--no-torch] [--no-jax]
//                            [--seed-study] [--study-steps N] [--study-runs 1|2] [--scaling] [--full]
//
// Per row, every side trains the same preset and activation for the same number of steps (default 2000 for
// demo and intro, 100 for sparsity and geometry; the notebook's 10 000 with --steps 10000) and reports its
// training loop's time: PyTorch's and JAX's own `seconds` (JAX's excludes its compilation), one run each;
// tms-lab's as a user meets it, one cold `tms train … --json` process ("cold"), and the median of three
// in-process runs after a warm-up ("warm", the kernels compiled and the JIT settled). Ratios are peer /
// tms-lab (> 1: tms-lab faster). Sides alternate their order row by row, so none always runs after another.
// --seed-study: the seed study (intro + demo × 27 activations, 1 seed, --study-steps, default 10 000) as
// whole commands on 2 workers each, `tms sweep` against tms_jax.py --workers 2, wall times (--study-runs 2:
// each side twice, in the order tms-lab, JAX, JAX, tms-lab).
// --scaling: time against steps, batch size and features for tms-lab and JAX (bench/scaling.ts).
// --full: all of the above.
// GFLOP/s (bench/flops.ts): the multiply-adds our algorithms execute over the whole step, and for sparsity
// and geometry the kernel alone on the preset's dense instances, each beside the machine's measured
// WebAssembly f32 bound.

import { writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { enableRelaxedSimd } from "../src/cli/node-flags.js";
import { TRAIN_DEFAULTS, train } from "../src/core/train.js";
import { installNativeKernel } from "../src/experiments/native-kernel.js";
import { getPreset } from "../src/experiments/presets.js";
import { denseKernelGflops, kernelMacs, measureBound } from "./flops.js";
import { formulaRows } from "./formula.js";
import {
  findJax,
  type PeerRun,
  ROOT,
  runJax,
  runTmsTrain,
  runTorch,
  seedStudyJax,
  seedStudyTms,
  torchAvailable,
} from "./peers.js";
import { type ScalingRow, scalingReport } from "./scaling.js";

interface Args {
  steps: number;
  bigSteps: number;
  studySteps: number;
  studyRuns: number;
  seedStudy: boolean;
  scaling: boolean;
  torch: boolean;
  jax: boolean;
  rows?: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    steps: 2000,
    bigSteps: 100,
    studySteps: 10_000,
    studyRuns: 1,
    seedStudy: false,
    scaling: false,
    torch: true,
    jax: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--steps") a.steps = Number(argv[++i]);
    else if (k === "--big-steps") a.bigSteps = Number(argv[++i]);
    else if (k === "--study-steps") a.studySteps = Number(argv[++i]);
    else if (k === "--study-runs") a.studyRuns = Math.min(2, Math.max(1, Number(argv[++i])));
    else if (k === "--seed-study") a.seedStudy = true;
    else if (k === "--scaling") a.scaling = true;
    else if (k === "--full") a.seedStudy = a.scaling = true;
    else if (k === "--no-torch") a.torch = false;
    else if (k === "--no-jax") a.jax = false;
    else if (k === "--rows") a.rows = argv[++i].split(",");
    else if (k === "--help" || k === "-h") usage(0);
    else usage(2, `bench: unknown argument ${k}`);
  }
  return a;
}

/** Prints how to call the benchmark (after `problem`, if any) and exits with `code`. */
function usage(code: number, problem?: string): never {
  const text =
    "usage: node dist/bench/bench.js [--steps N] [--big-steps N] [--rows demo-relu,intro-mish] [--no-torch]\n" +
    "         [--no-jax] [--seed-study] [--study-steps N] [--study-runs 1|2] [--scaling] [--full]\n";
  if (problem) process.stderr.write(`${problem}\n${text}`);
  else process.stdout.write(text);
  process.exit(code);
}

interface Row {
  work: string;
  preset: string;
  activation: string;
  steps: number;
  torch?: PeerRun;
  jax?: PeerRun;
  /** One cold `tms train --json` process: its reported seconds and the command's wall time. */
  cold?: PeerRun;
  /** In-process after a warm-up: the median of OUR_RUNS (allSeconds: each, sorted). */
  warmSeconds: number;
  allSeconds: number[];
  vsJax?: { cold?: number; warm: number };
  vsTorch?: { cold?: number; warm: number };
  gflops: number;
  boundFraction: number;
  /** sparsity and geometry: the kernel alone on the dense instances. */
  denseKernel?: { gflops: number; boundGflops: number; boundFraction: number; instances: number };
}

/** Warm in-process runs per row, after a warm-up: the median is reported. */
const OUR_RUNS = 3;

function runWarm(preset: string, activation: string, steps: number) {
  const spec = getPreset(preset).spec();
  train({ spec, activation, ...TRAIN_DEFAULTS, steps: Math.min(50, steps) });
  const seconds: number[] = [];
  for (let r = 0; r < OUR_RUNS; r++)
    seconds.push(train({ spec, activation, ...TRAIN_DEFAULTS, steps }).seconds);
  seconds.sort((a, b) => a - b);
  return { median: seconds[OUR_RUNS >> 1], all: seconds, spec };
}

const fmt = (x: number | undefined, digits = 2) => (x === undefined ? "—" : x.toFixed(digits));
const times = (x: number | undefined) => (x === undefined ? "—" : `${x.toFixed(2)}×`);

function measureRow(
  preset: string,
  act: string,
  steps: number,
  k: number,
  peers: { torch: boolean; jax?: string },
  bound: number,
): Row {
  let torch: PeerRun | undefined;
  let jax: PeerRun | undefined;
  let cold: PeerRun | undefined;
  let warm: ReturnType<typeof runWarm> | undefined;
  const sides = [
    () => {
      if (peers.torch) torch = runTorch(preset, act, steps);
    },
    () => {
      if (peers.jax) jax = runJax(peers.jax, preset, act, steps);
    },
    () => {
      cold = runTmsTrain(preset, act, steps);
    },
    () => {
      warm = runWarm(preset, act, steps);
    },
  ];
  for (const side of k % 2 ? [...sides].reverse() : sides) side();
  if (!warm) throw new Error("unreachable");
  const w = warm as ReturnType<typeof runWarm>;
  const c = cold as PeerRun | undefined;
  const B = TRAIN_DEFAULTS.batchSize;
  const executed = (2 * kernelMacs(w.spec, B).ours * steps) / w.median / 1e9;
  const ratios = (peer: PeerRun | undefined) =>
    peer ? { cold: c ? peer.seconds / c.seconds : undefined, warm: peer.seconds / w.median } : undefined;
  // the bound again, right before: under other tenants' load both drift, so they are compared in the same minute
  const big = preset === "sparsity" || preset === "geometry";
  const localBound = big ? measureBound() : bound;
  const dense = big ? denseKernelGflops(w.spec, act, B) : undefined;
  return {
    work: `${preset} ${act} × ${steps} steps`,
    preset,
    activation: act,
    steps,
    torch,
    jax,
    cold: c,
    warmSeconds: w.median,
    allSeconds: w.all,
    vsJax: ratios(jax),
    vsTorch: ratios(torch),
    gflops: executed,
    boundFraction: executed / bound,
    ...(dense
      ? { denseKernel: { ...dense, boundGflops: localBound, boundFraction: dense.gflops / localBound } }
      : {}),
  };
}

function printRow(r: Row): void {
  const flops = r.denseKernel
    ? `  ${fmt(r.gflops, 1)} GFLOP/s step (${(100 * r.boundFraction).toFixed(0)}% of bound), ` +
      `dense instances (${r.denseKernel.instances}) kernel ${fmt(r.denseKernel.gflops, 1)} GFLOP/s ` +
      `(${(100 * r.denseKernel.boundFraction).toFixed(0)}% of ${fmt(r.denseKernel.boundGflops, 1)} measured beside it)`
    : "";
  process.stdout.write(
    `${r.work.padEnd(28)} PyTorch ${fmt(r.torch?.seconds).padStart(7)}  JAX ${fmt(r.jax?.seconds, 3).padStart(7)}  ` +
      `tms-lab cold ${fmt(r.cold?.seconds, 3).padStart(7)} warm ${fmt(r.warmSeconds, 3).padStart(7)} ` +
      `[${fmt(r.allSeconds[0], 3)}–${fmt(r.allSeconds[r.allSeconds.length - 1], 3)}]  ` +
      `vs JAX ${times(r.vsJax?.cold).padStart(7)} cold ${times(r.vsJax?.warm).padStart(7)} warm  ` +
      `vs PyTorch ${times(r.vsTorch?.cold).padStart(7)} cold ${times(r.vsTorch?.warm).padStart(7)} warm${flops}\n`,
  );
}

function seedStudy(jax: string | undefined, steps: number, runs: number) {
  process.stdout.write(
    `\nSeed study (intro + demo × 27 activations, 1 seed, ${steps} steps, 2 workers each, whole commands)\n`,
  );
  // runs = 2: ours, JAX, JAX, ours, so each side runs once first
  const ours: { wall: number; maxRssMB?: number }[] = [];
  const theirs: number[] = [];
  const runOurs = () => {
    const r = seedStudyTms(steps);
    if (r) ours.push(r);
  };
  const runPeer = () => {
    const r = jax ? seedStudyJax(jax, steps) : undefined;
    if (r !== undefined) theirs.push(r);
  };
  const order = [runOurs, runPeer, runPeer, runOurs];
  for (const f of order.slice(0, 2 * runs)) f();
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const oursMean = mean(ours.map((r) => r.wall));
  const vsJax = theirs.length ? mean(theirs) / oursMean : undefined;
  const rss = Math.max(...ours.map((r) => r.maxRssMB ?? 0));
  process.stdout.write(
    `tms sweep ${ours.map((r) => `${r.wall.toFixed(1)} s`).join(", ")} wall (largest process ${rss.toFixed(0)} MB RSS); ` +
      `JAX ${theirs.length ? theirs.map((s) => `${s.toFixed(1)} s`).join(", ") : "—"} wall; ` +
      `JAX/tms-lab ${times(vsJax)} (mean of each)\n`,
  );
  return { steps, tmsWall: ours.map((r) => r.wall), maxRssMB: rss, jaxWall: theirs, vsJax };
}

async function main(): Promise<void> {
  enableRelaxedSimd(); // as the `tms` command does
  const native = installNativeKernel(); // as `tms` does (TMS_NATIVE=off: the WebAssembly kernel alone)
  const args = parseArgs(process.argv.slice(2));
  const load0 = loadavg();
  const bound = measureBound();
  const torch = args.torch && torchAvailable();
  const jaxFound = args.jax ? findJax() : { note: "JAX: skipped (--no-jax)" };
  const jax = jaxFound.python;
  const plan: [string, string, number][] = [
    ["demo", "relu", args.steps],
    ["demo", "gelu", args.steps],
    ["demo", "mish", args.steps],
    ["demo", "softmax", args.steps],
    ["intro", "relu", args.steps],
    ["intro", "gelu", args.steps],
    ["intro", "mish", args.steps],
    ["intro", "softmax", args.steps],
    ["sparsity", "relu", args.bigSteps],
    ["geometry", "relu", args.bigSteps],
  ];
  process.stdout.write(
    `load average ${load0.map((l) => l.toFixed(1)).join(" ")} on ${cpus().length} cores (times stretch under load; ratios come from the same minutes)\n` +
      `bound: ${bound.toFixed(1)} GFLOP/s f32 (measured f32x4 mul+add, one core)\n` +
      `native kernel: ${native}\n` +
      `${torch ? "PyTorch: found, --threads 1" : "PyTorch: not available (or --no-torch)"}\n${jaxFound.note}${jax ? ", --threads 1" : ""}\n` +
      "ratios: peer seconds / tms-lab seconds (> 1: tms-lab faster); cold = one `tms train --json` process, warm = in-process median of 3\n",
  );
  const rows: Row[] = [];
  for (const [preset, act, steps] of plan) {
    if (args.rows && !args.rows.includes(`${preset}-${act}`)) continue;
    const row = measureRow(preset, act, steps, rows.length, { torch, jax }, bound);
    rows.push(row);
    printRow(row);
  }
  process.stdout.write(
    "\nformula activations against the built-in they equal (issue #18: ≤ 1.3×), µs per step:\n",
  );
  const formulas = args.rows ? undefined : formulaRows();
  const study = args.seedStudy ? seedStudy(jax, args.studySteps, args.studyRuns) : undefined;
  const scaling: ScalingRow[] | undefined = args.scaling ? scalingReport(jax) : undefined;
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    loadAverage: { start: load0, end: loadavg() },
    boundGflops: bound,
    nativeKernel: native,
    torch,
    jax: jaxFound.note,
    steps: args.steps,
    bigSteps: args.bigSteps,
    rows,
    ...(formulas ? { formulas } : {}),
    ...(study ? { seedStudy: study } : {}),
    ...(scaling ? { scaling } : {}),
  };
  // a run of some rows only does not replace the complete run's results
  const out = args.rows ? join(tmpdir(), "tms-bench-results.json") : join(ROOT, "bench", "results.json");
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  const loadEnd = loadavg().map((l) => l.toFixed(1));
  process.stdout.write(`load average at the end ${loadEnd.join(" ")}\nwrote ${out}\n`);
}

await main();
