// Builds the native kernel (native/kernel.cc, blocks.cc, tiled.cc, sampler.cc, steps.cc) into dist/native/tms_native.node for this
// machine, if it has a C++ compiler: `npm run build` runs it after tsc. The activations come from the table, through
// dist/src/core/kernels/native/emit-c.js (→ dist/native/activations.gen.h). The Node-API headers come from
// the node-api-headers package, so nothing is downloaded. Everything here is optional: without a compiler,
// or if compilation fails, it says so in one line and exits 0, and tms-lab runs the WebAssembly kernel.
//
//   node scripts/build-native.mjs          (TMS_NATIVE=off: build nothing; CXX: the compiler to use)

import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, "dist", "native");

/** Prints why there is no native kernel and leaves none behind (a stale addon must not be loaded). */
function skip(why) {
  rmSync(out, { recursive: true, force: true });
  process.stdout.write(`native kernel not built: ${why}; tms-lab will use its WebAssembly kernel\n`);
  process.exit(0);
}

// npm run build compiles src/ first: the loader's own rules decide what "off" and a CPU's features are
const { turnedOff } = await import(join(root, "dist", "src", "experiments", "env-switch.js"));
const { cpuFeatures } = await import(join(root, "dist", "src", "experiments", "native-kernel.js"));

if (turnedOff(process.env.TMS_NATIVE)) skip(`TMS_NATIVE=${process.env.TMS_NATIVE}`);
if (process.platform !== "linux" || process.arch !== "x64")
  skip(`${process.platform}/${process.arch} is not supported yet`);

const compiler = [process.env.CXX, "c++", "g++", "clang++"].find(
  (c) => c && spawnSync(c, ["--version"], { encoding: "utf8" }).status === 0,
);
if (!compiler) skip("no C++ compiler (c++, g++ or clang++) found");

let headers;
try {
  headers = join(dirname(createRequire(import.meta.url).resolve("node-api-headers/package.json")), "include");
} catch {
  skip("the node-api-headers package is missing (npm ci installs it)");
}

const { ACTIVATIONS } = await import(join(root, "dist", "src", "core", "activations.js"));
const { activationsHeader } = await import(
  join(root, "dist", "src", "core", "kernels", "native", "emit-c.js")
);
const { source, ids, skipped } = activationsHeader([...ACTIVATIONS.values()]);

// -march=native: the build runs where tms-lab runs (npm ci); experiments/native-kernel.ts refuses the addon
// on a CPU without every feature of this one. -ffp-contract=off: multiply-adds are fused only where the
// code says so (TMS_MADD), as in the WebAssembly kernel.
const flags = ["-O3", "-march=native", "-ffp-contract=off", "-std=c++17", "-fPIC"];
flags.push("-fvisibility=hidden", "-fno-exceptions", "-fno-rtti");
const compilerVersion = spawnSync(compiler, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
// the instruction-set features only (not, say, a hypervisor's flags, which differ between identical CPUs)
const isa = /^(sse|ssse3|avx|fma|f16c|bmi|popcnt|abm|lzcnt|movbe|adx|sha|vaes|vpclmul|pclmul|gfni|aes|amx)/;
const features = cpuFeatures();
if (!features) skip("/proc/cpuinfo is unreadable, so the addon could not be matched to a CPU later");
const cpuFlags = features.filter((f) => isa.test(f));

// Up to date: the same sources, generated activations, compiler, flags and CPU as the addon already built
// (npm test builds again right after npm ci has; one build takes ≈ 30 s).
const units = ["kernel.cc", "blocks.cc", "tiled.cc", "sampler.cc", "steps.cc"];
const nativeDir = join(root, "native");
const hash = createHash("sha256");
// every source and header of native/ (a test program among them changes nothing, but costs one rebuild)
for (const f of readdirSync(nativeDir)
  .filter((n) => /\.(cc|h)$/.test(n))
  .sort())
  hash.update(f).update(readFileSync(join(nativeDir, f)));
hash.update(JSON.stringify({ source, compilerVersion, flags, cpuFlags, headers }));
hash.update(readFileSync(fileURLToPath(import.meta.url))); // this script (what it writes beside the addon)
const key = hash.digest("hex").slice(0, 16);
const built = (() => {
  try {
    return JSON.parse(readFileSync(join(out, "build.json"), "utf8"));
  } catch {
    return undefined;
  }
})();
if (built?.key === key && existsSync(join(out, "tms_native.node"))) {
  process.stdout.write(`native kernel up to date (${key})\n`);
  process.exit(0);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "activations.gen.h"), source);

// the two translation units side by side (most machines have two cores), then one link
const t0 = performance.now();
const include = ["-I", headers, "-I", out, "-I", nativeDir];
const compile = (unit) =>
  new Promise((done) => {
    const object = join(out, unit.replace(/\.cc$/, ".o"));
    execFile(
      compiler,
      [...flags, ...include, "-c", join(nativeDir, unit), "-o", object],
      (error, _o, stderr) =>
        done(
          error
            ? `${compiler} failed on ${unit}: ${(stderr || error.message).trim().split("\n")[0]}`
            : object,
        ),
    );
  });
const objects = await Promise.all(units.map(compile));
const failed = objects.find((o) => o.includes(" failed on "));
if (failed) skip(failed);
const r = spawnSync(compiler, [...flags, "-shared", ...objects, "-o", join(out, "tms_native.node")], {
  encoding: "utf8",
});
if (r.status !== 0)
  skip(`${compiler} failed to link: ${(r.stderr || r.error?.message || "").trim().split("\n")[0]}`);
// a formula's addon links the sampler and the native steps as they are (they hold no activation's code)
const formulaObjects = ["sampler.o", "steps.o"];
for (const o of objects) if (!formulaObjects.some((f) => o.endsWith(f))) rmSync(o, { force: true });
// the sources, for addons built at run time for one formula each (experiments/formula-native.ts)
mkdirSync(join(out, "src"), { recursive: true });
for (const f of readdirSync(nativeDir).filter((n) => /\.(cc|h)$/.test(n)))
  writeFileSync(join(out, "src", f), readFileSync(join(nativeDir, f)));

writeFileSync(
  join(out, "build.json"),
  `${JSON.stringify({ compiler: compilerVersion, compilerCommand: compiler, flags, headers, cpuFlags, ids, skipped, key, formulaObjects }, null, 1)}\n`,
);
const seconds = ((performance.now() - t0) / 1000).toFixed(1);
process.stdout.write(
  `native kernel built (${compilerVersion}, ${seconds} s): Gram, dense and blocks paths for ${ids.length} elementwise activations and the softmax family` +
    (skipped.length ? ` (not: ${skipped.join(", ")})` : "") +
    "\n",
);
