// The real results store the fuzz tests start from: a small sweep made by the built CLI (dist/).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { ensureBuilt, runCli } from "../helpers/cli.js";
import { tempDir } from "./harness.js";

/** The study of the fixture store, as flags (a sweep with exactly these resumes it; anything else is refused). */
export const FIXTURE_STUDY = [
  "--presets",
  "intro",
  "--activations",
  "relu,softmin",
  "--seeds",
  "0-1",
  "--steps",
  "5",
  "--snapshots",
  "2",
];

export interface Fixture {
  store: string;
  configHash: string;
  cells: string[];
}

export async function makeFixtureStore(): Promise<Fixture> {
  ensureBuilt();
  const store = join(tempDir("tms-fuzz-fixture-"), "store");
  const r = await runCli(["sweep", ...FIXTURE_STUDY, "--workers", "1", "--out", store]);
  expect(r.code, r.stderr).toBe(0);
  const manifest = JSON.parse(readFileSync(join(store, "manifest.json"), "utf8"));
  return { store, configHash: manifest.configHash, cells: manifest.cells };
}
