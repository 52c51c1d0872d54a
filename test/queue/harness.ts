// Real Redis for the queue tests: a redis-server child process on 127.0.0.1 and a free port, started by each
// test file and stopped after it; plus helpers to run `node bin/tms.js` (the built CLI) as child processes.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { REDIS_REQUIREMENT, requireOrSkip } from "../helpers/requirements.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const TMS = join(REPO_ROOT, "bin", "tms.js");
export const BUILT = existsSync(join(REPO_ROOT, "dist", "src", "experiments", "queue", "processor.js"));

export const HAVE_REDIS = requireOrSkip("the queue tests", [REDIS_REQUIREMENT]);
if (HAVE_REDIS && !BUILT) {
  console.warn("queue tests SKIPPED: dist/ is not built (npm run build; `npm test` does it)");
}
export const CAN_RUN = HAVE_REDIS && BUILT;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export interface RedisServer {
  port: number;
  dir: string;
  url(db?: number): string;
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port and directory (the AOF is replayed). */
  restart(): Promise<void>;
}

/** Starts redis-server on 127.0.0.1 (no RDB snapshots; AOF only if asked). */
export async function startRedis(opts: { appendonly?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tms-redis-"));
  let child: ChildProcess | undefined;
  const launch = async () => {
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--dir",
      dir,
      "--daemonize",
      "no",
    ];
    args.push("--appendonly", opts.appendonly ? "yes" : "no");
    if (opts.appendonly) args.push("--appendfsync", "always");
    const c = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    let out = "";
    c.stdout?.on("data", (d) => (out += d));
    c.stderr?.on("data", (d) => (out += d));
    await waitFor(`redis-server on port ${port}`, () => {
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`redis-server exited: ${out}`);
      return /Ready to accept connections/.test(out);
    });
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await exited;
  };
  await launch();
  return {
    port,
    dir,
    url: (db = 0) => `redis://127.0.0.1:${port}${db ? `/${db}` : ""}`,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      await launch();
    },
  };
}

/** A `node bin/tms.js …` child process whose output is collected. */
export interface Tms {
  child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

const started = new Set<ChildProcess>();

export function tms(args: string[], cwd?: string): Tms {
  const child = spawn(process.execPath, [TMS, ...args], {
    cwd: cwd ?? REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  started.add(child);
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      started.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    kill: (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Runs `tms …` to the end. */
export async function tmsRun(args: string[]): Promise<{ code: number | null; output: string }> {
  const t = tms(args);
  const code = await t.exited;
  return { code, output: t.output() };
}

/** Kills every child this file started and has not seen exit (by pid, each one). */
export async function killStarted(): Promise<void> {
  const waits = [...started].map((c) => {
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    return exited;
  });
  await Promise.all(waits);
}

const temps: string[] = [];

/** A fresh directory under the system's temp dir, removed by removeTempDirs(). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tms-${prefix}-`));
  temps.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Lines "done  KEY in …" of `tms worker` logs, counted per cell key. */
export function workerDoneCounts(...logs: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const log of logs) {
    for (const m of log.matchAll(/ done {2}(\S+) in /g)) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  return counts;
}

/** Lines "[k/n] KEY done in …" of a coordinator's (non-TTY) progress log, counted per cell key. */
export function coordinatorDoneCounts(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of log.matchAll(/^\[\d+\/\d+\] (\S+) done in /gm))
    counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  return counts;
}

/**
 * A TCP proxy in front of Redis that, once, loses a reply: when a client sends a command matching `match`,
 * the command reaches Redis but the connection is cut before the reply comes back, as when Redis shuts down
 * between executing a command and writing its answer. ioredis then reconnects and sends the command again.
 */
export async function replyLosingProxy(redisPort: number, match: RegExp) {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let cuts = 0;
  const server = createServer((client) => {
    const upstream = connect(redisPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    let cutting = false;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (d) => {
      upstream.write(d);
      if (cuts === 0 && match.test(d.toString("latin1"))) {
        cuts++;
        cutting = true;
        setTimeout(cut, 200); // Redis executes the command meanwhile; its reply is dropped
      }
    });
    upstream.on("data", (d) => {
      if (!cutting) client.write(d);
    });
    for (const s of [client, upstream]) {
      s.on("error", cut);
      s.on("close", () => {
        sockets.delete(s);
        cut();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: (db = 0) => `redis://127.0.0.1:${port}${db ? `/${db}` : ""}`,
    cuts: () => cuts,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
