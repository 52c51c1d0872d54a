// End-to-end fidelity against the PyTorch reference runs: train with the CLI for several seeds, then compare
// per-instance eval losses between the two engines as distributions over seeds (the two engines' random
// numbers differ, so single runs cannot be compared; only their seed-to-seed distributions can).

import { availableParallelism } from "node:os";
import { ensureBuilt, pool, runCli } from "./cli.js";
import type { TorchRun } from "./fixtures.js";

/** Training steps of the fidelity runs: the fixtures' 10 000. TMS_FIDELITY_STEPS overrides it only to dry-run
 *  the suites on stand-in fixtures of the same step count (the suites check the fixtures' step count). */
export const FIDELITY_STEPS = Number(process.env.TMS_FIDELITY_STEPS ?? 10_000);

export interface OurRun {
  activation: string;
  seed: number;
  seconds: number;
  evalLoss: number[];
  diverged: boolean[];
  featureProbability: number[];
}

/** Our side of a fidelity suite: its runs and what training them took. */
export interface OurTraining {
  runs: OurRun[];
  wallSeconds: number;
  /** Summed training time of the runs. */
  cpuSeconds: number;
}

export const NOT_TRAINED: OurTraining = { runs: [], wallSeconds: 0, cpuSeconds: 0 };

/** The report line saying how our side was trained. */
export function trainingNote(t: OurTraining): string {
  return `Our training: ${t.runs.length} runs, ${t.wallSeconds.toFixed(0)} s wall, ${t.cpuSeconds.toFixed(0)} s summed training time.`;
}

/**
 * Trains preset × activations × seeds with `tms train --json` (10 000 steps, f32), as many at once as cores,
 * building the CLI first if needed.
 */
export async function trainWithCli(
  preset: string,
  activations: readonly string[],
  seeds: readonly number[],
  steps = FIDELITY_STEPS,
): Promise<OurTraining> {
  ensureBuilt();
  const jobs = activations.flatMap((activation) => seeds.map((seed) => ({ activation, seed })));
  const t0 = performance.now();
  const runs = await pool(jobs, Math.max(1, availableParallelism()), async ({ activation, seed }) => {
    const args = ["train", "--preset", preset, "--activation", activation, "--seed", String(seed)];
    // No practical time limit per run: the suite's budget is checked on its total, not by killing runs.
    const r = await runCli([...args, "--steps", String(steps), "--dtype", "f32", "--json"], 3_600_000);
    if (r.code !== 0)
      throw new Error(`tms ${args.join(" ")} failed (exit ${r.code}, signal ${r.signal}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as {
      seconds: number;
      instances: { loss: number; diverged: boolean; featureProbability: number }[];
    };
    return {
      activation,
      seed,
      seconds: out.seconds,
      evalLoss: out.instances.map((i) => i.loss),
      diverged: out.instances.map((i) => i.diverged),
      featureProbability: out.instances.map((i) => i.featureProbability),
    } satisfies OurRun;
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  return { runs, wallSeconds, cpuSeconds: runs.reduce((s, r) => s + r.seconds, 0) };
}

/** One cell (activation × instance) of a fidelity comparison, as the report shows it. */
export interface Comparison {
  activation: string;
  instance: number;
  p: number;
  /** Finite eval losses, PyTorch's and ours. */
  torch: number[];
  ours: number[];
  /** "linear": means of the losses are compared; "log": means of their logarithms (geometric means). */
  scale: "linear" | "log";
  /** PyTorch's seed-to-seed standard deviation on that scale, its degrees of freedom, and whether it is the
   *  cell's own or pooled over the activation's instances. */
  spread: number;
  dof: number;
  pooled: boolean;
  /** Standard error of the difference of means, from PyTorch's spread alone. */
  se: number;
  /** Critical value: |Δ| ≤ k·SE (+ floor) passes. */
  k: number;
  /** mean_ours − mean_torch on the compared scale. */
  delta: number;
  tolerance: number;
  /** Δ / SE. */
  z: number;
  pass: boolean;
}

/**
 * Difference of means with the standard error taken from the REFERENCE's spread only: under the hypothesis that
 * both engines sample the same distribution with standard deviation σ, Δ = mean_ours − mean_torch has standard
 * deviation σ·√(1/n_t + 1/n_o), and σ is estimated by `spread` from PyTorch's runs (ν degrees of freedom), so
 * Δ/SE is t-distributed with ν degrees of freedom. Our own scatter never enters the tolerance: a bug that adds
 * seed-to-seed noise cannot widen its own test. Passes when |Δ| ≤ k·SE + floor.
 */
export function compareToReference(
  delta: number,
  spread: number,
  nTorch: number,
  nOurs: number,
  k: number,
  floor: number,
): { se: number; tolerance: number; z: number; pass: boolean } {
  const se = spread * Math.sqrt(1 / nTorch + 1 / nOurs);
  const tolerance = k * se + floor;
  return {
    se,
    tolerance,
    z: se > 0 ? delta / se : delta === 0 ? 0 : Math.sign(delta) * Number.POSITIVE_INFINITY,
    pass: Math.abs(delta) <= tolerance,
  };
}

/** PyTorch runs as activation → per-seed eval losses ([seed][instance], seeds ascending). */
export function torchLosses(runs: readonly TorchRun[]): Map<string, number[][]> {
  const out = new Map<string, number[][]>();
  for (const run of [...runs].sort((a, b) => a.seed - b.seed)) {
    if (!out.has(run.activation)) out.set(run.activation, []);
    out.get(run.activation)!.push(run.eval_loss);
  }
  return out;
}
