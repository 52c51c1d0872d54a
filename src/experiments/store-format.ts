// The shapes of a results store's files (see store.ts for the layout). Pure types, no Node APIs.

import type { RunSummary } from "./run.js";

export const RESULT_SCHEMA = "tms-lab/result@1";
export const STORE_SCHEMA = "tms-lab/store@1";

export interface CellResult extends RunSummary {
  schema: typeof RESULT_SCHEMA;
  key: string;
  variant: string;
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
}

export interface CellFiles {
  result: CellResult;
  weights: Uint8Array;
  snapshots?: Uint8Array;
}
