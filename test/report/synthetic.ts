// Hand-made cell results and stores for the report's tests: numbers chosen so the right answer is known.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { instanceMetrics } from "../../src/core/metrics.js";
import { cellKey } from "../../src/experiments/cell-key.js";
import type { InstanceSummary } from "../../src/experiments/run.js";
import { encodeSafetensors } from "../../src/experiments/safetensors.js";
import { writeCell } from "../../src/experiments/store.js";
import { type CellResult, RESULT_SCHEMA, STORE_SCHEMA } from "../../src/experiments/store-format.js";

export interface InstanceSpec {
  p: number;
  loss: number;
  /** Per-feature superposition (default 0) and norms (default 1). */
  sup?: number;
  norms?: number[];
  /** Per-feature superposition (overrides `sup`). */
  superposition?: number[];
  /** ‖W − W₀‖/‖W₀‖ (absent, like stores written before it was recorded, unless given). */
  weightChange?: number;
  diverged?: boolean;
}

/** An instance summary with the given loss and a uniform superposition. */
export function inst(s: InstanceSpec, F: number): InstanceSummary {
  const norms = s.norms ?? Array.from({ length: F }, () => 1);
  const superposition = s.superposition ?? norms.map(() => s.sup ?? 0);
  const represented = norms.map((n, f) => [n, f] as const).filter(([n]) => n > 0.5);
  return {
    featureProbability: s.p,
    sparsity: 1 - s.p,
    loss: s.loss,
    trainLoss: s.loss,
    diverged: Boolean(s.diverged),
    divergedAtStep: s.diverged ? 7 : null,
    norms,
    superposition,
    dimsPerFeature: 1,
    featureDimensionality: norms.map(() => 1),
    featuresRepresented: norms.filter((n) => n > 0.5).length,
    fractionSuperposed: represented.length
      ? represented.filter(([, f]) => superposition[f] > 0.1).length / represented.length
      : 0,
    ...(s.weightChange === undefined ? {} : { weightChange: s.weightChange }),
    biasMean: 0,
    biasMin: 0,
    biasMax: 0,
  };
}

export function result(o: {
  preset: string;
  activation: string;
  variant?: string;
  seed: number;
  F: number;
  H: number;
  instances: InstanceSummary[];
  importance?: number[];
  steps?: number;
}): CellResult {
  const variant = o.variant ?? "";
  const importance = o.importance ?? Array.from({ length: o.F }, (_, f) => 0.9 ** f);
  const steps = o.steps ?? 10;
  return {
    schema: RESULT_SCHEMA,
    key: cellKey(o.preset, o.activation, variant, o.seed),
    variant,
    preset: o.preset,
    activation: o.activation,
    nFeatures: o.F,
    nHidden: o.H,
    nInstances: o.instances.length,
    steps,
    batchSize: 8,
    lr: 1e-3,
    lrSchedule: "constant",
    seed: o.seed,
    dtype: variant.includes("f64") ? "f64" : "f32",
    softmaxDim: variant.includes("softmax-batch") ? "batch" : "features",
    seconds: 0,
    evalSeconds: 0,
    instances: o.instances,
    lossCurve: {
      step: [1, 2, 5, 10],
      loss: [1, 2, 5, 10].map((t) => o.instances.map((x) => x.loss * (1 + 1 / t))),
    },
    config: {
      featureProbability: o.instances.map((x) => x.featureProbability),
      importance: o.instances.map(() => importance),
    },
    versions: { tmsLab: "test" },
    gitCommit: null,
    timings: { startedAt: "", finishedAt: "", trainSeconds: 0, evalSeconds: 0 },
  };
}

/** A cell with real weights W [I, F, H] (metrics computed from them) and a given loss per instance. */
export function cellFromWeights(o: {
  preset: string;
  activation: string;
  variant?: string;
  seed: number;
  W: number[][][];
  probs: number[];
  importance: number[][];
  loss: (i: number) => number;
}) {
  const I = o.W.length;
  const F = o.W[0].length;
  const H = o.W[0][0].length;
  const flat = new Float32Array(I * F * H);
  o.W.forEach((wi, i) => {
    wi.forEach((wf, f) => {
      wf.forEach((v, k) => {
        flat[(i * F + f) * H + k] = v;
      });
    });
  });
  const b = new Float32Array(I * F);
  const instances = o.probs.map((p, i) => ({
    ...inst({ p, loss: o.loss(i) }, F),
    ...instanceMetrics(flat, b, i, F, H),
  }));
  const r = result({
    preset: o.preset,
    activation: o.activation,
    variant: o.variant,
    seed: o.seed,
    F,
    H,
    instances,
  });
  r.config.importance = o.importance;
  const weights = encodeSafetensors({
    W: { dtype: "F32", shape: [I, F, H], data: flat },
    b: { dtype: "F32", shape: [I, F], data: b },
  });
  return { result: r, weights };
}

