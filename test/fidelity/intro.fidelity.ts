// END-TO-END fidelity, intro preset (5 features → 2 dims, 10 instances, p = 20^(−i/9)), 10 000 steps, f32,
// all 27 activations: our per-instance eval loss against PyTorch (fixtures/fidelity/intro-seed{0,1}.jsonl).
// Skipped until both fixture files exist.
//
// With 2 PyTorch seeds (and 2 of ours) a per-instance variance has 1 degree of freedom, and the intro losses are
// often bimodal: seeds settle into different local optima (how many features get a direction). Our 8 seeds
// give, e.g., relu at p = 0.26: 1.7e-2 or 2.4e-2; sigmoid at p = 0.05: 1.8e-3 or 2.8e-3; relu at p = 0.097:
// 4–5e-3 and once 9.7e-3; the 2 PyTorch seeds sit in one mode, our first two in the other, by chance. So we work
// on log losses (spread ∝ loss, which spans 3 decades across instances), d_i = mean_ours(log L_i) −
// mean_torch(log L_i), and check per activation:
//  1. Bias (the statistical test): the 10 instances give 10 independent paired differences d_i (instances have
//     their own weights and data). A one-sample t-test on them, |mean d| ≤ K_BIAS·sd(d)/√10 + log 1.02, uses the
//     between-engine scatter itself, so mode luck (which flips sign from instance to instance) widens it and a
//     systematic shift (same sign everywhere) does not. K_BIAS = 5: P(|t₉| > 5) ≈ 7e-4, ≈ 2% over 27 activations.
//  2. Per instance (a sanity bound): |d_i| ≤ max(K_INSTANCE·SE_i, log 2.5), SE_i = s·√(1/n_t + 1/n_o) with s the
//     within-engine log-sd pooled over the activation's instances (20 degrees of freedom). Two seeds cannot
//     resolve less than the distance between modes: means of two runs can differ by ~1.6× by mode luck (the
//     2.4× outlier above, averaged with a normal run), so nothing below a factor 2.5 fails on its own;
//     K_INSTANCE = 6 (P(|t₂₀| > 6) ≈ 7e-6) covers activations whose spread is larger than that.
//     The demo suite (5 PyTorch seeds) is the fine-grained per-instance comparison.
// The 2% floor (log 1.02) covers near-deterministic activations (log_softmax, softmin: spread < 1%).
// Runs where either engine diverged (non-finite eval loss) are listed in the report; an instance fails if
// every run of one engine diverged and no run of the other did.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIVATION_IDS } from "../../src/core/activations.js";
import { getPreset } from "../../src/experiments/presets.js";
import {
  type Comparison,
  FIDELITY_STEPS,
  NOT_TRAINED,
  torchLosses,
  trainingNote,
  trainWithCli,
  writeReport,
} from "../helpers/fidelity.js";
import { fidelityRuns, hasFidelityFixtures, type TorchRun } from "../helpers/fixtures.js";
import { mean, variance } from "../helpers/numeric.js";

const TORCH_SEEDS = [0, 1];
const OUR_SEEDS = [0, 1];
const K_BIAS = 5;
const K_INSTANCE = 6;
const LOG_MODE = Math.log(2.5);
const LOG_FLOOR = Math.log(1.02);

const ready = hasFidelityFixtures("intro", TORCH_SEEDS);
const torchBySeed = ready ? fidelityRuns("intro") : new Map<number, TorchRun[]>();
const torch = torchLosses(torchBySeed);
const spec = getPreset("intro").spec();
const I = spec.nInstances;

