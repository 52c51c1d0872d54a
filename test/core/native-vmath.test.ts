// native/vmath.h (the native kernel's port of kernels/wasm/vmath.ts) meets the accuracy bounds the
// WebAssembly vector math is held to, and gives the WebAssembly functions' very bits: native/vmath-test.c,
// compiled as scripts/build-native.mjs compiles the kernel (-march=native -ffp-contract=off), fused (TMS_MADD
// a fused multiply-add) and unfused (-DTMS_FMA=0), checks the bounds and compares every output with the
// WebAssembly math's of the same mode on ≈ 8 400 inputs per function (test/helpers/vmath-wasm.ts writes
// them), and exits 0 only if all hold; with AVX-512 also at 16 lanes (-DTMS_LANES=16), and native/wide-test.cc
// compares the kernel's 16-lane activations with the 8-lane ones. Needs a C compiler; skipped (with the
// reason) without one.

import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cpuFeatures } from "../../src/experiments/native-kernel.js";
import { ensureBuilt, ROOT, tempDir } from "../helpers/cli.js";
import { CC, CXX, whyNoNativeBuild } from "../helpers/native.js";
import { writeVmathComparison } from "../helpers/vmath-wasm.js";

const SKIP =
  process.platform !== "linux" || process.arch !== "x64"
    ? `${process.platform}/${process.arch}: vmath.h is x86-64 code`
    : CC
      ? undefined
      : "no C compiler (gcc, cc or clang) runs here";
if (SKIP) console.warn(`native/vmath-test.c skipped: ${SKIP}`);

describe.skipIf(SKIP !== undefined)("native/vmath.h accuracy (native/vmath-test.c)", () => {
  const dir = tempDir("tms-vmath-test-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // the 16-lane copy (kernel.h's tms_wide, which the native kernel runs heavy activations on with AVX-512)
  // must give the 8-lane copy's (and so the WebAssembly math's) bits lane by lane
  const wide = cpuFeatures()?.includes("avx512f") === true;
  it.each([
    ["fused", []],
    ["unfused (-DTMS_FMA=0)", ["-DTMS_FMA=0"]],
    ...(wide ? [["fused, 16 lanes (-DTMS_LANES=16)", ["-DTMS_LANES=16"]] as [string, string[]]] : []),
  ])("%s: compiles and meets every asserted bound", (name, defines) => {
    const exe = join(dir, `vmath-${name.replace(/[^a-z0-9]+/gi, "-")}`);
    const flags = ["-O2", "-march=native", "-ffp-contract=off", "-std=c11", ...defines];
    const cc = spawnSync(CC as string, [...flags, join(ROOT, "native", "vmath-test.c"), "-lm", "-o", exe], {
      encoding: "utf8",
    });
    expect(cc.status, `${CC} ${flags.join(" ")}: ${cc.stderr}`).toBe(0);
    const wasm = join(dir, `${name.startsWith("fused") ? "fused" : "unfused"}.bin`);
    expect(writeVmathComparison(wasm, name.startsWith("fused"))).toBeGreaterThan(8000);
    const r = spawnSync(exe, [wasm], { encoding: "utf8", timeout: 60_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, `${r.stdout.split("\n").slice(-16).join("\n")}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain("all asserted bounds met");
    expect(r.stdout).toContain(defines.includes("-DTMS_LANES=16") ? "16 lanes" : "8 lanes");
    // every function was compared, and none differed
    const bits = r.stdout.split("\n").filter((l) => l.startsWith("bits "));
    expect(bits).toHaveLength(11);
    for (const line of bits) expect(line, line).toContain("identical (0 differ)");
  });
});

// The kernel's 16-lane copy of every generated activation (kernel.h's tms_wide) against the 8-lane one, on
// the activations.gen.h scripts/build-native.mjs generated (native/wide-test.cc).
const SKIP_WIDE = whyNoNativeBuild();
describe.skipIf(SKIP_WIDE !== undefined)(
  "the native kernel's 16-lane activations (native/wide-test.cc)",
  () => {
    it("give every activation's 8-lane bits, y and y′, lane by lane", () => {
      ensureBuilt();
      const dir = tempDir("tms-wide-test-");
      try {
        const exe = join(dir, "wide-test");
        const flags = ["-O2", "-march=native", "-ffp-contract=off", "-std=c++17"];
        const include = ["-I", join(ROOT, "dist", "native"), "-I", join(ROOT, "native")];
        const cc = spawnSync(
          CXX as string,
          [...flags, ...include, join(ROOT, "native", "wide-test.cc"), "-o", exe],
          {
            encoding: "utf8",
          },
        );
        expect(cc.status, `${CXX}: ${cc.stderr}`).toBe(0);
        const r = spawnSync(exe, [], { encoding: "utf8", timeout: 60_000 });
        expect(r.status, r.stdout).toBe(0);
        if (cpuFeatures()?.includes("avx512f")) {
          const n = Number(/(\d+) activations, all identical/.exec(r.stdout)?.[1]);
          expect(n, r.stdout).toBeGreaterThanOrEqual(20);
          expect(r.stdout).not.toContain("DIFFERENT");
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
