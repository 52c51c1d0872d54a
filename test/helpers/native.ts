// The native kernel (native/kernel.cc → dist/native/tms_native.node) in tests: whether this machine must be
// able to build it (the conditions of scripts/build-native.mjs), and a spy that counts and records the
// addon's calls, per path.

import { spawnSync } from "node:child_process";
import type { NativeKernel, NativePath } from "../../src/core/kernels/native/native.js";
import { NATIVE_ARG } from "../../src/core/kernels/native/native.js";
import { turnedOff } from "../../src/experiments/env-switch.js";

/** The first of the compilers that runs here, or undefined. */
export function firstCompiler(candidates: readonly (string | undefined)[]): string | undefined {
  return candidates.find(
    (c) => c !== undefined && c !== "" && spawnSync(c, ["--version"], { encoding: "utf8" }).status === 0,
  );
}

/** The C++ compiler scripts/build-native.mjs would use, if any. */
export const CXX = firstCompiler([process.env.CXX, "c++", "g++", "clang++"]);
/** A C compiler (for native/vmath-test.c), if any. */
export const CC = firstCompiler(["gcc", "cc", "clang"]);

/** Why the native kernel cannot be built on this machine (so its tests are skipped), or undefined. */
export function whyNoNativeBuild(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64")
    return `${process.platform}/${process.arch} has no native kernel`;
  if (turnedOff(process.env.TMS_NATIVE)) return `TMS_NATIVE=${process.env.TMS_NATIVE} is set`;
  if (!CXX) return "no C++ compiler (c++, g++ or clang++) runs here";
  return undefined;
}

/** One instance of one recorded call: its arguments and what the addon wrote. */
export interface GramRecord {
  args: number[];
  loss: number;
  gradW: Float64Array;
  gradB: Float64Array;
}

/**
 * Wraps an addon: the same kernel, with each call's instances recorded, per path (`calls` counts the
 * `gram` calls and `records` holds their instances; `denseCalls`/`denseRecords`, `blocksCalls`/
 * `blocksRecords` and `tiledCalls`/`tiledRecords` the same for `dense`, `blocks` and `tiled`).
 */
export function spyKernel(addon: NativeKernel): {
  kernel: NativeKernel;
  calls: () => number;
  records: GramRecord[];
  denseCalls: () => number;
  denseRecords: GramRecord[];
  blocksCalls: () => number;
  blocksRecords: GramRecord[];
  tiledCalls: () => number;
  tiledRecords: GramRecord[];
} {
  const count = { gram: 0, dense: 0, blocks: 0, tiled: 0 };
  const records: GramRecord[] = [];
  const denseRecords: GramRecord[] = [];
  const blocksRecords: GramRecord[] = [];
  const tiledRecords: GramRecord[] = [];
  const spy =
    (path: NativePath, into: GramRecord[]): NativeKernel["gram"] =>
    (memory, args, importance, losses) => {
      count[path]++;
      addon[path](memory, args, importance, losses);
      for (let k = 0; k < losses.length; k++) {
        const a = Array.from(args.subarray(k * NATIVE_ARG.COUNT, (k + 1) * NATIVE_ARG.COUNT));
        const F = a[NATIVE_ARG.F];
        const H = a[NATIVE_ARG.H];
        into.push({
          args: a,
          loss: losses[k],
          gradW: new Float64Array(memory, a[NATIVE_ARG.GRAD_W], F * H).slice(),
          gradB: new Float64Array(memory, a[NATIVE_ARG.GRAD_B], F).slice(),
        });
      }
    };
  const kernel: NativeKernel = {
    ids: addon.ids,
    denseMaxH: addon.denseMaxH,
    blocksMaxF: addon.blocksMaxF,
    blocksMaxH: addon.blocksMaxH,
    tiledMaxF: addon.tiledMaxF,
    tiledMaxH: addon.tiledMaxH,
    gram: spy("gram", records),
    dense: spy("dense", denseRecords),
    blocks: spy("blocks", blocksRecords),
    tiled: spy("tiled", tiledRecords),
  };
  return {
    kernel,
    calls: () => count.gram,
    records,
    denseCalls: () => count.dense,
    denseRecords,
    blocksCalls: () => count.blocks,
    blocksRecords,
    tiledCalls: () => count.tiled,
    tiledRecords,
  };
}

/** How a call to the addon failed: "<error code>: <a RangeError?>", or "no error". */
export function nativeFailure(f: () => void): string {
  try {
    f();
  } catch (e) {
    return `${(e as { code?: string }).code}: ${e instanceof RangeError}`;
  }
  return "no error";
}
