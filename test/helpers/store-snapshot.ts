// "Bad input leaves the store untouched", checked on a real store: every file's bytes and modification time,
// and every directory's entries, before and after.

import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "vitest";

export interface StoreSnapshot {
  root: string;
  /** Store-relative path → "sha256 size mtimeNs" for files, "dir: entries" for directories. */
  entries: Map<string, string>;
}

function describeEntry(path: string): string {
  const st = statSync(path, { bigint: true });
  if (st.isDirectory()) return `dir: ${readdirSync(path).sort().join(" ")}`;
  const hash = createHash("sha256").update(readFileSync(path)).digest("hex");
  // the inode too: a rewrite by rename (writeFileAtomic) with the same bytes within one clock tick shows
  return `${hash} ${st.size} bytes, mtime ${st.mtimeNs}, inode ${st.ino}`;
}

/** Every file and directory under `root` (which must exist and hold at least one file). */
export function snapshotStore(root: string): StoreSnapshot {
  const entries = new Map<string, string>();
  const walk = (dir: string) => {
    entries.set(relative(root, dir) || ".", describeEntry(dir));
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else entries.set(relative(root, path), describeEntry(path));
    }
  };
  walk(root);
  return { root, entries };
}

/** Paths whose bytes, mtime or directory listing differ from `before`, or that appeared or vanished. */
export function storeChanges(before: StoreSnapshot): string[] {
  const after = snapshotStore(before.root).entries;
  const changed: string[] = [];
  for (const [path, was] of before.entries) {
    const now = after.get(path);
    if (now === undefined) changed.push(`${path}: removed`);
    else if (now !== was) changed.push(`${path}: ${was} → ${now}`);
  }
  for (const path of after.keys()) if (!before.entries.has(path)) changed.push(`${path}: added`);
  return changed;
}

/** Asserts the store is byte-for-byte and mtime-for-mtime what `before` recorded. */
export function expectUnchanged(before: StoreSnapshot, what = "the store"): void {
  const files = [...before.entries.values()].filter((v) => !v.startsWith("dir:")).length;
  expect(files, `${what}: a snapshot of a store with no files proves nothing`).toBeGreaterThan(0);
  expect(storeChanges(before), `${what} changed`).toEqual([]);
}
