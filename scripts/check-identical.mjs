// Refactoring guard for the generated code and the training loop: writes (a) the bytes of every generated
// WebAssembly module for a grid of configurations (step kernels: every activation × f32/f64 × shapes × FMA
// on/off; samplers; the optimizer) and (b) the W/b bytes of small trained models, into a directory; with
// --compare DIR, compares them with an earlier dump byte for byte and exits 1 on any difference.
//
//   npx tsc -p tsconfig.build.json
//   node --experimental-wasm-relaxed-simd scripts/check-identical.mjs /tmp/baseline
//   node --experimental-wasm-relaxed-simd scripts/check-identical.mjs /tmp/after --compare /tmp/baseline

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dist = new URL("../dist/src/core/", import.meta.url);
const load = (path) => import(new URL(path, dist).href);

const { ACTIVATION_IDS } = await load("activations.js");
const { makeSpec } = await load("model.js");
const { train } = await load("train.js");
const { buildKernel } = await load("kernels/wasm/kernel.js");
const samplerModule = await load("kernels/wasm/sampler.js").catch(() => load("sampler/wasm-gen.js"));
const optimizerModule = await load("kernels/wasm/adamw.js").catch(() => load("kernels/wasm/optimizer.js"));

const out = process.argv[2];
const compareAt = process.argv.indexOf("--compare");
const baseline = compareAt > 0 ? process.argv[compareAt + 1] : undefined;
if (!out) {
  console.error("usage: check-identical.mjs OUT_DIR [--compare BASELINE_DIR]");
  process.exit(2);
}
mkdirSync(join(out, "kernels"), { recursive: true });
mkdirSync(join(out, "models"), { recursive: true });

// (a) generated modules
const SHAPES = [
  [2, 1],
  [3, 2],
  [5, 2],
  [8, 3],
  [20, 5],
  [33, 4],
  [40, 10],
  [100, 20],
];
let nKernels = 0;
for (const act of ACTIVATION_IDS)
  for (const dtype of ["f32", "f64"])
    for (const [F, H] of SHAPES)
      for (const fma of [false, true]) {
        const { bytes, jsMid, consts } = buildKernel(F, H, dtype, act, fma);
        const name = `kernel-${act}-${dtype}-${F}x${H}-${fma ? "fma" : "plain"}`;
        writeFileSync(join(out, "kernels", `${name}.wasm`), bytes);
        writeFileSync(
          join(out, "kernels", `${name}.consts`),
          Buffer.concat([Buffer.from([jsMid ? 1 : 0]), consts]),
        );
        nKernels++;
      }
for (const dtype of ["f32", "f64"])
  for (const F of [1, 2, 3, 5, 8, 20, 100, 200])
    for (const relaxed of [false, true]) {
      writeFileSync(
        join(out, "kernels", `sampler-${dtype}-${F}-${relaxed ? "relaxed" : "plain"}.wasm`),
        samplerModule.buildSampler(dtype, F, relaxed),
      );
      nKernels++;
    }
for (const dtype of ["f32", "f64"]) {
  const build = optimizerModule.buildAdamW ?? ((d) => optimizerModule.buildOptimizer("adamw", d));
  writeFileSync(join(out, "kernels", `adamw-${dtype}.wasm`), build(dtype));
  nKernels++;
}

// (b) trained models
const range = (n) => Array.from({ length: n }, (_, k) => k);
const SPECS = {
  intro: () =>
    makeSpec(
      5,
      2,
      range(10).map((i) => 20 ** -(i / 9)),
      range(5).map((f) => 0.9 ** f),
    ),
  demo: () =>
    makeSpec(
      20,
      5,
      [1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001],
      range(20).map((f) => 0.7 ** f),
    ),
  sparsity: () =>
    makeSpec(
      100,
      20,
      range(20).map((i) => 20 ** -(i / 19)),
      range(100).map((f) => 100 ** -(f / 99)),
    ),
};
const ACTS = ["relu", "hardswish", "gelu", "tanh", "softmax", "solu"];
const RUNS = [];
for (const preset of Object.keys(SPECS))
  for (const activation of ACTS)
    for (const dtype of ["f32", "f64"])
      RUNS.push({
        preset,
        activation,
        dtype,
        steps: preset === "sparsity" ? 150 : 300,
        batchSize: 256,
        lr: 1e-3,
      });
// instances that diverge (the per-instance optimizer path)
for (const dtype of ["f32", "f64"])
  RUNS.push({ preset: "intro", activation: "exp", dtype, steps: 200, batchSize: 256, lr: 0.3 });
let nModels = 0;
for (const r of RUNS) {
  const o = train({
    spec: SPECS[r.preset](),
    activation: r.activation,
    steps: r.steps,
    batchSize: r.batchSize,
    lr: r.lr,
    lrSchedule: "cosine",
    seed: 3,
    dtype: r.dtype,
    softmaxDim: "features",
  });
  const bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const name = `${r.preset}-${r.activation}-${r.dtype}-lr${r.lr}`;
  writeFileSync(
    join(out, "models", `${name}.bin`),
    Buffer.concat([bytes(o.params.W), bytes(o.params.b), bytes(o.trainLoss), bytes(o.divergedAtStep)]),
  );
  nModels++;
}
console.log(`wrote ${nKernels} generated modules and ${nModels} trained models to ${out}`);

if (baseline) {
  let compared = 0;
  const differ = [];
  for (const sub of ["kernels", "models"]) {
    for (const file of readdirSync(join(baseline, sub))) {
      const now = join(out, sub, file);
      if (!existsSync(now)) {
        differ.push(`${sub}/${file} (missing)`);
        continue;
      }
      compared++;
      if (!readFileSync(now).equals(readFileSync(join(baseline, sub, file)))) differ.push(`${sub}/${file}`);
    }
  }
  if (differ.length) {
    console.error(`${differ.length} of ${compared} differ:\n  ${differ.slice(0, 40).join("\n  ")}`);
    process.exit(1);
  }
  console.log(`identical: ${compared} files (kernels and models) byte for byte`);
}
