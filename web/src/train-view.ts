// The Train tab: the form, one training worker per activation (side by side), live figures.

import { ACTIVATION_IDS, ACTIVATIONS, getActivation } from "../../src/core/activations.js";
import { defineFormulaActivation, type FormulaDefinition } from "../../src/core/formula/activation.js";
import { getPreset } from "../../src/experiments/presets.js";
import { encodeSafetensors } from "../../src/experiments/safetensors.js";
import { slug } from "../../src/report/format.js";
import { byId, download, h } from "./dom.js";
import { finiteMean, formatLoss, formatSparsity } from "./format.js";
import { FORMULA_ID, FormulaBox } from "./formula-box.js";
import { PHASE_NOTE, type RunData } from "./panels.js";
import type { FromWorker, ProgressMessage, ToWorker } from "./protocol.js";
import { RunPanel } from "./run-panel.js";
import { combinedStatus, controlsFor, nextStatus, type RunStatus } from "./run-status.js";
import { appendCurve, type CurvePoints } from "./state-curve.js";
import {
  FORM_DEFAULTS,
  type FormErrors,
  parseTrainForm,
  type RunPlan,
  type TrainForm,
} from "./train-form.js";

/** Least time between two renders; a render that takes long pushes the next one out (≤ 20 % of the main
 *  thread goes to drawing, so clicks stay snappy however slow the machine). */
const RENDER_MS = 100;
const RENDER_SHARE = 0.2;
const FIELDS = Object.keys(FORM_DEFAULTS) as (keyof TrainForm)[];

interface Run {
  activation: string;
  runId: number;
  status: RunStatus;
  step: number;
  W?: Float32Array | Float64Array;
  b?: Float32Array | Float64Array;
  curve: CurvePoints;
  trainLoss: number[];
  divergedAtStep: number[];
  evalLoss?: number[];
  stepsPerSecond: number;
  averageStepsPerSecond: number;
  trainSeconds: number;
  dirty: boolean;
  panel: RunPanel;
  el: {
    root: HTMLElement;
    step: HTMLElement;
    first: HTMLElement;
    now: HTMLElement;
    speed: HTMLElement;
    status: HTMLElement;
  };
}

export class TrainView {
  private readonly form = byId<HTMLFormElement>("train-form");
  private readonly runsEl = byId("runs");
  private readonly statusEl = byId("run-status");
  private readonly trainBtn = byId<HTMLButtonElement>("btn-train");
  private readonly stopBtn = byId<HTMLButtonElement>("btn-stop");
  private readonly resumeBtn = byId<HTMLButtonElement>("btn-resume");
  private readonly instance = byId<HTMLInputElement>("instance");
  private readonly instanceLabel = byId<HTMLOutputElement>("instance-label");
  private readonly workers: Worker[] = [];
  private runs: Run[] = [];
  private plan: RunPlan | undefined;
  private nextRunId = 1;
  private lastRender = 0;
  private renderEvery = RENDER_MS;
  private announced: RunStatus = "idle";
  private readonly formulaBox = new FormulaBox();
  private formula: FormulaDefinition | undefined;

