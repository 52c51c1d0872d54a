// Arithmetic rates for `npm run bench`: the machine's WebAssembly f32 bound, the multiply-adds our kernels
// execute per step, and the rate of the kernel on a preset's dense instances alone.
//
// GFLOP/s counts multiply-adds × 2. The bound is measured here: a WebAssembly f32x4 loop of 12 independent
// mul+add chains on one core. The kernels fuse multiply-adds where relaxed SIMD exists; a fused
// multiply-add counts as the same 2 flops, so where the CPU has as many FMA pipes as add pipes the
// fused peak equals this bound.

import { getActivation } from "../src/core/activations.js";
import { choosePath, fastKernel } from "../src/core/kernels/fast.js";
import { get, ModuleBuilder, Ty } from "../src/core/kernels/wasm/emit.js";
import { Gen, Vt } from "../src/core/kernels/wasm/gen.js";
import { initParams, type ModelSpec, makeSpec } from "../src/core/model.js";
import { Rng } from "../src/core/rng.js";
import { createBatch, sampleBatch } from "../src/core/sampling.js";

/** Measured f32x4 multiply+add throughput of one core, in GFLOP/s (a mul and an add = 2 flops per lane). */
export function measureBound(): number {
  const mb = new ModuleBuilder({ module: "env", name: "memory", minPages: 1 });
  const NACC = 12;
  mb.fn("fma", [Ty.i32], [Ty.f32], (f) => {
    const g = new Gen(f);
    const vt = new Vt("f32");
    const accs = Array.from({ length: NACC }, (_, k) => g.varV(vt.c(k)));
    const a = g.letV(vt.c(0.999));
    const b = g.letV(vt.c(0.001));
    g.forRange(
      (ff) => ff.byte(0x41, 0),
      get(0),
      1,
      () => {
        for (const acc of accs) g.set(acc, vt.add(vt.mul(get(acc), a), b));
      },
    );
    let sum = get(accs[0]);
    for (const acc of accs.slice(1)) sum = vt.add(sum, get(acc));
    g.emit(vt.extract(sum, 0));
  });
  const memory = new WebAssembly.Memory({ initial: 1 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.bytes() as BufferSource), {
    env: { memory },
  });
  const fma = inst.exports.fma as (n: number) => number;
  fma(1e6);
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const n = 2e7;
    const t0 = process.cpuUsage();
    fma(n);
    const used = process.cpuUsage(t0);
    best = Math.max(best, (n * NACC * 4 * 2) / ((used.user + used.system) / 1e6) / 1e9);
  }
  return best;
}

/** Multiply-adds per sample of a dense instance: h = Wᵀx, z = Wh, ∇W += g hᵀ, dh = Wᵀg, ∇W += x dhᵀ. */
const denseMacsPerSample = (F: number, H: number) => 5 * F * H;

/** Expected multiply-adds per step executed by the fast kernel (not counting activations). */
export function kernelMacs(spec: ModelSpec, B: number): { ours: number; dense: number } {
  const { nFeatures: F, nHidden: H } = spec;
  let ours = 0;
  let dense = 0;
  for (const p of spec.featureProbability) {
    const pi = 1 - (1 - p) ** F;
    const rows = B * pi;
    const n = pi > 0 ? (p * F) / pi : 0;
    dense += B * denseMacsPerSample(F, H);
    if (choosePath(p, F, H, "f32") === "dense") ours += denseMacsPerSample(F, H) * Math.ceil(rows / 4) * 4;
    else ours += 2 * F * n * rows + 3 * F * F * H;
  }
  return { ours, dense };
}

/** The instances of `spec` that take the dense path, as a spec of their own (undefined if none do). */
export function denseInstances(spec: ModelSpec): ModelSpec | undefined {
  const { nFeatures: F, nHidden: H } = spec;
  const keep: number[] = [];
  spec.featureProbability.forEach((p, i) => {
    if (choosePath(p, F, H, "f32") === "dense") keep.push(i);
  });
  if (keep.length === 0) return undefined;
  return makeSpec(
    F,
    H,
    keep.map((i) => spec.featureProbability[i]),
    keep.map((i) => Array.from(spec.importance.subarray(i * F, (i + 1) * F))),
  );
}

/**
 * The kernel's rate on the dense instances of `spec`, f32: each call on a freshly sampled batch, only the
 * kernel call timed (sampling and the optimiser excluded), the median call of `calls`. Timed in CPU time,
 * as the bound is, so that other tenants' load does not count against it.
 */
export function denseKernelGflops(
  spec: ModelSpec,
  activation: string,
  B: number,
  calls = 15,
): { gflops: number; instances: number } | undefined {
  const sub = denseInstances(spec);
  if (!sub) return undefined;
  const { nInstances: I, nFeatures: F, nHidden: H } = sub;
  const act = getActivation(activation);
  const params = initParams(sub, "f32", 0);
  const grads = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
  const losses = new Float64Array(I);
  const batch = createBatch(sub, B, "f32");
  const rng = new Rng(0, "train");
  const times: number[] = [];
  for (let c = 0; c < calls + 3; c++) {
    sampleBatch(sub, rng, batch);
    const t0 = process.cpuUsage();
    fastKernel(sub, act, params, batch, grads, losses);
    const used = process.cpuUsage(t0);
    if (c >= 3) times.push((used.user + used.system) / 1e6); // the first calls compile and tier up
  }
  times.sort((a, b) => a - b);
  const seconds = times[times.length >> 1];
  return { gflops: (2 * kernelMacs(sub, B).ours) / seconds / 1e9, instances: I };
}
