// The results store: one directory per cell, written atomically, so a cell is either complete or absent.
//   DIR/manifest.json                                   the study config and the versions that wrote it
//   DIR/<preset>/<activation>[~variant]/seed-<k>/result.json         the run summary (see CellResult)
//   DIR/<preset>/<activation>[~variant]/seed-<k>/weights.safetensors  W [I, F, H] and b [I, F]
//   DIR/<preset>/<activation>[~variant]/seed-<k>/snapshots.safetensors  (with --snapshots N)
// A cell is written into a temporary sibling directory and renamed into place; leftovers of a killed
// run (`*.tmp-*`) are removed by the next run.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as z from "zod";
import { formatZodError } from "./config.js";
import { mergeStoreFormulas } from "./formula-store.js";
import {
  type CellFiles,
  type CellResult,
  type Manifest,
  RESULT_SCHEMA,
  STORE_SCHEMA,
} from "./store-format.js";
import type { CellJob } from "./study.js";

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
}

/** What determines a cell's numbers, for the compatibility check (not the seeds or activation lists). */
export function configHash(jobs: readonly CellJob[]): string {
  const h = createHash("sha256");
  const seen = new Set<string>();
  for (const j of jobs) {
    const { seed: _s, ...options } = j.options;
    const part = JSON.stringify([
      j.preset,
      j.experiment ?? null,
      { ...options, dtype: null, softmaxDim: null },
    ]);
    if (!seen.has(part)) {
      seen.add(part);
      h.update(part);
    }
  }
  return h.digest("hex").slice(0, 16);
}

export function cellDir(root: string, key: string): string {
  return join(root, ...key.split("/"));
}

/** Writes `data` to `path` atomically (temporary file in the same directory, then rename). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function isCellComplete(root: string, key: string): boolean {
  return existsSync(join(cellDir(root, key), "result.json"));
}

/** Writes one cell as a unit: all files into a temporary directory, renamed into place. */
export function writeCell(root: string, files: CellFiles): void {
  const dir = cellDir(root, files.result.key);
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, "weights.safetensors"), files.weights);
  if (files.snapshots) writeFileSync(join(tmp, "snapshots.safetensors"), files.snapshots);
  writeFileSync(join(tmp, "result.json"), `${JSON.stringify(files.result, null, 1)}\n`);
  if (existsSync(dir)) {
    const old = `${dir}.tmp-old-${process.pid}`;
    renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, dir);
  }
}

/** Removes temporary leftovers of interrupted runs. */
export function cleanTemporaries(root: string): number {
  let removed = 0;
  const walk = (dir: string, depth: number) => {
    if (depth > 3 || !existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name.includes(".tmp-")) {
        rmSync(path, { recursive: true, force: true });
        removed++;
      } else if (entry.isDirectory()) walk(path, depth + 1);
    }
  };
  walk(root, 0);
  return removed;
}

export function readManifest(root: string): Manifest | undefined {
  const path = join(root, "manifest.json");
  if (!existsSync(path)) return undefined;
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new StoreError(`${path} is not valid JSON; is ${root} a tms-lab results store?`);
  }
  if (typeof m !== "object" || m === null) throw new StoreError(`${path} is not a tms-lab store manifest`);
  if (m.schema !== STORE_SCHEMA) {
    throw new StoreError(
      `${path} has schema '${m.schema}', this tms-lab reads '${STORE_SCHEMA}'; use another --out`,
    );
  }
  const badKey = Array.isArray(m.cells) ? m.cells.find((k) => !isCellKey(k)) : "(no list)";
  if (typeof m.configHash !== "string" || badKey !== undefined)
    throw new StoreError(
      `${path} is damaged: cells must list keys like intro/relu/seed-0 (found ${String(badKey)})`,
    );
  return m;
}

/** preset/activation[~variant]/seed-k, with no segment that could leave the store. */
function isCellKey(key: unknown): boolean {
  return typeof key === "string" && /^[\w-]+\/[\w+~.-]+\/seed-\d+$/.test(key) && !key.includes("..");
}

/** What `tms show` reads of a result; anything else is passed through unchecked. */
const storedResultSchema = z.looseObject({
  schema: z.literal(RESULT_SCHEMA),
  key: z.string(),
  seed: z.number(),
  instances: z.array(z.looseObject({ loss: z.number().nullable(), diverged: z.boolean() })),
  timings: z.looseObject({ trainSeconds: z.number() }),
});

/**
 * Opens (or creates) a store for the given cells. A store written by a different config is refused, so
 * numbers of two configs are never mixed; `force` starts it over.
 */
export function openStore(
  root: string,
  jobs: readonly CellJob[],
  study: unknown,
  version: string,
  force: boolean,
): Manifest {
  const hash = configHash(jobs);
  const existing = readManifest(root);
  if (existing && existing.configHash !== hash && !force) {
    throw new StoreError(
      `${root} holds results of a different configuration (config hash ${existing.configHash}, now ${hash}): ` +
        "steps, batch size, learning rate or a preset differ. Use another --out, or --force to recompute.",
    );
  }
  const same = existing && existing.configHash === hash;
  const cells = new Set(same ? existing.cells : []);
  const formulas = mergeStoreFormulas(root, same ? existing.formulas : undefined, jobs, force);
  for (const j of jobs) cells.add(j.key);
  const manifest: Manifest = {
    schema: STORE_SCHEMA,
    configHash: hash,
    tmsLab: version,
    createdAt: existing?.configHash === hash ? existing.createdAt : new Date().toISOString(),
    study,
    cells: [...cells].sort(),
    ...(formulas ? { formulas } : {}),
  };
  mkdirSync(root, { recursive: true });
  cleanTemporaries(root);
  writeFileAtomic(join(root, "manifest.json"), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

/** A cell's result; StoreError, naming the file, if it is damaged (move the cell away to recompute it). */
export function readCellResult(root: string, key: string): CellResult | undefined {
  const path = join(cellDir(root, key), "result.json");
  if (!existsSync(path)) return undefined;
  const damaged = (why: string) =>
    new StoreError(`${path} is damaged (${why}); move that cell's directory away and run the sweep again`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw damaged(`not valid JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  const parsed = storedResultSchema.safeParse(json);
  if (!parsed.success) throw damaged(formatZodError(parsed.error, "result"));
  if (parsed.data.key !== key) throw damaged(`it is the result of ${parsed.data.key}`);
  return json as CellResult;
}

/** Every complete cell's result in the store, and the keys the manifest lists but the store lacks. */
export function loadStore(root: string): { manifest: Manifest; results: CellResult[]; missing: string[] } {
  const manifest = readManifest(root);
  if (!manifest) throw new StoreError(`${root} is not a tms-lab results store (no manifest.json)`);
  const results: CellResult[] = [];
  const missing: string[] = [];
  for (const key of manifest.cells) {
    const r = readCellResult(root, key);
    if (r) results.push(r);
    else missing.push(key);
  }
  return { manifest, results, missing };
}
