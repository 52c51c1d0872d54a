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
