// Generates the WebAssembly batch sampler (one module per precision). The algorithm is specified, and
// implemented identically in JavaScript, in src/core/sampling.ts; this is its SIMD version, and the two
// produce the same batches bit for bit (tested).
//
// Random numbers: four xoshiro128+ generators in the lanes of four i32x4 state vectors (S0..S3 at `st`);
// one step yields 4 outputs, consumed in lane order.
//
// sample_mask(st, rs, feat, val, nnz, cap, B, F, T, all, c) -> nnz or −1 (capacity)
//   for each sample, ceil(F/4) steps; lane l of step v is feature 4v + l (lanes ≥ F unused); a feature is
//   kept when all ≠ 0 or u < T (unsigned), with value conv(u) (f32: min(f32(u >>> 8)·c, 1 − 2⁻²⁴);
//   f64: u·c). Kept lanes are packed with a shuffle table (`perm`, 16 × 16 bytes at st + 64).
// sample_geom(st, rs, feat, val, nnz, cap, B, F, logQ) -> nnz or −1
//   gaps between non-zero slots (slot = sample·F + feature) are ⌊ln(1 − u·2⁻³²)/ln(1 − p)⌋ with ln computed
//   by `lnOneMinus` below; each kept value is a fresh uniform (f32: (u >>> 8)·2⁻²⁴; f64: u·2⁻³²).

import {
  br,
  type Expr,
  f32x4ConvertI32x4S,
  f32x4DemoteF64x2Zero,
  f32x4Min,
  f32x4Mul,
  f32x4Splat,
  f32Store,
  f64Add,
  f64c,
  f64ConvertI32S,
  f64ConvertI32U,
  f64Div,
  f64Floor,
  f64Gt,
  f64Min,
  f64Mul,
  f64ReinterpretI64,
  f64Store,
  f64Sub,
  f64x2ConvertLowI32x4U,
  f64x2Mul,
  f64x2Splat,
  get,
  i8x16Shuffle,
  i8x16Swizzle,
  i32,
  i32Add,
  i32And,
  i32GeS,
  i32GtS,
  i32Load,
  i32LtS,
  i32Mul,
  i32Popcnt,
  i32Shl,
  i32ShrU,
  i32Store,
  i32Sub,
  i32TruncSatF64S,
  i32WrapI64,
  i32x4Add,
  i32x4Bitmask,
  i32x4LtS,
  i32x4LtU,
  i32x4Shl,
  i32x4ShrU,
  i32x4Splat,
  i32Xor,
  i64And,
  i64ExtendI32U,
  i64Or,
  i64ReinterpretF64,
  i64ShrU,
  i64,
  ModuleBuilder,
  Ty,
  v128And,
  v128Const,
  v128Load,
  v128Or,
  v128Store,
  v128Xor,
} from "./emit.js";
import { Gen } from "./gen.js";

/** Byte offsets in the sampler's state block. */
export const SAMPLER_STATE = { S: 0, PERM: 64, BUF: 320, size: 352 };

/** perm[mask]: a byte shuffle moving the lanes set in `mask` (4 bits) to the front, in order. */
export function permTable(): Uint8Array {
  const t = new Uint8Array(256);
  for (let mask = 0; mask < 16; mask++) {
    let out = 0;
    for (let l = 0; l < 4; l++) {
      if (mask & (1 << l)) {
        for (let b = 0; b < 4; b++) t[mask * 16 + out * 4 + b] = l * 4 + b;
        out++;
      }
    }
    for (; out < 4; out++) for (let b = 0; b < 4; b++) t[mask * 16 + out * 4 + b] = 0x80; // zero lanes
  }
  return t;
}

/** The 11 coefficients 1/3, 1/5, …, 1/23 of the atanh series used by lnOneMinus. */
export const LN_COEF: readonly number[] = Array.from({ length: 11 }, (_, k) => 1 / (2 * k + 3));

/**
 * ln(1 − u·2⁻³²) for a uniform 32-bit u, the same operations as the JavaScript `lnOneMinus` in
 * sampling.ts: y = (2³² − 1 − u) + 1 = 2^e·m, m in [1, 2) (halved above √2), ln m by the atanh series.
 */
function emitLnOneMinus(g: Gen, u: Expr): Expr {
  const y = g.let(Ty.f64, f64Add(f64ConvertI32U(i32Xor(u, i32(-1))), f64c(1)));
  const bits = g.let(Ty.i64, i64ReinterpretF64(y));
  const e0 = g.letI(i32Sub(i32WrapI64(i64ShrU(bits, i64(52))), i32(1023)));
  const m0 = g.let(Ty.f64, f64ReinterpretI64(i64Or(i64And(bits, i64BigMask()), i64One())));
  const big = g.letI(f64Gt(m0, f64c(Math.SQRT2)));
  const m = g.local(Ty.f64);
  const e = g.local(Ty.i32);
  g.if(
    big,
    () => {
      g.set(m, f64Mul(m0, f64c(0.5)));
      g.set(e, i32Add(e0, i32(1)));
    },
    () => {
      g.set(m, m0);
      g.set(e, e0);
    },
  );
  const s = g.let(Ty.f64, f64Div(f64Sub(get(m), f64c(1)), f64Add(get(m), f64c(1))));
  const z = g.let(Ty.f64, f64Mul(s, s));
  let h: Expr = f64c(LN_COEF[LN_COEF.length - 1]);
  for (let k = LN_COEF.length - 2; k >= 0; k--) h = f64Add(f64Mul(h, z), f64c(LN_COEF[k]));
  const t = g.let(Ty.f64, f64Add(s, s));
  const lnm = f64Add(f64Mul(f64Mul(t, z), h), t);
  return g.let(Ty.f64, f64Add(f64Mul(f64ConvertI32S(i32Sub(get(e), i32(32))), f64c(Math.LN2)), lnm));
}

