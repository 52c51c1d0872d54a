// native/vmath.h (the native kernel's port of kernels/wasm/vmath.ts) meets the accuracy bounds the
// WebAssembly vector math is held to, and gives the WebAssembly functions' very bits: native/vmath-test.c,
// compiled as scripts/build-native.mjs compiles the kernel (-march=native -ffp-contract=off), fused (TMS_MADD
// a fused multiply-add) and unfused (-DTMS_FMA=0), checks the bounds and compares every output with the
// WebAssembly math's of the same mode on ≈ 8 400 inputs per function (test/helpers/vmath-wasm.ts writes
// them), and exits 0 only if all hold. Needs a C compiler; skipped (with the reason) without one.

import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, tempDir } from "../helpers/cli.js";
import { CC } from "../helpers/native.js";
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

  it.each([
    ["fused", []],
    ["unfused (-DTMS_FMA=0)", ["-DTMS_FMA=0"]],
  ])("%s: compiles and meets every asserted bound", (name, defines) => {
    const exe = join(dir, name.startsWith("fused") ? "vmath-fused" : "vmath-unfused");
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
    // every function was compared, and none differed
    const bits = r.stdout.split("\n").filter((l) => l.startsWith("bits "));
    expect(bits).toHaveLength(11);
    for (const line of bits) expect(line, line).toContain("identical (0 differ)");
  });
});
