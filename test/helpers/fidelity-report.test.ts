// docs/fidelity.md is rewritten one section at a time: a suite's rewrite keeps the other suite's section and
// the hand-written notes. Exercised on the dry-run path (TMS_FIXTURES_DIR set: test-results/fidelity.md).

import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

process.env.TMS_FIXTURES_DIR ??= "/nonexistent-fixtures";
const { REPORT_PATH, writeFidelitySection } = await import("./fidelity-report.js");

describe("writeFidelitySection", () => {
  it("replaces its own section and keeps the other suite's and the notes", () => {
    expect(REPORT_PATH.endsWith("test-results/fidelity.md")).toBe(true);
    if (existsSync(REPORT_PATH)) rmSync(REPORT_PATH);
    writeFidelitySection("intro", "intro v1");
    writeFidelitySection("demo", "demo v1");
    const withNotes = readFileSync(REPORT_PATH, "utf8").replace(
      /$/,
      "\n<!-- fidelity:notes:begin -->\nhand-written\n<!-- fidelity:notes:end -->\n",
    );
    writeFileSync(REPORT_PATH, withNotes);
    writeFidelitySection("intro", "intro v2");
    const text = readFileSync(REPORT_PATH, "utf8");
    expect(text).toContain("demo v1");
    expect(text).toContain("intro v2");
    expect(text).not.toContain("intro v1");
    expect(text).toContain("hand-written");
    expect(text.indexOf("demo v1")).toBeLessThan(text.indexOf("intro v2"));
    expect(text.indexOf("intro v2")).toBeLessThan(text.indexOf("hand-written"));
    rmSync(REPORT_PATH);
  });
});
