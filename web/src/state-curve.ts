// The live loss curve: per instance, the mean training loss over the steps since the previous point, at
// about 100 log-spaced steps (so the start of a run shows on a log axis) and every 1 % of the run (so the
// curve keeps moving late in a long run). Pure; the training worker feeds it every step.

import { logSpacedSteps } from "../../src/core/train.js";

export interface CurvePoints {
  /** Steps taken (1-based) at each point. */
  step: number[];
  /** [point][instance] mean loss over the point's interval; NaN where no step of it was finite. */
  loss: number[][];
}

export class CurveRecorder {
  private readonly marks: number[];
  private next = 0;
  private readonly sum: Float64Array;
  private readonly count: Int32Array;
  private readonly points: CurvePoints = { step: [], loss: [] };
  private sent = 0;

  constructor(
    readonly steps: number,
    readonly instances: number,
  ) {
    const every = Math.max(1, Math.floor(steps / 100));
    const linear = Array.from({ length: Math.floor(steps / every) }, (_, k) => (k + 1) * every);
    this.marks = [...new Set([...logSpacedSteps(steps, 100), ...linear, steps])].sort((a, b) => a - b);
    this.sum = new Float64Array(instances);
    this.count = new Int32Array(instances);
  }

  /** Records the losses of the step that brought the run to `step` steps. */
  add(step: number, losses: ArrayLike<number>): void {
    for (let i = 0; i < this.instances; i++) {
      const l = losses[i];
      if (Number.isFinite(l)) {
        this.sum[i] += l;
        this.count[i]++;
      }
    }
    while (this.next < this.marks.length && this.marks[this.next] < step) this.next++;
    if (this.marks[this.next] === step) {
      this.points.step.push(step);
      this.points.loss.push(
        Array.from(this.sum, (s, i) => (this.count[i] > 0 ? s / this.count[i] : Number.NaN)),
      );
      this.sum.fill(0);
      this.count.fill(0);
      this.next++;
    }
  }

  /** Every point so far. */
  all(): CurvePoints {
    return this.points;
  }

  /** The points recorded since the last call. */
  takeNew(): CurvePoints {
    const out = { step: this.points.step.slice(this.sent), loss: this.points.loss.slice(this.sent) };
    this.sent = this.points.step.length;
    return out;
  }

  /** Number of points the recorder will produce over the whole run. */
  get capacity(): number {
    return this.marks.length;
  }
}

/** Appends `more` to `curve` in place. */
export function appendCurve(curve: CurvePoints, more: CurvePoints): void {
  for (let k = 0; k < more.step.length; k++) {
    curve.step.push(more.step[k]);
    curve.loss.push(more.loss[k]);
  }
}
