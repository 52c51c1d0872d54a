// The operator's view of the queue (`tms queue status|clean`): counts per state, connected workers, running
// and failed cells; removing failed jobs, uncollected results, waiting cells or everything.

import { Queue } from "bullmq";
import { checkRedis, type QueueTarget, type RedisFacts } from "./connection.js";
import { keyOfJobId, QUEUE_NAME } from "./wire.js";

export type WorkerInfo = { name: string; address: string; concurrency?: number };

/** The connected `tms worker`s (CLIENT LIST; undefined where that is not allowed). */
export async function listWorkers(queue: Queue): Promise<WorkerInfo[] | undefined> {
  try {
    const seen = new Set<string>();
    const workers: WorkerInfo[] = [];
    for (const w of await queue.getWorkers()) {
      const raw = String(w.rawname ?? "");
      const name = raw.includes(":w:") ? raw.slice(raw.indexOf(":w:") + 3) : "(unnamed)";
      if (seen.has(name)) continue;
      seen.add(name);
      const c = /\/c(\d+)$/.exec(name);
      workers.push({
        name: name.replace(/\/c\d+$/, ""),
        address: String(w.addr ?? ""),
        ...(c ? { concurrency: Number(c[1]) } : {}),
      });
    }
    return workers;
  } catch {
    return undefined;
  }
}

export interface QueueStatus {
  url: string;
  redis: RedisFacts;
  counts: Record<string, number>;
  workers?: WorkerInfo[];
  active: { key: string; progress: unknown; attempt: number }[];
  failed: { key: string; reason: string; attempts: number }[];
}

async function withQueue<T>(target: QueueTarget, body: (q: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(QUEUE_NAME, {
    connection: { ...target.options, maxRetriesPerRequest: 1, retryStrategy: () => null },
  });
  queue.on("error", () => {});
  try {
    await queue.waitUntilReady();
    return await body(queue);
  } finally {
    await queue.close().catch(() => {});
  }
}

/** What the queue holds: counts per state, connected workers, running and failed cells. */
export async function queueStatus(target: QueueTarget, list = 20): Promise<QueueStatus> {
  const redis = await checkRedis(target);
  return withQueue(target, async (queue) => {
    const counts = await queue.getJobCounts(
      "waiting",
      "prioritized",
      "delayed",
      "active",
      "completed",
      "failed",
    );
    const workers = await listWorkers(queue);
    const active = (await queue.getActive(0, list - 1)).map((j) => ({
      key: keyOfJobId(j.id ?? ""),
      progress: j.progress,
      attempt: j.attemptsMade + 1,
    }));
    const failed = (await queue.getFailed(0, list - 1)).map((j) => ({
      key: keyOfJobId(j.id ?? ""),
      reason: j.failedReason,
      attempts: j.attemptsMade,
    }));
    return { url: target.display, redis, counts, workers, active, failed };
  });
}

export type CleanWhat = "failed" | "completed" | "waiting" | "all";

/** Removes jobs: failed ones, uncollected results, not-yet-started cells, or everything (obliterate). */
export async function queueClean(
  target: QueueTarget,
  what: readonly CleanWhat[],
): Promise<Record<string, number>> {
  await checkRedis(target);
  return withQueue(target, async (queue) => {
    const removed: Record<string, number> = {};
    if (what.includes("all")) {
      const counts = await queue.getJobCounts();
      await queue.obliterate({ force: true });
      removed.all = Object.values(counts).reduce((a, b) => a + b, 0);
      return removed;
    }
    if (what.includes("failed")) removed.failed = (await queue.clean(0, 0, "failed")).length;
    if (what.includes("completed")) removed.completed = (await queue.clean(0, 0, "completed")).length;
    if (what.includes("waiting")) {
      const before = await queue.getJobCounts("waiting", "prioritized", "delayed", "paused");
      await queue.drain(true);
      removed.waiting = Object.values(before).reduce((a, b) => a + b, 0);
    }
    return removed;
  });
}
