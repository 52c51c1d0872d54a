// Whole training steps in native code (native/steps.cc, src/core/native-steps.ts):
//  * a run it covers (float32, small model on the blocks path, every instance sampled as rows, AdamW) takes
//    its steps there, and ends bit for bit where the JavaScript-driven steps end: weights, losses, loss curve
//    and divergence, for several activations, learning-rate schedules and a run that diverges mid-slice;
//  * a lockstep group of such runs takes its steps there together, each run ending where it ends trained
//    alone (snapshots and progress included), also when one run of the group diverges;
//  * runs it does not cover never call it, nor a group with one such run;
//  * bad arguments are exceptions, not crashes.

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type NativeKernel, setNativeKernel } from "../../src/core/kernels/native/native.js";
import { trainLockstep } from "../../src/core/lockstep.js";
import { setNativeSteps } from "../../src/core/native-steps.js";
import type { LrSchedule, OptimizerName } from "../../src/core/optimizer.js";
import { type TrainConfig, type TrainOutcome, train } from "../../src/core/train.js";
import { installNativeKernel, loadedNativeKernel } from "../../src/experiments/native-kernel.js";
import { getPreset } from "../../src/experiments/presets.js";
import { ensureBuilt } from "../helpers/cli.js";
import { nativeFailure, whyNoNativeBuild } from "../helpers/native.js";
import { bitEqual } from "../helpers/numeric.js";

const SKIP = whyNoNativeBuild();
if (SKIP) console.warn(`native steps tests skipped: ${SKIP}`);

let addon: NativeKernel;
/** Installs the addon with trainSteps wrapped: each call's requested and taken steps are recorded. */
function installSpy(): { n: number; done: number }[] {
  const calls: { n: number; done: number }[] = [];
  const trainSteps = addon.trainSteps as NonNullable<NativeKernel["trainSteps"]>;
  setNativeKernel({
    ...addon,
    trainSteps: (memory, params, args, doubles, losses, seconds) => {
      const n = args[0];
      const done = trainSteps(memory, params, args, doubles, losses, seconds);
      calls.push({ n, done });
      return done;
    },
  });
  return calls;
}

function config(over: Partial<TrainConfig> & { preset?: string }): TrainConfig {
  const { preset = "intro", ...rest } = over;
  return {
    spec: getPreset(preset).spec(),
    activation: "relu",
    steps: 300,
    batchSize: 1024,
    lr: 1e-3,
    lrSchedule: "constant",
    seed: 5,
    dtype: "f32",
    softmaxDim: "features",
    ...rest,
  };
}

/** Where the run ends with native steps on, and with them off (the JavaScript-driven step), and the spy's calls. */
function bothWays(c: TrainConfig): {
  on: TrainOutcome;
  off: TrainOutcome;
  calls: { n: number; done: number }[];
} {
  const calls = installSpy();
  setNativeSteps(true);
  const on = train(c);
  const seen = calls.slice();
  setNativeSteps(false);
  const off = train(c);
  expect(calls.length, "no native steps while they are off").toBe(seen.length);
  return { on, off, calls: seen };
}

function expectSame(on: TrainOutcome, off: TrainOutcome, what: string): void {
  expect(bitEqual(on.params.W, off.params.W), `${what}: W`).toBe(true);
  expect(bitEqual(on.params.b, off.params.b), `${what}: b`).toBe(true);
  expect(bitEqual(on.trainLoss, off.trainLoss), `${what}: last losses`).toBe(true);
  expect(Array.from(on.divergedAtStep), `${what}: divergence`).toEqual(Array.from(off.divergedAtStep));
  expect(JSON.stringify(on.curve), `${what}: loss curve`).toBe(JSON.stringify(off.curve));
}

function expectEveryStepNative(calls: { n: number; done: number }[], steps: number): void {
  expect(calls.length, "native steps ran").toBeGreaterThan(0);
  expect(
    calls.reduce((s, c) => s + c.done, 0),
    "every step native",
  ).toBe(steps);
}

afterEach(() => {
  setNativeSteps(true);
  setNativeKernel(undefined);
});

