// The training worker: the same core code as the Node CLI (src/core/train.ts's Trainer), advanced in slices
// of ~25 ms so that Stop arrives between slices, with progress posted ~20 times a second.

import { evaluateLoss } from "../../src/core/evaluate.js";
import { defineFormulaActivation } from "../../src/core/formula/activation.js";
import { makeSpec } from "../../src/core/model.js";
import { TRAIN_DEFAULTS, Trainer } from "../../src/core/train.js";
import type { FromWorker, StartMessage, ToWorker } from "./protocol.js";
import { SpeedMeter } from "./speed.js";
import { CurveRecorder } from "./state-curve.js";

const SLICE_MS = 25;
const POST_MS = 50;

interface Run {
  id: number;
  trainer: Trainer;
  recorder: CurveRecorder;
  seed: number;
  running: boolean;
  trainMs: number;
  speed: SpeedMeter;
  lastPost: number;
}

let run: Run | undefined;
const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

// A MessageChannel yields to the event loop without setTimeout's 4 ms clamp.
const tickChannel = new MessageChannel();
let scheduled = false;
tickChannel.port1.onmessage = () => {
  scheduled = false;
  tick();
};
const schedule = () => {
  if (scheduled) return;
  scheduled = true;
  tickChannel.port2.postMessage(0);
};

function start(m: StartMessage): void {
  const I = m.spec.featureProbability.length;
  const F = m.spec.nFeatures;
  const importance: number[][] = [];
  for (let i = 0; i < I; i++) importance.push(m.spec.importance.slice(i * F, (i + 1) * F));
  const spec = makeSpec(F, m.spec.nHidden, m.spec.featureProbability, importance);
  if (m.formula) defineFormulaActivation(m.formula);
  const trainer = new Trainer({
    ...TRAIN_DEFAULTS,
    spec,
    activation: m.activation,
    steps: m.steps,
    lr: m.lr,
    seed: m.seed,
    batchSize: m.batchSize,
  });
  run = {
    id: m.runId,
    trainer,
    recorder: new CurveRecorder(m.steps, I),
    seed: m.seed,
    running: true,
    trainMs: 0,
    speed: new SpeedMeter(),
    lastPost: 0,
  };
  postProgress(run);
  schedule();
}

function postProgress(r: Run): void {
  const { trainer } = r;
  const W = trainer.params.W.slice();
  const b = trainer.params.b.slice();
  post(
    {
      type: "progress",
      runId: r.id,
      step: trainer.step,
      W,
      b,
      curve: r.recorder.takeNew(),
      trainLoss: Array.from(trainer.trainLoss),
      divergedAtStep: Array.from(trainer.divergedAtStep),
      stepsPerSecond: r.speed.current,
      averageStepsPerSecond: r.speed.average,
      trainSeconds: r.trainMs / 1000,
      paused: !r.running,
    },
    [W.buffer, b.buffer],
  );
  r.lastPost = performance.now();
}

function tick(): void {
  const r = run;
  if (!r?.running) return;
  const { trainer, recorder } = r;
  try {
    const t0 = performance.now();
    let now = t0;
    while (!trainer.done && now - t0 < SLICE_MS) {
      const losses = trainer.advance(1);
      recorder.add(trainer.step, losses);
      now = performance.now();
    }
    r.trainMs += now - t0;
    r.speed.add(r.trainMs, trainer.step);
    if (trainer.done) {
      r.running = false;
      postProgress(r);
      const e0 = performance.now();
      const evalLoss = evaluateLoss(
        trainer.config.spec,
        trainer.config.activation,
        trainer.params,
        r.seed,
        trainer.config.softmaxDim,
      );
      post({
        type: "done",
        runId: r.id,
        evalLoss: Array.from(evalLoss),
        evalSeconds: (performance.now() - e0) / 1000,
      });
      return;
    }
    if (now - r.lastPost >= POST_MS) postProgress(r);
    schedule();
  } catch (e) {
    r.running = false;
    post({ type: "error", runId: r.id, message: e instanceof Error ? e.message : String(e) });
  }
}

scope.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === "start") {
    try {
      start(m);
    } catch (err) {
      post({ type: "error", runId: m.runId, message: err instanceof Error ? err.message : String(err) });
    }
  } else if (m.type === "stop" && run?.running) {
    run.running = false;
    postProgress(run);
  } else if (m.type === "resume" && run && !run.running && !run.trainer.done) {
    run.running = true;
    schedule();
  }
};
