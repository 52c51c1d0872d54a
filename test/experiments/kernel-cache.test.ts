// The generated-module cache: the disk cache on its own (hit, miss, damaged entries, the generator's
// fingerprint, turning it off) and installed under the fast kernel (what a kernel's key names, and that a
// model trained from cached modules equals one trained from freshly generated ones, bit for bit).

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { getActivation } from "../../src/core/activations.js";
import {
  forgetCompiledModules,
  type ModuleByteCache,
  relaxedMaddAvailable,
  setFmaEnabled,
  setModuleByteCache,
  wasmEnabled,
} from "../../src/core/kernels/engine.js";
import { fastKernel, setPathOverride } from "../../src/core/kernels/fast.js";
import { buildKernel } from "../../src/core/kernels/wasm/kernel.js";
import { initParams, makeSpec } from "../../src/core/model.js";
import { Rng } from "../../src/core/rng.js";
import { createBatch, type SparseBatch, sampleBatch } from "../../src/core/sampling.js";
import { train } from "../../src/core/train.js";
import {
  diskModuleCache,
  generatorFingerprint,
  installKernelCache,
  KERNEL_CACHE_ENV,
  kernelCacheDir,
} from "../../src/experiments/kernel-cache.js";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "tms-kernel-cache-test-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  setModuleByteCache(undefined);
  setFmaEnabled(true);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const bytes = (...b: number[]) => new Uint8Array(b);
const entries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".bin"));

