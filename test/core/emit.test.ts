// The WebAssembly writer's structured control: blocks and loops hand their bodies labels, and a branch names
// its target instead of counting depths.

import { describe, expect, it } from "vitest";
import { get, i32, i32Add, i32GeS, type Label, ModuleBuilder, Ty } from "../../src/core/kernels/wasm/emit.js";
import { Gen } from "../../src/core/kernels/wasm/gen.js";

describe("labels", () => {
  it("a branch from a nested loop leaves the outer block it names", () => {
    // n = 0; block outer { loop again { n += 1; loop inner { br_if outer (n ≥ limit); } br again } }
    const mb = new ModuleBuilder();
    mb.fn("count", [Ty.i32], [Ty.i32], (f) => {
      const g = new Gen(f);
      const n = g.varI(i32(0));
      g.block((outer) => {
        g.loop((again) => {
          g.set(n, i32Add(get(n), i32(1)));
          g.loop(() => g.brIf(outer, i32GeS(get(n), get(0))));
          g.brIf(again, i32(1));
        });
      });
      g.emit(get(n));
    });
    const count = new WebAssembly.Instance(new WebAssembly.Module(mb.bytes() as BufferSource)).exports
      .count as (limit: number) => number;
    expect(count(7)).toBe(7);
    expect(count(1)).toBe(1);
  });

  it("a branch to a label whose block has closed is an error, not a wrong depth", () => {
    const mb = new ModuleBuilder();
    expect(() =>
      mb.fn("bad", [], [], (f) => {
        const g = new Gen(f);
        let closed: Label | undefined;
        g.block((exit) => {
          closed = exit;
        });
        g.brIf(closed as Label, i32(1));
      }),
    ).toThrow(/not open/);
  });
});