  constructor() {
    this.fillSelects();
    this.setForm(FORM_DEFAULTS);
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.train();
    });
    this.field("preset").addEventListener("change", () => this.presetChanged());
    this.stopBtn.addEventListener("click", () => this.stop());
    this.resumeBtn.addEventListener("click", () => this.resume());
    this.instance.addEventListener("input", () => this.select(Number(this.instance.value)));
    this.presetChanged();
    this.updateControls();
    const loop = () => {
      this.renderIfDue();
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }

  private fillSelects(): void {
    const a = this.field("activationA") as HTMLSelectElement;
    const b = this.field("activationB") as HTMLSelectElement;
    b.append(h("option", { value: "", text: "none" }));
    for (const id of ACTIVATION_IDS) {
      const act = ACTIVATIONS.get(id);
      const label = act ? `${act.name} (${id})` : id;
      a.append(h("option", { value: id, text: label }));
      b.append(h("option", { value: id, text: label }));
    }
  }

  private field(name: keyof TrainForm): HTMLInputElement | HTMLSelectElement {
    const el = this.form.elements.namedItem(name);
    if (!el) throw new Error(`form field ${name} is missing`);
    return el as HTMLInputElement | HTMLSelectElement;
  }

  private readForm(): TrainForm {
    return Object.fromEntries(FIELDS.map((k) => [k, this.field(k).value])) as unknown as TrainForm;
  }

  private setForm(f: TrainForm): void {
    for (const k of FIELDS) this.field(k).value = f[k];
  }

  private presetChanged(): void {
    const preset = this.field("preset").value;
    byId("custom-fields").hidden = preset !== "custom";
    byId("preset-description").textContent =
      preset === "custom"
        ? "Your own model: F features into H hidden dimensions, one instance per feature probability."
        : getPreset(preset).description;
  }

  private showErrors(errors: FormErrors): void {
    for (const k of FIELDS) {
      const input = this.field(k);
      const msg = document.getElementById(`err-${k}`);
      const e = errors[k];
      if (e) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      if (msg) msg.textContent = e ?? "";
    }
    const first = FIELDS.find((k) => errors[k]);
    if (first) {
      const el = this.field(first);
      if (el.closest("[hidden]") === null) el.focus();
    }
  }

  private worker(k: number): Worker {
    if (!this.workers[k]) {
      const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: `train-${k}` });
      w.onmessage = (e: MessageEvent<FromWorker>) => this.onMessage(k, e.data);
      w.onerror = (e) => {
        const run = this.runs[k];
        if (run) this.fail(run, e.message || "the training worker failed to start");
      };
      this.workers[k] = w;
    }
    return this.workers[k];
  }

  private stop(): void {
    this.runs.forEach((r, k) => {
      if (r.status === "running" || r.status === "starting") {
        this.worker(k).postMessage({ type: "stop" } satisfies ToWorker);
        r.status = nextStatus(r.status, "stop");
      }
    });
    this.updateControls();
  }

  private resume(): void {
    this.runs.forEach((r, k) => {
      if (r.status === "paused") {
        this.worker(k).postMessage({ type: "resume" } satisfies ToWorker);
        r.status = nextStatus(r.status, "resume");
      }
    });
    this.updateControls();
  }

  /** Starts a fresh run of every selected activation (any earlier run is replaced). */
  train(): void {
    if (this.formulaBox.invalid()) {
      this.statusEl.textContent = "Fix the formula, or clear it to train the selected activation.";
      return;
    }
    // a typed formula takes the first activation's place
    this.formula = this.formulaBox.definition();
    if (this.formula) defineFormulaActivation(this.formula);
    const form = this.formula ? { ...this.readForm(), activationA: FORMULA_ID } : this.readForm();
    const ids = this.formula ? [...ACTIVATION_IDS, FORMULA_ID] : ACTIVATION_IDS;
    const parsed = parseTrainForm(form, ids, (id) => getPreset(id).spec());
    if (!parsed.ok) {
      this.showErrors(parsed.errors);
      this.statusEl.textContent = "Check the highlighted fields.";
      return;
    }
    this.showErrors({});
    const plan = parsed.plan;
    const I = plan.spec.featureProbability.length;
    const samePlanShape =
      this.plan && this.plan.preset === plan.preset && this.plan.spec.featureProbability.length === I;
    this.plan = plan;
    this.instance.max = String(I - 1);
    if (!samePlanShape) this.instance.value = String(I - 1);
    this.runs = plan.activations.map((activation, k) => this.createRun(activation, k));
    this.runsEl.replaceChildren(...this.runs.map((r) => r.el.root));
    this.runsEl.classList.toggle("two", this.runs.length === 2);
    this.runs.forEach((r, k) => {
      this.worker(k).postMessage({
        type: "start",
        runId: r.runId,
        spec: plan.spec,
        activation: r.activation,
        ...(r.activation === FORMULA_ID && this.formula ? { formula: this.formula } : {}),
        steps: plan.steps,
        lr: plan.lr,
        seed: plan.seed,
        batchSize: plan.batchSize,
      } satisfies ToWorker);
    });
    this.updateInstanceLabel();
    this.updateControls();
  }

  private createRun(activation: string, k: number): Run {
    const act =
      ACTIVATIONS.get(activation) ?? (activation === FORMULA_ID ? getActivation(activation) : undefined);
    const stat = (label: string, testid: string) => {
      const dd = h("dd", { "data-testid": testid, text: "—" });
      return [h("div", {}, h("dt", { text: label }), dd), dd] as const;
    };
    const [stepBox, step] = stat("step", "step");
    const first = h("span", { "data-testid": "loss-first", text: "—" });
    const now = h("span", { "data-testid": "loss-now", text: "—" });
    const lossBox = h("div", {}, h("dt", { text: "mean loss, first → now" }), h("dd", {}, first, " → ", now));
    const [speedBox, speed] = stat("steps/s", "speed");
    const [statusBox, status] = stat("status", "status");
    const exportW = h("button", { type: "button", text: "Weights .safetensors", disabled: true });
    const run: Run = {
      activation,
      runId: this.nextRunId++,
      status: nextStatus("idle", "train"),
      step: 0,
      curve: { step: [], loss: [] },
      trainLoss: [],
      divergedAtStep: [],
      stepsPerSecond: 0,
      averageStepsPerSecond: 0,
      trainSeconds: 0,
      dirty: true,
      panel: new RunPanel({
        id: String(k),
        onSelect: (i) => this.select(i),
        fileStem: () => this.fileStem(run),
        extraExports: [exportW],
      }),
      el: { root: h("article"), step, first, now, speed, status },
    };
    exportW.addEventListener("click", () => this.saveWeights(run));
    run.el.root = h(
      "article",
      { class: "run", "data-testid": `run-${k}`, "aria-label": `Training ${activation}` },
      h(
        "header",
        {},
        h("h2", {}, act?.name ?? activation, " ", h("small", { text: act?.formula ?? "" })),
        h("dl", { class: "stats" }, stepBox, lossBox, speedBox, statusBox),
      ),
      run.panel.root,
    );
    return run;
  }

  private onMessage(k: number, m: FromWorker): void {
    const run = this.runs[k];
    if (!run || m.runId !== run.runId) return;
    if (m.type === "progress") this.progress(run, m);
    else if (m.type === "done") {
      run.evalLoss = m.evalLoss;
      run.status = nextStatus(run.status, "finished");
      run.dirty = true;
      this.updateControls();
    } else this.fail(run, m.message);
  }

  private progress(run: Run, m: ProgressMessage): void {
    run.step = m.step;
    run.W = m.W;
    run.b = m.b;
    appendCurve(run.curve, m.curve);
    run.trainLoss = m.trainLoss;
    run.divergedAtStep = m.divergedAtStep;
    run.stepsPerSecond = m.stepsPerSecond;
    run.averageStepsPerSecond = m.averageStepsPerSecond;
    run.trainSeconds = m.trainSeconds;
    if (run.status === "starting") run.status = nextStatus(run.status, "started");
    run.dirty = true;
    this.updateControls();
  }

  private fail(run: Run, message: string): void {
    run.status = nextStatus(run.status, "failed");
    run.el.status.textContent = `error: ${message}`;
    this.statusEl.textContent = `Training ${run.activation} failed: ${message}`;
    this.updateControls();
  }

  private select(i: number): void {
    const max = Number(this.instance.max);
    const v = Math.max(0, Math.min(max, i));
    this.instance.value = String(v);
    this.updateInstanceLabel();
    for (const r of this.runs) r.dirty = true;
    this.renderIfDue(true);
  }

  private updateInstanceLabel(): void {
    const p = this.plan?.spec.featureProbability[Number(this.instance.value)];
    this.instanceLabel.textContent =
      p === undefined
        ? ""
        : `instance ${this.instance.value}: p = ${p.toPrecision(3)}, sparsity S = ${formatSparsity(p)}`;
  }

  private updateControls(): void {
    const status = combinedStatus(this.runs.map((r) => r.status));
    const c = controlsFor(
      status,
      this.runs.some((r) => r.W),
    );
    this.trainBtn.disabled = !c.train;
    this.stopBtn.disabled = !c.stop;
    this.resumeBtn.disabled = !c.resume;
    if (status !== this.announced) {
      this.announced = status;
      const names = this.runs.map((r) => r.activation).join(" and ");
      const text: Record<RunStatus, string> = {
        idle: "",
        starting: `Starting ${names}…`,
        running: `Training ${names}…`,
        paused: `Stopped ${names}; Resume continues.`,
        done: `Done: ${names}, ${this.plan?.steps ?? 0} steps.`,
        error: this.statusEl.textContent ?? "",
      };
      this.statusEl.textContent = text[status];
    }
    document.body.dataset.trainStatus = status;
  }

  private renderIfDue(force = false): void {
    const now = performance.now();
    if (!force && now - this.lastRender < this.renderEvery) return;
    if (!this.runs.some((r) => r.dirty)) return;
    this.lastRender = now;
    for (const r of this.runs) if (r.dirty) this.render(r);
    const took = performance.now() - now;
    this.renderEvery = Math.min(2000, Math.max(RENDER_MS, took / RENDER_SHARE));
    this.runsEl.dataset.renderMs = took.toFixed(1);
  }

  private runData(r: Run): RunData | undefined {
    const plan = this.plan;
    if (!plan || !r.W || !r.b) return undefined;
    return {
      title: `${r.activation} · ${plan.preset} · seed ${plan.seed} · step ${r.step} of ${plan.steps}`,
      nFeatures: plan.spec.nFeatures,
      nHidden: plan.spec.nHidden,
      featureProbability: plan.spec.featureProbability,
      importance: plan.spec.importance,
      W: r.W,
      b: r.b,
      curve: r.curve,
      totalSteps: plan.steps,
      overviewNote: plan.preset === "phase" ? PHASE_NOTE : undefined,
    };
  }

  private render(r: Run): void {
    r.dirty = false;
    const plan = this.plan;
    if (!plan) return;
    r.el.step.textContent = `${r.step} / ${plan.steps}`;
    const firstLoss = r.curve.loss.length > 0 ? finiteMean(r.curve.loss[0]) : undefined;
    const nowLoss = r.curve.loss.length > 0 ? finiteMean(r.curve.loss[r.curve.loss.length - 1]) : undefined;
    r.el.first.textContent = formatLoss(firstLoss);
    r.el.now.textContent = formatLoss(nowLoss);
    r.el.speed.textContent = r.stepsPerSecond > 0 ? Math.round(r.stepsPerSecond).toLocaleString("en") : "—";
    if (r.status !== "error") r.el.status.textContent = r.status;
    r.el.root.dataset.status = r.status;
    r.el.root.dataset.stepsPerSecond = String(Math.round(r.stepsPerSecond));
    r.el.root.dataset.averageStepsPerSecond = String(Math.round(r.averageStepsPerSecond));
    r.el.speed.title = `last 2 s of training; whole run: ${Math.round(r.averageStepsPerSecond).toLocaleString("en")} steps/s`;
    const data = this.runData(r);
    if (!data) return;
    const i = Number(this.instance.value);
    const rows: [string, string][] = [["train loss", formatLoss(r.trainLoss[i])]];
    if (r.evalLoss) rows.push(["eval loss (8 192 samples)", formatLoss(r.evalLoss[i])]);
    if ((r.divergedAtStep[i] ?? -1) >= 0) rows.push(["diverged at step", String(r.divergedAtStep[i])]);
    r.panel.render(data, i, rows);
    const exportW = r.el.root.querySelector<HTMLButtonElement>(".exports button");
    if (exportW) exportW.disabled = !controlsFor(r.status, true).export;
  }

  private fileStem(r: Run): string {
    const p = this.plan;
    return slug("tms", p?.preset ?? "run", r.activation, `seed${p?.seed ?? 0}`, `step${r.step}`);
  }

  private saveWeights(r: Run): void {
    const p = this.plan;
    if (!p || !r.W || !r.b) return;
    const I = p.spec.featureProbability.length;
    const { nFeatures: F, nHidden: H } = p.spec;
    const dtype = (x: Float32Array | Float64Array) =>
      (x instanceof Float32Array ? "F32" : "F64") as "F32" | "F64";
    const bytes = encodeSafetensors(
      {
        W: { dtype: dtype(r.W), shape: [I, F, H], data: r.W },
        b: { dtype: dtype(r.b), shape: [I, F], data: r.b },
      },
      {
        format: "pt",
        preset: p.preset,
        activation: r.activation,
        seed: String(p.seed),
        steps: String(r.step),
        lr: String(p.lr),
        batchSize: String(p.batchSize),
        featureProbability: JSON.stringify(p.spec.featureProbability),
        importance: JSON.stringify(p.spec.importance),
      },
    );
    download(
      new Blob([bytes as BlobPart], { type: "application/octet-stream" }),
      `${this.fileStem(r)}.safetensors`,
    );
  }
}
