// `tms activations`: the table of activation functions, or their values and derivatives at given points.

import Table from "cli-table3";
import {
  type ActivationProperties,
  activationProperties,
  BOOLEAN_PROPERTIES,
  PROPERTY_LABELS,
} from "../../core/activation-properties.js";
import { ACTIVATION_IDS, type Activation, getActivation } from "../../core/activations.js";
import { splitActivationList } from "../../core/formula/activation.js";
import { activationFromArgument } from "../../experiments/formula-jobs.js";

export interface ActivationsOptions {
  json?: boolean;
  eval?: number[];
  activation?: string;
  properties?: boolean;
}

/** y and dy at xs in float64: f′(x) element-wise; for the softmax family xs is one vector and dy its Jacobian. */
export function evaluateActivation(act: Activation, xs: number[]) {
  if (act.kind === "elementwise") {
    const y = xs.map((x) => act.forward(x));
    return { x: xs, y, dy: xs.map((x, j) => act.derivative(x, y[j])) };
  }
  const n = xs.length;
  const z = Float64Array.from(xs);
  const y = new Float64Array(n);
  act.forward(z, y, 0, 1, n);
  // Row r of the Jacobian (∂y_r/∂z_j over j) is Jᵀe_r: the VJP of the r-th unit vector.
  const jacobian: number[][] = [];
  const e = new Float64Array(n);
  const dz = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    e.fill(0);
    e[r] = 1;
    act.vjp(z, y, e, dz, 0, 1, n);
    jacobian.push(Array.from(dz));
  }
  return { x: xs, y: Array.from(y), dy: jacobian };
}

export function activationsCommand(options: ActivationsOptions): void {
  // built-in ids, or `name=formula` (src/core/formula/)
  const ids = options.activation
    ? splitActivationList(options.activation).map((spec) => activationFromArgument(spec).id)
    : [...ACTIVATION_IDS];
  const acts = ids.map(getActivation);
  if (options.properties) {
    printProperties(
      acts.map((a) => activationProperties(a)),
      Boolean(options.json),
    );
    return;
  }
  if (options.eval) {
    const xs = options.eval;
    const out: Record<string, unknown> = {};
    for (const a of acts) out[a.id] = evaluateActivation(a, xs);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return;
    }
    const table = new Table({ head: ["id", "x", "y", "dy"], style: { head: [], compact: true } });
    for (const a of acts) {
      const r = evaluateActivation(a, xs);
      xs.forEach((x, j) => {
        table.push([
          a.id,
          String(x),
          fmt(r.y[j]),
          Array.isArray(r.dy[j]) ? (r.dy[j] as number[]).map(fmt).join(" ") : fmt(r.dy[j] as number),
        ]);
      });
    }
    process.stdout.write(`${table.toString()}\n`);
    return;
  }
  if (options.json) {
    const list = acts.map((a) => ({
      id: a.id,
      name: a.name,
      formula: a.formula,
      torch: a.torch,
      kind: a.kind,
      doc: a.doc,
    }));
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return;
  }
  const table = new Table({ head: ["id", "name", "formula", "PyTorch"], style: { head: [], compact: true } });
  for (const a of acts) table.push([a.id, a.name, a.formula, a.torch]);
  process.stdout.write(`${table.toString()}\n`);
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toPrecision(6) : String(v));

/** ±∞ as a string in JSON (which has no infinities), so the value is not silently null. */
const jsonNumber = (v: number) => (Number.isFinite(v) ? v : String(v));

function printProperties(rows: ActivationProperties[], json: boolean): void {
  if (json) {
    const out = rows.map((p) => ({ ...p, minNegative: jsonNumber(p.minNegative) }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const yes = (b: boolean) => (b ? "yes" : "·");
  const table = new Table({
    head: [
      "id",
      ...BOOLEAN_PROPERTIES.map((k) => PROPERTY_LABELS[k]),
      "f(0)",
      "f′(0)",
      "min f(x<0)",
      "saturates",
    ],
    style: { head: [], compact: true },
  });
  for (const p of rows)
    table.push([
      p.id,
      ...BOOLEAN_PROPERTIES.map((k) => yes(p[k])),
      short(p.f0),
      short(p.fPrime0),
      short(p.minNegative),
      p.saturation,
    ]);
  process.stdout.write(
    `${table.toString()}\nComputed from each definition on a grid over [−8, 8] (step 1/512) plus far points; ` +
      "vector activations (softmax family) along one coordinate of a 5-vector.\n",
  );
}

const short = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(4))) : v > 0 ? "∞" : "-∞");
