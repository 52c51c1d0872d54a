// End-to-end fidelity against the PyTorch reference runs: train with the CLI for several seeds, then compare
// per-instance eval losses between the two engines as distributions over seeds (the two engines' random
// numbers differ, so single runs cannot be compared; only their seed-to-seed distributions can).

import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { ensureBuilt, pool, runCli } from "./cli.js";
import { REPO_ROOT, type TorchRun } from "./fixtures.js";
import { mean, variance } from "./numeric.js";

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

export interface Comparison {
  activation: string;
  instance: number;
  p: number;
  torch: number[];
  ours: number[];
  torchMean: number;
  oursMean: number;
  /** Standard error of the difference of means. */
  se: number;
  tolerance: number;
  /** (mean_ours − mean_torch) / se. */
  z: number;
  pass: boolean;
}

/**
 * Two-sample comparison of means with the pooled variance: under the hypothesis that both engines sample
 * the same distribution, s_p² = ((n_t − 1)s_t² + (n_o − 1)s_o²)/(n_t + n_o − 2) estimates the common variance
 * with n_t + n_o − 2 degrees of freedom (more stable than Welch's s_t²/n_t + s_o²/n_o with 2–4 runs a side),
 * and SE = s_p·√(1/n_t + 1/n_o). Passes when |Δ| ≤ k·SE + floor.
 */
export function compareMeans(torch: number[], ours: number[], k: number, floor: number) {
  const nt = torch.length;
  const no = ours.length;
  const pooled = ((nt - 1) * variance(torch) + (no - 1) * variance(ours)) / (nt + no - 2);
  const se = Math.sqrt(pooled * (1 / nt + 1 / no));
  const delta = mean(ours) - mean(torch);
  const tolerance = k * se + floor;
  return {
    se,
    delta,
    tolerance,
    z: se > 0 ? delta / se : Number.POSITIVE_INFINITY,
    pass: Math.abs(delta) <= tolerance,
  };
}

/** torch runs of one preset as activation → per-seed eval losses (seed order). */
export function torchLosses(bySeed: Map<number, TorchRun[]>): Map<string, number[][]> {
  const out = new Map<string, number[][]>();
  for (const seed of [...bySeed.keys()].sort((a, b) => a - b)) {
    for (const run of bySeed.get(seed)!) {
      if (!out.has(run.activation)) out.set(run.activation, []);
      out.get(run.activation)!.push(run.eval_loss);
    }
  }
  return out;
}

const fmt = (v: number) => v.toExponential(3);
const fmtSd = (xs: number[]) => (xs.length > 1 ? Math.sqrt(variance(xs)).toExponential(1) : "–");

/** Writes the comparison table (Markdown) to test-results/<name>.md and returns its path. */
export function writeReport(name: string, title: string, notes: string[], rows: Comparison[]): string {
  const lines = [
    `# ${title}`,
    "",
    ...notes,
    "",
    "| activation | inst | p | torch mean ± sd (n) | ours mean ± sd (n) | ours/torch | z | |Δ| ≤ tol | pass |",
    "|---|---:|---:|---|---|---:|---:|---|:-:|",
    ...rows.map(
      (r) =>
        `| ${r.activation} | ${r.instance} | ${r.p.toPrecision(3)} | ${fmt(r.torchMean)} ± ${fmtSd(r.torch)} (${r.torch.length}) | ` +
        `${fmt(r.oursMean)} ± ${fmtSd(r.ours)} (${r.ours.length}) | ${(r.oursMean / r.torchMean).toFixed(3)} | ` +
        `${Number.isFinite(r.z) ? r.z.toFixed(2) : "∞"} | ${fmt(Math.abs(r.oursMean - r.torchMean))} ≤ ${fmt(r.tolerance)} | ${r.pass ? "✓" : "✗"} |`,
    ),
    "",
  ];
  const dir = `${REPO_ROOT}test-results`;
  mkdirSync(dir, { recursive: true });
  const path = `${dir}/${name}.md`;
  writeFileSync(path, lines.join("\n"));
  return path;
}
