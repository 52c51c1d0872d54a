// END-TO-END fidelity, demo preset (20 features → 5 dims, 7 instances, p = 1 … 0.001), 10 000 steps, f32:
// our per-instance eval loss against the PyTorch reference (reference/tms_torch.py →
// fixtures/fidelity/demo-seed<k>.jsonl, 5 seeds), for relu, gelu, sigmoid, tanh, softplus and softmin.
//
// The two engines draw different random numbers, so we compare distributions over seeds. For each
// activation × instance, with Δ = mean_ours − mean_torch of the eval loss:
//   |Δ| ≤ K·SE + FLOOR_REL·mean_torch,   SE = s_t·√(1/n_t + 1/n_o),
// where s_t is PyTorch's seed-to-seed standard deviation of that cell (n_t = 5 seeds, ν = 4 degrees of
// freedom) and n_o = 3 is our number of seeds. Only the reference's spread enters: a bug that made our runs
// noisier cannot widen its own tolerance (it used to, through a pooled variance). If the engines sample the same
// distribution, Δ/SE is t-distributed with ν = 4 (normal losses assumed), so K is the t₄ quantile with
// P(|t₄| > K) = 5 % / 42 over the 6 × 7 = 42 cells (Bonferroni): K ≈ 8.2, and the chance of any false alarm
// in the suite is ≤ 5 %. SE ≈ 0.73·s_t, so a cell fails when our mean is ~6 of PyTorch's seed-to-seed
// standard deviations away, e.g. ~2–3 % of the loss for the p = 1 instances (spread ≈ 0.4–0.5 %).
// FLOOR_REL = 1e-6 only matters if PyTorch's 5 seeds agreed to ~6 digits: it is the float32 resolution of a
// mean over 8192 × 20 values, not a tolerance on the physics.
//
// Our runs go through the built CLI (`tms train --json`), as many at once as there are cores. The table is
// written to docs/fidelity.md (test/helpers/fidelity-report.ts).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPreset } from "../../src/experiments/presets.js";
import * as fidelity from "../helpers/fidelity.js";
import { writeFidelityTable } from "../helpers/fidelity-report.js";
import { fidelityRuns } from "../helpers/fixtures.js";
import { mean, std } from "../helpers/numeric.js";
import { tCritical } from "../helpers/student.js";

const ACTIVATIONS = ["relu", "gelu", "sigmoid", "tanh", "softplus", "softmin"];
const OUR_SEEDS = [0, 1, 2];
const FLOOR_REL = 1e-6;
const MIN_TORCH_SEEDS = 3;
const FAMILY_ALPHA = 0.05;

const torchBySeed = fidelityRuns("demo");
const torch = fidelity.torchLosses([...torchBySeed.values()].flat());
const spec = getPreset("demo").spec();
const nTorch = torchBySeed.size;
const N_CELLS = ACTIVATIONS.length * spec.nInstances;
const K = nTorch >= 2 ? tCritical(FAMILY_ALPHA / N_CELLS, nTorch - 1) : Number.NaN;

describe.skipIf(torchBySeed.size < MIN_TORCH_SEEDS)("fidelity: demo preset vs PyTorch", () => {
  let trained = fidelity.NOT_TRAINED;
  const rows: fidelity.Comparison[] = [];

  beforeAll(async () => {
    trained = await fidelity.trainWithCli("demo", ACTIVATIONS, OUR_SEEDS);
  }, 3_600_000);

  afterAll(() =>
    writeFidelityTable(
      "demo",
      [
        "## Demo preset (20 features → 5 dims, 7 instances), 6 activations",
        "",
        `Run ${new Date().toISOString().slice(0, 10)}. PyTorch seeds ${[...torchBySeed.keys()].join(", ")}; ours ${OUR_SEEDS.join(", ")}. ${fidelity.trainingNote(trained)}`,
        `Compared: the mean eval loss over seeds. Pass: |Δ| ≤ K·SE + ${FLOOR_REL}·mean_torch with SE = s_t·√(1/${nTorch} + 1/${OUR_SEEDS.length}),`,
        `s_t = PyTorch's seed-to-seed sd of the cell (ν = ${nTorch - 1}), K = ${K.toFixed(2)}: P(|t_${nTorch - 1}| > K) = 5 % / ${N_CELLS} cells.`,
      ],
      rows,
    ),
  );

  it("the fixtures are the demo preset at 10 000 steps, with every activation for every seed", () => {
    for (const [seed, list] of torchBySeed) {
      expect(list.map((r) => r.activation).sort(), `seed ${seed}`).toEqual([...ACTIVATIONS].sort());
      for (const r of list) {
        expect(r.steps).toBe(fidelity.FIDELITY_STEPS);
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
      const delta = mean(os) - torchMean;
      const c = fidelity.compareToReference(delta, std(ts), ts.length, os.length, K, FLOOR_REL * torchMean);
      const row: fidelity.Comparison = {
        activation: act,
        instance: i,
        p: spec.featureProbability[i],
        torch: ts,
        ours: os,
        scale: "linear",
        spread: std(ts),
        dof: ts.length - 1,
        pooled: false,
        se: c.se,
        k: K,
        delta,
        tolerance: c.tolerance,
        z: c.z,
        pass: c.pass,
      };
      rows.push(row);
      if (!c.pass)
        failures.push(
          `${act} instance ${i} (p = ${row.p}): ours ${mean(os).toExponential(4)} vs torch ${torchMean.toExponential(4)}, ` +
            `z = ${c.z.toFixed(2)}, |Δ| ${Math.abs(delta).toExponential(2)} > ${c.tolerance.toExponential(2)}`,
        );
    }
    expect(failures).toEqual([]);
  });
});
