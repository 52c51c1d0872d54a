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

/** Whether `bytes` validate (and, with `compile`, compile synchronously) here; false where anything throws. */
function accepted(bytes: Uint8Array<ArrayBuffer>, compile: boolean): boolean {
  try {
    if (typeof WebAssembly !== "object" || !WebAssembly.validate(bytes)) return false;
    if (compile) new WebAssembly.Module(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Whether this JavaScript engine runs WebAssembly with 128-bit SIMD (and may compile synchronously). */
export const wasmSimdAvailable: boolean = accepted(v128Module(zero()), true);

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
  return wasmSimdAvailable && accepted(MADD_PROBE, false);
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

/**
 * Somewhere to keep generated modules' bytes between processes, by the key a module is compiled under
 * (which names everything it depends on but the generator's own code: the cache adds that). The CLI and
 * sweep workers install one on disk (experiments/kernel-cache.ts); without one, every process generates.
 * Entries are checked before use: a bad one counts as missing.
 */
export interface ModuleByteCache {
  get(key: string): Uint8Array | undefined;
  set(key: string, bytes: Uint8Array): void;
}
let byteCache: ModuleByteCache | undefined;
export function setModuleByteCache(cache: ModuleByteCache | undefined): void {
  byteCache = cache;
}

/** A generated module: its code, and bytes its user keeps beside it (a kernel's constant pool). */
export interface ModuleBytes {
  bytes: Uint8Array;
  extra?: Uint8Array;
}
export interface CompiledModule {
  module: WebAssembly.Module;
  extra: Uint8Array;
}

/** A cache entry: the extra bytes' length (u32, little-endian), the extra bytes, the module. */
function pack(m: ModuleBytes): Uint8Array {
  const extra = m.extra ?? new Uint8Array(0);
  const out = new Uint8Array(4 + extra.length + m.bytes.length);
  new DataView(out.buffer).setUint32(0, extra.length, true);
  out.set(extra, 4);
  out.set(m.bytes, 4 + extra.length);
  return out;
}
function unpack(entry: Uint8Array | undefined): ModuleBytes | undefined {
  if (!entry || entry.length < 4) return undefined;
  const n = new DataView(entry.buffer, entry.byteOffset, 4).getUint32(0, true);
  if (4 + n > entry.length) return undefined;
  return { extra: entry.subarray(4, 4 + n), bytes: entry.subarray(4 + n) };
}

/** A stored module that compiles, else undefined (an entry that does not is a miss). */
function fromCache(key: string): CompiledModule | undefined {
  const stored = unpack(byteCache?.get(key));
  if (!stored) return undefined;
  try {
    return {
      module: new WebAssembly.Module(stored.bytes as BufferSource),
      extra: stored.extra ?? new Uint8Array(0),
    };
  } catch {
    return undefined;
  }
}

const modules = new Map<string, CompiledModule>();

/**
 * Compiles (once per key and thread) the module `build` returns, or the byte cache's copy of it. If
 * compilation is refused (a browser's main thread allows synchronous compilation of small modules only),
 * WebAssembly is turned off for this thread and `undefined` is returned: callers then use their JavaScript
 * paths.
 */
export function compiledModule(key: string, build: () => ModuleBytes): CompiledModule | undefined {
  let m = modules.get(key) ?? fromCache(key);
  if (!m) {
    const built = build();
    try {
      m = {
        module: new WebAssembly.Module(built.bytes as BufferSource),
        extra: built.extra ?? new Uint8Array(0),
      };
    } catch {
      wasmDisabled = true;
      return undefined;
    }
    byteCache?.set(key, pack(built));
  }
  modules.set(key, m);
  return m;
}

/** Forgets this thread's compiled modules: the next use reads the byte cache or generates (tests). */
export function forgetCompiledModules(): void {
  modules.clear();
}

/** compiledModule for a module without extra bytes. */
export function cachedModule(key: string, build: () => Uint8Array): WebAssembly.Module | undefined {
  return compiledModule(key, () => ({ bytes: build() }))?.module;
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
