// The optimizer, a setting of a run: AdamW (the default, as the notebook), Adam or SGD with momentum, each
// as torch.optim does it. Parameters are trained in groups (one per model instance) with a step counter
// each, so an instance frozen after divergence keeps its own bias correction. One factory gives the
// JavaScript implementation (optimizer/update.ts, the specification) or the WebAssembly one
// (optimizer/wasm.ts), which computes the same numbers bit for bit.

import type { Gradients } from "./kernels/types.js";
import type { Params } from "./model.js";
import {
  createState,
  type OptimizerName,
  type OptimizerSettings,
  type OptimizerState,
  stepScalars,
  TORCH_DEFAULTS,
  update,
} from "./optimizer/update.js";
import { type OptimizerStorage, wasmStorage } from "./optimizer/wasm.js";

export {
  type AdamHyper,
  OPTIMIZER_NAMES,
  type OptimizerName,
  type OptimizerSettings,
  type OptimizerState,
  type SgdHyper,
  TORCH_DEFAULTS,
} from "./optimizer/update.js";

export interface Optimizer {
  readonly settings: OptimizerSettings;
  /** The parameters, updated in place (for WebAssembly, views of its memory: a copy of the initial ones). */
  readonly params: Params;
  /** Where the kernel writes the gradients that the next step uses. */
  readonly grads: Gradients;
  readonly state: { W: OptimizerState; b: OptimizerState };
  /** Steps taken by each group. */
  readonly steps: Int32Array;
  /** One step at learning rate lr for groups [from, to) (default all), whose step counts must agree. */
  step(lr: number, from?: number, to?: number): void;
  /** Counts n steps of every group taken by other code on this optimizer's state (native/steps.cc). */
  stepped(n: number): void;
}

export type OptimizerBackend = "auto" | "js" | "wasm";

/**
 * An optimizer for `initial` (copied where the backend keeps its own memory) split into `groups` equal groups
 * of W and of b. "auto" is WebAssembly where available, else JavaScript; "wasm" throws where unavailable.
 */
export function createOptimizer(
  settings: OptimizerSettings | OptimizerName,
  initial: Params,
  groups: number,
  backend: OptimizerBackend = "auto",
): Optimizer {
  const s = typeof settings === "string" ? TORCH_DEFAULTS[settings] : settings;
  const fast = backend === "js" ? undefined : wasmStorage(s.name, initial);
  if (backend === "wasm" && !fast) throw new Error("optimizer: WebAssembly is not available here");
  return new GroupedOptimizer(s, fast ?? jsStorage(s.name, initial), groups);
}

function jsStorage(name: OptimizerName, initial: Params): OptimizerStorage {
  const { dtype } = initial;
  const [nW, nB] = [initial.W.length, initial.b.length];
  return {
    params: initial,
    grads: { W: new Float64Array(nW), b: new Float64Array(nB) },
    state: { W: createState(name, dtype, nW), b: createState(name, dtype, nB) },
    update,
  };
}

class GroupedOptimizer implements Optimizer {
  readonly params: Params;
  readonly grads: Gradients;
  readonly state: { W: OptimizerState; b: OptimizerState };
  readonly steps: Int32Array;
  private readonly storage: OptimizerStorage;
  constructor(
    readonly settings: OptimizerSettings,
    storage: OptimizerStorage,
    groups: number,
  ) {
    this.storage = storage;
    ({ params: this.params, grads: this.grads, state: this.state } = storage);
    this.steps = new Int32Array(groups);
    if (this.params.W.length % groups || this.params.b.length % groups)
      throw new Error(`optimizer: ${groups} groups do not divide W and b evenly`);
  }

  step(lr: number, from = 0, to = this.steps.length): void {
    const t = advance(this.steps, from, to);
    const s = stepScalars(this.settings, t, lr);
    const G = this.steps.length;
    const { params, grads, state } = this;
    const [gW, gB] = [params.W.length / G, params.b.length / G];
    this.storage.update(s, params.W, grads.W, state.W, from * gW, to * gW);
    this.storage.update(s, params.b, grads.b, state.b, from * gB, to * gB);
  }

  stepped(n: number): void {
    const t = this.steps[0];
    if (this.steps.some((s) => s !== t)) throw new Error("optimizer: groups are at different steps");
    this.steps.fill(t + n);
  }
}

/** Advances the step counters of groups [from, to), which must agree; returns the new count t (1-based). */
function advance(steps: Int32Array, from: number, to: number): number {
  for (let k = from + 1; k < to; k++)
    if (steps[k] !== steps[from])
      throw new Error(`optimizer: groups ${from}…${to - 1} are at different steps`);
  const t = steps[from] + 1;
  steps.fill(t, from, to);
  return t;
}

export type LrSchedule = "constant" | "linear" | "cosine";
export const LR_SCHEDULES: readonly LrSchedule[] = ["constant", "linear", "cosine"];

/** The notebook's learning-rate multipliers at step (0-based) of `steps`. */
export function lrScale(schedule: LrSchedule, step: number, steps: number): number {
  if (schedule === "linear") return 1 - step / steps;
  if (schedule === "cosine") return Math.cos(0.5 * Math.PI * (step / Math.max(1, steps - 1)));
  return 1;
}
