// A small WebAssembly binary writer: enough of the format to build one module of functions that share an
// imported memory, with 128-bit SIMD. The kernels are generated at run time for each model shape, dtype
// and activation, so loops over features and hidden units can be fully unrolled and constants folded.
//
// Code is written as *expressions*: an `Expr` is a function that appends the instructions computing one
// value to the function being built (`add(a, b)` emits a, then b, then the add). Statements are
// expressions of no value. This keeps generator code close to the math it emits.

/** Value types. */
export const Ty = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type Ty = (typeof Ty)[keyof typeof Ty];

/** Appends code to the function being built. */
export type Expr = (fn: FnBuilder) => void;

function uleb(out: number[], n: number): void {
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

function sleb(out: number[], n: number): void {
  // n is a safe integer; works for i32 and i64 constants within ±2⁵³.
  for (;;) {
    const byte = n & 0x7f;
    n = Math.floor(n / 128);
    const signBit = (byte & 0x40) !== 0;
    if ((n === 0 && !signBit) || (n === -1 && signBit)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

function slebBig(out: number[], v: bigint): void {
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const signBit = (byte & 0x40) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

const scratch = new DataView(new ArrayBuffer(8));

/** An open block, loop or if, as a branch target: `br` to a block or if leaves it, to a loop repeats it. */
export interface Label {
  /** How many constructs were open, this one included, when it opened. */
  readonly level: number;
}

const OPEN = { block: 0x02, loop: 0x03, if: 0x04 } as const;
/** The block type of a construct that yields no value. */
const EMPTY = 0x40;

export class FnBuilder {
  readonly code: number[] = [];
  private readonly localTypes: Ty[] = [];
  /** Constructs open at the current position (branch depths are counted from here). */
  private depth = 0;
  constructor(
    readonly name: string,
    readonly params: Ty[],
    readonly results: Ty[],
  ) {}

  /** A new local of type t; returns its index. */
  local(t: Ty): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length - 1;
  }

  byte(...b: number[]): void {
    this.code.push(...b);
  }
  u32(n: number): void {
    uleb(this.code, n);
  }
  s32(n: number): void {
    sleb(this.code, n);
  }
  f32(x: number): void {
    scratch.setFloat32(0, x, true);
    for (let k = 0; k < 4; k++) this.code.push(scratch.getUint8(k));
  }
  f64(x: number): void {
    scratch.setFloat64(0, x, true);
    for (let k = 0; k < 8; k++) this.code.push(scratch.getUint8(k));
  }
  /** Opens a block, loop or if (the condition already emitted) yielding `result` (default none). */
  open(kind: keyof typeof OPEN, result?: Ty): Label {
    this.code.push(OPEN[kind], result ?? EMPTY);
    return { level: ++this.depth };
  }
  /** Starts the else branch of the innermost if. */
  otherwise(): void {
    this.code.push(0x05);
  }
  /** Closes the innermost construct. */
  end(): void {
    this.depth--;
    this.code.push(0x0b);
  }
  /** The relative depth of `label` for a branch here. */
  depthOf(label: Label): number {
    if (label.level > this.depth) throw new Error("branch to a label that is not open");
    return this.depth - label.level;
  }
  /** A SIMD instruction (0xfd prefix). */
  simd(op: number): void {
    this.code.push(0xfd);
    uleb(this.code, op);
  }

  /** The function body in parts, which the module concatenates: locals (run-length encoded), code, end. */
  body(): number[][] {
    const locals: number[] = [];
    const groups: [number, Ty][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(locals, groups.length);
    for (const [n, t] of groups) {
      uleb(locals, n);
      locals.push(t);
    }
    return [locals, this.code, [0x0b]];
  }
}

interface MemoryImport {
  module: string;
  name: string;
  minPages: number;
}

interface FnImport {
  module: string;
  name: string;
  params: Ty[];
  results: Ty[];
}

export class ModuleBuilder {
  private readonly fns: FnBuilder[] = [];
  private readonly fnImports: FnImport[] = [];
  /** Without a memory, the module imports none (feature probes). */
  constructor(private readonly memory?: MemoryImport) {}

  /** Imports a function; all imports must be declared before the first `fn`. Returns its index. */
  importFn(module: string, name: string, params: Ty[], results: Ty[]): number {
    if (this.fns.length) throw new Error("declare imports first");
    this.fnImports.push({ module, name, params, results });
    return this.fnImports.length - 1;
  }

  fn(name: string, params: Ty[], results: Ty[], build: (f: FnBuilder) => void): number {
    const f = new FnBuilder(name, params, results);
    const index = this.fnImports.length + this.fns.length;
    this.fns.push(f);
    build(f);
    return index;
  }

  bytes(): Uint8Array {
    // parts copied once into the result at the end (byte-by-byte appends were most of a kernel's build time)
    const parts: number[][] = [[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]];
    const length = (content: number[][]) => content.reduce((n, p) => n + p.length, 0);
    const section = (id: number, ...content: number[][]) => {
      const head = [id];
      uleb(head, length(content));
      parts.push(head, ...content);
    };
    const str = (o: number[], s: string) => {
      const bytes = new TextEncoder().encode(s);
      uleb(o, bytes.length);
      for (const b of bytes) o.push(b);
    };
    // Types: one per function (duplicates are allowed).
    const types: number[] = [];
    const sigs = [...this.fnImports, ...this.fns];
    uleb(types, sigs.length);
    for (const f of sigs) {
      types.push(0x60);
      uleb(types, f.params.length);
      types.push(...f.params);
      uleb(types, f.results.length);
      types.push(...f.results);
    }
    section(1, types);
    const nImp = this.fnImports.length;
    const imports: number[] = [];
    uleb(imports, (this.memory ? 1 : 0) + nImp);
    if (this.memory) {
      str(imports, this.memory.module);
      str(imports, this.memory.name);
      imports.push(0x02, 0x00); // memory, no maximum
      uleb(imports, this.memory.minPages);
    }
    this.fnImports.forEach((imp, k) => {
      str(imports, imp.module);
      str(imports, imp.name);
      imports.push(0x00);
      uleb(imports, k);
    });
    section(2, imports);
    const funcs: number[] = [];
    uleb(funcs, this.fns.length);
    for (let k = 0; k < this.fns.length; k++) uleb(funcs, nImp + k);
    section(3, funcs);
    const exports: number[] = [];
    uleb(exports, this.fns.length);
    this.fns.forEach((f, k) => {
      str(exports, f.name);
      exports.push(0x00);
      uleb(exports, nImp + k);
    });
    section(7, exports);
    const code: number[][] = [[]];
    uleb(code[0], this.fns.length);
    for (const f of this.fns) {
      const body = f.body();
      const size: number[] = [];
      uleb(size, length(body));
      code.push(size, ...body);
    }
    section(10, ...code);
    const out = new Uint8Array(length(parts));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Expressions and statements.

export const get =
  (local: number): Expr =>
  (f) => {
    f.byte(0x20);
    f.u32(local);
  };
export const set =
  (local: number, value: Expr): Expr =>
  (f) => {
    value(f);
    f.byte(0x21);
    f.u32(local);
  };
export const drop =
  (value: Expr): Expr =>
  (f) => {
    value(f);
    f.byte(0x1a);
  };

const op =
  (...bytes: number[]) =>
  (...args: Expr[]): Expr =>
  (f) => {
    for (const a of args) a(f);
    f.byte(...bytes);
  };

const simdOp =
  (code: number) =>
  (...args: Expr[]): Expr =>
  (f) => {
    for (const a of args) a(f);
    f.simd(code);
  };

// i32
export const i32 =
  (c: number): Expr =>
  (f) => {
    f.byte(0x41);
    f.s32(c | 0);
  };
export const i32Add = op(0x6a);
export const i32Sub = op(0x6b);
export const i32Mul = op(0x6c);
export const i32DivU = op(0x6e);
export const i32And = op(0x71);
export const i32Xor = op(0x73);
export const i32Shl = op(0x74);
export const i32ShrU = op(0x76);
export const i32Eqz = op(0x45);
export const i32Ne = op(0x47);
export const i32LtS = op(0x48);
export const i32GtS = op(0x4a);
export const i32GeS = op(0x4e);

// i64
export const i64 =
  (c: number): Expr =>
  (f) => {
    f.byte(0x42);
    f.s32(c);
  };
/** An i64 constant of any 64-bit value (wrapped to signed). */
export const i64Big =
  (c: bigint): Expr =>
  (f) => {
    f.byte(0x42);
    slebBig(f.code, BigInt.asIntN(64, c));
  };

// f32 / f64 scalars
export const f32c =
  (c: number): Expr =>
  (f) => {
    f.byte(0x43);
    f.f32(c);
  };
export const f64c =
  (c: number): Expr =>
  (f) => {
    f.byte(0x44);
    f.f64(c);
  };
export const f64Add = op(0xa0);
export const f64Sub = op(0xa1);
export const f64Mul = op(0xa2);
export const f64Div = op(0xa3);
export const f64Sqrt = op(0x9f);
export const f64Ne = op(0x62);
export const f64ConvertI32U = op(0xb8);
export const f64ConvertI32S = op(0xb7);
export const f64PromoteF32 = op(0xbb);
export const f32DemoteF64 = op(0xb6);

/** Loads and stores: `offset` is the constant byte offset added to the address. */
const memOp =
  (code: number, align: number) =>
  (addr: Expr, offset = 0): Expr =>
  (f) => {
    addr(f);
    f.byte(code);
    f.u32(align);
    f.u32(offset);
  };
const memStore =
  (code: number, align: number) =>
  (addr: Expr, value: Expr, offset = 0): Expr =>
  (f) => {
    addr(f);
    value(f);
    f.byte(code);
    f.u32(align);
    f.u32(offset);
  };
export const i32Load = memOp(0x28, 2);
export const f32Load = memOp(0x2a, 2);
export const f64Load = memOp(0x2b, 3);
export const i32Store = memStore(0x36, 2);
export const f32Store = memStore(0x38, 2);
export const f64Store = memStore(0x39, 3);

// Control flow. Blocks yield no value unless given a type; each hands its body its label, which branches name.
export const block =
  (body: (exit: Label) => void): Expr =>
  (f) => {
    const exit = f.open("block");
    body(exit);
    f.end();
  };
export const loop =
  (body: (again: Label) => void): Expr =>
  (f) => {
    const again = f.open("loop");
    body(again);
    f.end();
  };
export const if_ =
  (cond: Expr, then: Expr, otherwise?: Expr): Expr =>
  (f) => {
    cond(f);
    f.open("if");
    then(f);
    if (otherwise) {
      f.otherwise();
      otherwise(f);
    }
    f.end();
  };
/** The `select` instruction: a if cond ≠ 0, else b (both evaluated; compiles to a conditional move). */
export const select =
  (a: Expr, b: Expr, cond: Expr): Expr =>
  (f) => {
    a(f);
    b(f);
    cond(f);
    f.byte(0x1b);
  };

export const brIf =
  (label: Label, cond: Expr): Expr =>
  (f) => {
    cond(f);
    f.byte(0x0d);
    f.u32(f.depthOf(label));
  };
/** `return`, with the function's result (if any) computed by `value`. */
export const ret =
  (value?: Expr): Expr =>
  (f) => {
    value?.(f);
    f.byte(0x0f);
  };
export const call =
  (index: number, ...args: Expr[]): Expr =>
  (f) => {
    for (const a of args) a(f);
    f.byte(0x10);
    f.u32(index);
  };
export const i32Popcnt = op(0x69);
export const i8x16Swizzle = simdOp(0x0e);

// ---------------------------------------------------------------------------------------------------------
// SIMD: generic v128 operations.

export const v128Load = (addr: Expr, offset = 0): Expr => memOpSimd(0x00, 4, addr, offset);
export const v128Load32Splat = (addr: Expr, offset = 0): Expr => memOpSimd(0x09, 2, addr, offset);
export const v128Load64Splat = (addr: Expr, offset = 0): Expr => memOpSimd(0x0a, 3, addr, offset);
export const v128Load64Zero = (addr: Expr, offset = 0): Expr => memOpSimd(0x5d, 3, addr, offset);
function memOpSimd(code: number, align: number, addr: Expr, offset: number): Expr {
  return (f) => {
    addr(f);
    f.simd(code);
    f.u32(align);
    f.u32(offset);
  };
}
export const v128Store =
  (addr: Expr, value: Expr, offset = 0): Expr =>
  (f) => {
    addr(f);
    value(f);
    f.simd(0x0b);
    f.u32(4);
    f.u32(offset);
  };
/** Stores lane `lane` (0 or 1) of a vector's two 64-bit halves. */
export const v128Store64Lane =
  (addr: Expr, value: Expr, lane: number, offset = 0): Expr =>
  (f) => {
    addr(f);
    value(f);
    f.simd(0x5b);
    f.u32(3);
    f.u32(offset);
    f.byte(lane);
  };
export const v128Const =
  (bytes: Uint8Array): Expr =>
  (f) => {
    f.simd(0x0c);
    for (const b of bytes) f.byte(b);
  };
export const i8x16Shuffle =
  (a: Expr, b: Expr, lanes: number[]): Expr =>
  (f) => {
    a(f);
    b(f);
    f.simd(0x0d);
    for (const l of lanes) f.byte(l);
  };
const laneOp =
  (code: number) =>
  (v: Expr, lane: number): Expr =>
  (f) => {
    v(f);
    f.simd(code);
    f.byte(lane);
  };

export const i32x4ExtractLane = laneOp(0x1b);
export const f32x4ExtractLane = laneOp(0x1f);
export const f64x2ExtractLane = laneOp(0x21);

export const i32x4Splat = simdOp(0x11);
export const i64x2Splat = simdOp(0x12);
export const f32x4Splat = simdOp(0x13);
export const f64x2Splat = simdOp(0x14);
export const v128Not = simdOp(0x4d);
export const v128And = simdOp(0x4e);
export const v128AndNot = simdOp(0x4f);
export const v128Or = simdOp(0x50);
export const v128Xor = simdOp(0x51);
/** bitselect(a, b, mask): bits of a where mask is 1, else b. */
export const v128Bitselect = simdOp(0x52);
export const f32x4DemoteF64x2Zero = simdOp(0x5e);
export const f64x2PromoteLowF32x4 = simdOp(0x5f);

export const i32x4Eq = simdOp(0x37);
export const i32x4GtS = simdOp(0x3b);
export const i32x4Bitmask = simdOp(0xa4);
export const i32x4Shl = simdOp(0xab);
export const i32x4ShrS = simdOp(0xac);
export const i32x4ShrU = simdOp(0xad);
export const i32x4Add = simdOp(0xae);
export const i32x4Sub = simdOp(0xb1);
export const f32x4ConvertI32x4S = simdOp(0xfa);
export const f64x2ConvertLowI32x4S = simdOp(0xfe);
export const f64x2ConvertLowI32x4U = simdOp(0xff);
export const i64x2Shl = simdOp(0xcb);
export const i64x2ShrS = simdOp(0xcc);
export const i64x2ShrU = simdOp(0xcd);
export const i64x2Add = simdOp(0xce);
export const i64x2Sub = simdOp(0xd1);

export const f32x4Eq = simdOp(0x41);
export const f32x4Lt = simdOp(0x43);
export const f32x4Gt = simdOp(0x44);
export const f32x4Le = simdOp(0x45);
export const f32x4Ge = simdOp(0x46);
export const f64x2Eq = simdOp(0x47);
export const f64x2Lt = simdOp(0x49);
export const f64x2Gt = simdOp(0x4a);
export const f64x2Le = simdOp(0x4b);
export const f64x2Ge = simdOp(0x4c);

export const f32x4Floor = simdOp(0x68);
export const f32x4Nearest = simdOp(0x6a);
export const f64x2Floor = simdOp(0x75);
export const f64x2Nearest = simdOp(0x94);
export const f32x4Abs = simdOp(0xe0);
export const f32x4Neg = simdOp(0xe1);
export const f32x4Sqrt = simdOp(0xe3);
export const f32x4Add = simdOp(0xe4);
export const f32x4Sub = simdOp(0xe5);
export const f32x4Mul = simdOp(0xe6);
export const f32x4Div = simdOp(0xe7);
export const f32x4Min = simdOp(0xe8);
export const f32x4Max = simdOp(0xe9);
export const f32x4Pmin = simdOp(0xea);
export const f32x4Pmax = simdOp(0xeb);
export const f64x2Abs = simdOp(0xec);
export const f64x2Neg = simdOp(0xed);
export const f64x2Sqrt = simdOp(0xef);
export const f64x2Add = simdOp(0xf0);
export const f64x2Sub = simdOp(0xf1);
export const f64x2Mul = simdOp(0xf2);
export const f64x2Div = simdOp(0xf3);
export const f64x2Min = simdOp(0xf4);
export const f64x2Max = simdOp(0xf5);
export const f64x2Pmin = simdOp(0xf6);
export const f64x2Pmax = simdOp(0xf7);
// relaxed SIMD (a·b + c; fused where the hardware has FMA, as on x86-64 with FMA3 and ARM64)
export const f32x4RelaxedMadd = simdOp(0x105);
/** relaxed_laneselect(a, b, mask): lanes of a where mask's lane is all ones, of b where all zeros (else unspecified). */
export const i32x4RelaxedLaneselect = simdOp(0x10b);
// relaxed swizzle: lanes with an index ≥ 16 are unspecified (x86-64 and ARM64 give 0, as i8x16.swizzle does)
export const i8x16RelaxedSwizzle = simdOp(0x100);
export const f64x2RelaxedMadd = simdOp(0x107);
