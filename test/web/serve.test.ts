// `tms serve`'s HTTP handler (src/cli/commands/serve.ts): the app and a store, read-only, no path escapes.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isStoreFile, safeSegments, startServer } from "../../src/cli/commands/serve.js";

let root: string;
let server: Server;
let base: string;

/** A raw request (the path is sent as is, unlike fetch, which normalises `..`). */
function get(path: string, method = "GET"): Promise<{ status: number; body: string; type?: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: res.headers["content-type"] }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "tms-serve-"));
  const web = join(root, "web");
  const store = join(root, "store");
  mkdirSync(join(web, "assets"), { recursive: true });
  writeFileSync(join(web, "index.html"), "<!doctype html><title>app</title>");
  writeFileSync(join(web, "assets", "app.js"), "console.log(1)");
  mkdirSync(join(store, "intro", "relu", "seed-0"), { recursive: true });
  mkdirSync(join(store, "intro", "relu", "seed-1.tmp-123"), { recursive: true });
  mkdirSync(join(store, "report"), { recursive: true });
  writeFileSync(join(store, "manifest.json"), '{"cells":[]}');
  writeFileSync(join(store, "intro", "relu", "seed-0", "result.json"), "{}");
  writeFileSync(join(store, "intro", "relu", "seed-0", "weights.safetensors"), "x");
  writeFileSync(join(store, "intro", "relu", "seed-0", "notes.txt"), "private");
  writeFileSync(join(store, "intro", "relu", "seed-1.tmp-123", "result.json"), "{}");
  writeFileSync(join(store, "report", "report.html"), "<p>report</p>");
  writeFileSync(join(root, "secret.txt"), "secret");
  writeFileSync(join(store, ".hidden.json"), "{}");
  symlinkSync(join(root, "secret.txt"), join(store, "report", "escape.txt"));
  ({ server, url: base } = await startServer({ webRoot: web, store, port: 0, host: "127.0.0.1" }));
});

afterAll(() => {
  server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("tms serve", () => {
  it("serves the app and the store's files with their types", async () => {
    expect(await get("/")).toMatchObject({ status: 200, type: "text/html; charset=utf-8" });
    expect(await get("/assets/app.js")).toMatchObject({
      status: 200,
      type: "text/javascript; charset=utf-8",
    });
    expect(await get("/store/manifest.json")).toMatchObject({ status: 200, body: '{"cells":[]}' });
    expect((await get("/store/intro/relu/seed-0/result.json")).status).toBe(200);
    expect((await get("/store/intro/relu/seed-0/weights.safetensors")).type).toBe("application/octet-stream");
    expect((await get("/store/report/report.html")).body).toBe("<p>report</p>");
    expect((await get("/store/manifest.json", "HEAD")).status).toBe(200);
  });

  it("tells the page where the store is and which report files exist", async () => {
    const r = await get("/explorer.json");
    expect(JSON.parse(r.body)).toEqual({ store: "store/", report: ["report.html"] });
  });

  it("never serves a file outside its roots, nor one that is not the store's own", async () => {
    for (const path of [
      // outside the roots
      "/store/../secret.txt",
      "/store/%2e%2e/secret.txt",
      "/store/..%2fsecret.txt",
      "/store/intro/..%2f..%2f..%2fsecret.txt",
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/store/%2e%2e%5csecret.txt",
      "/store//etc/passwd",
      "/store/report/escape.txt",
      "/store/%00manifest.json",
      "/store/%E0%A4%A.json",
      // inside the store, but not a file of its format (a note, a temporary cell, a hidden file, a folder)
      "/store/intro/relu/seed-0/notes.txt",
      "/store/intro/relu/seed-1.tmp-123/result.json",
      "/store/.hidden.json",
      "/store/",
      "/store/intro",
    ]) {
      const r = await get(path);
      expect([400, 404], path).toContain(r.status);
      expect(r.body, path).not.toMatch(/secret|private/);
    }
  });

  it("is read-only", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      expect((await get("/store/manifest.json", method)).status).toBe(405);
    }
  });

  it("checks segments and store paths", () => {
    expect(safeSegments("/a/b.json?x=1")).toEqual(["a", "b.json"]);
    expect(safeSegments("/a/../b")).toBeUndefined();
    expect(safeSegments("/a/%2E%2E/b")).toBeUndefined();
    expect(isStoreFile(["manifest.json"])).toBe(true);
    expect(isStoreFile(["intro", "relu~f64", "seed-2", "result.json"])).toBe(true);
    expect(isStoreFile(["intro", "relu", "seed-2", "other.bin"])).toBe(false);
    expect(isStoreFile(["report", "figures", "a.svg"])).toBe(true);
  });
});
