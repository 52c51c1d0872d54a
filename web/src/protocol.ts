// Messages between the page and a training worker (one worker per activation trained side by side).

import type { FormulaDefinition } from "../../src/core/formula/activation.js";
import type { CurvePoints } from "./state-curve.js";
import type { SpecData } from "./train-form.js";

export interface StartMessage {
  type: "start";
  runId: number;
  spec: SpecData;
  activation: string;
  /** A typed formula (the activation is then its id): the worker defines it before training. */
  formula?: FormulaDefinition;
  steps: number;
  lr: number;
  seed: number;
  batchSize: number;
}

export type ToWorker = StartMessage | { type: "stop" } | { type: "resume" };

export interface ProgressMessage {
  type: "progress";
  runId: number;
  /** Steps taken so far. */
  step: number;
  /** Current W [I, F, H] and b [I, F] (copies). */
  W: Float32Array | Float64Array;
  b: Float32Array | Float64Array;
  /** Curve points recorded since the previous message. */
  curve: CurvePoints;
  /** Last finite training loss per instance. */
  trainLoss: number[];
  /** Step at which each instance diverged, or −1. */
  divergedAtStep: number[];
  /** Training steps per second of compute time over the last ~2 s (excludes pauses and messaging). */
  stepsPerSecond: number;
  /** The same over the whole run so far (compilation and warm-up included). */
  averageStepsPerSecond: number;
  trainSeconds: number;
  paused: boolean;
}

export type FromWorker =
  | ProgressMessage
  | { type: "done"; runId: number; evalLoss: number[]; evalSeconds: number }
  | { type: "error"; runId: number; message: string };
