// Prints a generated module as WebAssembly text, so a reader can see what runs: a step kernel (default), the
// sampler or an optimizer, for the given shape, precision and activation. Reads the build (dist/).
//
//   npm run kernel:wat -- --activation gelu --features 20 --hidden 5 --dtype f32 [--no-fma] [--function gram_rows]
//   npm run kernel:wat -- --module sampler --features 5 --dtype f32
//   npm run kernel:wat -- --module optimizer --optimizer adamw --dtype f64

import { parseArgs } from "node:util";
import wabtInit from "wabt";

const { values } = parseArgs({
  options: {
    module: { type: "string", default: "kernel" },
    activation: { type: "string", default: "relu" },
    features: { type: "string", default: "5" },
    hidden: { type: "string", default: "2" },
    dtype: { type: "string", default: "f32" },
    "no-fma": { type: "boolean", default: false },
    optimizer: { type: "string", default: "adamw" },
    function: { type: "string" },
  },
});
const fail = (message) => {
  console.error(`kernel:wat: ${message}`);
  process.exit(2);
};
const F = Number(values.features);
const H = Number(values.hidden);
if (!Number.isInteger(F) || F < 1 || !Number.isInteger(H) || H < 1)
  fail("--features and --hidden must be positive integers");
if (!["f32", "f64"].includes(values.dtype)) fail("--dtype must be f32 or f64");
const fma = !values["no-fma"];
const dist = new URL("../dist/src/core/", import.meta.url);
const load = (path) =>
  import(new URL(path, dist).href).catch(() => fail("build first: npx tsc -p tsconfig.build.json"));

let bytes;
if (values.module === "kernel") {
  const { ACTIVATION_IDS } = await load("activations.js");
  if (!ACTIVATION_IDS.includes(values.activation)) fail(`unknown activation '${values.activation}'`);
  const { buildKernel } = await load("kernels/wasm/kernel.js");
  bytes = buildKernel(F, H, values.dtype, values.activation, fma).bytes;
} else if (values.module === "sampler") {
  const { buildSampler } = await load("sampler/wasm-gen.js");
  bytes = buildSampler(values.dtype, F, fma);
} else if (values.module === "optimizer") {
  const { buildOptimizer, SCALAR_ORDER } = await load("kernels/wasm/optimizer.js");
  if (!(values.optimizer in SCALAR_ORDER)) fail(`unknown optimizer '${values.optimizer}'`);
  bytes = buildOptimizer(values.optimizer, values.dtype);
} else fail("--module must be kernel, sampler or optimizer");

const wabt = await wabtInit();
const features = { simd: true, relaxed_simd: true, sat_float_to_int: true };
const mod = wabt.readWasm(bytes, { readDebugNames: false, ...features });
mod.validate();
mod.generateNames();
mod.applyNames();
let text = mod.toText({ foldExprs: false, inlineExport: true });
mod.destroy();
if (values.function) {
  // only the named function: from its "(func $name" to the next top-level form
  const start = text.indexOf(`(func $${values.function} `);
  if (start < 0) fail(`no function '${values.function}' in this module`);
  const next = text.indexOf("\n  (", start + 1);
  text = text.slice(start, next < 0 ? undefined : next);
}
process.stdout.write(`${text}\n`);