/** Writes cells and a manifest listing them plus `missing` keys that have no cell. */
export function writeStore(dir: string, cells: ReturnType<typeof cellFromWeights>[], missing: string[] = []) {
  for (const c of cells) writeCell(dir, c);
  writeFileSync(
    join(dir, "manifest.json"),
    JSON.stringify({
      schema: STORE_SCHEMA,
      configHash: "test",
      tmsLab: "test",
      createdAt: "",
      study: {},
      cells: [...cells.map((c) => c.result.key), ...missing].sort(),
    }),
  );
}

/** Deterministic pseudo-random numbers in [0, 1) for test data. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** A small synthetic store with intro-like, demo-like and phase cells (2 activations × 2 seeds). */
export function syntheticStore(dir: string, missing: string[] = []): void {
  const cells: ReturnType<typeof cellFromWeights>[] = [];
  for (const activation of ["relu", "gelu"]) {
    for (const seed of [0, 1]) {
      const rnd = lcg(seed * 31 + activation.length);
      // intro-like: 5 features in 2 dimensions, 4 sparsity levels; a pentagon for relu, 2 features for gelu.
      const probs = [1, 0.3, 0.1, 0.03];
      const W = probs.map((_, i) =>
        Array.from({ length: 5 }, (_, f) => {
          const a = (2 * Math.PI * f) / 5 + 0.1 * rnd();
          const len = activation === "relu" ? 1 : f < 2 ? 1 : 0.05 * (i + 1);
          return [len * Math.cos(a), len * Math.sin(a)];
        }),
      );
      cells.push(
        cellFromWeights({
          preset: "intro",
          activation,
          seed,
          W,
          probs,
          importance: probs.map(() => [1, 0.9, 0.81, 0.729, 0.6561]),
          loss: (i) => 0.01 * probs[i] * (activation === "relu" ? 1 : 1.5) * (1 + 0.05 * rnd()),
        }),
      );
      // demo-like: 6 features in 3 dimensions, 3 sparsity levels.
      const dprobs = [1, 0.1, 0.01];
      const DW = dprobs.map(() => Array.from({ length: 6 }, () => [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5]));
      cells.push(
        cellFromWeights({
          preset: "demo",
          activation,
          seed,
          W: DW,
          probs: dprobs,
          importance: dprobs.map(() => Array.from({ length: 6 }, (_, f) => 0.7 ** f)),
          loss: (i) => 0.02 * dprobs[i] * (1 + 0.1 * rnd()),
        }),
      );
      // geometry-like: 6 equally important features in 3 dimensions as antipodal pairs (D_f = 1/2).
      const gprobs = [1, 0.1, 0.01];
      const GW = gprobs.map(() =>
        [0, 1, 2].flatMap((k) => [0, 1].map((s) => [0, 1, 2].map((j) => (j === k ? (s ? -1 : 1) : 0)))),
      );
      cells.push(
        cellFromWeights({
          preset: "geometry",
          activation,
          seed,
          W: GW,
          probs: gprobs,
          importance: gprobs.map(() => Array.from({ length: 6 }, () => 1)),
          loss: (i) => 0.03 * gprobs[i],
        }),
      );
      // phase: a 3 × 3 grid of the 2-feature, 1-dimension model, one class per region.
      const pw: number[][][] = [];
      const pprobs: number[] = [];
      const pimp: number[][] = [];
      for (const p of [1, 0.1, 0.01]) {
        for (const r of [0.1, 1, 10]) {
          pprobs.push(p);
          pimp.push([1, r]);
          pw.push(r < 0.5 ? [[1], [0]] : r > 5 ? [[0], [1]] : p < 0.5 ? [[1], [-1]] : [[1], [0.1]]);
        }
      }
      cells.push(
        cellFromWeights({
          preset: "phase",
          activation,
          seed,
          W: pw,
          probs: pprobs,
          importance: pimp,
          loss: () => 0.01,
        }),
      );
    }
  }
  writeStore(dir, cells, missing);
}
