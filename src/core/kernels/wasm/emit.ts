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

/**
 * A growable byte buffer with fixed-arity writers (generation appends millions of bytes: no arrays of
 * arguments, no spreads). LEB128 integers as the format wants them: unsigned for indices, sizes and
 * offsets, signed for constants.
 */
class ByteWriter {
  protected buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  protected len = 0;

  get length(): number {
    return this.len;
  }
  /** The bytes written so far (a view, valid until the next write). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
  /** Makes room for n more bytes. */
  protected room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(2 * this.buf.length, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  /** One byte, or two. */
  byte(b0: number, b1?: number): void {
    this.room(2);
    this.buf[this.len++] = b0;
    if (b1 !== undefined) this.buf[this.len++] = b1;
  }
  bytes(list: ArrayLike<number>): void {
    this.room(list.length);
    if (list instanceof Uint8Array) {
      this.buf.set(list, this.len);
      this.len += list.length;
    } else for (let k = 0; k < list.length; k++) this.buf[this.len++] = list[k];
  }
  /** Unsigned LEB128 of a non-negative safe integer. */
  u32(n: number): void {
    this.room(10);
    const buf = this.buf;
    while (n >= 128) {
      buf[this.len++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[this.len++] = n;
  }
  /** Signed LEB128 of a safe integer (i32 constants, and i64 constants within ±2⁵³). */
  s32(n: number): void {
    this.room(10);
    for (;;) {
      const byte = n & 0x7f;
      n = Math.floor(n / 128);
      const signBit = (byte & 0x40) !== 0;
      if ((n === 0 && !signBit) || (n === -1 && signBit)) {
        this.buf[this.len++] = byte;
        return;
      }
      this.buf[this.len++] = byte | 0x80;
    }
  }
  /** Signed LEB128 of any 64-bit value. */
  s64(v: bigint): void {
    this.room(10);
    for (;;) {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      const signBit = (byte & 0x40) !== 0;
      if ((v === 0n && !signBit) || (v === -1n && signBit)) {
        this.buf[this.len++] = byte;
        return;
      }
      this.buf[this.len++] = byte | 0x80;
    }
  }
  f32(x: number): void {
    this.room(4);
    this.view.setFloat32(this.len, x, true);
    this.len += 4;
  }
  f64(x: number): void {
    this.room(8);
    this.view.setFloat64(this.len, x, true);
    this.len += 8;
  }
  /** A name: its UTF-8 length, then the bytes. */
  str(s: string): void {
    const bytes = new TextEncoder().encode(s);
    this.u32(bytes.length);
    this.bytes(bytes);
  }
}

/** An open block, loop or if, as a branch target: `br` to a block or if leaves it, to a loop repeats it. */
export interface Label {
  /** How many constructs were open, this one included, when it opened. */
  readonly level: number;
}

const OPEN = { block: 0x02, loop: 0x03, if: 0x04 } as const;
/** The block type of a construct that yields no value. */
const EMPTY = 0x40;

export class FnBuilder extends ByteWriter {
  private readonly localTypes: Ty[] = [];
  /** Constructs open at the current position (branch depths are counted from here). */
  private depth = 0;
  constructor(
    readonly name: string,
    readonly params: Ty[],
    readonly results: Ty[],
  ) {
    super();
  }

  /** A new local of type t; returns its index. */
  local(t: Ty): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length - 1;
  }

  /** Opens a block, loop or if (the condition already emitted) yielding `result` (default none). */
  open(kind: keyof typeof OPEN, result?: Ty): Label {
    this.byte(OPEN[kind], result ?? EMPTY);
    return { level: ++this.depth };
  }
  /** Starts the else branch of the innermost if. */
  otherwise(): void {
    this.byte(0x05);
  }
  /** Closes the innermost construct. */
  end(): void {
    this.depth--;
    this.byte(0x0b);
  }
  /** The relative depth of `label` for a branch here. */
  depthOf(label: Label): number {
    if (label.level > this.depth) throw new Error("branch to a label that is not open");
    return this.depth - label.level;
  }
  /** A SIMD instruction (0xfd prefix; every opcode is below 2¹⁴, so one or two LEB128 bytes). */
  simd(op: number): void {
    if (op < 0x80) this.byte(0xfd, op);
    else {
      this.byte(0xfd, (op & 0x7f) | 0x80);
      this.byte(op >> 7);
    }
  }
  /** A memory instruction's immediates: alignment (log2 bytes) and constant offset. */
  memarg(align: number, offset: number): void {
    this.byte(align);
    this.u32(offset);
  }

  /** Writes the function's entry of the code section: size, locals (run-length encoded), code, end. */
  writeBody(out: ByteWriter): void {
    const locals = new ByteWriter();
    const groups: [number, Ty][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    locals.u32(groups.length);
    for (const [n, t] of groups) {
      locals.u32(n);
      locals.byte(t);
    }
    out.u32(locals.length + this.len + 1);
    out.bytes(locals.written());
    out.bytes(this.written());
    out.byte(0x0b);
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
    const out = new ByteWriter();
    out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const section = (id: number, write: (s: ByteWriter) => void) => {
      const s = new ByteWriter();
      write(s);
      out.byte(id);
      out.u32(s.length);
      out.bytes(s.written());
    };
    const nImp = this.fnImports.length;
    // Types: one per function (duplicates are allowed).
    section(1, (s) => {
      const sigs = [...this.fnImports, ...this.fns];
      s.u32(sigs.length);
      for (const f of sigs) {
        s.byte(0x60);
        s.u32(f.params.length);
        s.bytes(f.params);
        s.u32(f.results.length);
        s.bytes(f.results);
      }
    });
    section(2, (s) => {
      s.u32((this.memory ? 1 : 0) + nImp);
      if (this.memory) {
        s.str(this.memory.module);
        s.str(this.memory.name);
        s.byte(0x02, 0x00); // memory, no maximum
        s.u32(this.memory.minPages);
      }
      this.fnImports.forEach((imp, k) => {
        s.str(imp.module);
        s.str(imp.name);
        s.byte(0x00);
        s.u32(k);
      });
    });
    section(3, (s) => {
      s.u32(this.fns.length);
      for (let k = 0; k < this.fns.length; k++) s.u32(nImp + k);
    });
    section(7, (s) => {
      s.u32(this.fns.length);
      this.fns.forEach((f, k) => {
        s.str(f.name);
        s.byte(0x00);
        s.u32(nImp + k);
      });
    });
    section(10, (s) => {
      s.u32(this.fns.length);
      for (const f of this.fns) f.writeBody(s);
    });
    return out.written();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Expressions and statements. Operators of one, two and three operands are built by `unary`, `binary` and
// `ternary` (and their SIMD forms), which emit their operands then the opcode.

const getters: Expr[] = [];
export const get = (local: number): Expr =>
  (getters[local] ??= (f) => {
    f.byte(0x20);
    f.u32(local);
  });
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

type Emit = (f: FnBuilder) => void;
const plain =
  (code: number): Emit =>
  (f) =>
    f.byte(code);
const vector =
  (code: number): Emit =>
  (f) =>
    f.simd(code);
const unaryOf =
  (op: Emit) =>
  (a: Expr): Expr =>
  (f) => {
    a(f);
    op(f);
  };
const binaryOf =
  (op: Emit) =>
  (a: Expr, b: Expr): Expr =>
  (f) => {
    a(f);
    b(f);
    op(f);
  };
const ternaryOf =
  (op: Emit) =>
  (a: Expr, b: Expr, c: Expr): Expr =>
  (f) => {
    a(f);
    b(f);
    c(f);
    op(f);
  };
const unary = (code: number) => unaryOf(plain(code));
const binary = (code: number) => binaryOf(plain(code));
const simdUnary = (code: number) => unaryOf(vector(code));
const simdBinary = (code: number) => binaryOf(vector(code));
const simdTernary = (code: number) => ternaryOf(vector(code));

// i32
const smallI32: Expr[] = [];
export const i32 = (c: number): Expr => {
  const v = c | 0;
  const make: Expr = (f) => {
    f.byte(0x41);
    f.s32(v);
  };
  if (v < 0 || v >= 1024) return make;
  return (smallI32[v] ??= make);
};
export const i32Add = binary(0x6a);
export const i32Sub = binary(0x6b);
export const i32Mul = binary(0x6c);
export const i32DivU = binary(0x6e);
export const i32And = binary(0x71);
export const i32Xor = binary(0x73);
export const i32Shl = binary(0x74);
export const i32ShrU = binary(0x76);
export const i32Eqz = unary(0x45);
export const i32Ne = binary(0x47);
export const i32LtS = binary(0x48);
export const i32GtS = binary(0x4a);
export const i32GeS = binary(0x4e);

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
    f.s64(BigInt.asIntN(64, c));
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
export const f64Add = binary(0xa0);
export const f64Sub = binary(0xa1);
export const f64Mul = binary(0xa2);
export const f64Div = binary(0xa3);
export const f64Sqrt = unary(0x9f);
export const f64Ne = binary(0x62);
export const f64ConvertI32U = unary(0xb8);
export const f64ConvertI32S = unary(0xb7);
export const f64PromoteF32 = unary(0xbb);
export const f32DemoteF64 = unary(0xb6);

/**
 * A load (no `value`) or store: the address, the value, the instruction with its alignment and constant
 * byte offset, and for lane stores the lane.
 */
function memAccess(op: Emit, align: number, addr: Expr, value: Expr | null, offset: number, lane = -1): Expr {
  return (f) => {
    addr(f);
    value?.(f);
    op(f);
    f.memarg(align, offset);
    if (lane >= 0) f.byte(lane);
  };
}
const loadOf =
  (op: Emit, align: number) =>
  (addr: Expr, offset = 0): Expr =>
    memAccess(op, align, addr, null, offset);
const storeOf =
  (op: Emit, align: number) =>
  (addr: Expr, value: Expr, offset = 0): Expr =>
    memAccess(op, align, addr, value, offset);
export const i32Load = loadOf(plain(0x28), 2);
export const f32Load = loadOf(plain(0x2a), 2);
export const f64Load = loadOf(plain(0x2b), 3);
export const i32Store = storeOf(plain(0x36), 2);
export const f32Store = storeOf(plain(0x38), 2);
export const f64Store = storeOf(plain(0x39), 3);

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
export const select = ternaryOf(plain(0x1b));

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
export const i32Popcnt = unary(0x69);
export const i8x16Swizzle = simdBinary(0x0e);

// ---------------------------------------------------------------------------------------------------------
// SIMD: generic v128 operations.

export const v128Load = loadOf(vector(0x00), 4);
export const v128Load32Splat = loadOf(vector(0x09), 2);
export const v128Load64Splat = loadOf(vector(0x0a), 3);
export const v128Load64Zero = loadOf(vector(0x5d), 3);
export const v128Store = storeOf(vector(0x0b), 4);
const V128_STORE64_LANE = vector(0x5b);
/** Stores lane `lane` (0 or 1) of a vector's two 64-bit halves. */
export const v128Store64Lane = (addr: Expr, value: Expr, lane: number, offset = 0): Expr =>
  memAccess(V128_STORE64_LANE, 3, addr, value, offset, lane);
export const v128Const =
  (bytes: ArrayLike<number>): Expr =>
  (f) => {
    f.simd(0x0c);
    f.bytes(bytes);
  };
export const i8x16Shuffle =
  (a: Expr, b: Expr, lanes: number[]): Expr =>
  (f) => {
    a(f);
    b(f);
    f.simd(0x0d);
    f.bytes(lanes);
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

export const i32x4Splat = simdUnary(0x11);
export const i64x2Splat = simdUnary(0x12);
export const f32x4Splat = simdUnary(0x13);
export const f64x2Splat = simdUnary(0x14);
export const v128Not = simdUnary(0x4d);
export const v128And = simdBinary(0x4e);
export const v128AndNot = simdBinary(0x4f);
export const v128Or = simdBinary(0x50);
export const v128Xor = simdBinary(0x51);
/** bitselect(a, b, mask): bits of a where mask is 1, else b. */
export const v128Bitselect = simdTernary(0x52);
export const f32x4DemoteF64x2Zero = simdUnary(0x5e);
export const f64x2PromoteLowF32x4 = simdUnary(0x5f);

export const i32x4Eq = simdBinary(0x37);
export const i32x4GtS = simdBinary(0x3b);
export const i32x4Bitmask = simdUnary(0xa4);
export const i32x4Shl = simdBinary(0xab);
export const i32x4ShrS = simdBinary(0xac);
export const i32x4ShrU = simdBinary(0xad);
export const i32x4Add = simdBinary(0xae);
export const i32x4Sub = simdBinary(0xb1);
export const f32x4ConvertI32x4S = simdUnary(0xfa);
export const f64x2ConvertLowI32x4S = simdUnary(0xfe);
export const f64x2ConvertLowI32x4U = simdUnary(0xff);
export const i64x2Shl = simdBinary(0xcb);
export const i64x2ShrS = simdBinary(0xcc);
export const i64x2ShrU = simdBinary(0xcd);
export const i64x2Add = simdBinary(0xce);
export const i64x2Sub = simdBinary(0xd1);

export const f32x4Eq = simdBinary(0x41);
export const f32x4Lt = simdBinary(0x43);
export const f32x4Gt = simdBinary(0x44);
export const f32x4Le = simdBinary(0x45);
export const f32x4Ge = simdBinary(0x46);
export const f64x2Eq = simdBinary(0x47);
export const f64x2Lt = simdBinary(0x49);
export const f64x2Gt = simdBinary(0x4a);
export const f64x2Le = simdBinary(0x4b);
export const f64x2Ge = simdBinary(0x4c);

export const f32x4Floor = simdUnary(0x68);
export const f32x4Nearest = simdUnary(0x6a);
export const f64x2Floor = simdUnary(0x75);
export const f64x2Nearest = simdUnary(0x94);
export const f32x4Abs = simdUnary(0xe0);
export const f32x4Neg = simdUnary(0xe1);
export const f32x4Sqrt = simdUnary(0xe3);
export const f32x4Add = simdBinary(0xe4);
export const f32x4Sub = simdBinary(0xe5);
export const f32x4Mul = simdBinary(0xe6);
export const f32x4Div = simdBinary(0xe7);
export const f32x4Min = simdBinary(0xe8);
export const f32x4Max = simdBinary(0xe9);
export const f32x4Pmin = simdBinary(0xea);
export const f32x4Pmax = simdBinary(0xeb);
export const f64x2Abs = simdUnary(0xec);
export const f64x2Neg = simdUnary(0xed);
export const f64x2Sqrt = simdUnary(0xef);
export const f64x2Add = simdBinary(0xf0);
export const f64x2Sub = simdBinary(0xf1);
export const f64x2Mul = simdBinary(0xf2);
export const f64x2Div = simdBinary(0xf3);
export const f64x2Min = simdBinary(0xf4);
export const f64x2Max = simdBinary(0xf5);
export const f64x2Pmin = simdBinary(0xf6);
export const f64x2Pmax = simdBinary(0xf7);
// relaxed SIMD (a·b + c; fused where the hardware has FMA, as on x86-64 with FMA3 and ARM64)
export const f32x4RelaxedMadd = simdTernary(0x105);
/** relaxed_laneselect(a, b, mask): lanes of a where mask's lane is all ones, of b where all zeros (else unspecified). */
export const i32x4RelaxedLaneselect = simdTernary(0x10b);
// relaxed swizzle: lanes with an index ≥ 16 are unspecified (x86-64 and ARM64 give 0, as i8x16.swizzle does)
export const i8x16RelaxedSwizzle = simdBinary(0x100);
export const f64x2RelaxedMadd = simdTernary(0x107);
