// `tms serve [DIR]`: the explorer (the Vite build in web/dist) over HTTP and, if DIR is given, that results
// store read-only under /store/. Only GET and HEAD; only the store's own files (manifest.json, each cell's
// result.json and *.safetensors, everything under report/); every path segment is checked, and the resolved
// real path must stay inside its root, so no request can reach a file outside web/dist or DIR.

import { createReadStream, existsSync, realpathSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import { PACKAGE_ROOT } from "../../experiments/package-root.js";
import { UsageError } from "../errors.js";

/** web/dist of this installation. */
export const WEB_DIST = join(PACKAGE_ROOT, "web", "dist");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  ".safetensors": "application/octet-stream",
  ".wasm": "application/wasm",
};

const SEGMENT = /^[A-Za-z0-9_~+@-][A-Za-z0-9_.~+@-]*$/;
const CELL_FILES = new Set(["result.json", "weights.safetensors", "snapshots.safetensors"]);

/**
 * The decoded path segments of a URL path, or undefined if any is unsafe: empty, `.`/`..`, hidden, a
 * leftover of an interrupted write (`.tmp-`), or holding anything but letters, digits and `_.~+@-`.
 */
export function safeSegments(urlPath: string): string[] | undefined {
  const path = urlPath.split("?")[0].split("#")[0];
  const raw = path.split("/").filter((s, k, all) => !(s === "" && (k === 0 || k === all.length - 1)));
  const out: string[] = [];
  for (const r of raw) {
    let s: string;
    try {
      s = decodeURIComponent(r);
    } catch {
      return undefined;
    }
    if (!SEGMENT.test(s) || s.includes(".tmp-") || s.includes("..")) return undefined;
    out.push(s);
  }
  return out;
}

/** Whether a store-relative path is one of the files a results store shares. */
export function isStoreFile(segments: readonly string[]): boolean {
  if (segments.length === 1) return segments[0] === "manifest.json";
  if (segments[0] === "report") return segments.length >= 2;
  return segments.length >= 3 && segments.length <= 6 && CELL_FILES.has(segments[segments.length - 1]);
}

/** The file under `root` for `segments`, if it exists, is a regular file and really lies inside `root`. */
function resolveInside(root: string, segments: readonly string[]): string | undefined {
  const base = resolve(root);
  const file = resolve(base, ...segments);
  if (!file.startsWith(base + sep)) return undefined;
  try {
    const realBase = realpathSync(base);
    const realFile = realpathSync(file);
    if (!realFile.startsWith(realBase + sep) || !statSync(realFile).isFile()) return undefined;
    return realFile;
  } catch {
    return undefined;
  }
}

function sendError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
  res.end(`${message}\n`);
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string): void {
  const size = statSync(file).size;
  res.writeHead(200, {
    "Content-Type": TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
    "Content-Length": size,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  createReadStream(file)
    .on("error", () => res.destroy())
    .pipe(res);
}

function methodAllowed(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === "GET" || req.method === "HEAD") return true;
  res.setHeader("Allow", "GET, HEAD");
  sendError(res, 405, "method not allowed (this server is read-only)");
  return false;
}

/** Answers a request for `path` (relative to the store root) from the results store in `dir`. */
export function handleStoreRequest(
  dir: string,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): void {
  if (!methodAllowed(req, res)) return;
  const segments = safeSegments(path);
  const file = segments && isStoreFile(segments) ? resolveInside(dir, segments) : undefined;
  if (!segments) sendError(res, 400, "bad path");
  else if (!file) sendError(res, 404, "not found");
  else sendFile(req, res, file);
}

/** Answers a request for the explorer's own files (web/dist). */
export function handleAppRequest(webRoot: string, req: IncomingMessage, res: ServerResponse): void {
  if (!methodAllowed(req, res)) return;
  const segments = safeSegments(req.url ?? "/");
  const file = segments && resolveInside(webRoot, segments.length === 0 ? ["index.html"] : segments);
  if (!segments) sendError(res, 400, "bad path");
  else if (!file) sendError(res, 404, "not found");
  else sendFile(req, res, file);
}

/** Report files the explorer links to, when `tms report` has written them into DIR/report. */
export const REPORT_FILES = ["report.html", "report.md", "report.docx"];

/**
 * web/dist/explorer.json says `{"store": null}` (a static site trains only); the server answers it instead
 * with where the store is and which report files exist, so the page never asks for a file that is absent.
 */
export function explorerInfo(store: string | undefined): { store: string | null; report: string[] } {
  if (!store) return { store: null, report: [] };
  const report = REPORT_FILES.filter((f) => resolveInside(store, ["report", f]) !== undefined);
  return { store: "store/", report };
}

function sendJson(req: IncomingMessage, res: ServerResponse, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(200, {
    "Content-Type": TYPES[".json"],
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Answers GET /explorer.json. */
export function handleInfoRequest(
  store: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  if (!methodAllowed(req, res)) return;
  sendJson(req, res, explorerInfo(store));
}

export interface ServeOptions {
  webRoot?: string;
  store?: string;
  port: number;
  host: string;
}

/** Starts the server; resolves once it listens, with its URL. */
export function startServer(o: ServeOptions): Promise<{ server: Server; url: string }> {
  const webRoot = o.webRoot ?? WEB_DIST;
  const store = o.store;
  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (url === "/store" || url.startsWith("/store/") || url.startsWith("/store?")) {
      if (!store) return sendError(res, 404, "no results store (start with `tms serve DIR`)");
      return handleStoreRequest(store, req, res, url.slice("/store".length) || "/");
    }
    if (url === "/explorer.json" || url.startsWith("/explorer.json?"))
      return handleInfoRequest(store, req, res);
    handleAppRequest(webRoot, req, res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      reject(
        e.code === "EADDRINUSE"
          ? new UsageError(`port ${o.port} is in use; choose another with --port`)
          : e.code === "EACCES"
            ? new UsageError(`no permission to listen on port ${o.port}; choose one above 1023 with --port`)
            : new UsageError(
                `cannot listen on ${o.host} port ${o.port} (${e.code ?? e.message}); check --host and --port`,
              ),
      );
    });
    server.listen(o.port, o.host, () => {
      const { port } = server.address() as AddressInfo;
      const host = o.host.includes(":") ? `[${o.host}]` : o.host;
      resolvePromise({ server, url: `http://${host}:${port}/` });
    });
  });
}

export interface ServeFlags {
  port: number;
  host: string;
}

export async function serveCommand(dir: string | undefined, o: ServeFlags): Promise<void> {
  if (!existsSync(join(WEB_DIST, "index.html"))) {
    throw new UsageError(`the explorer is not built (${WEB_DIST} is missing); run \`npm run build\``);
  }
  if (o.port > 65535) throw new UsageError(`--port expects a port number 0…65535, got ${o.port}`);
  let store: string | undefined;
  if (dir !== undefined) {
    store = resolve(dir);
    if (!existsSync(join(store, "manifest.json"))) {
      throw new UsageError(`${dir} is not a tms-lab results store (no manifest.json)`);
    }
  }
  const { server, url } = await startServer({ store, port: o.port, host: o.host });
  process.stdout.write(
    `tms serve: explorer at ${url}${store ? ` · results store ${store} (read-only)` : ""} · Ctrl-C to stop\n`,
  );
  const stop = () => {
    server.close();
    server.closeAllConnections();
    // Ctrl-C is how a server is stopped: exit cleanly even if some other handle lingers
    setTimeout(() => process.exit(), 300).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
