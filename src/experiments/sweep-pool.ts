// Sweep worker threads, started early. A worker's start-up (a Node environment, then its imports) takes
// about as long as the main thread's own before it can dispatch (loading the CLI and the study machinery,
// reading the config, planning), so `tms sweep` starts its workers first and runSweep takes them once it
// has planned. Until taken, a started worker keeps no process alive (a bad config still exits at once).

import { Worker } from "node:worker_threads";

const started: Worker[] = [];

const newWorker = () => new Worker(new URL("./sweep-worker.js", import.meta.url));

/** Starts workers until `n` wait to be taken. */
export function prestartSweepWorkers(n: number): void {
  while (started.length < n) {
    const w = newWorker();
    w.unref();
    started.push(w);
  }
}

/** A started worker if one waits, else a new one. */
export function takeSweepWorker(): Worker {
  const w = started.shift();
  if (!w) return newWorker();
  w.ref();
  return w;
}

/** Stops the started workers nobody took. */
export function stopUnusedSweepWorkers(): void {
  for (const w of started.splice(0)) void w.terminate();
}
