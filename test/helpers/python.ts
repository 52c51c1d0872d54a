// The Python side of the tests (pandas reading the export, the notebook run headless): Debian's packages,
// which .ci/run installs. In CI a missing one is a failure naming the install command; locally the tests
// that need it are skipped with a warning.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** The interpreter of Debian's jupyter kernel (its kernelspec runs /usr/bin/python3). */
export const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
export const NBCONVERT = existsSync("/usr/bin/jupyter-nbconvert")
  ? "/usr/bin/jupyter-nbconvert"
  : "jupyter-nbconvert";
export const PYTHON_PACKAGES = "jupyter-nbconvert python3-pandas python3-matplotlib python3-ipykernel";
export const INSTALL_HINT = `apt-get install -y ${PYTHON_PACKAGES}`;

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  return r.status === 0;
}

/** What is missing for `need` (pandas only, or the whole notebook toolchain); [] when all is there. */
export function missingPython(need: "pandas" | "notebook"): string[] {
  const missing: string[] = [];
  const modules = need === "pandas" ? ["pandas"] : ["pandas", "numpy", "matplotlib", "ipykernel"];
  for (const m of modules) if (!works(PYTHON, ["-c", `import ${m}`])) missing.push(`python module ${m}`);
  if (need === "notebook" && !works(NBCONVERT, ["--version"])) missing.push("jupyter-nbconvert");
  return missing;
}

/**
 * Whether the Python tests can run. Locally a missing tool skips them with a warning; in CI (env CI set) it
 * returns true so the tests run and fail at the first call, with `failMessage`.
 */
export function pythonAvailable(need: "pandas" | "notebook"): { run: boolean; failMessage?: string } {
  const missing = missingPython(need);
  if (missing.length === 0) return { run: true };
  const message = `missing ${missing.join(", ")}: install them with \`${INSTALL_HINT}\``;
  if (process.env.CI) return { run: true, failMessage: message };
  console.warn(`skipping the ${need} tests: ${message}`);
  return { run: false };
}

/** Runs a Python snippet, failing with the install command if the tools are missing (CI). */
export function python(code: string, env: Record<string, string> = {}): string {
  return execFileSync(PYTHON, ["-c", code], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
  });
}
