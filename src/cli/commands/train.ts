// `tms train`: one preset, one activation; a readable table or the run's JSON summary.

import Table from "cli-table3";
import { getActivation } from "../../core/activations.js";
import { activationFromArgument } from "../../experiments/formula-jobs.js";
import { installFormulaKernels } from "../../experiments/formula-native.js";
import { getPreset } from "../../experiments/presets.js";
import { type RunOptions, runTraining } from "../../experiments/run.js";

export interface TrainCommandOptions extends RunOptions {
  preset: string;
  activation: string;
  json?: boolean;
}

export function trainCommand(o: TrainCommandOptions): void {
  const preset = getPreset(o.preset);
  // `name=formula` defines a formula activation (src/core/formula/) and trains it under its name
  const { id: activation, formula } = activationFromArgument(o.activation);
  getActivation(activation);
  // a long run's formula in native code (from the steps, never from timing)
  installFormulaKernels([activation], o.steps);
  const spec = preset.spec();
  const showProgress = !o.json && process.stderr.isTTY;
  const { summary } = runTraining(preset.id, spec, activation, { ...o, activation } as RunOptions, {
    onProgress: (step) => {
      if (showProgress) process.stderr.write(`\r${preset.id}/${activation}: step ${step}/${o.steps}`);
    },
  });
  if (showProgress) process.stderr.write("\n");
  if (o.json) {
    const { lossCurve: _curve, evalSeconds: _eval, ...rest } = summary;
    process.stdout.write(`${JSON.stringify(formula ? { ...rest, formula } : rest)}\n`);
    return;
  }
  const table = new Table({
    head: [
      "p",
      "sparsity",
      "eval loss",
      "train loss",
      "diverged",
      "mean superposition",
      "dims/feature",
      "represented",
    ],
    style: { head: [], compact: true },
  });
  for (const r of summary.instances) {
    const meanSup = r.superposition.reduce((a, b) => a + b, 0) / r.superposition.length;
    table.push([
      r.featureProbability.toPrecision(3),
      r.sparsity.toFixed(3),
      r.loss.toExponential(3),
      r.trainLoss.toExponential(3),
      r.diverged ? `at step ${r.divergedAtStep}` : "no",
      meanSup.toFixed(3),
      r.dimsPerFeature.toFixed(3),
      `${r.featuresRepresented}/${summary.nFeatures}`,
    ]);
  }
  process.stdout.write(
    `${preset.title} — ${formula ? `${activation} = ${formula.formula}` : activation}, ${o.steps} steps, ${o.dtype}, seed ${o.seed} (${summary.seconds.toFixed(2)} s)\n${table.toString()}\n`,
  );
}
