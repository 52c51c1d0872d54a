// Transposes of small blocks of vectors by shuffles: rows of samples → vectors over samples (lanes).

import { type Expr, i8x16Shuffle } from "../emit.js";
import type { Gen } from "../gen.js";

const LO_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
const HI_HALVES = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
/** Four rows of four f32 lanes → four columns (column k = lane k of each row). */
export function transpose4(g: Gen, r: Expr[]): Expr[] {
  const pairs = (a: Expr, b: Expr) => [
    g.letV(i8x16Shuffle(a, b, [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23])),
    g.letV(i8x16Shuffle(a, b, [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31])),
  ];
  const [t0, t1] = pairs(r[0], r[1]);
  const [t2, t3] = pairs(r[2], r[3]);
  return [
    i8x16Shuffle(t0, t2, LO_HALVES),
    i8x16Shuffle(t0, t2, HI_HALVES),
    i8x16Shuffle(t1, t3, LO_HALVES),
    i8x16Shuffle(t1, t3, HI_HALVES),
  ];
}
/** Two rows of two f64 lanes → two columns. */
export const transpose2 = (r: Expr[]): Expr[] => [
  i8x16Shuffle(r[0], r[1], LO_HALVES),
  i8x16Shuffle(r[0], r[1], HI_HALVES),
];
