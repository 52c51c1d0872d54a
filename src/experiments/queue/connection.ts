// Reaching Redis: the --queue URL, the options of BullMQ's long-lived connections (they wait out a restart),
// a bounded first check with a message saying what to fix, and connection trouble reported once per outage.

import { Redis, type RedisOptions } from "ioredis";

/** A problem the user can fix: an unreachable or misconfigured Redis, a malformed URL. */
export class QueueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueueError";
  }
}

export interface QueueTarget {
  /** The URL with any password masked, for messages. */
  display: string;
  options: RedisOptions;
}

/** Parses redis://[[user]:password@]host[:port][/db] (rediss:// for TLS). */
export function parseQueueUrl(url: string): QueueTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueError(`--queue: '${url}' is not a URL; expected redis://HOST:PORT (rediss:// for TLS)`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new QueueError(`--queue: '${url}' is not a redis:// or rediss:// URL; expected redis://HOST:PORT`);
  }
  if (!u.hostname) throw new QueueError(`--queue: '${url}' names no host; expected redis://HOST:PORT`);
  const dbText = u.pathname.replace(/^\//, "");
  if (dbText && !/^\d+$/.test(dbText)) {
    throw new QueueError(`--queue: '${url}': the path must be a database number, as in redis://HOST:PORT/2`);
  }
  const db = dbText ? Number(dbText) : 0;
  const auth = u.username || u.password ? `${u.username}${u.password ? ":***" : ""}@` : "";
  return {
    display: `${u.protocol}//${auth}${u.host}${db ? `/${db}` : ""}`,
    options: {
      host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: u.port ? Number(u.port) : 6379,
      db,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    },
  };
}

/** Options for BullMQ's long-lived connections: commands wait out a Redis restart instead of failing. */
export function connectionOptions(target: QueueTarget): RedisOptions {
  return { ...target.options, maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(250 * n, 2000) };
}

export interface RedisFacts {
  version: string;
  /** AOF on: what was acknowledged survives a Redis restart. */
  appendonly: boolean;
  /** undefined when CONFIG GET is not allowed (managed Redis). */
  maxmemoryPolicy?: string;
}

function explainConnectionError(target: QueueTarget, e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = String(err.message ?? e);
  const where = `cannot use Redis at ${target.display}`;
  const { host, port } = target.options;
  if (err.code === "ECONNREFUSED" || /ECONNREFUSED/.test(msg))
    return `${where}: connection refused. Is redis-server running and listening on ${host}:${port}? (it binds 127.0.0.1 only by default; see docs/distributed.md)`;
  if (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN" || /ENOTFOUND|EAI_AGAIN/.test(msg))
    return `${where}: unknown host '${host}'. Check the host name in --queue.`;
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(msg))
    return `${where}: authentication failed. Put the password in the URL: redis://:PASSWORD@${host}:${port}`;
  if (/timed out|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/i.test(msg))
    return `${where}: no answer (${msg}). Check host, port and any firewall between here and ${host}:${port}.`;
  if (/DB index is out of range/i.test(msg))
    return `${where}: no such database number (see 'databases' in redis.conf)`;
  return `${where}: ${msg}. Check that ${host}:${port} is a Redis server (redis-cli -h ${host} -p ${port} ping).`;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Connects once, with no retries, and asks Redis for its version and persistence settings: a bounded check
 * before BullMQ's connections (which retry forever) are opened. Throws QueueError with what to check.
 */
export async function checkRedis(target: QueueTarget, timeoutMs = 5000): Promise<RedisFacts> {
  const client = new Redis({
    ...target.options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis rejects connect() with "Connection is closed"; the cause comes in an error event.
  let cause: unknown;
  client.on("error", (e) => {
    cause ??= e;
  });
  try {
    await withTimeout(client.connect(), timeoutMs, "connecting");
    const info = await withTimeout(client.info(), timeoutMs, "INFO");
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
    const version = field("redis_version") ?? "unknown";
    const major = Number(version.split(".")[0]);
    if (Number.isFinite(major) && major < 5) {
      throw new QueueError(
        `Redis at ${target.display} is version ${version}; BullMQ needs 5.0 or later (6.2+ advised)`,
      );
    }
    let maxmemoryPolicy: string | undefined;
    try {
      const res = (await withTimeout(
        client.config("GET", "maxmemory-policy"),
        timeoutMs,
        "CONFIG GET",
      )) as string[];
      maxmemoryPolicy = res[1];
    } catch {
      maxmemoryPolicy = undefined;
    }
    return { version, appendonly: field("aof_enabled") === "1", maxmemoryPolicy };
  } catch (e) {
    if (e instanceof QueueError) throw e;
    throw new QueueError(explainConnectionError(target, cause ?? e));
  } finally {
    client.disconnect();
  }
}

/** Prints connection trouble once per outage rather than once per retry. */
export function connectionReporter(target: QueueTarget, log: (line: string) => void) {
  let last = 0;
  return (e: Error) => {
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    log(`Redis at ${target.display}: ${e.message}; retrying (queued jobs and results are kept in Redis)`);
  };
}
