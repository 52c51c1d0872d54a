// The installation's root directory (the one with tms-lab's package.json), found by walking up from this
// module's own location. The same code then runs from the TypeScript sources (tests), the compiled modules
// (dist/src/…) and the bundle the `tms` command loads (dist/bundle/cli/), whose files sit at other depths.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

interface PackageJson {
  name?: string;
  version: string;
}

/** The nearest directory at or above `from` whose package.json is tms-lab's, with that package.json. */
function findPackage(from: string): { root: string; pkg: PackageJson } {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as PackageJson;
      if (pkg.name === "tms-lab") return { root: dir, pkg };
    }
    if (dirname(dir) === dir) throw new Error(`no tms-lab package.json above ${from}`);
  }
}

const found = findPackage(dirname(fileURLToPath(import.meta.url)));

export const PACKAGE_ROOT: string = found.root;

/** tms-lab's version, from its package.json. */
export const VERSION: string = found.pkg.version;
