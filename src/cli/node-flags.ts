// Node 20's V8 (11.3) has WebAssembly relaxed SIMD, whose multiply-add the kernels use (fused, one rounding),
// behind a flag; browsers and newer Node have it on. V8 reads the flag at each compilation, so setting it
// before the first training is enough. Every Node entry point calls this: the `tms` command, the benchmark
// and the tests, so all of them compute the same numbers.

import { setFlagsFromString } from "node:v8";
import { probeRelaxedMadd } from "../core/kernels/engine.js";

export function enableRelaxedSimd(): void {
  // V8 11.3 knows the flag; where relaxed SIMD already works there is nothing to set
  if (!probeRelaxedMadd() && /^11\./.test(process.versions.v8))
    setFlagsFromString("--experimental-wasm-relaxed-simd");
}

/**
 * V8 compiles a WebAssembly function with its baseline compiler first and recompiles it optimised once it
 * has run about `--wasm-tiering-budget` bytes of code (1.8 M in V8 11). Short runs paid for optimising
 * dozens of kernels they then barely used; ten times the budget leaves them on baseline code, while a long
 * run's kernels still tier up within its first few hundred steps (docs/speed.md, "Start-up").
 */
export function delayWasmTierUp(): void {
  if (/^11\./.test(process.versions.v8)) setFlagsFromString("--wasm-tiering-budget=18000000");
}
