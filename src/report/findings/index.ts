// The seed write-up's claims, tested on the store's numbers: one finding per claim id (see issue 15), each
// with the claim, what it is judged on, the decision rule with named thresholds (types.ts), the numbers with
// 95 % intervals over seeds and a verdict; inconclusive always with a reason.

import type { ReportData } from "../data.js";
import { inconclusive } from "./common.js";
import {
  geluDenseFinding,
  geluSiluLessFinding,
  mostSuperpositionFinding,
  negativeOutputsFinding,
  relu6Relu2Finding,
  shrinkFinding,
  sigmoidManyFinding,
  soluFinding,
  swishSimilarFinding,
  tanhEliminatesFinding,
  tanhSeluLimitedFinding,
} from "./comparisons.js";
import { expFailsFinding, logSoftmaxFailsFinding } from "./convergence.js";
import {
  sigmoidUnimportantFinding,
  softminFinding,
  softplusEveryFeatureFinding,
  softsignLogsigmoidFinding,
  swishEarlyFinding,
} from "./importance.js";
import {
  celuGeluFinding,
  lossRangeFinding,
  superpositionLossFinding,
  superpositionLowersLossFinding,
} from "./loss.js";
import { sigmoidPrecisionFinding } from "./precision.js";
import { hardnessFinding, nonnegAsymmetricFinding } from "./properties.js";
import type { Finding } from "./types.js";

export * from "./comparisons.js";
export * from "./convergence.js";
export * from "./importance.js";
export * from "./loss.js";
export * from "./precision.js";
export * from "./properties.js";
export * from "./types.js";

/** Every claim id in the write-up's order, with the function that judges it. */
export const FINDING_BUILDERS: [string, (data: ReportData) => Finding][] = [
  ["loss-range", lossRangeFinding],
  ["superposition-loss", superpositionLossFinding],
  ["celu-gelu", celuGeluFinding],
  ["sigmoid-unimportant", sigmoidUnimportantFinding],
  ["sigmoid-precision", sigmoidPrecisionFinding],
  ["softsign-logsigmoid-worse", softsignLogsigmoidFinding],
  ["tanh-hardtanh-selu-limited", tanhSeluLimitedFinding],
  ["softmin-reversal", softminFinding],
  ["log_softmax-fails", logSoftmaxFailsFinding],
  ["exp-fails-low-sparsity", expFailsFinding],
  ["solu-vs-softmax", soluFinding],
  ["shrink-small-amplitude", shrinkFinding],
  ["gelu-dense-superposition", geluDenseFinding],
  ["gelu-silu-less-than-relu", geluSiluLessFinding],
  ["sigmoid-many-neurons", sigmoidManyFinding],
  ["tanh-eliminates", tanhEliminatesFinding],
  ["relu6-relu2-like-relu", relu6Relu2Finding],
  ["most-superposition", mostSuperpositionFinding],
  ["negative-outputs-hinder", negativeOutputsFinding],
  ["softplus-every-feature", softplusEveryFeatureFinding],
  ["swish-early-unimportant", swishEarlyFinding],
  ["swish-hardswish-similar", swishSimilarFinding],
  ["hardness-reduces", hardnessFinding],
  ["superposition-lowers-loss", superpositionLowersLossFinding],
  ["nonneg-asymmetric-best", nonnegAsymmetricFinding],
];

export function buildFindings(data: ReportData): Finding[] {
  return FINDING_BUILDERS.map(([id, build]) => {
    try {
      const f = build(data);
      if (f.id !== id) throw new Error(`builder returned ${f.id}`);
      return f;
    } catch (e) {
      return inconclusive(id, "", `could not be computed: ${(e as Error).message}`);
    }
  });
}
