// What a distributed sweep sends over the wire (Redis, via BullMQ), shared by the coordinator, the worker and
// its sandboxed processor threads. No BullMQ import here, so a processor thread loads only what it needs.
//   job id       <cell key, ':' and '%' escaped>@<12 hex digits of the SHA-256 of the job's JSON>
//   job data     the CellJob (study.ts): preset id (+ the experiment for user-defined ones), activation,
//                variant, training options, snapshot count; a few hundred bytes
//   return value { result: CellResult, weights: base64 safetensors, snapshots?: base64 safetensors }

import { createHash } from "node:crypto";
import type { RunEnvironment } from "../cell.js";
import type { CellFiles, CellResult } from "../store-format.js";
import type { CellJob } from "../study.js";

/** The BullMQ queue every coordinator and worker uses; separate labs on one Redis use separate DBs. */
export const QUEUE_NAME = "tms-cells";

/** Tries per cell before it is marked failed (`tms sweep --queue --attempts`). */
export const DEFAULT_ATTEMPTS = 3;

/**
 * `tms worker` defaults. A job's lock lives lockDuration and is renewed every half of it; a dead worker's cell
 * goes back to the queue after at most about lockDuration + stalledInterval; after maxStalledCount such
 * returns it fails instead (a cell that kills every worker is not retried forever).
 */
export const WORKER_DEFAULTS = { lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 2 };

/** Environment variables the worker sets for its processor threads (they inherit process.env). */
export const WORKER_ENV_VAR = "TMS_QUEUE_WORKER_ENV";

export interface WireCellFiles {
  result: CellResult;
  /** weights.safetensors, base64 */
  weights: string;
  /** snapshots.safetensors, base64 (with --snapshots N) */
  snapshots?: string;
}

/**
 * The BullMQ job id of a cell: its key (readable in `tms queue status` and redis-cli), escaped so it never
 * contains ':' (BullMQ refuses it) and never looks like an integer, plus a hash of the whole job, so the same
 * cell of two different configurations (say 1 000 and 10 000 steps) never shares a job, while enqueuing the
 * same study twice gives the same ids and BullMQ keeps the first job.
 */
export function jobIdOf(job: CellJob): string {
  const hash = createHash("sha256").update(JSON.stringify(job)).digest("hex").slice(0, 12);
  const key = job.key.replace(/%/g, "%25").replace(/:/g, "%3A");
  return `${key}@${hash}`;
}

/** The cell key inside a job id (for display). */
export function keyOfJobId(id: string): string {
  const at = id.lastIndexOf("@");
  return (at >= 0 ? id.slice(0, at) : id).replace(/%3A/g, ":").replace(/%25/g, "%");
}

export function encodeCellFiles(files: CellFiles): WireCellFiles {
  const b64 = (bytes: Uint8Array) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  return {
    result: files.result,
    weights: b64(files.weights),
    ...(files.snapshots ? { snapshots: b64(files.snapshots) } : {}),
  };
}

/** Checks the shape of what a worker returned and turns it back into the store's files. */
export function decodeCellFiles(value: unknown, expectedKey: string): CellFiles {
  const v = value as Partial<WireCellFiles> | null;
  if (
    !v ||
    typeof v !== "object" ||
    typeof v.weights !== "string" ||
    !v.result ||
    typeof v.result !== "object"
  ) {
    throw new Error("the worker returned no result (is it an older tms-lab?)");
  }
  if (v.result.key !== expectedKey) {
    throw new Error(`the worker returned the result of '${v.result.key}' for '${expectedKey}'`);
  }
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
  return {
    result: v.result,
    weights: bytes(v.weights),
    ...(typeof v.snapshots === "string" ? { snapshots: bytes(v.snapshots) } : {}),
  };
}

export function workerEnvFromProcess(): RunEnvironment & { worker: string } {
  const raw = process.env[WORKER_ENV_VAR];
  const env = raw ? (JSON.parse(raw) as RunEnvironment) : { tmsLab: "unknown", gitCommit: null };
  return { ...env, worker: env.worker ?? `pid-${process.pid}` };
}
