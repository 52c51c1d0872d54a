// The report's family view: one figure per swept one-parameter formula family, with the built-ins the
// family passes through found by their values and derivatives.

import { describe, expect, it } from "vitest";
import type { CellResult } from "../../src/experiments/store-format.js";
import { groupSeries, type ReportData, type Series } from "../../src/report/data.js";
import { builtinsEqualTo, familiesOf, familyFigurePlans } from "../../src/report/family-figures.js";

describe("built-ins a formula passes through", () => {
  it.each([
    [{ id: "s~beta=1", formula: "x * sigmoid(beta * x)", params: { beta: 1 } }, ["silu"]],
    [{ id: "s~beta=4", formula: "x * sigmoid(beta * x)", params: { beta: 4 } }, []],
    [{ id: "l~alpha=0", formula: "max(x, alpha * x)", params: { alpha: 0 } }, ["relu"]],
    [{ id: "l~alpha=0.01", formula: "max(x, alpha * x)", params: { alpha: 0.01 } }, ["leaky_relu"]],
    [{ id: "e~alpha=1", formula: "x > 0 ? x : alpha * expm1(x)", params: { alpha: 1 } }, ["celu", "elu"]],
  ])("%j → %j", (def, ids) => {
    expect(builtinsEqualTo(def)).toEqual(ids);
  });
});

function cell(activation: string, beta: number | undefined, seed: number, loss: number): CellResult {
  const formula =
    beta === undefined
      ? undefined
      : {
          id: activation,
          name: `x·σ(βx) (beta=${beta})`,
          formula: "x * sigmoid(beta * x)",
          params: { beta },
        };
  const inst = { sparsity: 0.5, featureProbability: 0.5, loss, norms: [1], superposition: [0.3] };
  return {
    preset: "demo",
    activation,
    variant: "",
    seed,
    instances: [inst],
    ...(formula ? { formula } : {}),
  } as unknown as CellResult;
}

describe("families of a store", () => {
  const results = [
    cell("relu", undefined, 0, 0.1),
    cell("silu", undefined, 0, 0.2),
    cell("sw~beta=1", 1, 0, 0.2),
    cell("sw~beta=10", 10, 0, 0.15),
    cell("sw~beta=4", 4, 0, 0.17),
  ];
  const series = groupSeries(results);
  const data = {
    presets: ["demo"],
    seriesOf: (p: string) => series.filter((s: Series) => s.preset === p),
  } as unknown as ReportData;
  it("groups the members of a family, ordered by the parameter's value", () => {
    const [fam] = familiesOf(data, "demo");
    expect(fam.id).toBe("sw");
    expect(fam.name).toBe("x·σ(βx)");
    expect(fam.members.map((m) => m.value)).toEqual([1, 4, 10]);
    expect(series.find((s) => s.activation === "sw~beta=4")?.label).toBe("x·σ(βx) (beta=4)");
  });
  it("draws it with SiLU marked at β = 1 from SiLU's own cells", () => {
    const plans = familyFigurePlans(data);
    expect(plans.map((p) => p.id)).toEqual(["demo-family-sw"]);
    const fig = plans[0].build();
    const layers = fig?.spec.vconcat[0].layer;
    expect(layers[0].data.values.map((r: { param: number }) => r.param)).toEqual([1, 4, 10]);
    expect(layers[1].data.values).toEqual([
      expect.objectContaining({ param: 1, value: 0.2, label: "SiLU / Swish" }),
    ]);
  });
});

describe("a series' activation", () => {
  it("is the built-in, or the formula rebuilt from result.json", async () => {
    const { seriesActivation } = await import("../../src/report/series-activation.js");
    const [relu, sw] = groupSeries([cell("relu", undefined, 0, 0.1), cell("sw~beta=4", 4, 0, 0.2)]);
    expect(seriesActivation(relu)?.id).toBe("relu");
    const act = seriesActivation(sw);
    if (act?.kind !== "elementwise") throw new Error("elementwise");
    expect(act.forward(1)).toBeCloseTo(1 / (1 + Math.exp(-4)), 15);
    expect(seriesActivation({ activation: "gone", cells: [] })).toBeUndefined();
  });
});
