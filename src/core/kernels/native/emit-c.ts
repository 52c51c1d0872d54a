// The native kernel's activations (native/kernel.cc), generated from the same table entries as the
// WebAssembly kernel's: an entry's vector form (`vector.emit` in activations.ts, written against
// VectorMath) is run with an emitter that writes C over 8-lane float vectors instead of WebAssembly. So an
// activation is still one table entry, and its native code performs the same operations in the same order
// (with native/vmath.h's port of vmath.ts for eˣ, tanh, Φ, …). Float32 only. An entry whose form uses an
// operation this emitter lacks is left to the WebAssembly kernel (`skipped`).

import type { Activation } from "../../activations.js";
import type { Expr } from "../wasm/emit.js";
import type { Gen, Vt } from "../wasm/gen.js";
import type { VectorMath, YD } from "../wasm/vact.js";

/** The emitter met an operation it cannot write in C. */
class NotInC extends Error {}

/** The C source of Math.fround(x) as a vector constant, exactly (by its bits; −0 kept). */
function constant(x: number): string {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0];
  return `tms_c(0x${bits.toString(16).padStart(8, "0")}u)`;
}

/** Straight-line C: `letV` names a value; every other operation returns an expression string. */
class CFunction {
  readonly lines: string[] = [];
  private next = 0;
  fresh(): string {
    return `t${this.next++}`;
  }
  letV(e: string): string {
    const name = this.fresh();
    this.lines.push(`const vf ${name} = ${e};`);
    return name;
  }
  /** Declares `n` outputs of a call that writes through pointers. */
  outputs(call: (names: string[]) => string, n: number): string[] {
    const names = Array.from({ length: n }, () => this.fresh());
    this.lines.push(`vf ${names.join(", ")};`, `${call(names)};`);
    return names;
  }
}

const bin = (op: string) => (a: string, b: string) => `(${a} ${op} ${b})`;
const cmp = (op: string) => (a: string, b: string) => `((vf)(${a} ${op} ${b}))`;
const bits = (op: string) => (a: string, b: string) => `((vf)((vi)${a} ${op} (vi)${b}))`;

/** The subset of Vt the table's vector forms use, writing C. */
function cVt(): Record<string, unknown> {
  const ops: Record<string, unknown> = {
    f32: true,
    dtype: "f32",
    i32s: (v: number) => `((vf)tms_i32s(${v}))`,
    c: constant,
    add: bin("+"),
    sub: bin("-"),
    mul: bin("*"),
    div: bin("/"),
    neg: (a: string) => `(-${a})`,
    abs: (a: string) => `tms_vabs(${a})`,
    madd: (a: string, b: string, c: string) => `TMS_MADD(${a}, ${b}, ${c})`,
    pmin: (a: string, b: string) => `tms_sel((vi)(${b} < ${a}), ${b}, ${a})`,
    pmax: (a: string, b: string) => `tms_sel((vi)(${a} < ${b}), ${b}, ${a})`,
    lt: cmp("<"),
    gt: cmp(">"),
    le: cmp("<="),
    ge: cmp(">="),
    eq: cmp("=="),
    and: bits("&"),
    or: bits("|"),
    xor: bits("^"),
    andNot: (a: string, m: string) => `((vf)((vi)${a} & ~(vi)${m}))`,
    sel: (m: string, a: string, b: string) => `tms_sel((vi)${m}, ${a}, ${b})`,
  };
  return new Proxy(ops, {
    get(target, key) {
      if (key in target) return target[key as string];
      throw new NotInC(`vt.${String(key)}`);
    },
  });
}

const RANGES = { full: 0, normal: 1, clampBelow: 2 } as const;

