// A worker thread of a local sweep: trains the cells it is sent and posts back their files.

import { parentPort, threadId } from "node:worker_threads";
import { executeCell, type RunEnvironment } from "./cell.js";
import type { CellJob } from "./study.js";

export type ToWorker = { type: "run"; job: CellJob; env: RunEnvironment };
export type FromWorker =
  | { type: "progress"; key: string; step: number }
  | { type: "done"; key: string; files: ReturnType<typeof executeCell> }
  | { type: "error"; key: string; message: string };

const port = parentPort;
if (port) {
  port.on("message", (msg: ToWorker) => {
    const { job, env } = msg;
    try {
      const files = executeCell(job, { ...env, worker: `thread-${threadId}` }, (step) =>
        port.postMessage({ type: "progress", key: job.key, step } satisfies FromWorker),
      );
      const transfer = [
        files.weights.buffer,
        ...(files.snapshots ? [files.snapshots.buffer] : []),
      ] as ArrayBuffer[];
      port.postMessage({ type: "done", key: job.key, files } satisfies FromWorker, transfer);
    } catch (e) {
      port.postMessage({
        type: "error",
        key: job.key,
        message: e instanceof Error ? e.message : String(e),
      } satisfies FromWorker);
    }
  });
}