describe("the disk cache", () => {
  it("misses, then hits with the same bytes; other keys miss", () => {
    const dir = tempDir();
    const cache = diskModuleCache(dir, () => "generator-1");
    expect(cache.get("kernel:a")).toBeUndefined();
    cache.set("kernel:a", bytes(1, 2, 3, 250));
    expect(Array.from(cache.get("kernel:a") ?? [])).toEqual([1, 2, 3, 250]);
    expect(cache.get("kernel:b")).toBeUndefined();
    // another process (a new cache object) reads the same entry
    expect(Array.from(diskModuleCache(dir, () => "generator-1").get("kernel:a") ?? [])).toEqual([
      1, 2, 3, 250,
    ]);
    expect(readdirSync(dir).some((f) => f.endsWith(".tmp"))).toBe(false);
  });

  it("treats a damaged or cut-short entry as missing, and removes it", () => {
    const dir = tempDir();
    const cache = diskModuleCache(dir, () => "generator-1");
    cache.set("k", bytes(...Array.from({ length: 64 }, (_, k) => k)));
    const [file] = entries(dir);
    const whole = readFileSync(join(dir, file));
    const flipped = Buffer.from(whole);
    flipped[flipped.length - 5] ^= 1;
    writeFileSync(join(dir, file), flipped);
    expect(cache.get("k")).toBeUndefined();
    expect(entries(dir)).toEqual([]);
    writeFileSync(join(dir, file), whole.subarray(0, 20));
    expect(cache.get("k")).toBeUndefined();
    writeFileSync(join(dir, file), whole);
    expect(cache.get("k")?.length).toBe(64);
  });

  it("keys entries by the generator's fingerprint, which changes with any file of it", () => {
    const dir = tempDir();
    diskModuleCache(dir, () => "generator-1").set("k", bytes(7));
    expect(diskModuleCache(dir, () => "generator-2").get("k")).toBeUndefined();
    const core = tempDir();
    mkdirSync(join(core, "kernels"));
    writeFileSync(join(core, "kernels", "gen.ts"), "export const a = 1;\n");
    writeFileSync(join(core, "model.ts"), "export const b = 2;\n");
    const before = generatorFingerprint(core);
    expect(generatorFingerprint(core)).toBe(before);
    writeFileSync(join(core, "kernels", "gen.ts"), "export const a = 3;\n");
    expect(generatorFingerprint(core)).not.toBe(before);
    // this checkout's own core has one too
    expect(generatorFingerprint()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("is where the environment says, and off when it says so", () => {
    expect(kernelCacheDir({ [KERNEL_CACHE_ENV]: "/x/y" })).toBe("/x/y");
    expect(kernelCacheDir({ [KERNEL_CACHE_ENV]: "off" })).toBeUndefined();
    expect(kernelCacheDir({ [KERNEL_CACHE_ENV]: "0" })).toBeUndefined();
    expect(kernelCacheDir({ XDG_CACHE_HOME: "/c" })).toBe(join("/c", "tms-lab", "kernels"));
    expect(kernelCacheDir({})).toContain(tmpdir());
  });

  it.runIf(wasmEnabled())("is filled by training once installed, and left alone once turned off", () => {
    const dir = tempDir();
    installKernelCache({ [KERNEL_CACHE_ENV]: dir });
    forgetCompiledModules();
    trainSmall("softsign");
    expect(entries(dir).length).toBeGreaterThan(0);
    for (const f of entries(dir)) rmSync(join(dir, f));
    installKernelCache({ [KERNEL_CACHE_ENV]: "off" });
    forgetCompiledModules();
    trainSmall("softsign");
    expect(entries(dir)).toEqual([]);
  });
});

describe("the kernels shipped with the build (dist/kernels, scripts/prebuild-kernels.mjs)", () => {
  it("a read-only cache serves its entries and never writes", () => {
    const dir = tempDir();
    diskModuleCache(dir, () => "generator-1").set("k", bytes(5, 6));
    const shipped = diskModuleCache(dir, () => "generator-1", { readOnly: true });
    expect(Array.from(shipped.get("k") ?? [])).toEqual([5, 6]);
    shipped.set("other", bytes(1));
    expect(entries(dir).length).toBe(1);
    // a damaged shipped entry is a miss, and stays where it is (the package's files are not the cache's)
    const [file] = entries(dir);
    const damaged = Buffer.from(readFileSync(join(dir, file)));
    damaged[damaged.length - 1] ^= 1;
    writeFileSync(join(dir, file), damaged);
    expect(shipped.get("k")).toBeUndefined();
    expect(entries(dir)).toEqual([file]);
    expect(diskModuleCache(join(dir, "missing"), () => "g", { readOnly: true }).get("k")).toBeUndefined();
  });

  it.runIf(wasmEnabled())(
    "answer when the user's cache misses; what is new goes to the user's cache only",
    () => {
      const shipped = tempDir();
      installKernelCache({ [KERNEL_CACHE_ENV]: shipped }, tempDir());
      forgetCompiledModules();
      trainSmall("softsign"); // the build's run fills the shipped directory
      const shippedEntries = entries(shipped);
      expect(shippedEntries.length).toBeGreaterThan(0);

      const user = tempDir();
      installKernelCache({ [KERNEL_CACHE_ENV]: user }, shipped);
      forgetCompiledModules();
      trainSmall("softsign");
      expect(entries(user)).toEqual([]); // every module came from the shipped directory
      trainSmall("tanhshrink");
      expect(entries(user).length).toBeGreaterThan(0); // its kernel was generated and kept by the user
      expect(entries(shipped)).toEqual(shippedEntries);
      installKernelCache({ [KERNEL_CACHE_ENV]: "off" }, shipped);
      forgetCompiledModules();
      trainSmall("tanhshrink");
      expect(entries(shipped)).toEqual(shippedEntries);
    },
  );
});

/** A cache in memory that records what is asked of it. */
function recordingCache(): ModuleByteCache & { store: Map<string, Uint8Array>; gets: string[] } {
  const store = new Map<string, Uint8Array>();
  const gets: string[] = [];
  return {
    store,
    gets,
    get: (key) => {
      gets.push(key);
      return store.get(key);
    },
    set: (key, value) => void store.set(key, value.slice()),
  };
}

// a shape no other test in this file trains, so its modules are generated here
const spec = () =>
  makeSpec(
    7,
    3,
    [1, 0.5, 0.05, 0.01],
    Array.from({ length: 7 }, (_, f) => 0.8 ** f),
  );
const trainSmall = (activation: string, modelSpec = spec()) =>
  train({
    spec: modelSpec,
    activation,
    steps: 30,
    batchSize: 64,
    lr: 1e-2,
    lrSchedule: "constant",
    seed: 5,
    dtype: "f32",
    softmaxDim: "features",
  });

describe.runIf(wasmEnabled())("the cache under the fast kernel", () => {
  it("trains the same model from generated and from cached modules, bit for bit", () => {
    for (const activation of ["gelu", "softmax", "softsign"]) {
      forgetCompiledModules();
      const fresh = trainSmall(activation);
      const cache = recordingCache();
      setModuleByteCache(cache);
      forgetCompiledModules();
      const storing = trainSmall(activation);
      expect(cache.store.size).toBeGreaterThan(0);
      forgetCompiledModules();
      const sets = cache.store.size;
      const cached = trainSmall(activation);
      expect(cache.store.size).toBe(sets); // every module came from the cache
      for (const o of [storing, cached]) {
        expect(Array.from(o.params.W)).toEqual(Array.from(fresh.params.W));
        expect(Array.from(o.params.b)).toEqual(Array.from(fresh.params.b));
      }
    }
  });

  it("names the FMA mode and the paths in a kernel's key", () => {
    // dense (p = 1) and Gram (p = 0.01) instances
    const mixed = makeSpec(24, 4, [1, 0.01], new Array(24).fill(1));
    const keys = (fma: boolean) => {
      setFmaEnabled(fma);
      const cache = recordingCache();
      setModuleByteCache(cache);
      forgetCompiledModules();
      trainSmall("relu", mixed);
      return [...cache.store.keys()].filter((k) => k.startsWith("kernel:"));
    };
    const withFma = keys(true);
    const without = keys(false);
    expect(withFma.length).toBe(1);
    expect(without.length).toBe(1);
    if (relaxedMaddAvailable()) expect(withFma[0]).not.toBe(without[0]);
    expect(withFma[0]).toMatch(/^kernel:24:4:f32:relu:.*:densegram$/);
  });

  it("regenerates when an entry does not compile, and keeps WebAssembly on", () => {
    const junk: ModuleByteCache = { get: () => new Uint8Array([0, 0, 0, 0, 1, 2, 3]), set: () => {} };
    setModuleByteCache(junk);
    forgetCompiledModules();
    const o = trainSmall("tanh");
    expect(wasmEnabled()).toBe(true);
    setModuleByteCache(undefined);
    forgetCompiledModules();
    expect(Array.from(trainSmall("tanh").params.W)).toEqual(Array.from(o.params.W));
  });
});

describe("kernels with some of the paths", () => {
  const exportsOf = (b: Uint8Array) =>
    WebAssembly.Module.exports(new WebAssembly.Module(b as BufferSource)).map((e) => e.name);
  it("leave out the functions of the other path", () => {
    const dense = exportsOf(buildKernel(5, 2, "f32", "relu", false, { dense: true, gram: false }).bytes);
    expect(dense).toContain("dense_blocks");
    expect(dense).not.toContain("gram_rows");
    expect(dense).not.toContain("dense_tiled");
    const gram = exportsOf(buildKernel(20, 5, "f32", "relu", false, { dense: false, gram: true }).bytes);
    expect(gram).toContain("gram_rows");
    expect(gram).not.toContain("dense_blocks");
    const all = exportsOf(buildKernel(20, 5, "f32", "relu", false).bytes);
    expect(all).toEqual(expect.arrayContaining(["dense_full", "build_blocks", "dense_blocks", "gram_rows"]));
  });

  it.runIf(wasmEnabled())("are replaced by a fuller module when a later step needs another path", () => {
    const s = makeSpec(24, 4, [1, 0.3, 0.01], new Array(24).fill(1));
    const params = initParams(s, "f32", 1);
    const step = (batch: SparseBatch) => {
      const grads = { W: new Float64Array(24 * 4 * 3), b: new Float64Array(24 * 3) };
      const losses = new Float64Array(3);
      fastKernel(s, getActivation("gelu"), params, batch, grads, losses);
      return [...grads.W, ...grads.b, ...losses];
    };
    const sampled = () => {
      const batch = createBatch(s, 128, "f32");
      sampleBatch(s, new Rng(2, "train"), batch);
      return batch;
    };
    try {
      const shared = sampled();
      setPathOverride("dense");
      step(shared); // a module with the dense functions only
      setPathOverride("gram");
      const upgraded = step(shared);
      const alone = step(sampled()); // a new engine: a module with gram_rows only
      expect(upgraded).toEqual(alone);
    } finally {
      setPathOverride(undefined);
    }
  });
});
