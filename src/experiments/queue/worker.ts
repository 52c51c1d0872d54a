// The worker side of a distributed sweep (`tms worker --queue URL`): a BullMQ Worker whose processor runs in
// worker threads (processor.ts), `concurrency` cells in parallel. The main thread only talks to Redis:
// it takes jobs, renews their locks every lockDuration/2 and returns results, so a long CPU-bound cell never
// looks stalled. A worker that dies (SIGKILL, power loss) stops renewing; after at most lockDuration +
// stalledInterval another worker's stalled check puts the job back in the queue (at most maxStalledCount
// times, then it fails: a cell that kills every worker is not retried forever).

import { hostname } from "node:os";
import { type Job, Worker } from "bullmq";
import type { RunEnvironment } from "../cell.js";
import type { CellJob } from "../study.js";
import { connectionOptions, type QueueTarget } from "./connection.js";
import { keyOfJobId, QUEUE_NAME, type WireCellFiles, WORKER_ENV_VAR } from "./wire.js";

export interface QueueWorkerOptions {
  /** Cells trained in parallel (worker threads). */
  concurrency: number;
  /** How long a job's lock lives without renewal (ms); renewed every half of it. */
  lockDurationMs: number;
  /** How often this worker looks for jobs whose worker died (ms). */
  stalledIntervalMs: number;
  /** Times a job may be put back after its worker died before it fails. */
  maxStalledCount: number;
  env: RunEnvironment;
  log: (line: string) => void;
  /** Aborting closes the worker: no new jobs, running ones finish first (unless `force`). */
  signal: AbortSignal;
}

export { WORKER_DEFAULTS } from "./wire.js";

export interface WorkerSummary {
  completed: number;
  failed: number;
  /** Whether BullMQ's close() finished (else the worker stopped waiting for it once no cell ran). */
  closed: boolean;
}

/** How long, once no cell runs, the worker waits for BullMQ's close() before it stops waiting. */
const CLOSE_GRACE_MS = 5_000;

/** Runs until the signal aborts; returns how many cells it trained and how many attempts failed. */
export async function runQueueWorker(
  target: QueueTarget,
  options: QueueWorkerOptions,
): Promise<WorkerSummary> {
  const name = `${hostname()}/pid-${process.pid}`;
  // The processor threads inherit process.env: the facts they record in each result.
  process.env[WORKER_ENV_VAR] = JSON.stringify({ ...options.env, worker: name });
  const worker = new Worker<CellJob, WireCellFiles>(QUEUE_NAME, new URL("./processor.js", import.meta.url), {
    connection: connectionOptions(target),
    concurrency: options.concurrency,
    useWorkerThreads: true,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount,
    // Shown by `tms queue status` (CLIENT LIST): host, pid and concurrency.
    name: `${name}/c${options.concurrency}`,
    autorun: false,
  });
  const summary: WorkerSummary = { completed: 0, failed: 0, closed: true };
  const key = (job: Job<CellJob> | undefined) => job?.data?.key ?? keyOfJobId(job?.id ?? "?");
  worker.on("active", (job) => options.log(`start ${key(job)} (attempt ${job.attemptsMade + 1})`));
  worker.on("completed", (job) => {
    summary.completed++;
    const seconds = job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0;
    options.log(`done  ${key(job)} in ${seconds.toFixed(1)} s`);
  });
  worker.on("failed", (job, err) => {
    summary.failed++;
    const left = job ? (job.opts.attempts ?? 1) - job.attemptsMade : 0;
    options.log(
      `FAILED ${key(job)}: ${err.message}${left > 0 ? ` (${left} more attempt${left === 1 ? "" : "s"})` : ""}`,
    );
  });
  worker.on("stalled", (jobId) =>
    options.log(`stalled ${keyOfJobId(jobId)}: its worker stopped renewing the lock; back in the queue`),
  );
  let lastError = 0;
  worker.on("error", (e) => {
    if (Date.now() - lastError < 10_000) return;
    lastError = Date.now();
    options.log(`Redis at ${target.display}: ${e.message}; retrying`);
  });
  const loop = worker.run();
  await worker.waitUntilReady();
  options.log(
    `worker ${name} on ${target.display}: ${options.concurrency} cell${options.concurrency === 1 ? "" : "s"} at a time`,
  );
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  // close() lets the running cells finish, then disconnects. After a Redis restart BullMQ's blocking
  // connection can stay in ioredis's "reconnecting" state, and close() then waits for its end forever
  // (taskforcesh/bullmq#4585, #4656; seen in the Redis-restart test, with no cell running). Once BullMQ
  // holds no job's lock (no cell runs; its LockManager's count, not public API, hence the guard), a grace
  // period, then the worker stops waiting: a result not yet stored goes back to the queue with its lock.
  const locks = (worker as unknown as { lockManager?: { getActiveJobCount?: () => number } }).lockManager;
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<false>((resolve) => {
    if (!locks?.getActiveJobCount) return;
    const check = () => {
      timer =
        locks.getActiveJobCount?.() === 0
          ? setTimeout(() => resolve(false), CLOSE_GRACE_MS)
          : setTimeout(check, 100);
    };
    check();
  });
  const closed = worker.close().then(() => true);
  summary.closed = await Promise.race([closed, stuck]);
  clearTimeout(timer);
  if (summary.closed) await loop.catch(() => {});
  else
    options.log(
      `Redis at ${target.display}: the connection did not close ${CLOSE_GRACE_MS / 1000} s after the last cell; leaving it`,
    );
  return summary;
}