describe.skipIf(SKIP !== undefined)("native training steps", () => {
  beforeAll(() => {
    ensureBuilt();
    expect(installNativeKernel()).toBe("native");
    addon = loadedNativeKernel() as NativeKernel;
    expect(typeof addon.trainSteps, "the addon exports trainSteps where it has the rows sampler").toBe(
      typeof addon.sampleRows,
    );
  });

  const cases: [string, LrSchedule][] = [
    ["relu", "constant"],
    ["gelu", "constant"],
    ["softmax", "constant"],
    ["sigmoid", "cosine"],
    ["mish", "linear"],
    ["exp", "constant"],
  ];
  it.each(cases)(
    "intro %s (%s learning rate): the same bits as the JavaScript-driven steps",
    (act, schedule) => {
      if (!addon.trainSteps) return;
      const { on, off, calls } = bothWays(config({ activation: act, lrSchedule: schedule }));
      expectSame(on, off, act);
      expectEveryStepNative(calls, 300);
    },
  );

  it("the phase preset's shape (and a first slice of one step) the same way", () => {
    if (!addon.trainSteps) return;
    const { on, off, calls } = bothWays(config({ preset: "phase", activation: "gelu", steps: 120 }));
    expectSame(on, off, "phase gelu");
    expect(calls[0]).toEqual({ n: 1, done: 1 });
  });

  it("a run that diverges: native steps stop before the bad step, which the trainer takes itself", () => {
    if (!addon.trainSteps) return;
    // a learning rate of 10⁶ blows every instance up within a few steps, some a step before others
    const { on, off, calls } = bothWays(
      config({ activation: "elu", lr: 1e6, lrSchedule: "linear", steps: 50 }),
    );
    expectSame(on, off, "elu at lr 1e6");
    const diverged = Array.from(on.divergedAtStep);
    expect(
      diverged.every((s) => s >= 0),
      "every instance diverged",
    ).toBe(true);
    expect(new Set(diverged).size, "at different steps").toBeGreaterThan(1);
    expect(
      calls.some((c) => c.done < c.n),
      "a slice ended early",
    ).toBe(true);
  });

  const notCovered: [string, Partial<TrainConfig> & { preset?: string }][] = [
    ["float64", { dtype: "f64" }],
    ["the demo preset (F = 20: not the blocks path)", { preset: "demo", steps: 20 }],
    ["Adam", { optimizer: "adam" as OptimizerName }],
    ["SGD", { optimizer: "sgd" as OptimizerName }],
    ["the JavaScript kernel", { kernel: "sparse" }],
    ["the readable kernel", { kernel: "reference" }],
    ["softmax over the batch", { activation: "softmax", softmaxDim: "batch" }],
  ];
  it.each(notCovered)("%s: never called, and the run is what it was", (_, over) => {
    if (!addon.trainSteps) return;
    const { on, off, calls } = bothWays(config({ steps: 30, ...over }));
    expect(calls).toEqual([]);
    expectSame(on, off, _);
  });

  /** A lockstep group both ways; every run also trained alone with native steps off. */
  function lockstepBothWays(configs: TrainConfig[]) {
    const hooks = () =>
      configs.map(() => {
        const progress: number[] = [];
        return { progress, hooks: { snapshots: 4, onProgress: (step: number) => progress.push(step) } };
      });
    const calls = installSpy();
    setNativeSteps(true);
    const onHooks = hooks();
    const on = trainLockstep(
      configs,
      onHooks.map((h) => h.hooks),
    );
    const seen = calls.slice();
    setNativeSteps(false);
    const offHooks = hooks();
    const off = trainLockstep(
      configs,
      offHooks.map((h) => h.hooks),
    );
    const alone = configs.map((c) => train(c));
    expect(calls.length, "no native steps while they are off").toBe(seen.length);
    configs.forEach((c, k) => {
      const what = `${c.activation} in lockstep`;
      expectSame(on[k], off[k], what);
      expectSame(on[k], alone[k], `${what} and alone`);
      expect(onHooks[k].progress, `${what}: progress`).toEqual(offHooks[k].progress);
      expect(onHooks[k].progress.length, `${what}: progress`).toBe(100);
      expect(on[k].snapshots?.step, `${what}: snapshot steps`).toEqual(off[k].snapshots?.step);
      on[k].snapshots?.W.forEach((W, j) => {
        expect(bitEqual(W, off[k].snapshots?.W[j] as Float32Array), `${what}: snapshot ${j}`).toBe(true);
      });
      expect(on[k].seconds, `${what}: seconds`).toBeGreaterThan(0);
    });
    return seen;
  }

  it("a lockstep group: one batch a step for every run, each run where it ends alone", () => {
    if (!addon.trainSteps) return;
    // learning rates and schedules differ between the runs (lockstep shares the data, not these)
    const calls = lockstepBothWays([
      config({ activation: "relu", steps: 200 }),
      config({ activation: "gelu", steps: 200, lrSchedule: "cosine" }),
      config({ activation: "softmax", steps: 200, lr: 3e-3, lrSchedule: "linear" }),
      config({ activation: "tanh", steps: 200, lr: 2e-3 }),
      config({ activation: "exp", steps: 200 }),
    ]);
    expectEveryStepNative(calls, 200);
  });

  it("a lockstep group with a diverging run: native up to that step, then step by step", () => {
    if (!addon.trainSteps) return;
    const calls = lockstepBothWays([
      config({ activation: "relu", steps: 100 }),
      config({ activation: "elu", lr: 1e6, steps: 100 }),
    ]);
    expect(
      calls.some((c) => c.done < c.n),
      "a slice ended early",
    ).toBe(true);
    expect(
      calls.reduce((s, c) => s + c.done, 0),
      "some steps native, not all",
    ).toBeLessThan(100);
  });

  it("a lockstep group with one run it does not cover: never called", () => {
    if (!addon.trainSteps) return;
    const calls = lockstepBothWays([
      config({ activation: "relu", steps: 100 }),
      config({ activation: "gelu", steps: 100, optimizer: "adam" }),
    ]);
    expect(calls).toEqual([]);
  });

  describe("bad arguments are exceptions, not crashes", () => {
    // one run of two instances, F = 5, H = 2, B = 64: the header (10 words), the run's (10), the rows
    // sampler's header (4) and records (26 each)
    const make = () => {
      const I = 2;
      const F = 5;
      const H = 2;
      const B = 64;
      const args = new Int32Array(20 + 4 + 26 * I);
      // steps, instances, F, H, B, runs, the generator's state
      args.set([1, I, F, H, B, 1, 1, 2, 3, 4]);
      // the activation's index, then W, b, ∇W, ∇b, m and v of W and of b
      args.set([0, 0, 128, 256, 512, 640, 768, 896, 960], 10);
      args.set([I, B, F, 0x8000], 20);
      for (let i = 0; i < I; i++) {
        const o = 24 + 26 * i;
        args[o + 16] = 0x7fffffff; // T − 1 (p ≈ 0.5)
        args[o + 17] = 0x34000000; // c = 2⁻²³
        args[o + 18] = 0x1000 * (i + 1);
        args[o + 19] = 0x4000 + 0x400 * i;
        args[o + 20] = 0x5000 + 0x800 * i;
      }
      return {
        memory: new ArrayBuffer(1 << 16),
        params: [new ArrayBuffer(1024)] as ArrayBuffer[],
        args,
        doubles: new Float64Array(I * F + 7).fill(0.5),
        losses: new Float64Array(I),
        seconds: new Float64Array(2),
      };
    };
    const code = nativeFailure;
    type Input = ReturnType<typeof make>;
    const call = (x: Input) => () =>
      (addon.trainSteps as NonNullable<NativeKernel["trainSteps"]>)(
        x.memory,
        x.params,
        x.args,
        x.doubles,
        x.losses,
        x.seconds,
      );
    // each case and the words of the message it must get
    const broken: [string, RegExp, (x: Input) => void][] = [
      ["an unknown activation index", /no blocks path/, (x) => (x.args[10] = 1000)],
      ["no blocks path for the shape (H ≥ F)", /no blocks path/, (x) => (x.args[3] = 5)],
      [
        "F beyond the blocks path (the sampler's 8)",
        /no blocks path/,
        (x) => {
          x.args[2] = 8;
          x.args[22] = 8;
        },
      ],
      ["no runs", /one ArrayBuffer per run/, (x) => (x.args[5] = 0)],
      [
        "params not one buffer per run",
        /one ArrayBuffer per run/,
        (x) => x.params.push(new ArrayBuffer(1024)),
      ],
      ["a parameter outside its memory", /outside the parameter memory/, (x) => (x.args[18] = 1000)],
      ["a misaligned gradient", /outside the parameter memory/, (x) => (x.args[13] = 260)],
      ["the sampler describing other instances", /do not describe/, (x) => (x.args[20] = 1)],
      [
        "the sampler's rows outside the memory",
        /rows, sample list or blocks/,
        (x) => (x.args[24 + 18] = 1 << 16),
      ],
      ["too few scalars for the steps", /too short/, (x) => (x.args[0] = 2)],
      ["no room for the seconds", /too short/, (x) => (x.seconds = new Float64Array(1))],
      ["args shorter than the header", /must be an Int32Array/, (x) => (x.args = x.args.slice(0, 8))],
      ["args shorter than its runs", /shorter than its runs/, (x) => (x.args = x.args.slice(0, 15))],
      [
        "args shorter than its records",
        /shorter than its count of records/,
        (x) => (x.args = x.args.slice(0, 40)),
      ],
    ];
    it("a well-formed call runs", () => {
      if (!addon.trainSteps) return;
      const x = make();
      expect(call(x)()).toBe(1);
      expect(Number.isFinite(x.losses[0])).toBe(true);
      expect(x.seconds[0] > 0 && x.seconds[1] > 0, "time spent sampling and in the run").toBe(true);
    });
    it.each(broken)("%s", (_, message, breakIt) => {
      if (!addon.trainSteps) return;
      const x = make();
      breakIt(x);
      expect(code(call(x))).toBe("TMS_NATIVE: true");
      expect(call(x)).toThrow(message);
    });
  });
});
