// The step kernel alone, per instance: µs a call of fastKernel takes for one instance of a given feature
// probability (8 such instances a call, a fresh batch each; sampling and the optimiser not timed). It splits
// a preset's step by instance. Where the native kernel is built (experiments/native-kernel.ts), each batch
// is run by both kernels in turn, the WebAssembly one alone and with the native one taking the instances it
// takes, so both see the same load: the ratio is what the native kernel changes.
//
//   node dist/bench/kernel-instances.js [--shape 20x5] [--activations relu,gelu] [--p 1,0.3,0.1,0.03]

import { enableRelaxedSimd } from "../src/cli/node-flags.js";
import { getActivation } from "../src/core/activations.js";
import { choosePath, fastKernel } from "../src/core/kernels/fast.js";
import { type NativeKernel, setNativeKernel } from "../src/core/kernels/native/native.js";
import { initParams, makeSpec } from "../src/core/model.js";
import { Rng } from "../src/core/rng.js";
import { createBatch, sampleBatch } from "../src/core/sampling.js";
import { installNativeKernel, loadedNativeKernel } from "../src/experiments/native-kernel.js";

const INSTANCES = 8;
const BATCH = 1024;
const WARM_CALLS = 100;
const CALLS = 300;

function parseArgs(argv: string[]) {
  const a = { F: 20, H: 5, activations: ["relu", "gelu"], ps: [1, 0.3, 0.1, 0.03] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--shape") [a.F, a.H] = argv[++i].split("x").map(Number);
    else if (k === "--activations") a.activations = argv[++i].split(",");
    else if (k === "--p") a.ps = argv[++i].split(",").map(Number);
    else throw new Error(`unknown argument ${k} (expected --shape FxH, --activations a,b, --p p1,p2)`);
  }
  if (!(a.F > 0 && a.H > 0)) throw new Error("--shape needs two positive integers, e.g. 20x5");
  return a;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

/** Median µs a kernel call spends per instance, all instances at feature probability p, per kernel. */
function perInstance(F: number, H: number, activation: string, p: number, native?: NativeKernel) {
  const importance = Array.from({ length: INSTANCES }, () => Array.from({ length: F }, (_, f) => 0.7 ** f));
  const spec = makeSpec(F, H, Array(INSTANCES).fill(p), importance);
  const act = getActivation(activation);
  const params = initParams(spec, "f32", 0);
  const grads = { W: new Float64Array(INSTANCES * F * H), b: new Float64Array(INSTANCES * F) };
  const losses = new Float64Array(INSTANCES);
  const batch = createBatch(spec, BATCH, "f32");
  const rng = new Rng(0, "train");
  const kernels = native ? [undefined, native] : [undefined];
  const times: number[][] = kernels.map(() => []);
  for (let c = 0; c < WARM_CALLS + CALLS; c++) {
    sampleBatch(spec, rng, batch);
    // alternate which goes first: the first after sampling finds the batch's derived data (compacted
    // rows, blocks) not yet built, and the second may reuse them
    const order = c % 2 ? [...kernels.keys()].reverse() : [...kernels.keys()];
    order.forEach((k) => {
      const kernel = kernels[k];
      setNativeKernel(kernel);
      const t0 = performance.now();
      fastKernel(spec, act, params, batch, grads, losses);
      if (c >= WARM_CALLS) times[k].push(performance.now() - t0); // the first calls compile and tier up
    });
  }
  setNativeKernel(native);
  return times.map((t) => (median(t) * 1000) / INSTANCES);
}

function main(): void {
  enableRelaxedSimd();
  const { F, H, activations, ps } = parseArgs(process.argv.slice(2));
  const status = installNativeKernel();
  const native = loadedNativeKernel();
  process.stdout.write(`native kernel: ${status}\n`);
  for (const activation of activations)
    for (const p of ps) {
      const [wasm, nat] = perInstance(F, H, activation, p, native);
      const path = choosePath(p, F, H, "f32");
      const both =
        nat === undefined ? "" : `   native ${nat.toFixed(2)} µs  ratio ${(nat / wasm).toFixed(3)}`;
      process.stdout.write(
        `F=${F} H=${H} ${activation.padEnd(10)} p=${String(p).padEnd(5)} ${path.padEnd(5)} wasm ${wasm.toFixed(2)} µs${both}\n`,
      );
    }
}

try {
  main();
} catch (e) {
  process.stderr.write(`kernel-instances: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}
