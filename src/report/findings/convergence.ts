// Convergence claims, one activation each: LogSoftmax failed to converge; Exp and Exp linear failed at low
// sparsities. An instance failed if it diverged or its loss stayed near the all-zero predictor's.

import { activationName, type ReportData, seriesLabel } from "../data.js";
import { num } from "../format.js";
import { trivialLoss } from "../measures.js";
import { finite, median } from "../stats.js";
import type { Metric } from "./common.js";
import {
  assemble,
  featuresText,
  find,
  levelIndices,
  overSeeds,
  part,
  sparsityPresets,
  valuePart,
} from "./common.js";
import { type Finding, THRESHOLDS } from "./types.js";

/** 1 if the instance failed to converge: diverged, non-finite loss, or loss ≥ trivialFraction × trivial. */
export const failed: Metric = (x, c, i) =>
  x.diverged || !Number.isFinite(x.loss) || x.loss / trivialLoss(c, i) >= THRESHOLDS.trivialFraction ? 1 : 0;

const FAIL_RULE =
  "An instance failed to converge if it diverged (non-finite loss or gradient) or its final evaluation loss is " +
  `≥ ${THRESHOLDS.trivialFraction} × the loss of the all-zero predictor (mean over features of importance·p/3). ` +
  "Per seed, the share of failed instances over the levels judged; 95 % t-interval over seeds. Supported if the " +
  `interval lies above ${THRESHOLDS.failShare}, not supported if it lies at or below it. Presets: all must agree; a ` +
  "definite verdict with an inconclusive one counts; supported with not supported is inconclusive.";

/** One line per activation and variant: failed / total, diverged, median loss/trivial. */
function failureEvidence(data: ReportData, activations: string[]): string[] {
  const out: string[] = [];
  for (const p of sparsityPresets(data)) {
    for (const act of activations) {
      const s = find(data, p, act);
      if (!s) continue;
      let fails = 0;
      let total = 0;
      let diverged = 0;
      const ratios: number[] = [];
      for (const c of s.cells)
        c.instances.forEach((x, i) => {
          total++;
          fails += failed(x, c, i);
          if (x.diverged) diverged++;
          ratios.push(x.loss / trivialLoss(c, i));
        });
      const hi = overSeeds(s, failed, levelIndices(data, p, "upper-half"));
      out.push(
        `${p}/${seriesLabel(act, "")}: ${fails}/${total} instances failed (${diverged} diverged); median loss/trivial ` +
          `${num(median(finite(ratios)))}; failed share in the sparser half ${num(hi.estimate, 2)}.`,
      );
    }
  }
  return out;
}

export function logSoftmaxFailsFinding(data: ReportData): Finding {
  return assemble({
    id: "log_softmax-fails",
    method: `${FAIL_RULE} Judged on every level.`,
    scope: {
      presets: sparsityPresets(data),
      sparsities: "every level",
      features: featuresText(data),
      activations: ["log_softmax"],
    },
    parts: [
      part(data, "LogSoftmax failed to converge", (p) =>
        valuePart(data, p, {
          a: "log_softmax",
          metric: failed,
          what: "share of instances failed",
          levels: "all",
          dir: 1,
          threshold: THRESHOLDS.failShare,
        }),
      ),
    ],
    evidence: failureEvidence(data, ["log_softmax", "relu"]),
    links: ["divergence", ...sparsityPresets(data).flatMap((p) => [`training-${p}`, `${p}-training-curves`])],
  });
}

export function expFailsFinding(data: ReportData): Finding {
  const acts = ["exp", "exp_linear"];
  return assemble({
    id: "exp-fails-low-sparsity",
    method: `${FAIL_RULE} Judged on the denser half of the levels, for Exp and Exp linear separately; both must hold.`,
    scope: {
      presets: sparsityPresets(data),
      sparsities: "denser half of the levels",
      features: featuresText(data),
      activations: acts,
    },
    parts: acts.map((a) =>
      part(data, `${activationName(a)} failed at low sparsity`, (p) =>
        valuePart(data, p, {
          a,
          metric: failed,
          what: "share of instances failed",
          levels: "lower-half",
          dir: 1,
          threshold: THRESHOLDS.failShare,
        }),
      ),
    ),
    evidence: failureEvidence(data, [...acts, "relu"]),
    links: ["divergence", ...sparsityPresets(data).flatMap((p) => [`training-${p}`, `${p}-training-curves`])],
  });
}
