// System components some tests need (Debian's chromium, redis-server; the Python tools have their own in python.ts). One rule for all:
// under CI (the environment variable CI is set; .ci/run exports CI=1) a missing component fails the test
// file with the command that installs it, so a green CI run means those tests really ran; a local run
// without it skips them with a warning instead.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { CHROMIUM } from "./chromium.js";

export interface Requirement {
  /** What is needed, as a reader would name it: "/usr/bin/chromium". */
  what: string;
  /** The command that installs it. */
  install: string;
  present: () => boolean;
}

/** Files that must exist, e.g. a browser binary or fonts. */
export function filesRequirement(paths: readonly string[], install: string): Requirement {
  return { what: paths.join(" and "), install, present: () => paths.every((p) => existsSync(p)) };
}

/** A command on PATH that must run with `args` (e.g. `--version`). */
export function commandRequirement(command: string, args: string[], install: string): Requirement {
  const present = () => {
    try {
      execFileSync(command, args, { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  return { what: `${command} (on PATH)`, install, present };
}

export const CHROMIUM_REQUIREMENT = filesRequirement([CHROMIUM], "apt-get install -y chromium");
export const REDIS_REQUIREMENT = commandRequirement(
  "redis-server",
  ["--version"],
  "apt-get install -y redis-server",
);

/** Whether this is a CI run: CI set to anything but "", "0" or "false". */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== "" && ci !== "0" && ci !== "false";
}

export class MissingRequirementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MissingRequirementError";
  }
}

/**
 * True if every requirement is present. Otherwise, under CI, throws (failing the calling test file, with the
 * install command); locally, warns that `tests` are skipped and returns false (use with describe.skipIf).
 */
export function requireOrSkip(
  tests: string,
  requirements: readonly Requirement[],
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const missing = requirements.filter((r) => !r.present());
  if (missing.length === 0) return true;
  const what = missing.map((r) => `${r.what} is missing (install: ${r.install})`).join("; ");
  if (isCi(env)) throw new MissingRequirementError(`CI: ${tests} cannot run: ${what}`);
  console.warn(`${tests} SKIPPED: ${what}. Under CI (CI=1, as .ci/run sets) this fails the run.`);
  return false;
}
