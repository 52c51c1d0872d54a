// A user's formula in native code (experiments/formula-native.ts): compiled at run time, for long runs only,
// from the formula's vector form written as C; the kernel it makes is held to the reference kernel like the
// built-ins' native code, and is used for every path (Gram, dense, blocks) of the formula's instances.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Activation, getActivation } from "../../src/core/activations.js";
import { defineFormulaActivation } from "../../src/core/formula/activation.js";
import { fastKernel } from "../../src/core/kernels/fast.js";
import {
  type NativeKernel,
  nativeInstances,
  nativeKernelFor,
  setFormulaKernel,
  setNativeKernel,
} from "../../src/core/kernels/native/native.js";
import { makeReferenceKernel } from "../../src/core/kernels/reference.js";
import { initParams, type ModelSpec, makeSpec } from "../../src/core/model.js";
import { setNativeSteps } from "../../src/core/native-steps.js";
import { Rng } from "../../src/core/rng.js";
import { createBatch, sampleBatch } from "../../src/core/sampling.js";
import { TRAIN_DEFAULTS, train } from "../../src/core/train.js";
import { executeCell, executeCells } from "../../src/experiments/cell.js";
import { parseWith, studySchema } from "../../src/experiments/config.js";
import { FORMULA_NATIVE_MIN_STEPS, installFormulaKernels } from "../../src/experiments/formula-native.js";
import { installNativeKernel } from "../../src/experiments/native-kernel.js";
import { getPreset } from "../../src/experiments/presets.js";
import { planStudy } from "../../src/experiments/study.js";
import { BIN, ensureBuilt } from "../helpers/cli.js";
import { whyNoNativeBuild } from "../helpers/native.js";
import { bitEqual, stepDiffs } from "../helpers/numeric.js";

const SKIP = whyNoNativeBuild();
const cache = mkdtempSync(join(tmpdir(), "tms-formula-native-"));
const env = { ...process.env, TMS_KERNEL_CACHE: cache };
afterAll(() => rmSync(cache, { recursive: true, force: true }));
afterEach(() => setNativeKernel(undefined));

// Most of the functions a formula can call, in one formula (one compile): erf, log1p, a power, √, sign, a
// comparison, σ, tanh and a built-in (gelu) by name.
const FORMULA =
  "0.3*x*(1 + erf(x/sqrt(2))) + 0.1*log1p(x^2)*sign(x) + 0.05*sqrt(abs(x)) + 0.2*(x > 0.5)*sigmoid(x) + 0.1*tanh(x) + 0.2*gelu(x)";

const specOf = (F: number, H: number, ps: number[]) =>
  makeSpec(
    F,
    H,
    ps,
    Array.from({ length: F }, (_, f) => 0.9 ** f),
  );

/** One step of a kernel on a fresh batch: losses and gradients. */
function step(kernel: typeof fastKernel, spec: ModelSpec, act: Activation, B = 512) {
  const { nInstances: I, nFeatures: F, nHidden: H } = spec;
  const params = initParams(spec, "f32", 3);
  for (let j = 0; j < params.b.length; j++) params.b[j] = 0.4 * Math.sin(1.7 * j + 3);
  const batch = createBatch(spec, B, "f32");
  sampleBatch(spec, new Rng(3, "formula-native"), batch);
  const grads = { W: new Float64Array(I * F * H), b: new Float64Array(I * F) };
  const losses = new Float64Array(I);
  kernel(spec, act, params, batch, grads, losses);
  return { grads, losses };
}

