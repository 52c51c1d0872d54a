// The explorer's store server fuzzed (fast-check): raw HTTP requests with odd methods and paths built from
// traversal pieces (.., %2e%2e, %2f, backslashes, NUL, hidden and temporary names, a symlink out of the
// store) and random text. Every answer must be 200 with the bytes of a file the server shares, or a 4xx
// with one line — never a file from outside its roots, never a 5xx — and the store must not change. A
// sample goes to the real `tms serve` (node bin/tms.js).

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { connect } from "node:net";
import { join, relative } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/cli/commands/serve.js";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { expectUnchanged, type StoreSnapshot, snapshotStore } from "../helpers/store-snapshot.js";
import { copyStore, FUZZ_SEED, RUNS, Tally } from "./harness.js";
import { makeFixtureStore } from "./store-fixture.js";

const SECRET = "TMS-FUZZ-SECRET-4b1d";

interface Answer {
  status: number;
  body: Buffer;
}

/** Sends `method path` as is over a socket (no client-side normalisation or validation of the path). */
function rawRequest(base: string, method: string, path: string): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => {
      const all = Buffer.concat(chunks);
      const headEnd = all.indexOf("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(all.toString("latin1", 0, 20))?.[1] ?? 0);
      let body: Buffer = headEnd < 0 ? Buffer.alloc(0) : all.subarray(headEnd + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(all.toString("latin1", 0, Math.max(0, headEnd))))
        body = unchunk(body);
      resolve({ status, body });
    });
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`, "latin1");
  });
}

function unchunk(b: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < b.length) {
    const eol = b.indexOf("\r\n", pos);
    const size = Number.parseInt(b.toString("latin1", pos, eol), 16);
    if (!size) break;
    parts.push(b.subarray(eol + 2, eol + 2 + size));
    pos = eol + 4 + size;
  }
  return Buffer.concat(parts);
}

const PIECES = [
  "..",
  ".",
  "%2e%2e",
  "%2E%2e",
  "..%2f",
  "%2f",
  "%5c",
  "..\\",
  "%00",
  "%",
  "%zz",
  "",
  "~",
  "manifest.json",
  "intro",
  "relu",
  "seed-0",
  "result.json",
  "weights.safetensors",
  "snapshots.safetensors",
  "report",
  "report.html",
  "escape.txt",
  "secret.txt",
  ".hidden.json",
  "seed-1.tmp-9",
  "index.html",
  "store",
  "explorer.json",
  "etc",
  "passwd",
];
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
);
const requestLine = fc.record({
  method: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("GET", "HEAD") },
    { weight: 1, arbitrary: fc.constantFrom("POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH") },
  ),
  path: fc
    .tuple(
      fc.constantFrom("/store/", "/", "/store", "//", "/store//", "/explorer.json"),
      fc.array(segment, { maxLength: 6 }),
      fc.constantFrom("", "/", "?x=1", "?/../../secret.txt", "#frag", "?"),
    )
    .map(([head, segs, tail]) => head + segs.join("/") + tail)
    // the request line: no spaces or line breaks (a client could not send them either)
    .filter((p) => !/[\s]/.test(p)),
});

describe("fuzz: the explorer's store server (tms serve)", () => {
  let root: string;
  let store: string;
  let before: StoreSnapshot;
  /** The bytes a 200 may carry: every file under the store and the web root (not the secret). */
  const shareable = new Set<string>();
  const servers: Server[] = [];
  let child: ChildProcess | undefined;
  /** Answers by status, so a run that only ever got 404s (a broken generator) is seen. */
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    const fixture = await makeFixtureStore();
    store = copyStore(fixture.store, "tms-fuzz-serve-");
    root = join(store, "..");
    const web = join(root, "web");
    mkdirSync(join(web, "assets"), { recursive: true });
    writeFileSync(join(web, "index.html"), "<!doctype html><title>app</title>");
    writeFileSync(join(web, "assets", "app.js"), "console.log(1)");
    mkdirSync(join(store, "report"));
    writeFileSync(join(store, "report", "report.html"), "<p>report</p>");
    writeFileSync(join(root, "secret.txt"), SECRET);
    writeFileSync(join(store, ".hidden.json"), SECRET);
    writeFileSync(join(store, "intro", "relu", "seed-0", "notes.txt"), SECRET);
    mkdirSync(join(store, "intro", "relu", "seed-1.tmp-9"));
    writeFileSync(join(store, "intro", "relu", "seed-1.tmp-9", "result.json"), SECRET);
    symlinkSync(join(root, "secret.txt"), join(store, "report", "escape.txt"));
    symlinkSync(join(root, "secret.txt"), join(web, "secret.txt"));
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) {
          const bytes = readFileSync(p);
          if (!bytes.includes(SECRET)) shareable.add(bytes.toString("base64"));
        }
      }
    };
    walk(store);
    walk(web);
    before = snapshotStore(store);
  }, 120_000);

  afterAll(() => {
    for (const s of servers) s.close();
    if (child?.pid && child.exitCode === null) process.kill(child.pid, "SIGTERM");
  });

  async function check(base: string, r: { method: string; path: string }, tally: Tally): Promise<void> {
    const a = await rawRequest(base, r.method, r.path);
    tally.ran++;
    statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    const what = `${r.method} ${r.path} → ${a.status} ${a.body.toString("utf8").slice(0, 80)}`;
    expect(a.body.includes(SECRET), what).toBe(false);
    if (a.status === 200) {
      if (r.method === "HEAD") expect(a.body.length, what).toBe(0);
      else if (!r.path.startsWith("/explorer.json"))
        expect(shareable.has(a.body.toString("base64")), `${what}: not a shared file`).toBe(true);
    } else {
      expect([400, 404, 405], what).toContain(a.status);
      if (r.method !== "HEAD") expect(a.body.toString("utf8").trimEnd().split("\n"), what).toHaveLength(1);
    }
  }

  it(`random requests to the handler in process: ${RUNS.inProcess * 2}`, async () => {
    const { server, url } = await startServer({
      webRoot: join(root, "web"),
      store,
      port: 0,
      host: "127.0.0.1",
    });
    servers.push(server);
    const tally = new Tally("store server, random requests (in process)");
    await fc.assert(
      fc.asyncProperty(requestLine, (r) => check(url, r, tally)),
      { numRuns: RUNS.inProcess * 2, seed: FUZZ_SEED },
    );
    // the server still answers, and the store is as it was
    expect((await rawRequest(url, "GET", "/store/manifest.json")).status).toBe(200);
    expectUnchanged(before, "the served store");
    tally.storeChecks++;
    tally.report();
    console.log(`[fuzz] store server answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
    for (const status of [200, 400, 404, 405]) expect(statuses.get(status), `${status}s`).toBeGreaterThan(5);
    expect(relative(root, store)).toBe("store");
  }, 120_000);

  it("the real `tms serve` (node bin/tms.js) on a sample of the same requests", async () => {
    const tally = new Tally("store server, random requests (spawned tms serve)");
    child = spawn(process.execPath, [join(REPO_ROOT, "bin", "tms.js"), "serve", store, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child?.stdout?.on("data", (d) => {
        out += d;
        const m = /explorer at (http:\/\/\S+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child?.on("exit", (code) => reject(new Error(`tms serve exited ${code}: ${out}`)));
    });
    for (const r of fc.sample(requestLine, { numRuns: RUNS.inProcess / 4, seed: FUZZ_SEED + 4 }))
      await check(url, r, tally);
    expectUnchanged(before, "the store served by tms serve");
    tally.storeChecks++;
    tally.report();
  }, 120_000);
});
