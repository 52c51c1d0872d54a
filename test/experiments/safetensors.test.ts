import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../../src/experiments/safetensors.js";

describe("safetensors", () => {
  const W = Float32Array.from([1.5, -2, 3.25, 0, 1e-8, -7]);
  const b = Float64Array.from([0.1, -0.2]);
  const bytes = encodeSafetensors(
    { W: { dtype: "F32", shape: [1, 3, 2], data: W }, b: { dtype: "F64", shape: [1, 2], data: b } },
    { activation: "relu" },
  );

  it("writes the header as the spec says: u64 LE length, JSON, 8-byte aligned data, contiguous offsets", () => {
    const view = new DataView(bytes.buffer);
    const n = Number(view.getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__).toEqual({ activation: "relu" });
    expect(header.W).toEqual({ dtype: "F32", shape: [1, 3, 2], data_offsets: [0, 24] });
    expect(header.b).toEqual({ dtype: "F64", shape: [1, 2], data_offsets: [24, 40] });
    expect(bytes.length).toBe(8 + n + 40);
    // little-endian raw values at the offsets
    expect(view.getFloat32(8 + n + 4 * 2, true)).toBe(3.25);
    expect(view.getFloat64(8 + n + 24 + 8, true)).toBe(-0.2);
  });

  it("round-trips values, shapes and metadata exactly", () => {
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ activation: "relu" });
    expect(tensors.W.shape).toEqual([1, 3, 2]);
    expect(Array.from(tensors.W.data)).toEqual(Array.from(W));
    expect(tensors.b.data).toBeInstanceOf(Float64Array);
    expect(Array.from(tensors.b.data)).toEqual([0.1, -0.2]);
  });

  it("rejects malformed files and mismatched shapes with a named error", () => {
    expect(() => decodeSafetensors(new Uint8Array(3))).toThrow(SafetensorsError);
    const bad = bytes.slice(0, bytes.length - 4);
    expect(() => decodeSafetensors(bad)).toThrow(/do not fit/);
    expect(() =>
      encodeSafetensors({ W: { dtype: "F32", shape: [2, 2], data: new Float32Array(3) } }),
    ).toThrow(/needs 4 values/);
  });
});