describe.skipIf(!ready)("fidelity: intro preset, 27 activations, vs PyTorch", () => {
  let trained = NOT_TRAINED;
  const rows: Comparison[] = [];
  const biasLines: string[] = [];

  beforeAll(async () => {
    trained = await trainWithCli("intro", ACTIVATION_IDS, OUR_SEEDS);
  }, 3_600_000);

  afterAll(() => {
    if (rows.length === 0) return;
    const path = writeReport(
      "fidelity-intro",
      "Fidelity: intro preset, eval loss, tms-lab vs PyTorch",
      [
        `10 000 steps, float32. PyTorch seeds ${TORCH_SEEDS.join(", ")}; ours ${OUR_SEEDS.join(", ")}. Log-scale comparison with`,
        `per-instance sanity bounds and a per-activation paired t-test on log L (see test/fidelity/intro.fidelity.ts).`,
        `z = d_i / SE_i; "tol" is on the loss scale for readability (the test itself is on log L).`,
        trainingNote(trained),
        "",
        "Per-activation bias (mean over instances of log(ours) − log(torch)):",
        "",
        ...biasLines,
      ],
      rows,
    );
    console.log(`fidelity table: ${path}`);
  });

  it("the fixtures hold all 27 activations at 10 000 steps for each seed", () => {
    for (const seed of TORCH_SEEDS) {
      const list = torchBySeed.get(seed)!;
      expect(list.map((r) => r.activation).sort()).toEqual([...ACTIVATION_IDS].sort());
      for (const r of list) {
        expect(r.steps).toBe(FIDELITY_STEPS);
        r.feature_probability.forEach((p, i) => {
          expect(p).toBeCloseTo(spec.featureProbability[i], 12);
        });
      }
    }
  });

  it.each([...ACTIVATION_IDS])("%s", (act) => {
    const t = torch.get(act)!; // [seed][instance]
    const o = trained.runs.filter((r) => r.activation === act).map((r) => r.evalLoss);
    const failures: string[] = [];
    // Pooled log-scale variance over instances with finite, positive losses on both sides.
    let ss = 0;
    let dof = 0;
    const usable: number[] = [];
    for (let i = 0; i < I; i++) {
      const ti = t.map((run) => run[i]).filter((v) => Number.isFinite(v) && v > 0);
      const oi = o.map((run) => run[i]).filter((v) => Number.isFinite(v) && v > 0);
      const tDiverged = ti.length === 0;
      const oDiverged = oi.length === 0;
      if (tDiverged !== oDiverged)
        failures.push(`${act} instance ${i}: diverged in ${tDiverged ? "torch" : "ours"} only`);
      if (ti.length < t.length || oi.length < o.length)
        biasLines.push(
          `- ${act} instance ${i}: non-finite eval loss in ${t.length - ti.length} torch / ${o.length - oi.length} of our runs`,
        );
      if (ti.length === 0 || oi.length === 0) continue;
      usable.push(i);
      for (const xs of [ti, oi]) {
        const logs = xs.map(Math.log);
        const m = mean(logs);
        for (const v of logs) ss += (v - m) ** 2;
        dof += logs.length - 1;
      }
    }
    const s = dof > 0 ? Math.sqrt(ss / dof) : 0;
    const nt = t.length;
    const no = o.length;
    const seInstance = s * Math.sqrt(1 / nt + 1 / no);
    const ds: number[] = [];
    for (const i of usable) {
      const ti = t.map((run) => run[i]).filter((v) => Number.isFinite(v) && v > 0);
      const oi = o.map((run) => run[i]).filter((v) => Number.isFinite(v) && v > 0);
      const d = mean(oi.map(Math.log)) - mean(ti.map(Math.log));
      ds.push(d);
      const tol = Math.max(K_INSTANCE * seInstance, LOG_MODE);
      const torchMean = mean(ti);
      const pass = Math.abs(d) <= tol;
      rows.push({
        activation: act,
        instance: i,
        p: spec.featureProbability[i],
        torch: ti,
        ours: oi,
        torchMean,
        oursMean: mean(oi),
        se: seInstance,
        tolerance: torchMean * (Math.exp(tol) - 1),
        z: seInstance > 0 ? d / seInstance : Number.POSITIVE_INFINITY,
        pass,
      });
      if (!pass)
        failures.push(
          `${act} instance ${i}: ours/torch (geometric means) ${Math.exp(d).toFixed(3)}, |log ratio| ${Math.abs(d).toFixed(3)} > ${tol.toFixed(3)} (s = ${s.toFixed(3)})`,
        );
    }
    if (ds.length > 1) {
      const bias = mean(ds);
      const seBias = Math.sqrt(variance(ds) / ds.length);
      const tol = K_BIAS * seBias + LOG_FLOOR;
      biasLines.push(
        `- ${act}: exp(mean d) = ${Math.exp(bias).toFixed(3)}, t = ${(bias / seBias).toFixed(2)}, |mean d| ${Math.abs(bias).toFixed(3)} ≤ ${tol.toFixed(3)}: ${Math.abs(bias) <= tol ? "✓" : "✗"} (within-engine log-sd s = ${s.toFixed(3)})`,
      );
      if (Math.abs(bias) > tol)
        failures.push(
          `${act}: systematic bias, ours/torch ≈ ${Math.exp(bias).toFixed(3)} over instances (tolerance ${Math.exp(tol).toFixed(3)}×)`,
        );
    }
    expect(failures).toEqual([]);
  });
});
