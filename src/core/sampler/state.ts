// The generated sampler's state block, which JavaScript fills and the generated code reads: the four
// random-state vectors, the lane-packing table, vector constants, the feature pattern of a period, the
// logarithm table and a buffer; and the compile-time facts about F that shape the generated loops.

/** Byte offsets in the sampler's state block. */
export const SAMPLER_STATE = {
  S: 0,
  PERM: 64,
  CONST: 320,
  FPAT: 448,
  LNTAB: 576,
  BUF: 576 + 4096,
  size: 576 + 4096 + 1024,
};
/** The vectors of the CONST block, by index (16 bytes each). TM1 depends on p: JS writes it per instance. */
export const K = { SIGN: 0, TM1: 1, IOTA: 2, BELOW1: 3, F: 4, FM1: 5, FOUR: 6 };
/**
 * When F is not a multiple of 4, the slots' features repeat every lcm(F, 4) slots: a *period* of
 * lcm(F, 4)/4 vectors and lcm(F, 4)/F samples. Up to this many vectors a period is unrolled, its lanes'
 * features read from the FPAT block and its samples' starts known at compile time.
 */
export const MAX_PERIOD = 8;
/**
 * Up to this many features, float32 mask sampling also writes every slot's value densely (sample_mask's
 * `dense`), from which the kernels' dense path builds its blocks by transposing rows (a few shuffles per
 * block) instead of scattering each entry (≈ 40 instructions a sample).
 */
export const DENSE_MAX_F = 8;
const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
/** The period's length in vectors and in samples (see MAX_PERIOD). */
export function maskPeriod(F: number): { vectors: number; samples: number } {
  const slots = (4 * F) / gcd(4, F);
  return { vectors: slots / 4, samples: slots / F };
}
/** Whether sample_mask's dense values cover all B samples: B is a whole number of periods (1 sample when
 *  F is a multiple of 4), so the tail loop, which does not write them, never runs. */
export const denseComplete = (F: number, B: number) => F <= DENSE_MAX_F && B % maskPeriod(F).samples === 0;
/** Steps of gaps computed ahead by sample_geom. */
export const GEOM_AHEAD = 8;

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

/** The PERM and CONST blocks of the state for feature count F (TM1 left to `setKeepThreshold`). */
export function samplerTables(F: number): Uint8Array {
  const out = new Uint8Array(SAMPLER_STATE.BUF - SAMPLER_STATE.PERM);
  out.set(permTable());
  const c = new Int32Array(out.buffer, SAMPLER_STATE.CONST - SAMPLER_STATE.PERM);
  const vec = (k: number, lanes: number[]) => c.set(lanes, 4 * k);
  vec(K.SIGN, [-0x80000000, -0x80000000, -0x80000000, -0x80000000]);
  vec(K.IOTA, [0, 1, 2, 3]);
  new Float32Array(c.buffer, c.byteOffset + 16 * K.BELOW1, 4).fill(1 - 2 ** -24);
  vec(K.F, [F, F, F, F]);
  vec(K.FM1, [F - 1, F - 1, F - 1, F - 1]);
  vec(K.FOUR, [4, 4, 4, 4]);
  const { vectors } = maskPeriod(F);
  if (F % 4 !== 0 && vectors <= MAX_PERIOD) {
    const pattern = new Int32Array(out.buffer, SAMPLER_STATE.FPAT - SAMPLER_STATE.PERM, 4 * vectors);
    for (let q = 0; q < 4 * vectors; q++) pattern[q] = q % F;
  }
  return out;
}

/** Writes the mask scheme's threshold T (0 = keep all) as the CONST vector TM1 = (T − 1) ^ 2³¹. */
export function setKeepThreshold(state: Int32Array, T: number): void {
  const word = ((T - 1) ^ -0x80000000) | 0;
  const at = (SAMPLER_STATE.CONST + 16 * K.TM1) / 4;
  // four stores, not fill(): TypedArray.prototype.fill is a call into the runtime, once per instance and batch
  state[at] = word;
  state[at + 1] = word;
  state[at + 2] = word;
  state[at + 3] = word;
}
