// A worker thread of a local sweep: trains the cells it is sent (a lockstep group, trained side by side) and
// posts back their files.

import { parentPort, threadId } from "node:worker_threads";
import { executeCells, type RunEnvironment } from "./cell.js";
import type { CellFiles } from "./store-format.js";
import type { CellJob } from "./study.js";

export type ToWorker = { type: "run"; jobs: CellJob[]; env: RunEnvironment };
export type FromWorker =
  | { type: "progress"; step: number }
  | { type: "done"; files: CellFiles[] }
  | { type: "error"; message: string };

const port = parentPort;
if (port) {
  port.on("message", (msg: ToWorker) => {
    const { jobs, env } = msg;
    try {
      const files = executeCells(jobs, { ...env, worker: `thread-${threadId}` }, (step) =>
        port.postMessage({ type: "progress", step } satisfies FromWorker),
      );
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
