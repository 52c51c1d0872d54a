// Distributed sweeps from the command line: `tms sweep --queue URL` (the coordinator, called from sweep.ts),
// `tms worker --queue URL` and `tms queue status|clean --queue URL`. See docs/distributed.md.

import type { Command } from "commander";
import type { CleanWhat, QueueTarget } from "../../experiments/queue/index.js";
import { DEFAULT_ATTEMPTS, QUEUE_NAME, WORKER_DEFAULTS } from "../../experiments/queue/wire.js";
import type { CellJob } from "../../experiments/study.js";
import type { SweepListener, SweepOutcome } from "../../experiments/sweep.js";
import { runEnvironment, VERSION } from "../environment.js";
import { guard, UsageError } from "../errors.js";
import { intFlag } from "../parse.js";

/** BullMQ and ioredis load only when a queue command runs (they cost every other command ~0.5 s). */
const queueModule = () => import("../../experiments/queue/index.js");

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Queue problems are the user's to fix (start Redis, fix the URL): one line, exit 2, no stack trace. */
async function userErrors<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof Error && e.name === "QueueError") throw new UsageError(e.message);
    throw e;
  }
}

const target = (url: string): Promise<QueueTarget> =>
  userErrors(async () => (await queueModule()).parseQueueUrl(url));

/** The `--queue` path of `tms sweep`: same plan, store and progress display as a local sweep. */
export async function queueSweep(
  url: string,
  root: string,
  jobs: readonly CellJob[],
  options: { force: boolean; attempts?: number; listener: SweepListener; signal?: AbortSignal },
): Promise<SweepOutcome> {
  const t = await target(url);
  const { runQueueSweep } = await queueModule();
  return userErrors(() =>
    runQueueSweep(t, root, jobs, {
      force: options.force,
      attempts: options.attempts ?? DEFAULT_ATTEMPTS,
      listener: options.listener,
      signal: options.signal,
      log: say,
      version: VERSION,
    }),
  );
}

interface WorkerFlags {
  queue: string;
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  maxStalled: number;
}

