// The coordinator of a distributed sweep (`tms sweep --queue URL`) over BullMQ on Redis. The worker side is
// worker.ts; what travels is wire.ts; the operator's view (`tms queue status|clean`) is status.ts.
//
// The coordinator enqueues every missing cell of a study as a job (deterministic id, so enqueuing twice never
// duplicates work), follows the queue's events, and for each completed job writes the returned files into the
// results store (atomically, store.ts) and only then removes the job, so a result finished while no
// coordinator was running waits in Redis until one collects it. A job that fails `attempts` times stays in
// the failed set with its error; the coordinator reports it, and running the sweep again retries it.

import { hostname } from "node:os";
import { Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { isCellComplete, writeCell } from "../store.js";
import type { CellJob } from "../study.js";
import { pendingCells, type SweepListener, type SweepOutcome } from "../sweep.js";
import { checkRedis, connectionOptions, connectionReporter, type QueueTarget } from "./connection.js";
import { listWorkers } from "./status.js";
import { decodeCellFiles, jobIdOf, keyOfJobId, QUEUE_NAME } from "./wire.js";

/** Redis keeps about this many queue events (each completed event repeats the result, so keep it modest). */
const EVENTS_MAX_LEN = 1000;

/** How long a coordinator's claim on collecting one job lives (it is deleted when the collect ends). */
const CLAIM_MS = 120_000;

export interface QueueSweepOptions {
  force: boolean;
  /** Tries per cell before it is marked failed. */
  attempts: number;
  listener: SweepListener;
  /** Notes for the user (stderr), one line each. */
  log: (line: string) => void;
  signal?: AbortSignal;
  /** The coordinator's tms-lab version: results from workers of another version are pointed out. */
  version?: string;
  /** How often the coordinator reconciles with Redis, besides following events (ms). */
  reconcileMs?: number;
}

/** Runs the missing cells of a study on the workers of a queue; writes each result as it arrives. */
export async function runQueueSweep(
  target: QueueTarget,
  root: string,
  jobs: readonly CellJob[],
  options: QueueSweepOptions,
): Promise<SweepOutcome> {
  await checkRedis(target);
  const todo = pendingCells(root, jobs, options.force);
  const todoKeys = new Set(todo.map((j) => j.key));
  const skippedJobs = jobs.filter((j) => !todoKeys.has(j.key));
  const outcome: SweepOutcome = {
    completed: [],
    skipped: skippedJobs.map((j) => j.key),
    failed: [],
    interrupted: false,
  };
  const connection = connectionOptions(target);
  const report = connectionReporter(target, options.log);
  const queue = new Queue(QUEUE_NAME, { connection, streams: { events: { maxLen: EVENTS_MAX_LEN } } });
  queue.on("error", report);
  // Our own connection for what BullMQ's client abstraction lacks: pipelined EXISTS, SET NX claims.
  const redis = new Redis(connection);
  redis.on("error", report);
  let events: QueueEvents | undefined;
  try {
    await queue.waitUntilReady();
    await tidyCollected(queue, redis, root, skippedJobs);
    if (todo.length === 0) {
      options.listener.start(jobs.length, skippedJobs.length, 0);
      options.listener.finish();
      return outcome;
    }
    events = new QueueEvents(QUEUE_NAME, { connection, autorun: false });
    events.on("error", report);
    const follower = new Follower(queue, redis, root, todo, options, outcome);
    follower.listen(events);
    void events.run().catch(report);
    await events.waitUntilReady();
    await follower.enqueue();
    await follower.follow();
    return outcome;
  } finally {
    // Closing waits for pending commands; during a Redis outage they never finish, so cut it short.
    const closing = Promise.allSettled([events?.close(), queue.close()]);
    if ((await Promise.race([closing.then(() => true), sleep(3000).then(() => false)])) === false) {
      await Promise.allSettled([events?.disconnect(), queue.disconnect()]);
    }
    redis.disconnect();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Removes completed jobs whose cell is already in the store (a coordinator stopped between write and remove). */
async function tidyCollected(
  queue: Queue,
  redis: Redis,
  root: string,
  done: readonly CellJob[],
): Promise<void> {
  if (done.length === 0) return;
  const ids = done.map(jobIdOf);
  const exists = await existing(queue, redis, ids);
  for (const id of ids.filter((_, k) => exists[k])) {
    if ((await queue.getJobState(id)) === "completed" && isCellComplete(root, keyOfJobId(id))) {
      await queue.remove(id).catch(() => 0);
    }
  }
}

/** For each job id, whether Redis still holds the job (one pipelined round trip per 1 000). */
async function existing(queue: Queue, redis: Redis, ids: readonly string[]): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let k = 0; k < ids.length; k += 1000) {
    const pipe = redis.pipeline();
    for (const id of ids.slice(k, k + 1000)) pipe.exists(queue.toKey(id));
    const res = (await pipe.exec()) ?? [];
    for (const [err, n] of res) {
      if (err) throw err;
      out.push(n === 1);
    }
  }
  return out;
}

/** Follows one study's jobs until each is collected or has failed for good. */
class Follower {
  private readonly outstanding = new Map<string, CellJob>();
  private readonly slots = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  private readonly busy = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private nSlots = 0;
  private wake: () => void = () => {};
  private reconciling = false;
  private ticks = 0;
  /** Set when another coordinator is collecting one of our jobs: look for vanished jobs soon. */
  private recheck = false;
  private warnedVersion = false;
  private readonly owner = `${hostname()}/pid-${process.pid}`;

  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly root: string,
    todo: readonly CellJob[],
    private readonly options: QueueSweepOptions,
    private readonly outcome: SweepOutcome,
  ) {
    for (const j of todo) this.outstanding.set(jobIdOf(j), j);
  }

  listen(events: QueueEvents): void {
    events.on("active", ({ jobId }) => {
      const job = this.outstanding.get(jobId);
      if (job) this.options.listener.cellStart(this.slotOf(jobId), job, 1);
    });
    events.on("progress", ({ jobId, data }) => {
      const job = this.outstanding.get(jobId);
      if (!job || typeof data !== "number") return;
      // Started before this coordinator was following: introduce it to the display first.
      if (!this.slots.has(jobId)) this.options.listener.cellStart(this.slotOf(jobId), job, 1);
      this.options.listener.cellProgress(this.slotOf(jobId), data);
    });
    events.on("completed", ({ jobId }) => this.track(this.collect(jobId)));
    events.on("failed", ({ jobId }) => this.track(this.settleFailed(jobId)));
  }

  private jobOptions(id: string) {
    return {
      jobId: id,
      attempts: this.options.attempts,
      backoff: { type: "fixed", delay: 1000 },
      removeOnComplete: false,
      removeOnFail: false,
    };
  }

  async enqueue(): Promise<void> {
    const ids = [...this.outstanding.keys()];
    const before = await existing(this.queue, this.redis, ids);
    // Only jobs missing from Redis are added: one that exists now and vanishes later was collected (or
    // cleaned), which findVanished sorts out; adding it again could train it twice. A job missing now whose
    // cell is in the store was collected since planning by another coordinator of this store (they write,
    // then remove).
    const collected = new Set(
      this.options.force
        ? []
        : ids.filter((id, k) => !before[k] && isCellComplete(this.root, this.outstanding.get(id)!.key)),
    );
    const fresh = ids.filter((id, k) => !before[k] && !collected.has(id));
    for (let k = 0; k < fresh.length; k += 500) {
      await this.queue.addBulk(
        fresh
          .slice(k, k + 500)
          .map((id) => ({ name: "cell", data: this.outstanding.get(id)!, opts: this.jobOptions(id) })),
      );
    }
    // Failed in an earlier run: like a local sweep, running the study again tries them again.
    let retried = 0;
    for (const id of await this.idsIn("failed")) {
      if (!this.outstanding.has(id)) continue;
      const job = await Job.fromId(this.queue, id);
      await job?.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true }).then(
        () => retried++,
        () => {},
      );
    }
    // One progress line per cell slot of the workers connected now (those joining later count overall).
    const workers = await listWorkers(this.queue);
    const slots = workers?.reduce((a, w) => a + (w.concurrency ?? 1), 0);
    this.nSlots = Math.max(1, Math.min(ids.length, slots || 4, 16));
    for (let s = 0; s < this.nSlots; s++) this.freeSlots.push(s);
    if (workers?.length === 0) {
      this.options.log(
        "no workers connected yet: start `tms worker --queue URL` on the machines that should train",
      );
    }
    const already = ids.length - fresh.length - collected.size;
    this.options.log(
      `queue ${QUEUE_NAME}: ${fresh.length} cells enqueued` +
        (already
          ? `, ${already} already queued by an earlier run${retried ? ` (${retried} failed ones retried)` : ""}`
          : "") +
        (collected.size ? `, ${collected.size} just collected by another coordinator` : ""),
    );
    this.options.listener.start(
      this.outcome.skipped.length + ids.length,
      this.outcome.skipped.length,
      this.nSlots,
    );
    for (const id of collected) this.doneElsewhere(id);
  }

  /** A cell another coordinator collected into this same store. */
  private doneElsewhere(id: string): void {
    const cell = this.outstanding.get(id);
    if (!cell) return;
    const slot = this.settle(id);
    this.outcome.completed.push(cell.key);
    this.options.listener.cellDone(slot, cell, 0);
    this.wake();
  }

  /** The ids of every job in a state (completed and failed hold few: collected jobs are removed). */
  private async idsIn(state: "completed" | "failed"): Promise<string[]> {
    const out: string[] = [];
    for (let start = 0; ; start += 1000) {
      const ids = await this.queue.getRanges([state], start, start + 999, true);
      out.push(...ids);
      if (ids.length < 1000) return out;
    }
  }

  async follow(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.wake = () => {
        if (this.outstanding.size === 0 || this.outcome.interrupted) resolve();
      };
      this.options.signal?.addEventListener(
        "abort",
        () => {
          this.outcome.interrupted = true;
          resolve();
        },
        { once: true },
      );
      if (this.options.signal?.aborted) {
        this.outcome.interrupted = true;
        resolve();
      }
    });
    const timer = setInterval(() => this.track(this.reconcile()), this.options.reconcileMs ?? 3000);
    this.track(this.reconcile());
    this.wake();
    await stopped;
    clearInterval(timer);
    const drained = (async () => {
      while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    })();
    // Stopped by the user: do not hang on commands waiting for an unreachable Redis.
    await (this.outcome.interrupted ? Promise.race([drained, sleep(3000)]) : drained);
    if (this.outcome.interrupted && this.outstanding.size) {
      this.options.log(
        `${this.outstanding.size} cell${this.outstanding.size === 1 ? "" : "s"} stay queued; workers keep training them and Redis keeps their results ` +
          "until the same command, run again, collects them",
      );
    }
    this.options.listener.finish();
  }

  private track(p: Promise<void>): void {
    const q = p
      .catch((e) => this.options.log(`queue: ${(e as Error).message}`))
      .finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  private slotOf(id: string): number {
    let s = this.slots.get(id);
    if (s === undefined) {
      s = this.freeSlots.shift() ?? -1;
      if (s >= 0) this.slots.set(id, s);
    }
    return s;
  }

  private settle(id: string): number {
    const s = this.slots.get(id) ?? -1;
    if (s >= 0) {
      this.slots.delete(id);
      this.freeSlots.push(s);
      this.freeSlots.sort((a, b) => a - b);
    }
    this.outstanding.delete(id);
    return s;
  }

  /** Writes a completed job's files into the store, then removes the job from Redis. */
  private async collect(id: string): Promise<void> {
    const cell = this.outstanding.get(id);
    if (!cell || this.busy.has(id) || this.outcome.interrupted) return;
    this.busy.add(id);
    try {
      // Two coordinators following the same study: one writes, the other waits for the job to disappear.
      const client = this.redis;
      const claim = this.queue.toKey(`tms-collect:${id}`);
      // A claim this coordinator already holds is its own SET NX, sent again by ioredis after a reconnect
      // cut off the first reply (a Redis restart between executing a command and answering it).
      const claimed =
        (await client.set(claim, this.owner, "PX", CLAIM_MS, "NX")) === "OK" ||
        (await client.get(claim)) === this.owner;
      if (!claimed) {
        this.recheck = true;
        return;
      }
      try {
        const job = await Job.fromId(this.queue, id);
        if (!job || (await job.getState()) !== "completed") {
          this.recheck = true; // collected (and removed) by another coordinator, or retried
          return;
        }
        let files: ReturnType<typeof decodeCellFiles>;
        try {
          files = decodeCellFiles(job.returnvalue, cell.key);
        } catch (e) {
          // Dropped, so that running the study again trains the cell afresh.
          await job.remove().catch(() => {});
          this.fail(id, cell, (e as Error).message);
          return;
        }
        writeCell(this.root, files);
        this.checkVersion(cell, files.result.versions.tmsLab);
        // Likewise a remove sent again after a lost reply finds the job gone, which is what was asked.
        await job.remove().catch(async (e) => {
          if (await Job.fromId(this.queue, id)) throw e;
        });
        const seconds = job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0;
        const slot = this.settle(id);
        this.outcome.completed.push(cell.key);
        this.options.listener.cellDone(slot, cell, seconds);
        this.wake();
      } finally {
        await client.del(claim);
      }
    } finally {
      this.busy.delete(id);
    }
  }

  private async settleFailed(id: string): Promise<void> {
    const cell = this.outstanding.get(id);
    if (!cell || this.busy.has(id)) return;
    const job = await Job.fromId(this.queue, id);
    if (!job || (await job.getState()) !== "failed" || !this.outstanding.has(id)) return;
    const tries = job.attemptsMade;
    this.fail(id, cell, `${job.failedReason || "failed"} (${tries} attempt${tries === 1 ? "" : "s"})`);
  }

  private fail(id: string, cell: CellJob, message: string): void {
    const slot = this.settle(id);
    this.outcome.failed.push({ key: cell.key, message });
    this.options.listener.cellFailed(slot, cell, message);
    this.wake();
  }

  private checkVersion(cell: CellJob, version: string): void {
    if (this.warnedVersion || !this.options.version || version === this.options.version) return;
    this.warnedVersion = true;
    this.options.log(`note: ${cell.key} was trained by tms-lab ${version}, this is ${this.options.version}`);
  }

  /**
   * Catches what events cannot tell: jobs that finished while no coordinator was following, events lost to
   * a reconnect, jobs removed by an operator (enqueued again) or collected by another coordinator.
   */
  private async reconcile(): Promise<void> {
    if (this.reconciling || this.outstanding.size === 0 || this.outcome.interrupted) return;
    this.reconciling = true;
    try {
      for (const id of await this.idsIn("completed")) {
        if (this.outstanding.has(id)) await this.collect(id);
      }
      for (const id of await this.idsIn("failed")) {
        if (this.outstanding.has(id)) await this.settleFailed(id);
      }
      if (this.ticks++ % 10 === 0 || this.recheck) {
        this.recheck = false;
        await this.findVanished();
      }
    } finally {
      this.reconciling = false;
    }
  }

  private async findVanished(): Promise<void> {
    const ids = [...this.outstanding.keys()].filter((id) => !this.busy.has(id));
    const exists = await existing(this.queue, this.redis, ids);
    for (const [k, id] of ids.entries()) {
      const cell = this.outstanding.get(id);
      if (exists[k] || !cell || this.busy.has(id)) continue;
      if (isCellComplete(this.root, cell.key) && !this.options.force) {
        this.doneElsewhere(id);
      } else {
        this.options.log(`queue: the job of ${cell.key} disappeared from Redis (cleaned?); enqueued again`);
        await this.queue.add("cell", cell, this.jobOptions(id));
      }
    }
  }
}
