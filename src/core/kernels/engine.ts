// WebAssembly plumbing shared by the fast sampler and the fast kernel: feature detection, a compiled-module
// cache, and `Engine`, one WebAssembly.Memory with a bump allocator. A batch made by `createBatch` lives in
// an engine's memory (its typed arrays are views of it), so the generated sampler writes it and the
// generated kernel reads it in place, with no copies. No Node APIs: this runs in browsers' workers too.

import { type Expr, f32x4RelaxedMadd, ModuleBuilder, Ty, v128Const } from "./wasm/emit.js";

/** A module (no memory) of one function `() -> v128` computing `body`: a feature probe. */
function v128Module(body: Expr): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  mb.fn("probe", [], [Ty.v128], body);
  return mb.bytes() as Uint8Array<ArrayBuffer>;
}
const zero = () => v128Const(new Uint8Array(16));

/** Whether this JavaScript engine runs WebAssembly with 128-bit SIMD (and may compile synchronously). */
export const wasmSimdAvailable: boolean = (() => {
  try {
    if (typeof WebAssembly !== "object") return false;
    const probe = v128Module(zero());
    if (!WebAssembly.validate(probe)) return false;
    new WebAssembly.Module(probe);
    return true;
  } catch {
    return false;
  }
})();

let wasmDisabled = false;
/** Turns the WebAssembly paths off (tests and benchmarks compare against the JavaScript fallbacks). */
export function setWasmEnabled(on: boolean): void {
  wasmDisabled = !on;
}
export function wasmEnabled(): boolean {
  return wasmSimdAvailable && !wasmDisabled;
}

let fmaProbe: boolean | undefined;
/**
 * Whether relaxed SIMD's multiply-add (f32x4.relaxed_madd) compiles here: in browsers since 2023, in Node 20
 * with V8's --experimental-wasm-relaxed-simd, which the `tms` command sets (bin/tms.js). Probed on first
 * use, so a flag set at start-up counts.
 */
export function relaxedMaddAvailable(): boolean {
  fmaProbe ??= probeRelaxedMadd();
  return fmaProbe;
}

const MADD_PROBE = v128Module(f32x4RelaxedMadd(zero(), zero(), zero()));

/** Whether a module using f32x4.relaxed_madd validates right now (not cached). */
export function probeRelaxedMadd(): boolean {
  try {
    return wasmSimdAvailable && WebAssembly.validate(MADD_PROBE);
  } catch {
    return false;
  }
}

let fmaDisabled = false;
/** Turns fused multiply-adds off (the kernels then round a·b and a·b + c separately, as plain SIMD must). */
export function setFmaEnabled(on: boolean): void {
  fmaDisabled = !on;
}
/** Whether generated kernels use relaxed_madd (numbers differ from plain SIMD in the last bits). */
export function fmaEnabled(): boolean {
  return !fmaDisabled && relaxedMaddAvailable();
}

const modules = new Map<string, WebAssembly.Module>();

/**
 * Compiles (once per key and thread) the module `build` returns. If compilation is refused (a browser's
 * main thread allows synchronous compilation of small modules only), WebAssembly is turned off for this
 * thread and `undefined` is returned: callers then use their JavaScript paths.
 */
export function cachedModule(key: string, build: () => Uint8Array): WebAssembly.Module | undefined {
  let m = modules.get(key);
  if (!m) {
    try {
      m = new WebAssembly.Module(build() as BufferSource);
    } catch {
      wasmDisabled = true;
      return undefined;
    }
    modules.set(key, m);
  }
  return m;
}

const PAGE = 65536;

export class Engine {
  readonly memory: WebAssembly.Memory;
  private top = 64; // keep address 0 unused
  private readonly growListeners: (() => void)[] = [];
  /** Per-engine state of the kernels and sampler (instances, workspaces), by key. */
  readonly state = new Map<string, unknown>();

  constructor(initialBytes: number) {
    this.memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(initialBytes / PAGE)) });
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /** `bytes` of fresh (zeroed) memory, 16-byte aligned; may grow the memory (then views are rebuilt). */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = at + Math.ceil(Math.max(bytes, 1) / 16) * 16;
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) {
      // grow by at least half again, so repeated small allocations stay cheap
      const pages = Math.max(Math.ceil(need / PAGE), Math.ceil(this.memory.buffer.byteLength / PAGE / 2));
      this.memory.grow(pages);
      for (const listener of this.growListeners) listener();
    }
    return at;
  }

  /** Called after every growth of the memory (old views are then detached). */
  onGrow(listener: () => void): void {
    this.growListeners.push(listener);
  }
}

const batchEngines = new WeakMap<object, Engine>();

export function attachEngine(owner: object, engine: Engine): void {
  batchEngines.set(owner, engine);
}

/** The engine whose memory holds this object's arrays, if any. */
export function engineOf(owner: object): Engine | undefined {
  return batchEngines.get(owner);
}
