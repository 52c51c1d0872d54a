// The C of the native kernel's activations (src/core/kernels/native/emit-c.ts), generated from the table's
// vector forms: what it writes for relu, that every built-in elementwise entry gets C (and no softmax-family
// entry does), that a form using an operation the C emitter lacks is skipped rather than breaking the build,
// and that constants are written by their float32 bits (−0 kept). No compiler needed.

import { describe, expect, it } from "vitest";
import {
  ACTIVATIONS,
  type ElementwiseActivation,
  getActivation,
  VECTOR_ACTIVATION_IDS,
} from "../../src/core/activations.js";
import { activationInC, activationsHeader } from "../../src/core/kernels/native/emit-c.js";
import type { VectorEmit } from "../../src/core/kernels/wasm/vact.js";

/** An elementwise entry with this vector form (forward and derivative are never called here). */
function fake(id: string, emit: VectorEmit, dtypes?: ("f32" | "f64")[]): ElementwiseActivation {
  return {
    kind: "elementwise",
    id,
    name: id,
    torch: "",
    formula: "",
    doc: "",
    forward: (x) => x,
    derivative: () => 1,
    vector: { emit, ...(dtypes ? { dtypes } : {}) },
  };
}
describe("activationInC", () => {
  it("relu: tms_act_relu, with 0 and 1.0f as float32 bit patterns", () => {
    const src = activationInC(getActivation("relu"));
    expect(src).toBeDefined();
    expect(src).toContain("static inline void tms_act_relu(vf z, vf *y, vf *d)");
    expect(src).toContain("0x00000000u");
    expect(src).toContain("0x3f800000u");
    expect(src).toMatch(/\*y = [^;]+;/);
    expect(src).toMatch(/\*d = [^;]+;/);
    // the comparison z > 0 and the masks of the vector form, in its order
    expect(src).toMatch(/const vf t0 = \(\(vf\)\(z > tms_c\(0x00000000u\)\)\);/);
  });

  it("constants are exact float32 bits: −0 stays −0, 0.1 rounds as Math.fround does", () => {
    const src = activationInC(
      fake("negzero", (m) => ({ y: m.vt.c(-0), d: m.g.letV(m.vt.c(0.1)) })),
    ) as string;
    expect(src).toContain("*y = tms_c(0x80000000u);");
    expect(src).toContain("tms_c(0x3dcccccdu)");
    expect(src).not.toContain("0x00000000u");
  });

  it.each([
    ["vt.floor", ((m, z) => ({ y: m.vt.floor(z), d: m.vt.c(1) })) as VectorEmit],
    [
      "g.local",
      ((m, z) => {
        m.g.local(0 as never);
        return { y: z, d: m.vt.c(1) };
      }) as VectorEmit,
    ],
    [
      "an operation after valid ones",
      ((m, z) => {
        const t = m.g.letV(m.tanh(z));
        return { y: t, d: m.vt.nearest(t) };
      }) as VectorEmit,
    ],
  ])("a form using %s (not in the C emitter) is skipped, not an exception", (_op, emit) => {
    const act = fake("uses_missing_op", emit);
    expect(() => activationInC(act)).not.toThrow();
    expect(activationInC(act)).toBeUndefined();
    const header = activationsHeader([getActivation("relu"), act]);
    expect(header.ids).toEqual(["relu"]);
    expect(header.skipped).toEqual(["uses_missing_op"]);
    expect(header.source).not.toContain("uses_missing_op");
  });

  it("a form's own error is not swallowed (only a missing operation means skip)", () => {
    const act = fake("broken", () => {
      throw new Error("a bug in the form");
    });
    expect(() => activationInC(act)).toThrow("a bug in the form");
  });

  it("an f64-only form and an entry without a vector form have no C", () => {
    expect(activationInC(fake("f64_only", (m, z) => ({ y: z, d: m.vt.c(1) }), ["f64"]))).toBeUndefined();
    const { vector: _, ...plain } = getActivation("relu") as ElementwiseActivation;
    expect(activationInC({ ...plain, id: "plain" })).toBeUndefined();
  });
});

describe("activationsHeader over the built-in table", () => {
  const entries = [...ACTIVATIONS.values()];
  const header = activationsHeader(entries);

  it("every elementwise entry whose vector form serves f32 has C; nothing is skipped", () => {
    const expected = entries
      .filter(
        (a) => a.kind === "elementwise" && a.vector && (!a.vector.dtypes || a.vector.dtypes.includes("f32")),
      )
      .map((a) => a.id);
    expect(expected.length).toBeGreaterThanOrEqual(20);
    expect(header.skipped).toEqual([]);
    expect(header.ids).toEqual(expected);
    // every elementwise entry of the table has such a form today
    expect(header.ids).toEqual(entries.filter((a) => a.kind === "elementwise").map((a) => a.id));
  });

  it("no softmax-family (vector) activation is listed", () => {
    expect(VECTOR_ACTIVATION_IDS.length).toBeGreaterThan(0);
    for (const id of VECTOR_ACTIVATION_IDS) {
      expect(header.ids).not.toContain(id);
      expect(activationInC(getActivation(id))).toBeUndefined();
    }
  });

  it("the source has one function per id and the list in the same order (the kernel's indices)", () => {
    for (const id of header.ids) {
      const defs = header.source.split(`static inline void tms_act_${id}(vf z, vf *y, vf *d) {`).length - 1;
      expect(defs, id).toBe(1);
    }
    const list = /^#define TMS_ACTIVATIONS\(X\) (.*)$/m.exec(header.source);
    expect(list).not.toBeNull();
    expect(list?.[1]).toBe(header.ids.map((id) => `X(${id})`).join(" "));
    // each function assigns both outputs exactly once
    const bodies = header.source.split("static inline void tms_act_").slice(1);
    expect(bodies.length).toBe(header.ids.length);
    for (const body of bodies) {
      expect(body.match(/\*y = /g)?.length).toBe(1);
      expect(body.match(/\*d = /g)?.length).toBe(1);
    }
  });
});
