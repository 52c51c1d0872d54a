// Applies an activation (or its VJP) to many rows of F values at once, in float64 buffers.
//
// Why code generation: a loop that calls `act.forward(z)` sees a different function for each activation a
// sweep trains, so V8 stops inlining it and every element pays a full call. `new Function` gives each
// activation its own copy of the loop, whose call site only ever sees that activation's function and so
// gets it inlined. The generated loops hold no logic of their own.

import type { Activation } from "../activations.js";

export interface RowOps {
  /** Y[r·F + f] = act(Z[r·F ..])[f] for rows r < rows. */
  forward(Z: Float64Array, Y: Float64Array, rows: number, F: number): void;
  /** dZ = act'(Z)ᵀ dY, row by row. */
  backward(
    Z: Float64Array,
    Y: Float64Array,
    dY: Float64Array,
    dZ: Float64Array,
    rows: number,
    F: number,
  ): void;
}

const cache = new Map<string, RowOps>();

function compile(act: Activation): RowOps {
  if (act.kind === "vector") {
    const { forward, vjp } = act;
    return {
      forward: (Z, Y, rows, F) => {
        for (let r = 0; r < rows; r++) forward(Z, Y, r * F, 1, F);
      },
      backward: (Z, Y, dY, dZ, rows, F) => {
        for (let r = 0; r < rows; r++) vjp(Z, Y, dY, dZ, r * F, 1, F);
      },
    };
  }
  const makeForward = new Function(
    "f",
    "return function forwardRows(Z, Y, rows, F) { const n = rows * F; for (let j = 0; j < n; j++) Y[j] = f(Z[j]); };",
  );
  const makeBackward = new Function(
    "d",
    "return function backwardRows(Z, Y, dY, dZ, rows, F) { const n = rows * F; for (let j = 0; j < n; j++) dZ[j] = dY[j] * d(Z[j], Y[j]); };",
  );
  return { forward: makeForward(act.forward), backward: makeBackward(act.derivative) };
}

export function rowOps(act: Activation): RowOps {
  // a user formula's id may be redefined: its key names its code
  const key = "key" in act ? String(act.key) : act.id;
  let ops = cache.get(key);
  if (!ops) {
    ops = compile(act);
    cache.set(key, ops);
  }
  return ops;
}
