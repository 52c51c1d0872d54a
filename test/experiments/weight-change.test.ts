// Instance summaries record how far training moved W from its initialisation (the report's training guard).

import { describe, expect, it } from "vitest";
import { initParams } from "../../src/core/model.js";
import { getPreset } from "../../src/experiments/presets.js";
import { RUN_DEFAULTS, runTraining } from "../../src/experiments/run.js";

describe("weightChange = ‖W − W₀‖_F / ‖W₀‖_F per instance", () => {
  const spec = getPreset("intro").spec();
  const opts = { ...RUN_DEFAULTS, steps: 1, batchSize: 64, seed: 3, kernel: "sparse" as const };

  it("equals the distance of the returned weights from initParams(spec, dtype, seed)", () => {
    const { summary, params } = runTraining("intro", spec, "relu", opts);
    const W0 = initParams(spec, opts.dtype, opts.seed).W;
    const F = spec.nFeatures * spec.nHidden;
    summary.instances.forEach((x, i) => {
      let d = 0;
      let n = 0;
      for (let j = i * F; j < (i + 1) * F; j++) {
        d += (params.W[j] - W0[j]) ** 2;
        n += W0[j] ** 2;
      }
      expect(x.weightChange).toBeCloseTo(Math.sqrt(d / n), 12);
      // one Adam step of lr 1e-3 moves each weight by about 1e-3: far below the guard's 0.25
      expect(x.weightChange).toBeGreaterThan(0);
      expect(x.weightChange).toBeLessThan(0.05);
    });
  });

  it("grows well past the guard's threshold once the model learns", () => {
    const { summary } = runTraining("intro", spec, "relu", { ...opts, steps: 300, lr: 1e-2 });
    expect(Math.min(...summary.instances.map((x) => x.weightChange ?? 0))).toBeGreaterThan(0.25);
  });
});
