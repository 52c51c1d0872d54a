// The WebAssembly vector math's outputs (src/core/kernels/wasm/vmath.ts, float32) on a fixed set of inputs,
// written in the record format native/vmath-test.c reads to compare native/vmath.h with it bit for bit:
// per function, [id, n] (int32), n inputs, then n values per output (float32). The function ids are the
// C file's `FN` order. Each module runs a few times, so a result that changed when V8 tiered up would show.

import { writeFileSync } from "node:fs";
import { type Expr, get, i32, i32Add, i32Shl, ModuleBuilder, Ty } from "../../src/core/kernels/wasm/emit.js";
import { Gen, Vt } from "../../src/core/kernels/wasm/gen.js";
import * as V from "../../src/core/kernels/wasm/vmath.js";

type Body = (g: Gen, vt: Vt, x: Expr) => Expr[];

/** [name, outputs, body, input range, log-spaced]: in native/vmath-test.c's order of function ids. */
const FNS: [string, number, Body, [number, number], boolean?][] = [
  ["exp", 1, (g, vt, x) => [V.vexp(g, vt, x)], [-110, 95]],
  ["exp normal", 1, (g, vt, x) => [V.vexp(g, vt, x, "normal")], [-95, 95]],
  ["exp clampBelow", 1, (g, vt, x) => [V.vexp(g, vt, x, "clampBelow")], [-95, 0]],
  [
    "expm1NonPos",
    2,
    (g, vt, x) => {
      const r = V.vexpm1NonPos(g, vt, x);
      return [r.em1, r.ex];
    },
    [-35, 5],
  ],
  ["log1pUnit", 1, (g, vt, x) => [V.vlog1pUnit(g, vt, x)], [0, 1]],
  ["log", 1, (g, vt, x) => [V.vlog(g, vt, x)], [1e-30, 1e30], true],
  ["tanh", 1, (g, vt, x) => [V.vtanh(g, vt, x)], [-15, 15]],
  ["sigmoid", 1, (g, vt, x) => [V.vsigmoid(g, vt, x).s], [-100, 100]],
  [
    "sigmoidLog1p",
    4,
    (g, vt, x) => {
      const r = V.vsigmoidLog1p(g, vt, x);
      return [r.s, r.w, r.inv, r.log1pW];
    },
    [-100, 100],
  ],
  [
    "normalCdf",
    2,
    (g, vt, x) => {
      const r = V.vnormalCdfF32(g, vt, x);
      return [r.Phi, r.phi];
    },
    [-15, 15],
  ],
  ["abs", 1, (_g, vt, x) => [V.vabs(vt, x)], [-10, 10]],
];

/** One function over `xs` in a module of its own, with relaxed (fused) multiply-adds or without. */
function evaluate(nOut: number, body: Body, fma: boolean, xs: Float32Array): Float32Array[] {
  const vt = new Vt("f32", undefined, fma);
  const mb = new ModuleBuilder({ module: "env", name: "memory", minPages: 1 });
  const OUT = 0x40000; // bytes between outputs
  mb.fn("map", [Ty.i32, Ty.i32, Ty.i32], [], (f) => {
    const g = new Gen(f);
    g.forRange(i32(0), get(2), 1, (i) => {
      const outs = body(g, vt, g.letV(vt.load(i32Add(get(0), i32Shl(i, i32(4))))));
      for (let k = 0; k < nOut; k++) g.emit(vt.store(i32Add(get(1), i32Shl(i, i32(4))), outs[k], OUT * k));
    });
  });
  const memory = new WebAssembly.Memory({ initial: 64 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.bytes() as BufferSource), {
    env: { memory },
  });
  const map = inst.exports.map as (src: number, dst: number, n: number) => void;
  const src = 1024;
  const dst = 0x10000;
  new Float32Array(memory.buffer).set(xs, src / 4);
  let out: Float32Array[] = [];
  for (let rep = 0; rep < 4; rep++) {
    map(src, dst, xs.length / 4);
    const f32 = new Float32Array(memory.buffer);
    const now = Array.from({ length: nOut }, (_, k) =>
      f32.slice((dst + OUT * k) / 4, (dst + OUT * k) / 4 + xs.length),
    );
    for (let k = 0; rep > 0 && k < nOut; k++)
      for (let j = 0; j < xs.length; j++)
        if (!Object.is(now[k][j], out[k][j]) && !(Number.isNaN(now[k][j]) && Number.isNaN(out[k][j])))
          throw new Error("a WebAssembly result changed between runs (tier-up)");
    out = now;
  }
  return out;
}

/** Writes the comparison file for the fused (`fma`) or unfused WebAssembly math; returns its inputs' count. */
export function writeVmathComparison(path: string, fma: boolean): number {
  let seed = 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const chunks: Uint8Array[] = [];
  let total = 0;
  FNS.forEach(([name, nOut, body, [lo, hi], logScale], id) => {
    const at = (u: number) =>
      logScale ? Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * u) : lo + (hi - lo) * u;
    const xs: number[] = [];
    for (let k = 0; k < 4000; k++) xs.push(at(k / 3999));
    for (let k = 0; k < 4000; k++) xs.push(at(rnd()));
    // small magnitudes of both signs, then edges: ±0, ±1, overflow and underflow, subnormals, ±∞, NaN, ±max
    for (let k = 0; k < 400; k++) {
      const m = Math.exp(-30 * rnd());
      xs.push(name === "log1pUnit" || name === "log" || k % 2 === 0 ? m : -m);
    }
    xs.push(0, -0, 1, -1, 0.5, -0.5, 88.7, -87.3, 89, -104, 13.2, -13.2, 1e-45, 1e-40);
    xs.push(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 3.4e38, -3.4e38);
    while (xs.length % 8) xs.push(0.25);
    const x32 = Float32Array.from(xs);
    chunks.push(new Uint8Array(new Int32Array([id, x32.length]).buffer), new Uint8Array(x32.buffer));
    for (const o of evaluate(nOut, body, fma, x32)) chunks.push(new Uint8Array(o.buffer));
    total += x32.length;
  });
  writeFileSync(path, Buffer.concat(chunks));
  return total;
}
