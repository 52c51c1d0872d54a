// END-TO-END fidelity, demo preset (20 features → 5 dims, 7 instances, p = 1 … 0.001), 10 000 steps, f32:
// our per-instance eval loss against the PyTorch reference (reference/tms_torch.py →
// fixtures/fidelity/demo-seed<k>.jsonl, 5 seeds), for relu, gelu, sigmoid, tanh, softplus and softmin.
//
// The two engines draw different random numbers, so we compare distributions over seeds. For each
// activation × instance: |mean_ours − mean_torch| ≤ K·SE + FLOOR_REL·mean_torch, with SE the pooled
// two-sample standard error (test/helpers/fidelity.ts: s_p·√(1/n_t + 1/n_o), n_t + n_o − 2 degrees of freedom).
//
// Why K = 6: there are 6 × 7 = 42 comparisons. With n_t = 5 PyTorch seeds and n_o = 3 of ours, the statistic is
// t-distributed with 6 degrees of freedom if the engines agree; P(|t₆| > 6) ≈ 1e-3, so the chance of any false
// alarm among the 42 is ≈ 4% (Bonferroni). K = 4–5 would give 20–60% here: t₆ has heavy tails. What it detects:
// SE ≈ 0.73·s, so a systematic shift of ~4.4 seed-to-seed standard deviations — e.g. ~2% of the loss for the
// p = 1 instances (spread ≈ 0.5%), ~1.5× for the sparsest ones whose eval loss rests on ~160 non-zero values.
// FLOOR_REL = 1% of the loss guards against near-identical runs (spread ≈ 0) where float32 rounding alone
// could exceed K·SE; 1% is far below any difference that would change a conclusion about superposition.
//
// Our runs go through the built CLI (`tms train --json`), as many at once as there are cores. The comparison
// table is written to test-results/fidelity-demo.md.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPreset } from "../../src/experiments/presets.js";
import {
  type Comparison,
  compareMeans,
  FIDELITY_STEPS,
  NOT_TRAINED,
  torchLosses,
  trainingNote,
  trainWithCli,
  writeReport,
} from "../helpers/fidelity.js";
import { fidelityRuns } from "../helpers/fixtures.js";
import { mean } from "../helpers/numeric.js";

const ACTIVATIONS = ["relu", "gelu", "sigmoid", "tanh", "softplus", "softmin"];
const OUR_SEEDS = [0, 1, 2];
const K = 6;
const FLOOR_REL = 0.01;
const MIN_TORCH_SEEDS = 3;

const torchBySeed = fidelityRuns("demo");
const torch = torchLosses(torchBySeed);
const spec = getPreset("demo").spec();

describe.skipIf(torchBySeed.size < MIN_TORCH_SEEDS)("fidelity: demo preset vs PyTorch", () => {
  let trained = NOT_TRAINED;
  const rows: Comparison[] = [];

  beforeAll(async () => {
    trained = await trainWithCli("demo", ACTIVATIONS, OUR_SEEDS);
  }, 3_600_000);

  afterAll(() => {
    if (rows.length === 0) return;
    const path = writeReport(
      "fidelity-demo",
      "Fidelity: demo preset, eval loss, tms-lab vs PyTorch",
      [
        `10 000 steps, float32, batch 1024, lr 1e-3. PyTorch seeds: ${[...torchBySeed.keys()].join(", ")}; ours: ${OUR_SEEDS.join(", ")}.`,
        `Pass: |mean_ours − mean_torch| ≤ ${K}·SE_pooled + ${FLOOR_REL}·mean_torch. z = Δ/SE.`,
        trainingNote(trained),
      ],
      rows,
    );
    console.log(`fidelity table: ${path}`);
  });

  it("the fixtures are the demo preset at 10 000 steps, with every activation for every seed", () => {
    for (const [seed, list] of torchBySeed) {
      expect(list.map((r) => r.activation).sort(), `seed ${seed}`).toEqual([...ACTIVATIONS].sort());
      for (const r of list) {
        expect(r.steps).toBe(FIDELITY_STEPS);
        expect(r.seed).toBe(seed);
        expect(r.feature_probability).toEqual(Array.from(spec.featureProbability));
        expect(r.eval_loss.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it("our runs finished without divergence, on the same instances", () => {
    expect(trained.runs).toHaveLength(ACTIVATIONS.length * OUR_SEEDS.length);
    for (const r of trained.runs) {
      expect(r.diverged.some(Boolean), `${r.activation} seed ${r.seed}`).toBe(false);
      r.featureProbability.forEach((p, i) => {
        expect(p).toBeCloseTo(spec.featureProbability[i], 12);
      });
    }
  });

  it.each(ACTIVATIONS)("%s: per-instance eval loss matches PyTorch's distribution over seeds", (act) => {
    const t = torch.get(act)!;
    const ours = trained.runs.filter((r) => r.activation === act);
    const failures: string[] = [];
    for (let i = 0; i < spec.nInstances; i++) {
      const ts = t.map((run) => run[i]);
      const os = ours.map((run) => run.evalLoss[i]);
      const torchMean = mean(ts);
      const c = compareMeans(ts, os, K, FLOOR_REL * torchMean);
      const row: Comparison = {
        activation: act,
        instance: i,
        p: spec.featureProbability[i],
        torch: ts,
        ours: os,
        torchMean,
        oursMean: mean(os),
        se: c.se,
        tolerance: c.tolerance,
        z: c.z,
        pass: c.pass,
      };
      rows.push(row);
      if (!c.pass)
        failures.push(
          `${act} instance ${i} (p = ${row.p}): ours ${row.oursMean.toExponential(4)} vs torch ${torchMean.toExponential(4)}, ` +
            `z = ${c.z.toFixed(2)}, |Δ| ${Math.abs(c.delta).toExponential(2)} > ${c.tolerance.toExponential(2)}`,
        );
    }
    expect(failures).toEqual([]);
  });
});
