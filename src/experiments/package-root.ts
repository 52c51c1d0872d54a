// The installation's root directory (the one with tms-lab's package.json), found by walking up from this
// module's own location. The same code then runs from the TypeScript sources (tests), the compiled modules
// (dist/src/…) and the bundle the `tms` command loads (dist/bundle/cli/), whose files sit at other depths.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { name?: string }).name === "tms-lab")
      return dir;
    if (dirname(dir) === dir) throw new Error(`no tms-lab package.json above ${from}`);
  }
}

export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** tms-lab's version, from its package.json. */
export const VERSION: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }
).version;
