// Facts about this installation recorded in every result: version, Node, git commit.

import { execFileSync } from "node:child_process";
import type { RunEnvironment } from "../experiments/cell.js";
import { PACKAGE_ROOT, VERSION } from "../experiments/package-root.js";

export { VERSION };

function gitCommit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: PACKAGE_ROOT,
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
