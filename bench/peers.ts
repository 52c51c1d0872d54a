// The bench's runners, each a separate process as a user would start it: PyTorch (bench/torch_presets.py →
// reference/tms_torch.py), JAX (reference/tms_jax.py, bench/jax_shapes.py) and tms-lab's own `tms train` and
// `tms sweep`. Every runner returns undefined (after a note on stderr) when its process fails.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist/bench/). */
export const ROOT = join(here, "..", "..");
const TORCH_PYTHON = "/usr/bin/python3";

export interface PeerRun {
  /** The training loop's own time as the program reports it (JAX: excluding compilation). */
  seconds: number;
  /** The whole command, start to exit. */
  wallSeconds: number;
  /** JAX only: `seconds` plus its trace and compile time. */
  secondsInclCompile?: number;
  cpuSeconds?: number;
}

function run(cmd: string, args: string[], what: string): { stdout: string; wall: number } | undefined {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, cwd: ROOT });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    process.stderr.write(`${what} failed (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n").pop()}\n`);
    return undefined;
  }
  return { stdout: r.stdout, wall };
}

/** The last line of a process's output that is a JSON object. */
function lastJson<T>(stdout: string): T {
  const lines = stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"));
  return JSON.parse(lines[lines.length - 1] ?? "{}") as T;
}

export function torchAvailable(): boolean {
  if (!existsSync(TORCH_PYTHON)) return false;
  return spawnSync(TORCH_PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
}

export function runTorch(preset: string, act: string, steps: number): PeerRun | undefined {
  const script = join(ROOT, "bench", "torch_presets.py");
  const args = [script, "--preset", preset, "--act", act, "--steps", String(steps), "--threads", "1"];
  const r = run(TORCH_PYTHON, args, `PyTorch ${preset}/${act}`);
  if (!r) return undefined;
  const j = lastJson<{ seconds: number; cpu_seconds: number }>(r.stdout);
  return { seconds: j.seconds, cpuSeconds: j.cpu_seconds, wallSeconds: r.wall };
}

/**
 * The Python with jax: $TMS_JAX_PYTHON, else the repository's .venv-jax (made by `python3 -m venv .venv-jax
 * && .venv-jax/bin/pip install jax`); undefined (with the reason) when neither imports jax.
 */
export function findJax(): { python?: string; note: string } {
  const candidates = [process.env.TMS_JAX_PYTHON, join(ROOT, ".venv-jax", "bin", "python")].filter(
    (p): p is string => Boolean(p),
  );
  for (const python of candidates) {
    if (!existsSync(python)) continue;
    const r = spawnSync(python, ["-c", "import jax; print(jax.__version__)"], { encoding: "utf8" });
    if (r.status === 0) return { python, note: `JAX ${r.stdout.trim()} (${python})` };
  }
  return {
    note:
      "JAX: not found (set TMS_JAX_PYTHON, or `python3 -m venv .venv-jax && .venv-jax/bin/pip install jax`); " +
      "its columns are skipped",
  };
}

interface JaxLine {
  seconds: number;
  seconds_incl_compile: number;
}

export function runJax(
  python: string,
  preset: string,
  act: string,
  steps: number,
  batch = 1024,
): PeerRun | undefined {
  const script = join(ROOT, "reference", "tms_jax.py");
  const args = [script, "--preset", preset, "--act", act, "--steps", String(steps), "--batch", String(batch)];
  const r = run(python, [...args, "--threads", "1", "--quiet"], `JAX ${preset}/${act}`);
  if (!r) return undefined;
  const j = lastJson<JaxLine>(r.stdout);
  return { seconds: j.seconds, secondsInclCompile: j.seconds_incl_compile, wallSeconds: r.wall };
}

/** JAX on a scaling shape (bench/jax_shapes.py): F features, H hidden, one instance per probability. */
export function runJaxShape(
  python: string,
  F: number,
  H: number,
  probs: readonly number[],
  steps: number,
): PeerRun | undefined {
  const args = [join(ROOT, "bench", "jax_shapes.py"), "--features", String(F), "--hidden", String(H)];
  args.push("--probs", probs.join(","), "--steps", String(steps), "--threads", "1");
  const r = run(python, args, `JAX ${F}→${H}`);
  if (!r) return undefined;
  const j = lastJson<JaxLine>(r.stdout);
  return { seconds: j.seconds, secondsInclCompile: j.seconds_incl_compile, wallSeconds: r.wall };
}

const TMS = join(ROOT, "bin", "tms.js");

/** One cold `tms train … --json` in a fresh process: its reported `seconds` and the command's wall time. */
export function runTmsTrain(preset: string, act: string, steps: number, batch = 1024): PeerRun | undefined {
  const args = [TMS, "train", "--preset", preset, "--activation", act, "--steps", String(steps)];
  const r = run(
    process.execPath,
    [...args, "--batch-size", String(batch), "--json"],
    `tms train ${preset}/${act}`,
  );
  if (!r) return undefined;
  return { seconds: lastJson<{ seconds: number }>(r.stdout).seconds, wallSeconds: r.wall };
}

/**
 * The seed study's whole command (intro + demo, 27 activations, 1 seed, 2 workers): wall seconds, and the
 * process's peak resident memory where /usr/bin/time exists.
 */
export function seedStudyTms(steps: number): { wall: number; maxRssMB?: number } | undefined {
  const out = mkdtempSync(join(tmpdir(), "tms-bench-"));
  try {
    const args = [TMS, "sweep", "--presets", "seed-study", "--activations", "all", "--seeds", "0"];
    args.push("--steps", String(steps), "--workers", "2", "--out", out);
    const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
    const t0 = performance.now();
    const r = timeBin
      ? spawnSync(timeBin, ["-f", "RSS %M", process.execPath, ...args], {
          encoding: "utf8",
          maxBuffer: 1 << 26,
        })
      : spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 26 });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) {
      process.stderr.write(
        `tms sweep failed (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n").pop()}\n`,
      );
      return undefined;
    }
    const rss = /RSS (\d+)/.exec(r.stderr ?? "");
    return { wall, ...(rss ? { maxRssMB: Number(rss[1]) / 1024 } : {}) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function seedStudyJax(python: string, steps: number): number | undefined {
  const args = [join(ROOT, "reference", "tms_jax.py"), "--preset", "intro,demo", "--act", "all"];
  const r = run(python, [...args, "--steps", String(steps), "--workers", "2", "--quiet"], "JAX seed study");
  return r?.wall;
}
