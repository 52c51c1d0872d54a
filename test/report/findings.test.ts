// Findings on synthetic results whose verdict is known by construction.

import { describe, expect, it } from "vitest";
import { ACTIVATION_IDS, VECTOR_ACTIVATION_IDS } from "../../src/core/activations.js";
import type { CellResult } from "../../src/experiments/store-format.js";
import { reportDataFrom, superpositionScore, trivialLoss } from "../../src/report/data.js";
import {
  buildFindings,
  celuGeluFinding,
  expFailsFinding,
  logSoftmaxFailsFinding,
  lossRangeFinding,
  sigmoidPrecisionFinding,
  softminFinding,
  superpositionLossFinding,
} from "../../src/report/findings/index.js";
import { num } from "../../src/report/format.js";
import { buildTables, toCsv } from "../../src/report/tables.js";
import { inst, lcg, result } from "./synthetic.js";

const PROBS = [1, 0.3, 0.1, 0.03, 0.01];
const F = 4;

/** Cells for one activation over seeds, with loss and superposition given per instance. */
function series(
  activation: string,
  o: {
    loss: (i: number, seed: number) => number;
    sup?: (i: number, seed: number) => number;
    norms?: (i: number, seed: number) => number[];
    diverged?: (i: number, seed: number) => boolean;
    variant?: string;
    seeds?: number[];
    preset?: string;
  },
): CellResult[] {
  return (o.seeds ?? [0, 1, 2]).map((seed) =>
    result({
      preset: o.preset ?? "intro",
      activation,
      variant: o.variant,
      seed,
      F,
      H: 2,
      instances: PROBS.map((p, i) =>
        inst(
          {
            p,
            loss: o.loss(i, seed),
            sup: o.sup?.(i, seed),
            norms: o.norms?.(i, seed),
            diverged: o.diverged?.(i, seed),
          },
          F,
        ),
      ),
    }),
  );
}

describe("claim 3: CELU vs GELU", () => {
  it("supported when superposition differs a lot and loss does not", () => {
    const noise = lcg(1);
    const data = reportDataFrom([
      ...series("celu", {
        loss: (i) => 1e-3 * PROBS[i] * (1 + 0.01 * noise()),
        sup: () => 0.1 + 0.01 * noise(),
      }),
      ...series("gelu", {
        loss: (i) => 1e-3 * PROBS[i] * (1 + 0.01 * noise()),
        sup: () => 0.9 + 0.01 * noise(),
      }),
    ]);
    const f = celuGeluFinding(data);
    expect(f.verdict).toBe("supported");
    expect(f.numbers.supDiffMean as number).toBeCloseTo(0.8, 1);
    expect(Math.abs(f.numbers.log10LossRatioMean as number)).toBeLessThan(0.02);
  });

  it("not supported when GELU's loss is ten times CELU's", () => {
    const data = reportDataFrom([
      ...series("celu", { loss: (i, s) => 1e-3 * PROBS[i] * (1 + 0.01 * s), sup: (_, s) => 0.1 + 0.01 * s }),
      ...series("gelu", { loss: (i, s) => 1e-2 * PROBS[i] * (1 + 0.01 * s), sup: (_, s) => 0.9 + 0.01 * s }),
    ]);
    const f = celuGeluFinding(data);
    expect(f.verdict).toBe("not supported");
    expect(f.numbers.log10LossRatioMean as number).toBeCloseTo(1, 6);
  });

  it("inconclusive, with the command to run, when GELU is missing", () => {
    const f = celuGeluFinding(reportDataFrom(series("celu", { loss: () => 1e-3 })));
    expect(f.verdict).toBe("inconclusive");
    expect(f.reason).toContain("--activations celu,gelu");
  });
});

