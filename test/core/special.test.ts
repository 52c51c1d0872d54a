import { describe, expect, it } from "vitest";
import { erf, erfAccurate } from "../../src/core/special.js";

// Python's math.erf (glibc, < 1 ulp) at points across every branch of `erf`: the Maclaurin part (|x| < 0.5),
// piece ends and centres, the worst points found on a 60 001-point grid, and the ±1 tail.
const REFERENCE: [number, number][] = [
  [-6.5, -1.0],
  [-5.99, -1.0],
  [-4.2, -0.9999999971445058],
  [-3.25, -0.9999956972205363],
  [-2.6, -0.9997639655834707],
  [-2.4, -0.999311486103355],
  [-2.357600028951951, -0.9991443947652946],
  [-2.0, -0.9953222650189527],
  [-1.5, -0.9661051464753108],
  [-1.0, -0.8427007929497149],
  [-0.75, -0.7111556336535151],
  [-0.5, -0.5204998778130465],
  [-0.49, -0.511668261188523],
  [-0.3, -0.3286267594591274],
  [-0.001, -0.0011283787909692365],
  [-1e-12, -1.1283791670955126e-12],
  [0, 0.0],
  [1e-300, 1.1283791670955126e-300],
  [3e-9, 3.3851375012865378e-9],
  [0.1, 0.1124629160182849],
  [0.25, 0.2763263901682369],
  [0.5, 0.5204998778130465],
  [0.62, 0.6194114618987212],
  [0.875, 0.7840750610598597],
  [1.0, 0.8427007929497149],
  [1.2, 0.9103139782296353],
  [1.74, 0.9861345949966329],
  [2.0, 0.9953222650189527],
  [2.24, 0.9984642312848625],
  [2.498533283603176, 0.9995898413158476],
  [2.6, 0.9997639655834707],
  [3.0, 0.9999779095030014],
  [3.5, 0.9999992569016276],
  [4.0, 0.9999999845827421],
  [5.0, 0.9999999999984626],
  [5.875, 0.9999999999999999],
  [5.99, 1.0],
  [6.0, 1.0],
  [7.5, 1.0],
];

/** Distance in units of the last place of `exact`. */
function ulps(value: number, exact: number): number {
  if (value === exact) return 0;
  const ulp = exact === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(Math.abs(exact))) - 52);
  return Math.abs(value - exact) / ulp;
}

describe("erf", () => {
  it("is within 8 ulp of glibc's erf at points on every branch", () => {
    for (const [x, exact] of REFERENCE) expect(ulps(erf(x), exact), `erf(${x})`).toBeLessThanOrEqual(8);
  });

  it("agrees with the slow series/continued-fraction erf it is built from, within that one's error", () => {
    // erfAccurate loses up to ~50 ulp near |x| = 2.4 (cancellation in its series); the fast erf is built from
    // its values at the piece centres only, so the two differ by at most that much anywhere.
    let worst = 0;
    for (let i = 0; i <= 20000; i++) {
      const x = -7 + (14 * i) / 20000 + 1e-7 * Math.sin(i);
      worst = Math.max(worst, Math.abs(erf(x) - erfAccurate(x)));
    }
    expect(worst).toBeLessThan(40 * Number.EPSILON);
    expect(worst).toBeGreaterThan(0); // the two really are different evaluations
  });

  it("is odd, saturates, and passes NaN through", () => {
    for (const x of [0.3, 0.5, 1.7, 2.4, 5.9]) expect(erf(-x)).toBe(-erf(x));
    expect(erf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(erf(Number.NEGATIVE_INFINITY)).toBe(-1);
    expect(erf(Number.NaN)).toBeNaN();
    expect(Object.is(erf(-0), -0)).toBe(true);
  });
});
