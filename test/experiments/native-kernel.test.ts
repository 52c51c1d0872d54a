// The native kernel's loader (src/experiments/native-kernel.ts) refusing what it must not load, each with a
// reason and never an exception: TMS_NATIVE=off, a directory without the addon, a build for a CPU feature
// this machine lacks, a damaged build.json. A refusal also uninstalls a kernel installed before.

import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getActivation } from "../../src/core/activations.js";
import { nativeKernelFor, setNativeKernel } from "../../src/core/kernels/native/native.js";
import {
  installNativeKernel,
  NATIVE_DIR,
  NATIVE_ENV,
  nativeKernelStatus,
  nativeUnavailable,
} from "../../src/experiments/native-kernel.js";
import { ensureBuilt, tempDir } from "../helpers/cli.js";
import { whyNoNativeBuild } from "../helpers/native.js";

const dirs: string[] = [];
const dir = () => {
  const d = tempDir("tms-native-loader-");
  dirs.push(d);
  return d;
};
afterEach(() => setNativeKernel(undefined));
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const relu = getActivation("relu");
const installed = () => nativeKernelFor(relu, 20, "f32") !== undefined;
/** A fake addon: installed as the native kernel for relu, so a refusal can be seen to remove it. */
const fake = {
  ids: ["relu"],
  gram: () => undefined,
  dense: () => undefined,
  blocks: () => undefined,
  denseMaxH: 5,
  blocksMaxF: 7,
  blocksMaxH: 3,
  tiled: () => undefined,
  tiledMaxF: 1024,
  tiledMaxH: 256,
};

/** A directory holding a (fake) addon and this build.json text. */
function withBuildJson(text: string, addon = "not a shared object"): string {
  const d = dir();
  writeFileSync(join(d, "tms_native.node"), addon);
  writeFileSync(join(d, "build.json"), text);
  return d;
}

describe("the native kernel's loader refuses, with a reason", () => {
  it("TMS_NATIVE=off (and its synonyms), even where the addon is built", () => {
    for (const value of ["off", "OFF", "0", "false", "no", "none"]) {
      setNativeKernel(fake);
      const why = installNativeKernel({ [NATIVE_ENV]: value }, NATIVE_DIR);
      expect(why).toContain("TMS_NATIVE");
      expect(why).toContain(value);
      expect(nativeKernelStatus()).toBe(why);
      expect(installed(), `TMS_NATIVE=${value} left a kernel installed`).toBe(false);
    }
  });

  it("a directory without the addon: not built", () => {
    const empty = dir();
    expect(nativeUnavailable({}, empty)).toMatch(/^not built/);
    setNativeKernel(fake);
    expect(installNativeKernel({}, empty)).toMatch(/^not built/);
    expect(installed()).toBe(false);
    // build.json alone, or the addon alone, is not a build either
    writeFileSync(join(empty, "build.json"), JSON.stringify({ cpuFlags: [] }));
    expect(installNativeKernel({}, empty)).toMatch(/^not built/);
    const addonOnly = dir();
    writeFileSync(join(addonOnly, "tms_native.node"), "");
    expect(installNativeKernel({}, addonOnly)).toMatch(/^not built/);
  });

  it.each([
    ["not JSON", "{ cpuFlags: [sse2"],
    ["empty", ""],
    ["null", "null"],
    ["an object without cpuFlags", "{}"],
    ["cpuFlags not a list", '{"cpuFlags": "sse2"}'],
    ["cpuFlags with a non-string", '{"cpuFlags": [1, null]}'],
  ])("a build.json that is %s: a reason, no exception", (_what, text) => {
    const d = withBuildJson(text);
    let why: string | undefined;
    setNativeKernel(fake);
    expect(() => {
      why = installNativeKernel({}, d);
    }).not.toThrow();
    expect(why).toBeTypeOf("string");
    expect(why).not.toBe("native");
    expect(nativeKernelStatus()).toBe(why);
    expect(installed()).toBe(false);
  });

  it("a build.json that cannot be read (a directory): a reason, no exception", () => {
    const d = dir();
    writeFileSync(join(d, "tms_native.node"), "");
    mkdirSync(join(d, "build.json"));
    expect(nativeUnavailable({}, d)).toMatch(/build\.json/);
    expect(() => installNativeKernel({}, d)).not.toThrow();
    expect(installed()).toBe(false);
  });

  it("an addon that cannot be loaded (not a shared object): a reason, no exception", () => {
    const d = withBuildJson(JSON.stringify({ cpuFlags: [] }));
    setNativeKernel(fake);
    const why = installNativeKernel({}, d);
    expect(why).toMatch(/^could not be loaded/);
    expect(installed()).toBe(false);
  });

  describe.skipIf(whyNoNativeBuild() !== undefined)("with the real addon", () => {
    beforeAll(() => ensureBuilt());

    it("a copy of it built for a CPU with a made-up feature: built for another CPU, naming the feature", () => {
      const d = dir();
      copyFileSync(join(NATIVE_DIR, "tms_native.node"), join(d, "tms_native.node"));
      writeFileSync(
        join(d, "build.json"),
        JSON.stringify({ compiler: "c++", flags: [], cpuFlags: ["sse2", "tms_no_such_flag"], ids: [] }),
      );
      setNativeKernel(fake);
      const why = installNativeKernel({}, d);
      expect(why).toMatch(/built for another CPU/);
      expect(why).toContain("tms_no_such_flag");
      // only the missing feature is named, not the ones this CPU has
      expect(why).not.toContain("sse2");
      expect(installed()).toBe(false);
    });

    it("the same copy with the real build.json loads (the refusal above was the made-up feature's)", () => {
      const d = dir();
      copyFileSync(join(NATIVE_DIR, "tms_native.node"), join(d, "tms_native.node"));
      copyFileSync(join(NATIVE_DIR, "build.json"), join(d, "build.json"));
      expect(installNativeKernel({}, d)).toBe("native");
      expect(installed()).toBe(true);
    });
  });
});

if (whyNoNativeBuild())
  console.warn(`native loader tests with the real addon skipped: ${whyNoNativeBuild()}`);
