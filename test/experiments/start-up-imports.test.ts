// What a sweep worker and `tms train` load at start-up. Each sweep worker thread imports its module graph
// again, so a heavy library in it is paid once per worker per command (zod alone ≈ 40 ms of CPU a thread,
// docs/speed.md, "Start-up"). This walks the static imports from the source (type-only imports and dynamic
// import() excluded, as neither loads at start-up) and names the packages reached.

import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..", "..");
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gm;

/** The packages (bare specifiers, node: built-ins left out) the module graph from `entry` loads. */
function packagesLoadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
      if (spec.startsWith(".")) visit(join(dirname(file), spec).replace(/\.js$/, ".ts"));
      else if (!spec.startsWith("node:"))
        packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
    }
  };
  visit(join(root, entry));
  return packages;
}

describe("start-up imports", () => {
  it("the walker sees the packages a config module loads (so an empty answer below means something)", () => {
    expect(packagesLoadedBy("src/experiments/config.ts")).toContain("zod");
  });

  it("a sweep worker loads no package at all: no config validation (zod), no formula parser's schemas", () => {
    expect([...packagesLoadedBy("src/experiments/sweep-worker.ts")].filter((p) => p !== "jsep")).toEqual([]);
  });

  it("`tms train` loads neither zod nor the report's renderers", () => {
    const loaded = packagesLoadedBy("src/cli/commands/train.ts");
    for (const heavy of ["zod", "vega", "vega-lite", "docx", "@resvg/resvg-js", "bullmq"])
      expect(loaded).not.toContain(heavy);
  });
});
