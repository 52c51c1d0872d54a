// The `tms` command runs the bundle of the compiled CLI (scripts/bundle.mjs), not dist/src. The bundle has no
// src/core files beside it, so it carries the fingerprint of the core it was built from (the key of the
// generated-module cache, experiments/kernel-cache.ts). Both layouts of one build must name the same cache
// entries: a stale or wrong fingerprint would make every bundled run regenerate its kernels, or worse, reuse
// entries of another generator.

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, ensureBuilt, ROOT, tempDir } from "../helpers/cli.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `tms train …` through the bundle (bin/tms.js) or through the compiled modules it was bundled from. */
function trainWith(layout: "bundle" | "modules", cache: string): void {
  // a formula: its kernel is surely not among those the build ships (dist/kernels), so it is generated
  const args = [
    "train",
    "--preset",
    "intro",
    "--activation",
    "tst=x*sigmoid(1.3*x)",
    "--steps",
    "2",
    "--json",
  ];
  const unbundled = `const f = await import("${ROOT}dist/src/cli/node-flags.js"); f.enableRelaxedSimd(); f.delayWasmTierUp(); await (await import("${ROOT}dist/src/cli/main.js")).main();`;
  const command =
    layout === "bundle" ? [BIN, ...args] : ["--input-type=module", "-e", unbundled, "--", "tms", ...args];
  const r = spawnSync(process.execPath, command, {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, TMS_KERNEL_CACHE: cache },
  });
  expect(r.status, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).activation).toBe("tst");
}

describe("the bundled command line", () => {
  it("names the same kernel-cache entries as the compiled modules of its build", () => {
    ensureBuilt();
    const cache = tempDir("tms-bundle-cache-");
    dirs.push(cache);
    trainWith("bundle", cache);
    const written = readdirSync(cache).sort();
    expect(written.length).toBeGreaterThan(0);
    trainWith("modules", cache);
    expect(readdirSync(cache).sort()).toEqual(written); // every module was a hit: nothing new written
  });

  it("carries zod's English messages only, not its 60-odd locales", () => {
    // `import { z } from "zod"` names a namespace object esbuild cannot tree-shake: it pulled every locale
    // into the chunk each command parses (770 KB instead of 210). `import * as z` lets it drop them.
    ensureBuilt();
    const dir = join(ROOT, "dist", "bundle", "cli");
    const locales = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".js")))
      for (const m of readFileSync(join(dir, file), "utf8").matchAll(
        /^\/\/ \S*node_modules\/zod\/v4\/locales\/(\S+)$/gm,
      ))
        locales.add(m[1]);
    expect([...locales]).toEqual(["en.js"]);
  });
});
