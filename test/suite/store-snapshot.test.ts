// The "store untouched" check itself: it sees a same-bytes rewrite, an added or removed file, and a new
// empty directory, and refuses to vouch for a store with no files.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../src/experiments/store.js";
import { expectUnchanged, snapshotStore, storeChanges } from "../helpers/store-snapshot.js";

function smallStore(): string {
  const root = mkdtempSync(join(tmpdir(), "tms-snapshot-"));
  mkdirSync(join(root, "intro", "relu", "seed-0"), { recursive: true });
  writeFileSync(join(root, "manifest.json"), "{}\n");
  writeFileSync(join(root, "intro", "relu", "seed-0", "result.json"), '{"loss": 1}\n');
  return root;
}

describe("snapshotStore / expectUnchanged", () => {
  it("an untouched store passes", () => {
    const root = smallStore();
    const before = snapshotStore(root);
    expect(before.entries.size).toBe(6);
    expectUnchanged(before);
  });

  it("sees the same bytes written again (atomic rename), a removed file, an added file or directory", () => {
    const root = smallStore();
    const result = join(root, "intro", "relu", "seed-0", "result.json");
    let before = snapshotStore(root);
    writeFileAtomic(result, '{"loss": 1}\n');
    expect(storeChanges(before).join("\n")).toMatch(/result\.json: .* → /);
    before = snapshotStore(root);
    rmSync(result);
    expect(storeChanges(before)).toContain("intro/relu/seed-0/result.json: removed");
    before = snapshotStore(root);
    mkdirSync(join(root, "report"));
    expect(storeChanges(before)).toContain("report: added");
  });

  it("refuses to vouch for a store with no files", () => {
    const root = mkdtempSync(join(tmpdir(), "tms-snapshot-empty-"));
    expect(() => expectUnchanged(snapshotStore(root))).toThrow(/proves nothing/);
  });
});
