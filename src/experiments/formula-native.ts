// Native code for a user's formula activation: the native kernel is compiled from the table when tms-lab is
// installed, so a formula (defined at run time) would run in WebAssembly only, slower than the built-in it
// may equal (issue #18 asks for ≤ 1.3×). Here the formula's vector form is written as C
// (kernels/native/emit-c.ts), compiled with the native kernel's own sources and flags (dist/native/src,
// build.json) into an addon for that one activation, cached on disk by everything that went into it, and
// installed beside the main addon.
//
// Whether a formula runs natively is decided from the run's configuration (its steps), never from whether a
// compilation has finished, so results stay a function of the spec and the machine: a run of at least
// FORMULA_NATIVE_MIN_STEPS steps compiles (≈ 3–5 s the first time, then read from the cache), shorter ones
// (the explorer, tests, quick looks) stay in WebAssembly.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type Activation, getActivation } from "../core/activations.js";
import { activationsHeader } from "../core/kernels/native/emit-c.js";
import { type NativeKernel, setFormulaKernel } from "../core/kernels/native/native.js";
import { kernelCacheDir } from "./kernel-cache.js";
import { loadedNativeKernel, NATIVE_DIR } from "./native-kernel.js";

/** Runs of at least this many steps compile their formula (the compile then costs < 1 ms a step). */
export const FORMULA_NATIVE_MIN_STEPS = 5000;

/** What build.json says about the main addon's build (scripts/build-native.mjs). */
interface BuildInfo {
  compilerCommand?: string;
  flags?: string[];
  headers?: string;
  key?: string;
  /** The main build's objects a formula's addon links as they are: the sampler and the native steps. */
  formulaObjects?: string[];
}

const installed = new Map<string, NativeKernel>();

/**
 * Installs native code for the formula activations among `activations` (ids; built-ins are skipped) when a
 * run of `steps` steps is long enough, the main native kernel is loaded in this thread, and the formula has
 * a C form. Returns, per formula id, "native" or why not (a reason, never an error: WebAssembly then runs it).
 */
export function installFormulaKernels(
  activations: Iterable<string>,
  steps: number,
  env: NodeJS.ProcessEnv = process.env,
): Map<string, string> {
  const status = new Map<string, string>();
  for (const id of new Set(activations)) {
    let act: Activation;
    try {
      act = getActivation(id);
    } catch {
      continue; // not defined in this thread: the run reports it
    }
    if (!("key" in act)) continue; // a table entry: the main addon has it
    status.set(id, installOne(act, steps, env));
  }
  return status;
}

function installOne(act: Activation, steps: number, env: NodeJS.ProcessEnv): string {
  if (steps < FORMULA_NATIVE_MIN_STEPS)
    return `runs of fewer than ${FORMULA_NATIVE_MIN_STEPS} steps stay in WebAssembly`;
  if (!loadedNativeKernel()) return "no native kernel in this thread";
  const key = "key" in act ? String(act.key) : act.id;
  const done = installed.get(key);
  if (done) {
    setFormulaKernel(key, done);
    return "native";
  }
  const header = activationsHeader([{ ...act, id: "formula" } as Activation]);
  if (header.ids.length !== 1) return "the formula has no C form";
  let info: BuildInfo;
  try {
    info = JSON.parse(readFileSync(join(NATIVE_DIR, "build.json"), "utf8")) as BuildInfo;
  } catch {
    return "the native kernel's build.json is unreadable";
  }
  const src = join(NATIVE_DIR, "src");
  if (!info.compilerCommand || !info.flags || !info.headers || !existsSync(join(src, "kernel.cc")))
    return "the native kernel was built without what a formula needs (rebuild: npm run build)";
  const cacheDir = kernelCacheDir(env);
  if (!cacheDir) return "the kernel cache is off (TMS_KERNEL_CACHE), so a compiled formula could not be kept";
  // with the main build's sampler and native steps (objects without any activation's code), the formula's
  // runs take their steps natively as the built-ins' do (src/core/native-steps.ts)
  const objects = (info.formulaObjects ?? []).map((o) => join(NATIVE_DIR, o));
  const withSteps = objects.length > 0 && objects.every((o) => existsSync(o));
  const flags = [
    ...info.flags,
    "-DTMS_ONE_ACTIVATION",
    ...(withSteps ? ["-DTMS_WITH_STEPS"] : []),
    "-shared",
  ];
  const digest = createHash("sha256")
    .update(JSON.stringify({ source: header.source, build: info.key, flags, compiler: info.compilerCommand }))
    .digest("hex")
    .slice(0, 24);
  const dir = join(cacheDir, "native-formulas");
  const file = join(dir, `${digest}.node`);
  if (!existsSync(file)) {
    const work = join(dir, `${digest}.${process.pid}.${Date.now()}`);
    mkdirSync(work, { recursive: true });
    try {
      const headerFile = join(work, "activations.gen.h");
      writeFileSync(headerFile, header.source);
      const out = join(work, "formula.node");
      const r = spawnSync(
        info.compilerCommand,
        [
          ...flags,
          "-I",
          info.headers,
          "-I",
          work,
          "-I",
          src,
          join(src, "kernel.cc"),
          join(src, "blocks.cc"),
          join(src, "tiled.cc"),
          ...(withSteps ? objects : []),
          "-o",
          out,
        ],
        { encoding: "utf8" },
      );
      if (r.status !== 0)
        return `compiling it failed: ${(r.stderr || r.error?.message || "").trim().split("\n")[0]}`;
      // another process may have finished the same one first: either file is the same addon
      renameSync(out, file);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  let kernel: NativeKernel;
  try {
    kernel = createRequire(import.meta.url)(file) as NativeKernel;
  } catch (e) {
    return `could not be loaded (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`;
  }
  if (kernel.ids.length !== 1 || kernel.ids[0] !== "formula") return "the compiled addon is not a formula's";
  installed.set(key, kernel);
  setFormulaKernel(key, kernel);
  return "native";
}
