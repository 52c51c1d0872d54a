// An instance whose loss or gradient turns non-finite is frozen at that step and reported with it; the other
// instances train on, unaffected, and nothing throws.

import { describe, expect, it } from "vitest";
import { type TrainConfig, Trainer, train } from "../../src/core/train.js";
import { getPreset } from "../../src/experiments/presets.js";
import { runTraining } from "../../src/experiments/run.js";
import { type CellResult, reviveResult } from "../../src/experiments/store-format.js";
import { bitEqual } from "../helpers/numeric.js";

const spec = getPreset("intro").spec();
const { nInstances: I, nFeatures: F, nHidden: H } = spec;
const SICK = 3;
const BLOWUP_STEP = 10;

function config(over: Partial<TrainConfig> = {}): TrainConfig {
  return {
    spec,
    activation: "exp",
    steps: 40,
    batchSize: 128,
    lr: 1e-2,
    lrSchedule: "constant",
    seed: 0,
    dtype: "f32",
    softmaxDim: "features",
    ...over,
  };
}

const wOf = (t: Trainer, i: number) => t.params.W.slice(i * F * H, (i + 1) * F * H);
const bOf = (t: Trainer, i: number) => t.params.b.slice(i * F, (i + 1) * F);

/** Trains BLOWUP_STEP steps, then pushes instance SICK's bias to 100 (exp(100) overflows float32) and
 *  trains on step by step, recording that instance's parameters after every step. */
function blowUp(over: Partial<TrainConfig> = {}) {
  const t = new Trainer(config(over));
  t.advance(BLOWUP_STEP);
  for (let f = 0; f < F; f++) t.params.b[SICK * F + f] = 100;
  const sickW: Float32Array[] = [];
  const sickB: Float32Array[] = [];
  const healthyW: Float32Array[] = [];
  while (!t.done) {
    t.advance(1);
    sickW.push(wOf(t, SICK) as Float32Array);
    sickB.push(bOf(t, SICK) as Float32Array);
    healthyW.push(wOf(t, 0) as Float32Array);
  }
  return { t, sickW, sickB, healthyW };
}

/** `value` with every non-finite number as NaN (what a JSON round trip and reviveResult give back). */
function nonFiniteAsNaN(value: unknown): unknown {
  if (typeof value === "number") return Number.isFinite(value) ? value : Number.NaN;
  if (Array.isArray(value)) return value.map(nonFiniteAsNaN);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, nonFiniteAsNaN(v)]));
  return value;
}

describe("divergence", () => {
  it("a non-finite instance is frozen at its step and reported; the others stay finite", () => {
    const { t, sickW, sickB } = blowUp();
    expect(t.divergedAtStep[SICK]).toBe(BLOWUP_STEP);
    for (let i = 0; i < I; i++) if (i !== SICK) expect(t.divergedAtStep[i], `instance ${i}`).toBe(-1);
    // Frozen: the parameters never change after the divergence step.
    for (let k = 1; k < sickW.length; k++) {
      expect(bitEqual(sickW[k], sickW[0])).toBe(true);
      expect(bitEqual(sickB[k], sickB[0])).toBe(true);
    }
    expect(Array.from(sickB[0])).toEqual(Array(F).fill(100));
    // The reported train loss is the last finite one (from the step before).
    expect(Number.isFinite(t.trainLoss[SICK])).toBe(true);
    for (let i = 0; i < I; i++) {
      if (i === SICK) continue;
      expect(Number.isFinite(t.trainLoss[i])).toBe(true);
      expect(t.params.W.slice(i * F * H, (i + 1) * F * H).every(Number.isFinite)).toBe(true);
    }
  });

  it("the healthy instances keep training, exactly as if nothing had happened", () => {
    const { t, healthyW } = blowUp();
    expect(bitEqual(healthyW.at(-1)!, healthyW[0])).toBe(false);
    const untouched = new Trainer(config());
    untouched.advance(40);
    expect(untouched.divergedAtStep.every((s) => s === -1)).toBe(true);
    for (let i = 0; i < I; i++) {
      if (i === SICK) continue;
      expect(bitEqual(wOf(t, i), wOf(untouched, i)), `instance ${i}`).toBe(true);
      expect(bitEqual(bOf(t, i), bOf(untouched, i)), `instance ${i}`).toBe(true);
    }
  });

  it.each(["reference", "sparse", "auto"] as const)("works the same with the %s kernel", (kernel) => {
    const { t } = blowUp({ kernel });
    expect(t.divergedAtStep[SICK]).toBe(BLOWUP_STEP);
    expect(Array.from(t.divergedAtStep).filter((s) => s >= 0)).toHaveLength(1);
  });

  it("a huge learning rate that makes exp overflow is reported, not thrown (f32 and f64)", () => {
    for (const dtype of ["f32", "f64"] as const) {
      const r = train(config({ lr: 10, dtype, steps: 50 }));
      const diverged = Array.from(r.divergedAtStep).filter((s) => s >= 0);
      expect(diverged.length, dtype).toBeGreaterThan(0);
      for (const s of diverged) expect(s).toBeLessThan(50);
    }
  });

  it("runTraining reports diverged and divergedAtStep per instance, consistently with train()", () => {
    const options = { ...config({ lr: 10, dtype: "f64", steps: 30 }) };
    const { spec: _spec, activation: _act, ...runOptions } = options;
    const out = runTraining("intro", spec, "exp", runOptions);
    const direct = train(options);
    const rows = out.summary.instances;
    expect(rows).toHaveLength(I);
    expect(rows.some((r) => r.diverged)).toBe(true);
    expect(rows.some((r) => !r.diverged)).toBe(true);
    rows.forEach((r, i) => {
      const at = direct.divergedAtStep[i];
      expect(r.diverged).toBe(at >= 0);
      expect(r.divergedAtStep).toBe(at >= 0 ? at : null);
      expect(Number.isFinite(r.trainLoss)).toBe(true);
      if (!r.diverged) expect(Number.isFinite(r.loss)).toBe(true);
    });
    // What the store writes reads back as the same numbers: a diverged instance's non-finite loss is written
    // as null and revived as NaN (store-format.ts), and no field is a typed array or other value JSON would
    // mangle (nonFiniteAsNaN keeps those as they are, so they would differ).
    expect(rows.filter((r) => !Number.isFinite(r.loss)).length).toBeGreaterThan(0);
    const back = reviveResult(JSON.parse(JSON.stringify(out.summary)) as CellResult);
    expect(back).toEqual(nonFiniteAsNaN(out.summary));
  });
});
