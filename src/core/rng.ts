// Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna), 32-bit state words so it runs fast in
// JavaScript (Math.imul) with no BigInt. Each (seed, stream name) pair gets an independent generator,
// initialised by splitmix32 from a hash of both, so initialisation, training data and evaluation data never
// share numbers, and every activation trained with the same seed sees the same init and the same data
// (common random numbers).

/** FNV-1a hash of a string to 32 bits. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const TWO_POW_32 = 4294967296;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal = Number.NaN;

  constructor(seed: number, stream = "") {
    const init = {
      s: (Math.imul(seed >>> 0, 0x9e3779b1) ^ hashString(stream) ^ Math.floor(seed / TWO_POW_32)) | 0,
    };
    this.a = splitmix32(init);
    this.b = splitmix32(init);
    this.c = splitmix32(init);
    this.d = splitmix32(init);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result >>> 0;
  }

  /** Writes the generator's four state words to out[at …] (native code continues the stream: native/steps.cc). */
  saveState(out: Int32Array, at: number): void {
    out[at] = this.a;
    out[at + 1] = this.b;
    out[at + 2] = this.c;
    out[at + 3] = this.d;
  }

  /** Continues the stream from four state words that saveState wrote and native code advanced. */
  loadState(from: Int32Array, at: number): void {
    this.a = from[at];
    this.b = from[at + 1];
    this.c = from[at + 2];
    this.d = from[at + 3];
  }

  /** Uniform in [0, 1) on a grid of 2⁻³² (like torch.rand, whose float32 grid is 2⁻²⁴). */
  uniform(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Standard normal by the Box–Muller transform (pairs, the second one kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const v = this.spareNormal;
      this.spareNormal = Number.NaN;
      return v;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
