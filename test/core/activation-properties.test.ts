// The property table against facts about the functions, and on an entry that is not in the table.

import { describe, expect, it } from "vitest";
import { activationProperties } from "../../src/core/activation-properties.js";
import { ACTIVATION_IDS, type ElementwiseActivation, getActivation } from "../../src/core/activations.js";

const props = (id: string) => activationProperties(getActivation(id));

describe("activation properties from the definitions", () => {
  it("relu: non-negative, piecewise linear, monotonic, not smooth, saturates on the left", () => {
    const p = props("relu");
    expect(p).toMatchObject({
      nonNegative: true,
      piecewiseLinear: true,
      monotonic: true,
      smooth: false,
      odd: false,
      boundedBelow: true,
      boundedAbove: false,
      f0: 0,
      fPrime0: 0,
      minNegative: 0,
      saturation: "left",
    });
  });

  it("tanh: odd, bounded on both sides, smooth, saturating; hardtanh the same but piecewise linear", () => {
    expect(props("tanh")).toMatchObject({ odd: true, boundedBelow: true, boundedAbove: true, smooth: true });
    expect(props("tanh").saturation).toBe("both");
    expect(props("tanh").minNegative).toBeCloseTo(-1, 6);
    expect(props("hardtanh")).toMatchObject({ odd: true, piecewiseLinear: true, smooth: false });
  });

  it("sigmoid is bounded on both sides with f(0) = 1/2, f'(0) = 1/4; softplus is smooth and non-negative", () => {
    const s = props("sigmoid");
    expect(s).toMatchObject({ boundedBelow: true, boundedAbove: true, nonNegative: true, odd: false });
    expect(s.f0).toBe(0.5);
    expect(s.fPrime0).toBe(0.25);
    expect(props("softplus")).toMatchObject({ smooth: true, nonNegative: true, piecewiseLinear: false });
    expect(props("softplus").f0).toBeCloseTo(Math.LN2, 12);
  });

  it("negative outputs: ELU reaches −1, SELU −λα, GELU dips to −0.17; LeakyReLU and the shrinks are unbounded", () => {
    expect(props("elu").minNegative).toBeCloseTo(-1, 6);
    expect(props("selu").minNegative).toBeCloseTo(-1.0507009873554805 * 1.6732632423543772, 6);
    expect(props("gelu").minNegative).toBeCloseTo(-0.16997, 4);
    expect(props("gelu").monotonic).toBe(false);
    for (const id of ["leaky_relu", "hardshrink", "softshrink", "tanhshrink", "logsigmoid"])
      expect(props(id).minNegative).toBe(-Number.POSITIVE_INFINITY);
  });

  it("kinks: SELU and hardswish are not C¹, CELU (α = 1) and ReLU² are", () => {
    expect(props("selu").smooth).toBe(false);
    expect(props("hardswish").smooth).toBe(false);
    expect(props("hardswish").piecewiseLinear).toBe(false);
    expect(props("celu").smooth).toBe(true);
    expect(props("relu2").smooth).toBe(true);
    expect(props("hardshrink")).toMatchObject({ smooth: false, piecewiseLinear: true, odd: true });
  });

  it("vector activations are probed along one coordinate of a 5-vector", () => {
    const s = props("softmax");
    expect(s.kind).toBe("vector");
    expect(s.f0).toBeCloseTo(0.2, 12);
    expect(s.fPrime0).toBeCloseTo(0.16, 12);
    expect(s).toMatchObject({ nonNegative: true, boundedAbove: true, monotonic: true, smooth: true });
    expect(props("softmin").fPrime0).toBeCloseTo(-0.16, 12);
    expect(props("log_softmax")).toMatchObject({
      nonNegative: false,
      boundedAbove: true,
      boundedBelow: false,
    });
    expect(activationProperties(getActivation("softmax"), { vectorWidth: 2 }).f0).toBeCloseTo(0.5, 12);
  });

  it("works for an entry that is not in the table (only forward and derivative)", () => {
    const cube: ElementwiseActivation = {
      kind: "elementwise",
      id: "cube",
      name: "x³",
      torch: "x ** 3",
      formula: "x³",
      doc: "",
      forward: (x) => x * x * x,
      derivative: (x) => 3 * x * x,
    };
    expect(activationProperties(cube)).toMatchObject({
      odd: true,
      monotonic: true,
      smooth: true,
      piecewiseLinear: false,
      boundedAbove: false,
      boundedBelow: false,
      nonNegative: false,
      saturation: "none",
    });
  });

  it("every table entry gets finite f(0) and f'(0)", () => {
    for (const id of ACTIVATION_IDS) {
      const p = props(id);
      expect(Number.isFinite(p.f0) && Number.isFinite(p.fPrime0)).toBe(true);
    }
  });
});
