// AdamW in WebAssembly for one trainer (wasm/adamw.ts). Its parameters, gradients and optimizer state are
// views into one WebAssembly memory sized once and never grown, so the views stay valid and the update runs
// in place with no copies. Same numbers as src/core/optimizer.ts's adamWStep, bit for bit (tested).

import type { Buffer } from "../activations.js";
import type { DType, Params } from "../model.js";
import { type AdamWState, type AdamWStepper, adamWScalars, TORCH_ADAMW } from "../optimizer.js";
import { cachedModule, wasmEnabled } from "./engine.js";
import type { Gradients } from "./types.js";
import { buildAdamW } from "./wasm/adamw.js";

export interface FastAdamW {
  /** Copies `initial` into this memory and returns views of it (the trainer's parameters from then on). */
  adopt(initial: Params): Params;
  readonly grads: Gradients;
  readonly optW: AdamWState;
  readonly optB: AdamWState;
  /** adamWStep for arrays of this memory (their byte offsets are passed to WebAssembly). */
  readonly step: AdamWStepper;
}

type AdamWFn = (p: number, g: number, m: number, v: number, n: number, ...scalars: number[]) => void;

/** A memory for W (nW values) and b (nB), with `groups` step counters; undefined without WebAssembly. */
export function createFastAdamW(dtype: DType, nW: number, nB: number, groups: number): FastAdamW | undefined {
  if (!wasmEnabled()) return undefined;
  const module = cachedModule(`adamw:${dtype}`, () => buildAdamW(dtype));
  if (!module) return undefined;
  const E = dtype === "f32" ? 4 : 8;
  const sizes = [nW * E, nB * E, nW * 8, nB * 8, nW * E, nW * E, nB * E, nB * E];
  const offsets: number[] = [];
  let top = 16;
  for (const size of sizes) {
    offsets.push(top);
    top += Math.ceil(size / 16) * 16 + 16;
  }
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(top / 65536)) });
  const adamw = new WebAssembly.Instance(module, { env: { memory } }).exports.adamw as AdamWFn;
  const buf = memory.buffer;
  const work = (k: number, n: number): Buffer =>
    dtype === "f32" ? new Float32Array(buf, offsets[k], n) : new Float64Array(buf, offsets[k], n);
  const W = work(0, nW);
  const b = work(1, nB);
  const grads = { W: new Float64Array(buf, offsets[2], nW), b: new Float64Array(buf, offsets[3], nB) };
  const optW = { m: work(4, nW), v: work(5, nW), step: new Int32Array(groups) };
  const optB = { m: work(6, nB), v: work(7, nB), step: new Int32Array(groups) };
  const step: AdamWStepper = (params, g, state, group, from, to, lr, hyper = TORCH_ADAMW, groupEnd) => {
    const { stepSize, bias2Sqrt, decay } = adamWScalars(state, group, lr, hyper, groupEnd);
    const { beta1, beta2, eps } = hyper;
    adamw(
      params.byteOffset + from * E,
      g.byteOffset + from * 8,
      state.m.byteOffset + from * E,
      state.v.byteOffset + from * E,
      to - from,
      decay,
      stepSize,
      bias2Sqrt,
      1 - beta1,
      beta2,
      1 - beta2,
      eps,
    );
  };
  return {
    adopt(initial) {
      W.set(initial.W);
      b.set(initial.b);
      return { ...initial, W, b };
    },
    grads,
    optW,
    optB,
    step,
  };
}