// i64 constants beyond i32 range, emitted as raw sleb128
function i64Raw(value: bigint): Expr {
  return (f) => {
    f.byte(0x42);
    let v = value;
    for (;;) {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      const signBit = (byte & 0x40) !== 0;
      if ((v === 0n && !signBit) || (v === -1n && signBit)) {
        f.byte(byte);
        return;
      }
      f.byte(byte | 0x80);
    }
  };
}
const i64BigMask = () => i64Raw(0x000fffffffffffffn);
const i64One = () => i64Raw(0x3ff0000000000000n);
void i64ExtendI32U;

/** One xoshiro128+ step on the four lanes; returns the outputs s0 + s3 (before the update). */
function emitStep(g: Gen, S: number[]): Expr {
  const [s0, s1, s2, s3] = S;
  const out = g.letV(i32x4Add(get(s0), get(s3)));
  const t = g.letV(i32x4Shl(get(s1), i32(9)));
  g.set(s2, v128Xor(get(s2), get(s0)));
  g.set(s3, v128Xor(get(s3), get(s1)));
  g.set(s1, v128Xor(get(s1), get(s2)));
  g.set(s0, v128Xor(get(s0), get(s3)));
  g.set(s2, v128Xor(get(s2), t));
  g.set(s3, v128Or(i32x4Shl(get(s3), i32(11)), i32x4ShrU(get(s3), i32(21))));
  return out;
}