describe("claim 1: loss range and spread", () => {
  it("supported: every activation near 5e-4, seed noise only", () => {
    const noise = lcg(7);
    const data = reportDataFrom(
      ["relu", "gelu", "celu", "elu"].flatMap((a) => series(a, { loss: () => 5e-4 * (1 + 0.1 * noise()) })),
    );
    const f = lossRangeFinding(data);
    expect(f.numbers.shareInRange).toBe(1);
    expect(f.numbers.levelsDifferMaterially).toBe(0);
    expect(f.verdict).toBe("supported");
  });

  it("not supported: activations 3× apart with tight seeds", () => {
    const data = reportDataFrom(
      ["relu", "gelu", "celu", "elu", "selu", "tanh"].flatMap((a, k) =>
        series(a, { loss: (_, s) => 2e-4 * 3 ** k * (1 + 0.001 * s) }),
      ),
    );
    const f = lossRangeFinding(data);
    expect(f.verdict).toBe("not supported");
    expect(f.numbers.levelsDifferMaterially).toBe(PROBS.length);
  });
});

describe("claim 2: superposition vs loss", () => {
  it("inconclusive with fewer than 8 activations", () => {
    const data = reportDataFrom(["relu", "gelu"].flatMap((a) => series(a, { loss: () => 1e-3 })));
    expect(superpositionLossFinding(data).verdict).toBe("inconclusive");
  });

  it("not supported when more superposition means a much higher loss", () => {
    const acts = ACTIVATION_IDS.filter((id) => !VECTOR_ACTIVATION_IDS.includes(id)).slice(0, 10);
    const data = reportDataFrom(
      acts.flatMap((a, k) => series(a, { loss: () => 1e-4 * 3 ** k, sup: () => 0.1 * k })),
    );
    const f = superpositionLossFinding(data);
    expect(f.verdict).toBe("not supported");
    expect(f.numbers.medianRho).toBe(1);
  });
});

describe("claim 4: (hard)sigmoid in float32 vs float64", () => {
  const f32 = [
    ...series("sigmoid", { loss: (i, s) => 1e-3 * (1 + 0.2 * s + 0.01 * i), sup: (_, s) => 0.5 + 0.1 * s }),
  ];

  it("inconclusive without f64 reruns, naming the command", () => {
    const f = sigmoidPrecisionFinding(reportDataFrom(f32));
    expect(f.verdict).toBe("inconclusive");
    expect(f.reason).toBe(
      "store has no f64 reruns; run tms sweep --dtype f32,f64 --activations sigmoid,hardsigmoid",
    );
  });

  it("not supported (no float error) when f64 reproduces f32", () => {
    const f64 = series("sigmoid", {
      variant: "f64",
      loss: (i, s) => 1e-3 * (1 + 0.2 * s + 0.01 * i) * (1 + 1e-6),
      sup: (_, s) => 0.5 + 0.1 * s + 1e-6,
    });
    const f = sigmoidPrecisionFinding(reportDataFrom([...f32, ...f64]));
    expect(f.verdict).toBe("not supported");
    expect(f.numbers.ratioSuperposition as number).toBeLessThan(0.01);
  });

  it("supported when f64 lands somewhere else entirely", () => {
    const f64 = series("sigmoid", { variant: "f64", loss: () => 1e-1, sup: () => 0 });
    expect(sigmoidPrecisionFinding(reportDataFrom([...f32, ...f64])).verdict).toBe("supported");
  });
});

describe("claim 5: softmin importance reversal", () => {
  // Importance 0.9^f decreases with f; norms growing with f reverse it (ρ = −1).
  const reversed = () => [0.2, 0.4, 0.6, 0.8];
  const normal = () => [0.8, 0.6, 0.4, 0.2];
  /** Softmin stored with the softmax over features and over the batch, with these norms. */
  const bothDims = (features: () => number[], batch: () => number[]) =>
    reportDataFrom([
      ...series("softmin", { loss: () => 1e-3, norms: features }),
      ...series("softmin", { loss: () => 1e-3, norms: batch, variant: "softmax-batch" }),
    ]);

  it("supported when norms grow as importance falls (batch softmax only)", () => {
    const f = softminFinding(bothDims(normal, reversed));
    expect(f.verdict).toBe("supported");
    expect(f.numbers.softminRho_batch).toBe(-1);
    expect(f.numbers.softminRho_features).toBe(1);
    expect(f.summary).toContain("reversed with the softmax over batch");
  });

  it("not supported when neither softmax dimension reverses importance", () => {
    const f = softminFinding(bothDims(normal, normal));
    expect(f.verdict).toBe("not supported");
    expect(f.headline).toContain("Not supported");
  });

  it("inconclusive when only one softmax dimension is stored and it shows no reversal", () => {
    const f = softminFinding(reportDataFrom(series("softmin", { loss: () => 1e-3, norms: normal })));
    expect(f.verdict).toBe("inconclusive");
    expect(f.reason).toContain("--softmax-dim features,batch");
  });
});