describe.skipIf(SKIP !== undefined)("a formula in native code", () => {
  beforeAll(() => ensureBuilt());
  beforeEach(() => {
    expect(installNativeKernel()).toBe("native");
  });

  it(`only for runs of at least ${FORMULA_NATIVE_MIN_STEPS} steps; built-ins are left to the main addon`, () => {
    defineFormulaActivation({ id: "short_formula", formula: "x*sigmoid(x)" });
    const status = installFormulaKernels(["short_formula", "relu"], FORMULA_NATIVE_MIN_STEPS - 1, env);
    expect([...status.keys()]).toEqual(["short_formula"]);
    expect(status.get("short_formula")).toMatch(/fewer than/);
    expect(nativeInstances(specOf(20, 5, [1, 0.3]), getActivation("short_formula"), "f32")).toBeUndefined();
    expect(readdirSync(cache)).toEqual([]);
  });

  it("compiles once, is cached, and trains every path to the reference kernel's results", () => {
    defineFormulaActivation({ id: "mixed", formula: FORMULA });
    expect(installFormulaKernels(["mixed"], FORMULA_NATIVE_MIN_STEPS, env).get("mixed")).toBe("native");
    expect(readdirSync(join(cache, "native-formulas")).filter((f) => f.endsWith(".node")).length).toBe(1);
    // the second time from the cache (or this thread's copy): no second addon
    expect(installFormulaKernels(["mixed"], FORMULA_NATIVE_MIN_STEPS, env).get("mixed")).toBe("native");
    expect(readdirSync(join(cache, "native-formulas")).filter((f) => f.endsWith(".node")).length).toBe(1);
    const act = getActivation("mixed");
    const reference = makeReferenceKernel("features");
    const cases: [string, ModelSpec, string[]][] = [
      ["Gram and dense (20 → 5)", specOf(20, 5, [1, 0.3, 0.1]), ["dense", "gram"]],
      ["blocks (5 → 2)", specOf(5, 2, [1, 0.5, 0.05]), ["blocks"]],
    ];
    for (const [what, spec, paths] of cases) {
      const taken = nativeInstances(spec, act, "f32");
      expect(taken, what).toBeDefined();
      for (const p of paths) expect(taken?.[p as "gram"].length, `${what}: ${p}`).toBeGreaterThan(0);
      const got = step(fastKernel, spec, act);
      const ref = step(reference, spec, act);
      const I = spec.nInstances;
      for (const [name, diff] of stepDiffs(ref, got, I)) expect(diff, `${what}: ${name}`).toBeLessThan(2e-5);
      // and it was the native code: WebAssembly's sums round differently
      setNativeKernel(undefined);
      const wasm = step(fastKernel, spec, act);
      expect(bitEqual(wasm.grads.W, got.grads.W), `${what}: native ∇W ≠ WebAssembly's`).toBe(false);
      expect(installNativeKernel()).toBe("native");
    }
  });

  it("a formula's run takes whole steps natively (its addon links the main build's sampler and steps), bit for bit", () => {
    const act = defineFormulaActivation({ id: "mixed", formula: FORMULA });
    expect(installFormulaKernels(["mixed"], FORMULA_NATIVE_MIN_STEPS, env).get("mixed")).toBe("native");
    const formula = nativeKernelFor(act, 5, "f32")?.kernel as NativeKernel;
    const trainSteps = formula.trainSteps as NonNullable<NativeKernel["trainSteps"]>;
    expect(typeof trainSteps, "the formula's addon has trainSteps").toBe("function");
    let calls = 0;
    setFormulaKernel(String(act.key), {
      ...formula,
      trainSteps: (...args) => {
        calls++;
        return trainSteps(...args);
      },
    });
    const config = { ...TRAIN_DEFAULTS, spec: getPreset("intro").spec(), activation: "mixed", steps: 300 };
    try {
      const on = train(config);
      expect(calls, "native steps ran").toBeGreaterThan(0);
      setNativeSteps(false);
      const off = train(config);
      expect(bitEqual(on.params.W, off.params.W), "W").toBe(true);
      expect(bitEqual(on.params.b, off.params.b), "b").toBe(true);
      expect(bitEqual(on.trainLoss, off.trainLoss), "losses").toBe(true);
    } finally {
      setNativeSteps(true);
      setFormulaKernel(String(act.key), formula);
    }
  });

  it("a long formula cell runs natively alone (the queue's path) and in lockstep (a sweep's), bit for bit", () => {
    const saved = process.env.TMS_KERNEL_CACHE;
    process.env.TMS_KERNEL_CACHE = cache;
    try {
      const jobs = planStudy(
        parseWith(
          studySchema,
          {
            presets: ["intro"],
            activations: ["relu", "lk=max(x, 0.1*x)"],
            train: { steps: FORMULA_NATIVE_MIN_STEPS },
          },
          "test",
        ),
      );
      const env = { tmsLab: "test", gitCommit: null };
      // alone first: the queue's path must compile the formula itself (nothing installed it before)
      const alone = jobs.map((job) => executeCell(job, env));
      const together = executeCells(jobs, env);
      for (const [k, job] of jobs.entries()) {
        expect(alone[k].result.computedBy, job.key).toBe("webassembly+native");
        expect(together[k].result.computedBy, job.key).toBe("webassembly+native");
        expect(Buffer.from(together[k].weights).equals(Buffer.from(alone[k].weights)), job.key).toBe(true);
      }
    } finally {
      if (saved === undefined) delete process.env.TMS_KERNEL_CACHE;
      else process.env.TMS_KERNEL_CACHE = saved;
    }
  });

  it("tms train reports it in computedBy: native from the threshold on, WebAssembly below", () => {
    const computedBy = (steps: number) => {
      const r = spawnSync(
        process.execPath,
        [
          BIN,
          "train",
          "--preset",
          "intro",
          "--activation",
          "f=x*sigmoid(x)",
          "--steps",
          String(steps),
          "--json",
        ],
        { encoding: "utf8", env },
      );
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { computedBy: string }).computedBy;
    };
    expect(computedBy(100)).toBe("webassembly");
    expect(computedBy(FORMULA_NATIVE_MIN_STEPS)).toBe("webassembly+native");
  });
});
