// Which code computed a run is part of its summary (`computedBy`, core/train.ts kernelUsed): `tms train
// --json` and the store's result.json say "webassembly+native" where the native kernel ran some of the
// instances, "webassembly" where it ran none (TMS_NATIVE=off, float64, formulas), and
// "reference" for the softmax over the batch. Results from different kernels agree to float32 rounding, not
// bit for bit, so a reader comparing stores across machines can tell them apart.

import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ensureBuilt, tempDir } from "../helpers/cli.js";
import { whyNoNativeBuild } from "../helpers/native.js";

beforeAll(() => ensureBuilt());

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `tms …` with this environment (TMS_NATIVE as given, the rest inherited). */
function tms(args: string[], native?: string) {
  const env = { ...process.env };
  if (native === undefined) delete env.TMS_NATIVE;
  else env.TMS_NATIVE = native;
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const computedBy = (args: string[], native?: string) =>
  (JSON.parse(tms(["train", ...args, "--steps", "3", "--json"], native)) as { computedBy: string })
    .computedBy;

describe("computedBy: which kernel trained a run", () => {
  it("webassembly with TMS_NATIVE=off, reference for the batch softmax, webassembly for float64", () => {
    expect(computedBy(["--preset", "demo", "--activation", "relu"], "off")).toBe("webassembly");
    expect(computedBy(["--preset", "intro", "--activation", "relu"], "off")).toBe("webassembly");
    expect(computedBy(["--preset", "demo", "--activation", "softmax", "--softmax-dim", "batch"])).toBe(
      "reference",
    );
    expect(computedBy(["--preset", "intro", "--activation", "relu", "--dtype", "f64"])).toBe("webassembly");
    expect(computedBy(["--preset", "demo", "--activation", "relu", "--dtype", "f64"])).toBe("webassembly");
  });

  it.skipIf(whyNoNativeBuild() !== undefined)(
    "webassembly+native where the native kernel runs (demo; intro on the blocks path)",
    () => {
      expect(computedBy(["--preset", "demo", "--activation", "relu"])).toBe("webassembly+native");
      expect(computedBy(["--preset", "demo", "--activation", "gelu"])).toBe("webassembly+native");
      expect(computedBy(["--preset", "intro", "--activation", "relu"])).toBe("webassembly+native");
      expect(computedBy(["--preset", "demo", "--activation", "softmax"])).toBe("webassembly+native");
    },
  );

  it("and the store's result.json says the same", () => {
    const out = tempDir("tms-computed-by-");
    dirs.push(out);
    tms(
      ["sweep", "--presets", "demo", "--activations", "relu", "--seeds", "0", "--steps", "3", "--out", out],
      "off",
    );
    const result = JSON.parse(readFileSync(join(out, "demo", "relu", "seed-0", "result.json"), "utf8")) as {
      computedBy: string;
    };
    expect(result.computedBy).toBe("webassembly");
  });
});
