// Facts about this installation recorded in every result: version, Node, git commit.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunEnvironment } from "../experiments/cell.js";
import { PACKAGE_ROOT, VERSION } from "../experiments/package-root.js";

export { VERSION };

/**
 * HEAD's commit read from .git itself (a branch's ref file or packed-refs, or a detached HEAD): starting
 * git costs a sweep ≈ 10 ms before its first cell. Anything else (a worktree's .git file, a ref git keeps
 * elsewhere) asks git.
 */
export function headFromFiles(git = join(PACKAGE_ROOT, ".git")): string | undefined {
  const head = readFileSync(join(git, "HEAD"), "utf8").trim();
  if (/^[0-9a-f]{40}$/.test(head)) return head;
  const ref = /^ref: (refs\/[^\s]+)$/.exec(head)?.[1];
  if (!ref) return undefined;
  try {
    return readFileSync(join(git, ref), "utf8").trim();
  } catch {
    const packed = readFileSync(join(git, "packed-refs"), "utf8");
    return packed
      .split("\n")
      .find((line) => line.endsWith(` ${ref}`))
      ?.slice(0, 40);
  }
}

function gitCommit(): string | null {
  try {
    const fromFiles = headFromFiles();
    if (fromFiles && /^[0-9a-f]{40}$/.test(fromFiles)) return fromFiles;
  } catch {
    // no .git directory here, or an unusual one: ask git
  }
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