async function workerCommand(flags: WorkerFlags): Promise<void> {
  const t = await target(flags.queue);
  const { checkRedis } = await queueModule();
  const { runQueueWorker } = await import("../../experiments/queue/worker.js");
  const controller = new AbortController();
  let stops = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stops++ > 0) {
      say(`${signal}: stopping now; the running cells go back to the queue when their locks expire`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    say(`${signal}: finishing the running cells, taking no new ones (${signal} again to stop now)`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const summary = await userErrors(async () => {
      await checkRedis(t);
      return runQueueWorker(t, {
        concurrency: flags.concurrency,
        lockDurationMs: flags.lockDuration,
        stalledIntervalMs: flags.stalledInterval,
        maxStalledCount: flags.maxStalled,
        env: runEnvironment(),
        log: (line) => say(`${new Date().toISOString().slice(11, 19)} ${line}`),
        signal: controller.signal,
      });
    });
    say(`worker stopped: ${summary.completed} cells trained, ${summary.failed} failed attempts`);
    // a Redis connection BullMQ could not close (worker.ts) would keep the process alive retrying it; every
    // cell has finished and its result is in Redis, so there is nothing left to wait for
    if (!summary.closed) process.exit(process.exitCode ?? 0);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function statusCommand(flags: { queue: string; json?: boolean }): Promise<void> {
  const t = await target(flags.queue);
  const { queueStatus } = await queueModule();
  const s = await userErrors(() => queueStatus(t));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(s, null, 1)}\n`);
    return;
  }
  const c = s.counts;
  const out: string[] = [];
  out.push(
    `queue ${QUEUE_NAME} on ${s.url}: Redis ${s.redis.version}, appendonly ${s.redis.appendonly ? "yes" : "no"}` +
      (s.redis.maxmemoryPolicy ? `, maxmemory-policy ${s.redis.maxmemoryPolicy}` : ""),
  );
  out.push(
    `  waiting ${(c.waiting ?? 0) + (c.prioritized ?? 0)}, retrying later ${c.delayed ?? 0}, active ${c.active ?? 0}, ` +
      `finished but not yet collected ${c.completed ?? 0}, failed ${c.failed ?? 0}`,
  );
  if (s.workers) {
    const slots = s.workers.reduce((a, w) => a + (w.concurrency ?? 1), 0);
    out.push(
      `  workers: ${s.workers.length} (${slots} cell slots)` +
        (s.workers.length ? `: ${s.workers.map((w) => `${w.name} ×${w.concurrency ?? 1}`).join(", ")}` : ""),
    );
  }
  for (const a of s.active)
    out.push(`  running ${a.key}: step ${JSON.stringify(a.progress)}, attempt ${a.attempt}`);
  for (const f of s.failed) out.push(`  failed  ${f.key}: ${f.reason} (${f.attempts} attempts)`);
  if (!s.redis.appendonly)
    out.push("  note: appendonly is off; a Redis restart loses the queue (redis.conf: appendonly yes)");
  if (s.redis.maxmemoryPolicy && s.redis.maxmemoryPolicy !== "noeviction")
    out.push(
      `  warning: maxmemory-policy ${s.redis.maxmemoryPolicy} may evict jobs; BullMQ needs noeviction`,
    );
  process.stdout.write(`${out.join("\n")}\n`);
}

async function cleanCommand(flags: {
  queue: string;
  failed?: boolean;
  completed?: boolean;
  waiting?: boolean;
  all?: boolean;
}): Promise<void> {
  const what: CleanWhat[] = [];
  if (flags.all) what.push("all");
  if (flags.failed) what.push("failed");
  if (flags.completed) what.push("completed");
  if (flags.waiting) what.push("waiting");
  if (what.length === 0) what.push("failed");
  const t = await target(flags.queue);
  const { queueClean } = await queueModule();
  const removed = await userErrors(() => queueClean(t, what));
  const parts = Object.entries(removed).map(
    ([k, n]) => `${n} ${k === "all" ? "jobs (queue obliterated)" : k}`,
  );
  process.stdout.write(`removed ${parts.join(", ")} from queue ${QUEUE_NAME}\n`);
}

/** Adds `tms worker` and `tms queue status|clean` to the program. */
export function addQueueCommands(program: Command): void {
  const urlHelp = "Redis URL: redis://[:PASSWORD@]HOST[:PORT][/DB]";
  program
    .command("worker")
    .description("train cells of distributed sweeps (`tms sweep --queue`) taken from a Redis queue")
    .requiredOption("--queue <url>", urlHelp)
    .option("--concurrency <n>", "cells trained in parallel, one thread each", intFlag("--concurrency", 1), 1)
    .option(
      "--lock-duration <ms>",
      "a dead worker's cell is retried elsewhere after about this + --stalled-interval",
      intFlag("--lock-duration", 1000),
      WORKER_DEFAULTS.lockDurationMs,
    )
    .option(
      "--stalled-interval <ms>",
      "how often to look for cells of dead workers",
      intFlag("--stalled-interval", 500),
      WORKER_DEFAULTS.stalledIntervalMs,
    )
    .option(
      "--max-stalled <n>",
      "times a cell may lose its worker before it fails",
      intFlag("--max-stalled", 0),
      WORKER_DEFAULTS.maxStalledCount,
    )
    .action((o) => guard(() => workerCommand(o)));

  const queue = program
    .command("queue")
    .description("inspect or clean the Redis queue of distributed sweeps");
  queue
    .command("status")
    .description("jobs per state, connected workers, running and failed cells")
    .requiredOption("--queue <url>", urlHelp)
    .option("--json", "machine-readable output")
    .action((o) => guard(() => statusCommand(o)));
  queue
    .command("clean")
    .description("remove failed jobs (default), uncollected results, waiting cells, or everything")
    .requiredOption("--queue <url>", urlHelp)
    .option("--failed", "failed jobs (the default)")
    .option("--completed", "finished results no coordinator has collected yet")
    .option("--waiting", "cells not started yet (waiting or waiting to be retried)")
    .option("--all", "everything, running cells included (obliterate the queue)")
    .action((o) => guard(() => cleanCommand(o)));
}
