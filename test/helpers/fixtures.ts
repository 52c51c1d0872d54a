// Loading the PyTorch fixtures in fixtures/ (written by scripts/fixtures/*.py). JSON has no non-finite numbers,
// so the generators write them as the strings "inf", "-inf" and "nan"; `num` turns those back into numbers.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of the repository root (this file is test/helpers/fixtures.ts). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** fixtures/ of the repository; TMS_FIXTURES_DIR overrides it (to dry-run the fidelity suites on stand-in data). */
export const FIXTURES_DIR = process.env.TMS_FIXTURES_DIR ?? `${REPO_ROOT}fixtures`;

export type FixtureNumber = number | "inf" | "-inf" | "nan";

export function num(v: FixtureNumber): number {
  if (typeof v === "number") return v;
  if (v === "inf") return Number.POSITIVE_INFINITY;
  if (v === "-inf") return Number.NEGATIVE_INFINITY;
  if (v === "nan") return Number.NaN;
  throw new Error(`unexpected fixture value ${JSON.stringify(v)}`);
}

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(`${FIXTURES_DIR}/${name}`, "utf8")) as T;
}

export interface ActivationFixture {
  torch: string;
  dtype: string;
  points: number[];
  elementwise: Record<string, { y: FixtureNumber[]; dy: FixtureNumber[] }>;
  /** jacobian[n][i][j] = ∂y_i/∂v_j for input vector n. */
  vector: Record<string, { inputs: number[][]; y: FixtureNumber[][]; jacobian: FixtureNumber[][][] }>;
}

export interface AdamWCase {
  name: string;
  dtype: "float32" | "float64";
  /** lr[k] is the learning rate of step k. */
  lr: number[];
  betas: [number, number];
  eps: number;
  weightDecay: number;
  initial: number[];
  /** grads[k]: the gradient given to step k. */
  grads: number[][];
  /** params[k]: the parameters after step k. */
  params: number[][];
}

export interface InitCase {
  shape: [number, number, number];
  numel: number;
  seed: number;
  torchFanIn: number;
  torchFanOut: number;
  theoreticalStd: number;
  empiricalStd: number;
  empiricalStdPopulation: number;
  empiricalMean: number;
}

/** One line of fixtures/fidelity/<preset>-seed<k>.jsonl: one PyTorch run (reference/tms_torch.py). */
export interface TorchRun {
  preset: string;
  activation: string;
  steps: number;
  seed: number;
  seconds: number;
  feature_probability: number[];
  final_train_loss: number[];
  eval_loss: number[];
  norms: number[][];
  superposition: number[][];
  dims_per_feature: number[];
}

/** The finished fidelity fixtures of a preset (`<preset>-seed<k>.jsonl`; `.tmp` files still being written
 *  are ignored), as seed → runs. */
export function fidelityRuns(preset: string): Map<number, TorchRun[]> {
  const dir = `${FIXTURES_DIR}/fidelity`;
  const out = new Map<number, TorchRun[]>();
  if (!existsSync(dir)) return out;
  const pattern = new RegExp(`^${preset}-seed(\\d+)\\.jsonl$`);
  for (const file of readdirSync(dir).sort()) {
    const m = pattern.exec(file);
    if (!m) continue;
    const lines = readFileSync(`${dir}/${file}`, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "");
    out.set(
      Number(m[1]),
      lines.map((l) => parseNonStrict(l) as TorchRun),
    );
  }
  return out;
}

/** JSON.parse that also accepts Python's NaN / Infinity / -Infinity tokens (json.dumps writes them for a
 *  diverged run). Only whole tokens outside strings are replaced; the fixtures hold no strings that contain them. */
function parseNonStrict(line: string): unknown {
  const text = line
    .replace(/-Infinity\b/g, '"-inf"')
    .replace(/\bInfinity\b/g, '"inf"')
    .replace(/\bNaN\b/g, '"nan"');
  return JSON.parse(text, (_k, v) => (v === "inf" || v === "-inf" || v === "nan" ? num(v) : v));
}

/** The extra single-activation PyTorch runs of a preset (`<preset>-<activation>-seed<k>.jsonl`, written by
 *  scripts/fixtures/make_intro_extra_seeds.sh for activations that need more seeds), with their file names. */
export function extraFidelityRuns(preset: string): { file: string; runs: TorchRun[] }[] {
  const dir = `${FIXTURES_DIR}/fidelity`;
  if (!existsSync(dir)) return [];
  const pattern = new RegExp(`^${preset}-([a-z0-9_]+)-seed(\\d+)\\.jsonl$`);
  return readdirSync(dir)
    .sort()
    .filter((file) => pattern.test(file))
    .map((file) => ({
      file,
      runs: readFileSync(`${dir}/${file}`, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => parseNonStrict(l) as TorchRun),
    }));
}

/** Whether all the given fidelity fixture files exist (finished, not `.tmp`). */
export function hasFidelityFixtures(preset: string, seeds: readonly number[]): boolean {
  return seeds.every((s) => existsSync(`${FIXTURES_DIR}/fidelity/${preset}-seed${s}.jsonl`));
}