function cMath(fn: CFunction): VectorMath {
  const vt = cVt();
  const g = new Proxy(
    { letV: (e: string) => fn.letV(e) },
    {
      get(target, key) {
        if (key in target) return target[key as keyof typeof target];
        throw new NotInC(`g.${String(key)}`);
      },
    },
  );
  const math = {
    g,
    vt,
    exp: (x: string, range: keyof typeof RANGES = "full") => fn.letV(`tms_vexp(${x}, ${RANGES[range]})`),
    expm1NonPos: (x: string) => {
      const [em1, ex] = fn.outputs(([a, b]) => `tms_vexpm1_nonpos(${x}, &${a}, &${b})`, 2);
      return { em1, ex };
    },
    log1pUnit: (t: string) => fn.letV(`tms_vlog1p_unit(${t})`),
    tanh: (x: string) => fn.letV(`tms_vtanh(${x})`),
    sigmoid: (x: string) => ({ s: fn.letV(`tms_vsigmoid(${x})`) }),
    sigmoidLog1p: (x: string) => {
      const [s, w, inv, log1pW] = fn.outputs(
        ([a, b, c, d]) => `tms_vsigmoid_log1p(${x}, &${a}, &${b}, &${c}, &${d})`,
        4,
      );
      return { s, w, inv, log1pW };
    },
    normalCdfF32: (x: string) => {
      const [Phi, phi] = fn.outputs(([a, b]) => `tms_vnormal_cdf(${x}, &${a}, &${b})`, 2);
      return { Phi, phi };
    },
    horner: (t: string, coef: number[]) => {
      let acc = constant(coef[coef.length - 1]);
      for (let k = coef.length - 2; k >= 0; k--) acc = `TMS_MADD(${acc}, ${t}, ${constant(coef[k])})`;
      return acc;
    },
    abs: (x: string) => `tms_vabs(${x})`,
    log: (x: string) => fn.letV(`tms_vlog(${x})`),
    sqrt: (x: string) => `tms_sqrt(${x})`,
  };
  // the emitter's expressions are C strings where the WebAssembly emitter's are bytes
  return math as unknown as VectorMath & { g: Gen; vt: Vt };
}

/** C for one entry: `static inline void tms_act_<id>(vf z, vf *y, vf *d)`, or undefined if not expressible. */
export function activationInC(act: Activation): string | undefined {
  if (act.kind !== "elementwise" || !act.vector) return undefined;
  if (act.vector.dtypes && !act.vector.dtypes.includes("f32")) return undefined;
  const fn = new CFunction();
  let yd: YD;
  try {
    yd = act.vector.emit(cMath(fn), "z" as unknown as Expr);
  } catch (e) {
    if (e instanceof NotInC) return undefined;
    throw e;
  }
  const body = [...fn.lines, `*y = ${yd.y as unknown as string};`, `*d = ${yd.d as unknown as string};`];
  // light (few operations): mid.h runs it one vector at a time, unrolled among the rest of the step
  const light = `static constexpr bool tms_light_${act.id} = ${act.vector.light === true};\n`;
  return `static inline void tms_act_${act.id}(vf z, vf *y, vf *d) {\n  ${body.join("\n  ")}\n}\n${light}`;
}

/**
 * The header native/kernel.cc includes: one function per entry that has a C form, and the list of them
 * (`TMS_ACTIVATIONS(X)`, in table order; the kernel's activation index is the position in `ids`).
 */
export function activationsHeader(entries: readonly Activation[]): {
  source: string;
  ids: string[];
  skipped: string[];
} {
  const ids: string[] = [];
  const skipped: string[] = [];
  const parts: string[] = [];
  for (const act of entries) {
    const c = activationInC(act);
    if (c === undefined) {
      if (act.kind === "elementwise") skipped.push(act.id);
      continue;
    }
    ids.push(act.id);
    parts.push(c);
  }
  const list = ids.map((id) => `X(${id})`).join(" ");
  const source = [
    "// Generated by scripts/build-native.mjs from src/core/activations.ts (kernels/native/emit-c.ts).",
    "// Do not edit: change the table entry's vector form instead.",
    "",
    ...parts,
    `#define TMS_ACTIVATIONS(X) ${list}`,
    "",
  ].join("\n");
  return { source, ids, skipped };
}
