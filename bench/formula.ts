// `node dist/bench/formula.js`: a formula equal to a built-in against the built-in, per step of training
// (issue #18 asks for ≤ 1.3×). Both trainers run in one process and alternate in short chunks, so both see
// the same load from other tenants; each keeps its minimum and median time per step.
//   node dist/bench/formula.js [--presets demo,intro] [--only silu,relu,gelu] [--warmup 1000] [--chunk 20] [--rounds 60]

import { enableRelaxedSimd } from "../src/cli/node-flags.js";
import { defineFormulaActivation } from "../src/core/formula/activation.js";
import { TRAIN_DEFAULTS, Trainer } from "../src/core/train.js";
import { FORMULA_NATIVE_MIN_STEPS, installFormulaKernels } from "../src/experiments/formula-native.js";
import { getPreset } from "../src/experiments/presets.js";

const ALL_PAIRS: [string, string][] = [
  ["silu", "x*sigmoid(x)"],
  ["relu", "max(x, 0)"],
  ["gelu", "x*0.5*(1 + erf(x/sqrt(2)))"],
];

function parseArgs(argv: string[]) {
  const a = { presets: ["demo", "intro"], chunk: 20, rounds: 60, only: "", warmup: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--presets") a.presets = argv[++i].split(",");
    else if (k === "--chunk") a.chunk = Number(argv[++i]);
    else if (k === "--rounds") a.rounds = Number(argv[++i]);
    else if (k === "--only") a.only = argv[++i];
    else if (k === "--warmup") a.warmup = Number(argv[++i]);
    else
      throw new Error(
        `unknown argument ${k} (expected [--presets a,b] [--only silu,relu,gelu] [--warmup N] [--chunk N] [--rounds N])`,
      );
  }
  return a;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface FormulaRow {
  preset: string;
  builtin: string;
  formula: string;
  /** µs per step, built-in and formula. */
  minBuiltin: number;
  minFormula: number;
  medianBuiltin: number;
  medianFormula: number;
  /** Formula time / built-in time (minimum per step): issue #18 asks for ≤ 1.3. */
  ratio: number;
}

/** Each pair trained side by side in this process, alternating chunks; one printed line and row each. */
export function formulaRows(
  opts: { presets?: string[]; only?: string; warmup?: number; chunk?: number; rounds?: number } = {},
): FormulaRow[] {
  const { presets = ["demo", "intro"], only = "", warmup = 1000, chunk = 20, rounds = 60 } = opts;
  const rows: FormulaRow[] = [];
  for (const preset of presets) {
    for (const [builtin, formula] of ALL_PAIRS.filter(([b]) => !only || only.split(",").includes(b))) {
      const id = `f_${builtin}`;
      defineFormulaActivation({ id, formula });
      // as a user's long run would (where the native kernel is loaded: then both sides run natively)
      installFormulaKernels([id], FORMULA_NATIVE_MIN_STEPS);
      const spec = getPreset(preset).spec();
      const trainers = [builtin, id].map(
        (activation) => new Trainer({ ...TRAIN_DEFAULTS, spec, activation, steps: 1e9 }),
      );
      // compile, and let V8 tier the WebAssembly up (in the background: slow on a loaded machine)
      for (let w = 0; w < warmup; w += 50) for (const t of trainers) t.advance(50);
      const times: number[][] = [[], []];
      for (let r = 0; r < rounds; r++)
        trainers.forEach((t, k) => {
          const t0 = performance.now();
          t.advance(chunk);
          times[k].push(((performance.now() - t0) / chunk) * 1000);
        });
      const [minB, minF] = times.map((t) => Math.min(...t));
      const [medB, medF] = times.map(median);
      const row = {
        preset,
        builtin,
        formula,
        minBuiltin: minB,
        minFormula: minF,
        medianBuiltin: medB,
        medianFormula: medF,
        ratio: minF / minB,
      };
      rows.push(row);
      process.stdout.write(
        `${preset.padEnd(6)} ${builtin.padEnd(5)} vs ${formula.padEnd(28)} µs/step min ${minB.toFixed(1)} / ${minF.toFixed(1)}` +
          ` (×${(minF / minB).toFixed(3)})   median ${medB.toFixed(1)} / ${medF.toFixed(1)} (×${(medF / medB).toFixed(3)})\n`,
      );
    }
  }
  return rows;
}

if (process.argv[1]?.endsWith("formula.js")) {
  enableRelaxedSimd();
  formulaRows(parseArgs(process.argv.slice(2)));
}
