// The sandboxed BullMQ processor of `tms worker`: runs in a worker thread (one per --concurrency slot), so
// CPU-bound training never blocks the worker's main thread, which keeps renewing the job locks. Trains one
// cell and returns its files (base64) as the job's return value; the coordinator writes them.

import { threadId } from "node:worker_threads";
import type { SandboxedJob } from "bullmq";
import { executeCell } from "../cell.js";
import { installNativeKernel } from "../native-kernel.js";
import type { CellJob } from "../study.js";
import { encodeCellFiles, type WireCellFiles, workerEnvFromProcess } from "./wire.js";

/** At most one progress update (a Redis write and an event) per job this often. */
const PROGRESS_EVERY_MS = 1000;

const env = workerEnvFromProcess();
installNativeKernel();

export default async function processCell(job: SandboxedJob<CellJob, WireCellFiles>): Promise<WireCellFiles> {
  let last = Date.now();
  const files = executeCell(job.data, { ...env, worker: `${env.worker}/thread-${threadId}` }, (step) => {
    const now = Date.now();
    if (now - last < PROGRESS_EVERY_MS) return;
    last = now;
    job.updateProgress(step).catch(() => {});
  });
  return encodeCellFiles(files);
}
