// The explorer as the browser tests meet it: the CLI and the web bundle built, and `tms serve` started on a
// free port.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensureBuilt } from "./cli.js";
import { REPO_ROOT } from "./fixtures.js";

const BIN = join(REPO_ROOT, "bin", "tms.js");

export interface Served {
  child: ChildProcess;
  url: string;
}

/** Builds the CLI, and the web bundle when web/dist has none. */
export function ensureWebBuilt(): void {
  ensureBuilt();
  if (!existsSync(join(REPO_ROOT, "web", "dist", "index.html"))) {
    execFileSync("npm", ["run", "build:web"], { cwd: REPO_ROOT, stdio: "pipe" });
  }
}

/** Starts `tms serve [DIR] --port 0` and resolves with the URL it prints. */
export function serveExplorer(dir?: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const args = dir === undefined ? ["serve", "--port", "0"] : ["serve", dir, "--port", "0"];
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`tms serve printed no URL: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(/http:\/\/[^\s]+\//);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[0] });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`tms serve exited (${code}): ${out}`)));
  });
}
