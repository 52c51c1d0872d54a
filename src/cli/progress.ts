// Progress of a sweep: on a terminal, one overall bar with ETA and a line per worker (cli-progress);
// otherwise plain log lines, one per finished cell.

import cliProgress from "cli-progress";
import type { CellJob } from "../experiments/study.js";
import type { SweepListener } from "../experiments/sweep.js";

export function createProgress(stream: NodeJS.WriteStream = process.stderr): SweepListener {
  return stream.isTTY ? new BarProgress(stream) : new LogProgress(stream);
}

class LogProgress implements SweepListener {
  private done = 0;
  private total = 0;
  constructor(private readonly out: NodeJS.WriteStream) {}
  start(total: number, alreadyDone: number, workers: number) {
    this.total = total;
    this.done = alreadyDone;
    this.out.write(
      `sweep: ${total} cells, ${alreadyDone} already in the store, ${total - alreadyDone} to run on ${workers} workers\n`,
    );
  }
  cellStart() {}
  cellProgress() {}
  cellDone(_w: number, job: CellJob, seconds: number) {
    this.done++;
    this.out.write(`[${this.done}/${this.total}] ${job.key} done in ${seconds.toFixed(1)} s\n`);
  }
  cellFailed(_w: number, job: CellJob, message: string) {
    this.done++;
    this.out.write(`[${this.done}/${this.total}] ${job.key} FAILED: ${message}\n`);
  }
  finish() {}
}

class BarProgress implements SweepListener {
  private readonly multi: cliProgress.MultiBar;
  private overall?: cliProgress.SingleBar;
  private readonly lines: cliProgress.SingleBar[] = [];
  constructor(out: NodeJS.WriteStream) {
    this.multi = new cliProgress.MultiBar(
      {
        stream: out,
        clearOnComplete: false,
        hideCursor: true,
        format: "{label} {bar} {value}/{total} steps  {detail}",
      },
      cliProgress.Presets.shades_classic,
    );
  }
  start(total: number, alreadyDone: number, workers: number) {
    this.overall = this.multi.create(
      total,
      alreadyDone,
      { detail: `${alreadyDone} already done` },
      { format: "cells    {bar} {value}/{total} cells  ETA {eta_formatted}  {detail}" },
    );
    for (let w = 0; w < workers; w++)
      this.lines.push(this.multi.create(1, 0, { label: `worker ${w + 1}`, detail: "idle" }));
  }
  cellStart(w: number, job: CellJob, lockstep: number) {
    this.lines[w]?.setTotal(job.options.steps);
    this.lines[w]?.update(0, { detail: lockstep > 1 ? `${job.key} +${lockstep - 1} in lockstep` : job.key });
  }
  cellProgress(w: number, step: number) {
    this.lines[w]?.update(step);
  }
  cellDone(_w: number, job: CellJob, seconds: number) {
    this.overall?.increment(1, { detail: `last: ${job.key} (${seconds.toFixed(1)} s)` });
  }
  cellFailed(w: number, job: CellJob, message: string) {
    this.overall?.increment(1, { detail: `FAILED ${job.key}: ${message}` });
    this.lines[w]?.update(0, { detail: "failed" });
  }
  finish() {
    this.multi.stop();
  }
}
