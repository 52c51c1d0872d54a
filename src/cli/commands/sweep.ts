// `tms sweep` and `tms run`: plan a study from a config file and flags, run its missing cells, report.

import { readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { splitActivationList } from "../../core/formula/activation.js";
import {
  ConfigError,
  parseWith,
  type StudyConfig,
  type StudyConfigInput,
  studySchema,
} from "../../experiments/config.js";
import { openStore } from "../../experiments/store.js";
import { type CellJob, planStudy } from "../../experiments/study.js";
import { runSweep, type SweepOutcome } from "../../experiments/sweep.js";
import { runEnvironment, VERSION } from "../environment.js";
import { createProgress } from "../progress.js";
import { queueSweep } from "./queue.js";

export interface SweepFlags {
  config?: string;
  presets?: string;
  activations?: string;
  seeds?: string;
  steps?: number;
  dtype?: string;
  softmaxDim?: string;
  snapshots?: number;
  workers?: number;
  /** Largest lockstep group (1: off). */
  lockstep?: number;
  out: string;
  force?: boolean;
  /** Redis URL: run the cells on `tms worker`s through a BullMQ queue (commands/queue.ts). */
  queue?: string;
  /** With --queue: tries per cell before it is marked failed. */
  attempts?: number;
}

export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ConfigError(`cannot read config file ${path}`);
  }
  try {
    return extname(path) === ".toml" ? parseToml(text) : JSON.parse(text);
  } catch (e) {
    throw new ConfigError(
      `${path}: not valid ${extname(path) === ".toml" ? "TOML" : "JSON"}: ${(e as Error).message.split("\n")[0]}`,
    );
  }
}

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

/** Merges flags over the config file and validates the result with the one schema. */
export function studyFromFlags(flags: SweepFlags): StudyConfig {
  const fromFile = (flags.config ? readConfigFile(flags.config) : {}) as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...fromFile };
  if (flags.presets) merged.presets = list(flags.presets);
  if (flags.activations)
    merged.activations = flags.activations === "all" ? "all" : splitActivationList(flags.activations);
  if (flags.seeds) merged.seeds = flags.seeds;
  if (flags.snapshots !== undefined) merged.snapshots = flags.snapshots;
  if (flags.dtype) merged.dtypes = list(flags.dtype);
  if (flags.softmaxDim) merged.softmaxDims = list(flags.softmaxDim);
  if (flags.steps !== undefined) merged.train = { ...((fromFile.train as object) ?? {}), steps: flags.steps };
  return parseWith(studySchema, merged as StudyConfigInput, flags.config ?? "flags");
}

export async function sweepCommand(flags: SweepFlags): Promise<SweepOutcome> {
  const study = studyFromFlags(flags);
  const jobs: CellJob[] = planStudy(study);
  const root = resolve(flags.out);
  openStore(root, jobs, study, VERSION, Boolean(flags.force));
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping; finished cells are kept, run the same command to resume\n`);
    process.exitCode = signal === "SIGINT" ? 130 : 143;
    controller.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const outcome = flags.queue
    ? await queueSweep(flags.queue, root, jobs, {
        force: Boolean(flags.force),
        attempts: flags.attempts,
        listener: createProgress(),
        signal: controller.signal,
      })
    : await runSweep(root, jobs, {
        workers: flags.workers ?? "auto",
        lockstep: flags.lockstep,
        force: Boolean(flags.force),
        env: runEnvironment(),
        listener: createProgress(),
        signal: controller.signal,
      });
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  const summary = `${outcome.completed.length} cells trained, ${outcome.skipped.length} already present, ${outcome.failed.length} failed → ${root}`;
  process.stderr.write(`${summary}\n`);
  for (const f of outcome.failed) process.stderr.write(`  failed: ${f.key}: ${f.message}\n`);
  if (outcome.failed.length > 0 && !process.exitCode) process.exitCode = 1;
  return outcome;
}
