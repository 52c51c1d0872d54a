// Facts about this installation recorded in every result: version, Node, git commit.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RunEnvironment } from "../experiments/cell.js";

const packageRoot = fileURLToPath(new URL("../../../", import.meta.url));

export const VERSION: string = (
  JSON.parse(readFileSync(`${packageRoot}package.json`, "utf8")) as { version: string }
).version;

function gitCommit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: packageRoot,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

export function runEnvironment(): RunEnvironment {
  return { tmsLab: VERSION, node: process.version, gitCommit: gitCommit() };
}