export function buildSampler(dtype: "f32" | "f64"): Uint8Array {
  const f32 = dtype === "f32";
  const E = f32 ? 4 : 8;
  const mb = new ModuleBuilder({ module: "env", name: "memory", minPages: 1 });
  const iota = new Uint8Array(16);
  new Int32Array(iota.buffer).set([0, 1, 2, 3]);
  const signBits = new Uint8Array(16);
  new Int32Array(signBits.buffer).fill(-0x80000000);

  const loadState = (g: Gen, st: Expr) => {
    const S = [0, 1, 2, 3].map(() => g.local(Ty.v128));
    S.forEach((l, k) => g.set(l, v128Load(st, SAMPLER_STATE.S + 16 * k)));
    return S;
  };
  const saveState = (g: Gen, st: Expr, S: number[]) => {
    S.forEach((l, k) => g.emit(v128Store(st, get(l), SAMPLER_STATE.S + 16 * k)));
  };

  // sample_mask(st, rs, feat, val, nnz, cap, B, F, T, all, c) -> nnz or -1
  mb.fn(
    "sample_mask",
    [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.f64],
    [Ty.i32],
    (f) => {
      const g = new Gen(f);
      const [st, rs, feat, val] = [get(0), get(1), get(2), get(3)];
      const nnz = 4;
      const [cap, B, F, T, all] = [get(5), get(6), get(7), get(8), get(9)];
      const S = loadState(g, st);
      const Fv4 = g.letI(i32And(i32Add(F, i32(3)), i32(-4))); // 4·ceil(F/4)
      // unsigned u < T as signed compare after flipping the sign bits
      const Tx = g.letV(v128Xor(i32x4Splat(T), v128Const(signBits)));
      const cf32 = f32 ? g.letV(f32x4Splat(f32DemoteConst(get(10)))) : undefined;
      const cf64 = f32 ? undefined : g.letV(f64x2Splat(get(10)));
      const below1 = v128Const(f32Bytes(1 - 2 ** -24));
      const Fs = g.letV(i32x4Splat(F));
      g.block(() => {
        g.forRange(i32(0), B, 1, (s) => {
          const ss = g.letI(s);
          g.if(i32GtS(i32Add(get(nnz), Fv4), i32Sub(cap, i32(4))), () => {
            saveState(g, st, S);
            g.emit((ff) => {
              i32(-1)(ff);
              ff.byte(0x0f); // return -1
            });
          });
          g.emit(i32Store(i32Add(rs, i32Shl(ss, i32(2))), get(nnz)));
          g.forRange(i32(0), Fv4, 4, (v) => {
            const vv = g.letI(v);
            const u = emitStep(g, S);
            const fIdx = g.letV(i32x4Add(v128Const(iota), i32x4Splat(vv)));
            const valid = i32x4LtS(fIdx, Fs);
            const keep = g.letV(
              v128And(valid, v128Or(i32x4Splat(i32Sub(i32(0), all)), i32x4LtS(v128Xor(u, v128Const(signBits)), Tx))),
            );
            const bits = g.letI(i32x4Bitmask(keep));
            const perm = g.letV(v128Load(i32Add(st, i32Shl(bits, i32(4))), SAMPLER_STATE.PERM));
            const pu = g.letV(i8x16Swizzle(u, perm));
            g.emit(v128Store(i32Add(feat, i32Shl(get(nnz), i32(2))), i8x16Swizzle(fIdx, perm)));
            const at = g.letI(i32Add(val, i32Shl(get(nnz), i32(f32 ? 2 : 3))));
            if (f32) {
              const x = f32x4Min(f32x4Mul(f32x4ConvertI32x4S(i32x4ShrU(pu, i32(8))), cf32 as Expr), below1);
              g.emit(v128Store(at, x));
            } else {
              g.emit(v128Store(at, f64x2Mul(f64x2ConvertLowI32x4U(pu), cf64 as Expr)));
              const hi = i8x16Shuffle(pu, pu, [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
              g.emit(v128Store(at, f64x2Mul(f64x2ConvertLowI32x4U(hi), cf64 as Expr), 16));
            }
            g.set(nnz, i32Add(get(nnz), i32Popcnt(bits)));
          });
        });
      });
      g.emit(i32Store(i32Add(rs, i32Shl(B, i32(2))), get(nnz)));
      saveState(g, st, S);
      g.emit(get(nnz));
    },
  );

  // sample_geom(st, rs, feat, val, nnz, cap, B, F, logQ) -> nnz or -1
  mb.fn("sample_geom", [Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.i32, Ty.f64], [Ty.i32], (f) => {
    const g = new Gen(f);
    const [st, rs, feat, val] = [get(0), get(1), get(2), get(3)];
    const nnz = 4;
    const [cap, B, F, logQ] = [get(5), get(6), get(7), get(8)];
    const S = loadState(g, st);
    const k = g.varI(i32(4)); // outputs used from BUF
    const next = (): Expr => {
      g.if(i32GeS(get(k), i32(4)), () => {
        g.emit(v128Store(st, emitStep(g, S), SAMPLER_STATE.BUF));
        g.set(k, i32(0));
      });
      const u = g.letI(i32Load(i32Add(st, i32Shl(get(k), i32(2))), SAMPLER_STATE.BUF));
      g.set(k, i32Add(get(k), i32(1)));
      return u;
    };
    const slots = g.letI(i32Mul(B, F));
    const pos = g.varI(i32(-1));
    const s = g.varI(i32(0)); // next sample whose rowStart is unwritten
    const sEnd = g.varI(i32(0)); // first slot of sample s
    const slotsF = g.let(Ty.f64, f64ConvertI32S(slots));
    g.block(() => {
      g.doWhile(
        () => {
          const ln = emitLnOneMinus(g, next());
          const gap = g.letI(i32TruncSatF64S(f64Min(f64Floor(f64Div(ln, logQ)), slotsF)));
          g.set(pos, i32Add(get(pos), i32Add(gap, i32(1))));
          g.brIf(1, i32GeS(get(pos), slots));
          // open every sample up to pos's
          g.block(() => {
            g.doWhile(
              () => {
                g.brIf(1, i32LtS(get(pos), get(sEnd)));
                g.emit(i32Store(i32Add(rs, i32Shl(get(s), i32(2))), get(nnz)));
                g.set(s, i32Add(get(s), i32(1)));
                g.set(sEnd, i32Add(get(sEnd), F));
              },
              () => i32(1),
            );
          });
          g.if(i32GeS(get(nnz), cap), () => {
            saveState(g, st, S);
            g.emit((ff) => {
              i32(-1)(ff);
              ff.byte(0x0f);
            });
          });
          g.emit(i32Store(i32Add(feat, i32Shl(get(nnz), i32(2))), i32Sub(get(pos), i32Sub(get(sEnd), F))));
          const u = next();
          const at = i32Add(val, i32Shl(get(nnz), i32(f32 ? 2 : 3)));
          if (f32) g.emit(f32Store(at, f32DemoteConst(f64Mul(f64ConvertI32S(i32ShrU(u, i32(8))), f64c(2 ** -24)))));
          else g.emit(f64Store(at, f64Mul(f64ConvertI32U(u), f64c(2 ** -32))));
          g.set(nnz, i32Add(get(nnz), i32(1)));
        },
        () => i32(1),
      );
    });
    // close the remaining samples
    g.forRange(get(s), i32Add(B, i32(1)), 1, (q) => g.emit(i32Store(i32Add(rs, i32Shl(q, i32(2))), get(nnz))));
    saveState(g, st, S);
    g.emit(get(nnz));
  });
  void br;
  void E;
  return mb.bytes();
}

function f32DemoteConst(x: Expr): Expr {
  return (f) => {
    x(f);
    f.byte(0xb6); // f32.demote_f64
  };
}

function f32Bytes(x: number): Uint8Array {
  const b = new Uint8Array(16);
  new Float32Array(b.buffer).fill(x);
  return b;
}

void f32x4DemoteF64x2Zero;
