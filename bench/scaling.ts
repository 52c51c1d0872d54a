// `npm run bench -- --scaling`: how tms-lab's and JAX's times grow with the number of steps, the batch size
// and the number of features, side by side, 1 core each.
//
// Steps and batch size: the demo preset with relu, both sides as a user runs them (one cold `tms train`
// process; one tms_jax.py process): the loop's reported time and the whole command's wall time, so the
// fixed costs (start-up, kernel generation; Python start-up, tracing and compilation) show.
// Features: F = 20 … 400 with H = min(20, F/4) (the demo, sparsity and geometry shapes among them), three
// instances at p = 1, 0.1 and 0.01 (one of each path), importance 1, relu, 200 steps: ours in this
// process (the first run, which generates the shape's kernels, and a second run), JAX excluding and
// including its compilation (one run each, as for the rows above).

import { makeSpec } from "../src/core/model.js";
import { TRAIN_DEFAULTS, train } from "../src/core/train.js";
import { type PeerRun, runJax, runJaxShape, runTmsTrain } from "./peers.js";

export interface ScalingRow {
  axis: "steps" | "batch" | "features";
  value: number;
  shape: string;
  steps: number;
  batch: number;
  ours: { seconds: number; wallSeconds?: number; firstSeconds?: number };
  jax?: PeerRun;
}

const fmt = (x: number | undefined, d = 3) => (x === undefined ? "—" : x.toFixed(d));
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? "—" : `${(a / b).toFixed(2)}×`;

function printRow(r: ScalingRow): void {
  const label = `${r.axis} ${r.value}`.padEnd(16);
  const ours =
    r.axis === "features"
      ? `tms-lab ${fmt(r.ours.seconds)} s (first run ${fmt(r.ours.firstSeconds)} s)`
      : `tms-lab ${fmt(r.ours.seconds)} s (command ${fmt(r.ours.wallSeconds, 2)} s)`;
  const jaxPart = r.jax
    ? `JAX ${fmt(r.jax.seconds)} s (${r.axis === "features" ? "incl. compile" : "command"} ` +
      `${fmt(r.axis === "features" ? r.jax.secondsInclCompile : r.jax.wallSeconds, 2)} s)`
    : "JAX —";
  const whole =
    r.axis === "features"
      ? [r.jax?.secondsInclCompile, r.ours.firstSeconds]
      : [r.jax?.wallSeconds, r.ours.wallSeconds];
  process.stdout.write(
    `${label} ${r.shape.padEnd(22)} ${ours.padEnd(46)} ${jaxPart.padEnd(44)} ` +
      `JAX/ours ${ratio(r.jax?.seconds, r.ours.seconds).padStart(7)} (whole ${ratio(whole[0], whole[1])})\n`,
  );
}

function cliRow(
  axis: "steps" | "batch",
  value: number,
  steps: number,
  batch: number,
  jax: string | undefined,
  flip: boolean,
): ScalingRow {
  // alternate which side runs first, so neither always follows the other's load
  let ours: PeerRun | undefined;
  let peer: PeerRun | undefined;
  const runOurs = () => {
    ours = runTmsTrain("demo", "relu", steps, batch);
  };
  const runPeer = () => {
    if (jax) peer = runJax(jax, "demo", "relu", steps, batch);
  };
  for (const f of flip ? [runPeer, runOurs] : [runOurs, runPeer]) f();
  return {
    axis,
    value,
    shape: `demo relu, B ${batch}`,
    steps,
    batch,
    ours: { seconds: ours?.seconds ?? Number.NaN, wallSeconds: ours?.wallSeconds },
    jax: peer,
  };
}

export function scalingReport(jax: string | undefined): ScalingRow[] {
  const rows: ScalingRow[] = [];
  const emit = (r: ScalingRow) => {
    rows.push(r);
    printRow(r);
  };
  process.stdout.write("\nScaling (1 core each; ratio JAX/ours > 1: tms-lab faster)\n");
  [100, 1000, 10_000].forEach((steps, k) => {
    emit(cliRow("steps", steps, steps, 1024, jax, k % 2 === 1));
  });
  [256, 1024, 4096].forEach((batch, k) => {
    emit(cliRow("batch", batch, 1000, batch, jax, k % 2 === 1));
  });
  const probs = [1, 0.1, 0.01];
  const steps = 200;
  [20, 50, 100, 200, 400].forEach((F, k) => {
    const H = Math.min(20, Math.floor(F / 4));
    const spec = makeSpec(F, H, probs, new Array(F).fill(1));
    let peer: PeerRun | undefined;
    let first = 0;
    let second = 0;
    const runOurs = () => {
      const cfg = { ...TRAIN_DEFAULTS, spec, activation: "relu", steps };
      first = train(cfg).seconds;
      second = train(cfg).seconds;
    };
    const runPeer = () => {
      if (jax) peer = runJaxShape(jax, F, H, probs, steps);
    };
    for (const f of k % 2 ? [runPeer, runOurs] : [runOurs, runPeer]) f();
    emit({
      axis: "features",
      value: F,
      shape: `${F}→${H}, p 1/0.1/0.01`,
      steps,
      batch: 1024,
      ours: { seconds: second, firstSeconds: first },
      jax: peer,
    });
  });
  return rows;
}
