// The git commit recorded in every result (cli/environment.ts), read from .git's files rather than by
// starting git: the three ways git keeps HEAD, and this checkout's answer against git's own.

import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { headFromFiles, runEnvironment } from "../../src/cli/environment.js";
import { ROOT, tempDir } from "../helpers/cli.js";

const A = "0123456789abcdef0123456789abcdef01234567";
const B = "89abcdef0123456789abcdef0123456789abcdef";
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function gitDir(files: Record<string, string>): string {
  const dir = tempDir("tms-git-");
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe("the commit a result records", () => {
  it("reads a detached HEAD, a branch's ref file and a packed ref", () => {
    expect(headFromFiles(gitDir({ HEAD: `${A}\n` }))).toBe(A);
    expect(headFromFiles(gitDir({ HEAD: "ref: refs/heads/main\n", "refs/heads/main": `${B}\n` }))).toBe(B);
    const packed = `# pack-refs with: peeled fully-peeled sorted\n${A} refs/heads/other\n${B} refs/heads/main\n`;
    expect(headFromFiles(gitDir({ HEAD: "ref: refs/heads/main\n", "packed-refs": packed }))).toBe(B);
  });

  it("gives up (so git is asked) on what it does not know", () => {
    expect(headFromFiles(gitDir({ HEAD: "something else\n" }))).toBeUndefined();
    expect(
      headFromFiles(gitDir({ HEAD: "ref: refs/heads/main\n", "packed-refs": `${A} refs/heads/x\n` })),
    ).toBeUndefined();
  });

  it("agrees with git in this checkout", () => {
    let fromGit: string;
    try {
      fromGit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    } catch {
      return; // not a git checkout (an installed package): nothing to compare
    }
    expect(runEnvironment().gitCommit).toBe(fromGit);
  });
});
