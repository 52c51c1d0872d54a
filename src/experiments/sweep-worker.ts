// A worker thread of a local sweep: trains the cells it is sent (a lockstep group, trained side by side) and
// posts back their files.

import { parentPort, threadId } from "node:worker_threads";
import { executeCells, type RunEnvironment } from "./cell.js";
import { installKernelCache } from "./kernel-cache.js";
import { installNativeKernel } from "./native-kernel.js";
import type { CellFiles } from "./store-format.js";
import type { CellJob } from "./study.js";

export type ToWorker = { type: "run"; jobs: CellJob[]; env: RunEnvironment };
export type FromWorker =
  | { type: "progress"; step: number }
  | { type: "done"; files: CellFiles[] }
  | { type: "error"; message: string };

/** Progress is for a display: at most one message per this many milliseconds (short runs would send one
 * per step, and each message costs more than a step of a small model). */
const PROGRESS_EVERY_MS = 100;

const port = parentPort;
if (port) {
  installKernelCache();
  installNativeKernel();
  port.on("message", (msg: ToWorker) => {
    const { jobs, env } = msg;
    try {
      let lastPost = performance.now();
      const files = executeCells(jobs, { ...env, worker: `thread-${threadId}` }, (step) => {
        const now = performance.now();
        if (now - lastPost < PROGRESS_EVERY_MS) return;
        lastPost = now;
        port.postMessage({ type: "progress", step } satisfies FromWorker);
      });
      const transfer = files.flatMap((f) => [f.weights.buffer, ...(f.snapshots ? [f.snapshots.buffer] : [])]);
      port.postMessage({ type: "done", files } satisfies FromWorker, transfer as ArrayBuffer[]);
    } catch (e) {
      port.postMessage({
        type: "error",
        message: e instanceof Error ? e.message : String(e),
      } satisfies FromWorker);
    }
  });
}
