// Runs the missing cells of a study on a pool of worker threads and writes each finished cell into the
// store as it arrives (only this thread writes, so there are no races). Stopping it (Ctrl-C, SIGTERM or
// SIGKILL) loses at most the cells in flight; running it again does just the missing ones.

import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { DEFAULT_LOCKSTEP } from "../core/lockstep.js";
import type { RunEnvironment } from "./cell.js";
import { isCellComplete, writeCell } from "./store.js";
import { type CellJob, groupForLockstep, specOf } from "./study.js";
import { stopUnusedSweepWorkers, takeSweepWorker } from "./sweep-pool.js";
import type { FromWorker, ToWorker } from "./sweep-worker.js";

/** What a progress display hears from a sweep. */
export interface SweepListener {
  start(total: number, alreadyDone: number, workers: number): void;
  /** A worker starts `job`, with `lockstep` − 1 more cells trained side by side with it. */
  cellStart(worker: number, job: CellJob, lockstep: number): void;
  cellProgress(worker: number, step: number): void;
  cellDone(worker: number, job: CellJob, seconds: number): void;
  cellFailed(worker: number, job: CellJob, message: string): void;
  finish(): void;
}

export interface SweepOutcome {
  completed: string[];
  skipped: string[];
  failed: { key: string; message: string }[];
  interrupted: boolean;
}

export const defaultWorkers = (): number => availableParallelism();

/**
 * Estimated work (estimatedWork's units) that pays for one more worker thread when the count is left to the
 * sweep: a worker's start-up (≈ 0.1–0.15 s of CPU on a 2-core machine, beside the main thread and the other
 * worker) costs more than it saves below it. Measured with the seed study on 2 cores: 20 steps (1.9·10⁹)
 * 0.69–0.70 s with one worker against 0.75–0.77 s with two; 100 steps (9.5·10⁹) 1.06 against 0.99 s.
 */
export const WORK_PER_WORKER = 4e9;

/**
 * How many workers a sweep of these groups starts: the number asked for, or with "auto" (no --workers) as
 * many as its estimated work pays for (WORK_PER_WORKER), at most the cores; never more than there are groups.
 */
export function workersFor(groups: readonly CellJob[][], requested: number | "auto"): number {
  const most = requested === "auto" ? defaultWorkers() : requested;
  const work = groups.reduce((sum, g) => sum + g.reduce((s, job) => s + estimatedWork(job), 0), 0);
  const paid = requested === "auto" ? Math.ceil(work / WORK_PER_WORKER) : most;
  return Math.max(1, Math.min(most, paid, groups.length));
}

export { DEFAULT_LOCKSTEP };

/**
 * The groups a sweep dispatches: lockstep groups of at most `maxSize` cells, smaller when there are few
 * cells per worker, so that every worker has about two groups to do and none waits on a long tail. Largest
 * estimated work first (longest-processing-time order), so the groups left for the end are the short
 * ones and no worker idles while another finishes a long group.
 */
export function planGroups(todo: readonly CellJob[], workers: number, maxSize: number): CellJob[][] {
  const size = Math.max(1, Math.min(maxSize, Math.ceil(todo.length / (2 * Math.max(1, workers)))));
  const groups = groupForLockstep(todo, size);
  const work = new Map(groups.map((g) => [g, g.reduce((sum, job) => sum + estimatedWork(job), 0)]));
  return groups.sort((a, b) => (work.get(b) ?? 0) - (work.get(a) ?? 0));
}

/**
 * A cell's training work, up to a constant: multiply-adds per step (a forward and backward pass through W,
 * about 4·F·H per sample and instance, and the activation's F) over all steps; float64 runs twice as long.
 */
export function estimatedWork(job: CellJob): number {
  const { nInstances: I, nFeatures: F, nHidden: H } = specOf(job);
  const o = job.options;
  return o.steps * o.batchSize * I * F * (4 * H + 1) * (o.dtype === "f64" ? 2 : 1);
}

/** The cells still to run: all of them with `force`, else those without a complete directory. */
export function pendingCells(root: string, jobs: readonly CellJob[], force: boolean): CellJob[] {
  return force ? [...jobs] : jobs.filter((j) => !isCellComplete(root, j.key));
}

export async function runSweep(
  root: string,
  jobs: readonly CellJob[],
  options: {
    /** Worker threads, or "auto": as many as the study's work pays for (workersFor). */
    workers: number | "auto";
    /** Largest lockstep group (default DEFAULT_LOCKSTEP; 1: each cell alone). */
    lockstep?: number;
    force: boolean;
    env: RunEnvironment;
    listener: SweepListener;
    signal?: AbortSignal;
  },
): Promise<SweepOutcome> {
  const todo = pendingCells(root, jobs, options.force);
  const skipped = jobs.filter((j) => !todo.includes(j)).map((j) => j.key);
  const outcome: SweepOutcome = { completed: [], skipped, failed: [], interrupted: false };
  const planned = options.workers === "auto" ? defaultWorkers() : options.workers;
  const queue = planGroups(todo, planned, options.lockstep ?? DEFAULT_LOCKSTEP);
  const nWorkers = workersFor(queue, options.workers);
  options.listener.start(jobs.length, skipped.length, todo.length ? nWorkers : 0);
  if (todo.length === 0) {
    stopUnusedSweepWorkers();
    options.listener.finish();
    return outcome;
  }
  const workers: Worker[] = [];
  await new Promise<void>((resolve) => {
    let active = 0;
    const stopAll = () => {
      outcome.interrupted = true;
      queue.length = 0;
      for (const w of workers) void w.terminate();
      resolve();
    };
    options.signal?.addEventListener("abort", stopAll, { once: true });
    const dispatch = (w: Worker, index: number) => {
      const group = queue.shift();
      if (!group) {
        void w.terminate();
        if (--active === 0) resolve();
        return;
      }
      const started = performance.now();
      options.listener.cellStart(index, group[0], group.length);
      const onMessage = (msg: FromWorker) => {
        if (msg.type === "progress") {
          options.listener.cellProgress(index, msg.step);
          return;
        }
        w.off("message", onMessage);
        if (msg.type === "error") {
          for (const job of group) {
            outcome.failed.push({ key: job.key, message: msg.message });
            options.listener.cellFailed(index, job, msg.message);
          }
        }
        const seconds = (performance.now() - started) / 1000;
        // the worker gets its next group before this thread writes the finished one: writing a group's
        // cells takes milliseconds a short study's worker would otherwise wait
        if (!outcome.interrupted) dispatch(w, index);
        if (msg.type === "done") {
          msg.files.forEach((files, k) => {
            writeCell(root, files);
            outcome.completed.push(group[k].key);
            options.listener.cellDone(index, group[k], seconds);
          });
        }
      };
      w.on("message", onMessage);
      w.postMessage({ type: "run", jobs: group, env: options.env } satisfies ToWorker);
    };
    for (let k = 0; k < nWorkers; k++) {
      const w = takeSweepWorker();
      w.on("error", (e) => {
        outcome.failed.push({ key: "(worker)", message: e.message });
        if (--active === 0) resolve();
      });
      workers.push(w);
      active++;
      dispatch(w, k);
    }
    stopUnusedSweepWorkers();
  });
  options.listener.finish();
  return outcome;
}
