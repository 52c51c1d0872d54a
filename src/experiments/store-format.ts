// The shapes of a results store's files (see store.ts for the layout). Pure types, no Node APIs.

import type { FormulaDefinition } from "../core/formula/activation.js";
import type { RunSummary } from "./run.js";

export const RESULT_SCHEMA = "tms-lab/result@1";
export const STORE_SCHEMA = "tms-lab/store@1";

export interface CellResult extends RunSummary {
  schema: typeof RESULT_SCHEMA;
  key: string;
  variant: string;
  /** A formula activation's definition (formula and parameter values). */
  formula?: FormulaDefinition;
  config: {
    featureProbability: number[];
    /** [instance][feature] */
    importance: number[][];
    experiment?: unknown;
  };
  versions: { tmsLab: string; node?: string };
  gitCommit: string | null;
  timings: {
    startedAt: string;
    finishedAt: string;
    trainSeconds: number;
    evalSeconds: number;
    worker?: string;
  };
  snapshotSteps?: number[];
}

export interface Manifest {
  schema: typeof STORE_SCHEMA;
  /** Hash of everything that determines the cells' numbers; a store is never mixed across two. */
  configHash: string;
  tmsLab: string;
  createdAt: string;
  study: unknown;
  cells: string[];
  /** The formula activations of the cells, by id (a store never holds two definitions of one id). */
  formulas?: Record<string, FormulaDefinition>;
}

export interface CellFiles {
  result: CellResult;
  weights: Uint8Array;
  snapshots?: Uint8Array;
}

/**
 * JSON has no NaN or ±Infinity: JSON.stringify writes them as null (a diverged instance's loss, a metric of
 * an all-zero W). Reading a result back, this turns those nulls into NaN again, so every numeric field is a
 * number as typed; `divergedAtStep` keeps null (it means "did not diverge").
 */
export function reviveResult<T extends CellResult>(r: T): T {
  for (const inst of r.instances as unknown as Record<string, unknown>[])
    for (const [k, v] of Object.entries(inst)) if (v === null && k !== "divergedAtStep") inst[k] = Number.NaN;
  for (const row of r.lossCurve?.loss ?? []) for (let i = 0; i < row.length; i++) row[i] ??= Number.NaN;
  return r;
}
