// The optimizers' storage in WebAssembly memory: parameters, gradients and state of one trainer are views
// into one memory sized once and never grown, so the views stay valid and the generated update
// (kernels/wasm/optimizer.ts) runs in place with no copies.

import type { Buffer } from "../activations.js";
import { cachedModule, wasmEnabled } from "../kernels/engine.js";
import type { Gradients } from "../kernels/types.js";
import { buildOptimizer } from "../kernels/wasm/optimizer.js";
import type { DType, Params } from "../model.js";
import type { OptimizerName, OptimizerState, StepScalars, update } from "./update.js";

/** The same signature as the JavaScript update, so either can serve a trainer. */
export type UpdateFn = typeof update;

export interface OptimizerStorage {
  params: Params;
  grads: Gradients;
  state: { W: OptimizerState; b: OptimizerState };
  update: UpdateFn;
}

type WasmUpdate = (p: number, g: number, m: number, v: number, n: number, ...scalars: number[]) => void;
type Call<S> = (fn: WasmUpdate, p: number, g: number, m: number, v: number, n: number, s: S) => void;

/** Each optimizer's call, its scalars in SCALAR_ORDER (kernels/wasm/optimizer.ts): a plain call per step. */
const CALL: { [N in OptimizerName]: Call<Extract<StepScalars, { name: N }>> } = {
  adamw: (fn, p, g, m, v, n, s) =>
    fn(p, g, m, v, n, s.decay, s.stepSize, s.bias2Sqrt, s.c1, s.beta2, s.c2, s.eps),
  adam: (fn, p, g, m, v, n, s) =>
    fn(p, g, m, v, n, s.wd, s.beta1, s.c1, s.beta2, s.c2, s.stepSize, s.bias2Sqrt, s.eps),
  sgd: (fn, p, g, m, v, n, s) => fn(p, g, m, v, n, s.wd, s.mu, s.c, s.a, s.b, s.negLr),
};

/** Storage and update in WebAssembly for `initial`'s shapes, or undefined where WebAssembly is unavailable. */
export function wasmStorage(name: OptimizerName, initial: Params): OptimizerStorage | undefined {
  if (!wasmEnabled()) return undefined;
  const { dtype } = initial;
  const module = cachedModule(`optimizer:${name}:${dtype}`, () => buildOptimizer(name, dtype));
  if (!module) return undefined;
  const [nW, nB] = [initial.W.length, initial.b.length];
  const E = dtype === "f32" ? 4 : 8;
  const nV = (n: number) => (name === "sgd" ? 0 : n);
  const sizes = [nW * E, nB * E, nW * 8, nB * 8, nW * E, nV(nW) * E, nB * E, nV(nB) * E];
  const offsets: number[] = [];
  let top = 16;
  for (const size of sizes) {
    offsets.push(top);
    top += Math.ceil(size / 16) * 16 + 16;
  }
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(top / 65536)) });
  const fn = new WebAssembly.Instance(module, { env: { memory } }).exports[name] as WasmUpdate;
  const buf = memory.buffer;
  const work = (k: number, n: number): Buffer => viewOf(dtype, buf, offsets[k], n);
  const params = { ...initial, W: work(0, nW), b: work(1, nB) };
  params.W.set(initial.W);
  params.b.set(initial.b);
  const update: UpdateFn = (s, p, g, st, from, to) => {
    const v = st.v.length ? st.v.byteOffset + from * E : 0;
    const call = CALL[s.name] as Call<StepScalars>;
    call(fn, p.byteOffset + from * E, g.byteOffset + from * 8, st.m.byteOffset + from * E, v, to - from, s);
  };
  return {
    params,
    grads: { W: new Float64Array(buf, offsets[2], nW), b: new Float64Array(buf, offsets[3], nB) },
    state: { W: { m: work(4, nW), v: work(5, nV(nW)) }, b: { m: work(6, nB), v: work(7, nV(nB)) } },
    update,
  };
}

function viewOf(dtype: DType, buf: ArrayBuffer, offset: number, n: number): Buffer {
  return dtype === "f32" ? new Float32Array(buf, offset, n) : new Float64Array(buf, offset, n);
}