describe("claim 6: LogSoftmax and Exp convergence", () => {
  it("trivial loss is mean(importance)·p/3", () => {
    const [c] = series("relu", { loss: () => 1, seeds: [0] });
    const imp = [1, 0.9, 0.81, 0.729];
    expect(trivialLoss(c, 1)).toBeCloseTo((imp.reduce((a, b) => a + b) / 4) * (0.3 / 3), 12);
  });

  it("LogSoftmax and Exp are judged separately: one fails, the other converges", () => {
    const trivial = (i: number) => (((1 + 0.9 + 0.81 + 0.729) / 4) * PROBS[i]) / 3;
    const data = reportDataFrom([
      ...series("relu", { loss: (i) => 0.1 * trivial(i) }),
      ...series("log_softmax", { loss: () => 5, diverged: (i) => i === 0 }),
      ...series("exp", { loss: (i) => trivial(i) }),
      ...series("exp_linear", { loss: (i) => 0.1 * trivial(i) }),
    ]);
    const ls = logSoftmaxFailsFinding(data);
    expect(ls.verdict).toBe("supported");
    expect(
      ls.intervals["intro: LogSoftmax share of instances failed (S=0.000…0.990 (5 levels))"].estimate,
    ).toBe(1);
    const ex = expFailsFinding(data);
    // Exp fails (loss = trivial) but Exp linear learns: the claim, made of both, does not hold.
    expect(ex.verdict).toBe("not supported");
    expect(ex.summary).toContain("Exp failed at low sparsity: supported");
    expect(ex.summary).toContain("Exp linear failed at low sparsity: not supported");
  });
});

describe("tables", () => {
  it("the loss table marks the best and worst mean per column, and the CSV carries the same numbers", () => {
    const data = reportDataFrom([
      ...series("relu", { loss: (_, s) => 1e-3 + 1e-5 * s }),
      ...series("gelu", { loss: (_, s) => 2e-3 + 1e-5 * s }),
      ...series("celu", { loss: (_, s) => 3e-3 + 1e-5 * s }),
    ]);
    const loss = buildTables(data).find((t) => t.id === "loss-intro")!;
    // Rows follow the write-up's order: ReLU, CELU, GELU.
    expect(loss.rows.map((r) => r[0].text)).toEqual(["ReLU", "CELU", "GELU"]);
    expect(loss.rows.map((r) => r[1].mark)).toEqual(["best", "worst", undefined]);
    // Seeds 0, 1, 2 → mean 1.01e-3, half-width t(0.975, 2)·1e-5/√3 = 2.48e-5.
    expect(loss.rows[0][1].text).toBe("1.01e-3 ± 2.5e-5");
    const csv = toCsv(loss).trim().split("\n");
    expect(csv[0]).toContain("S=0.000 mean,S=0.000 ci95");
    expect(csv[1].split(",").slice(0, 6)).toEqual(["intro", "relu", "", "3", num(1.01e-3), "2.5e-5"]);
  });

  it("superposition score weights features by their norm", () => {
    const x = inst({ p: 1, loss: 0, norms: [1, 0, 3] }, 3);
    x.superposition = [0.2, 5, 0.6];
    expect(superpositionScore(x)).toBeCloseTo((0.2 + 1.8) / 4, 12);
  });

  it("every finding is built for an empty store without throwing", () => {
    const fs = buildFindings(reportDataFrom([]));
    expect(fs).toHaveLength(25);
    expect(fs.every((f) => f.verdict === "inconclusive" && f.reason)).toBe(true);
  });
});
