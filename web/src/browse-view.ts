// The Browse tab: a results store served by `tms serve DIR` (read-only, under store/): the activation ×
// sparsity grid of one preset and seed, a cell's figures, loss curve and metrics, and the report.

import { parseCellKey } from "../../src/experiments/cell-key.js";
import { decodeSafetensors } from "../../src/experiments/safetensors.js";
import { type CellResult, type Manifest, reviveResult } from "../../src/experiments/store-format.js";
import { slug } from "../../src/report/format.js";
import { arrowKeys, byId, h } from "./dom.js";
import { viridis } from "./figures.js";
import { formatLoss, formatSparsity, lossPosition } from "./format.js";
import { PHASE_NOTE, type RunData } from "./panels.js";
import { formatRoute, type Route } from "./route.js";
import { RunPanel } from "./run-panel.js";
import { type GridModel, gridModel, indexCells, type PresetIndex } from "./store-index.js";

export interface ExplorerInfo {
  /** Base URL of the results store (relative to the page), or null when there is none. */
  store: string | null;
  /** Files present in store/report/. */
  report: string[];
}

type Weights = { W: Float32Array | Float64Array; b: Float32Array | Float64Array };

async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export class BrowseView {
  private readonly root = byId("panel-browse");
  private readonly empty = byId("browse-empty");
  private readonly main = byId("browse-main");
  private readonly presetSel = byId<HTMLSelectElement>("b-preset");
  private readonly seedSel = byId<HTMLSelectElement>("b-seed");
  private readonly gridEl = byId("b-grid");
  private readonly gridNote = byId("b-grid-note");
  private readonly summary = byId("b-summary");
  private readonly detail = byId("b-detail");
  private readonly reportEl = byId("b-report");
  private base = "";
  private index: PresetIndex[] = [];
  private readonly results = new Map<string, CellResult | undefined>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly weights = new Map<string, Promise<Weights>>();
  private model: GridModel | undefined;
  private route: Route = { tab: "browse" };
  private panel: RunPanel | undefined;
  private focusCell: [number, number] = [0, 0];
  private ready: Promise<void> | undefined;
  private readonly heading = h("h2");
  private readonly files = h("p", { class: "files" });

  constructor() {
    this.presetSel.addEventListener("change", () => {
      this.fillSeeds();
      void this.loadGrid();
    });
    this.seedSel.addEventListener("change", () => void this.loadGrid());
    this.gridEl.addEventListener("keydown", (e) => this.gridKeys(e));
  }

  /** Loads the manifest (once). */
  init(info: ExplorerInfo): Promise<void> {
    this.ready ??= this.load(info).catch((e: unknown) => {
      this.empty.hidden = false;
      this.main.hidden = true;
      this.empty.textContent = `Could not read the results store: ${e instanceof Error ? e.message : String(e)}`;
    });
    return this.ready;
  }

  private async load(info: ExplorerInfo): Promise<void> {
    const query = new URLSearchParams(location.search).get("store");
    const base = query ? (query.endsWith("/") ? query : `${query}/`) : info.store;
    if (!base) {
      this.empty.hidden = false;
      this.main.hidden = true;
      return;
    }
    this.base = base;
    const manifest = await fetchJson<Manifest>(`${base}manifest.json`);
    this.index = indexCells(manifest.cells);
    this.empty.hidden = true;
    this.main.hidden = false;
    this.presetSel.replaceChildren(
      ...this.index.map((p) => h("option", { value: p.preset, text: p.preset })),
    );
    this.fillSeeds();
    this.renderReport(query ? ["report.html"] : info.report);
    await this.loadGrid();
  }

  private fillSeeds(): void {
    const p = this.currentIndex();
    this.seedSel.replaceChildren(...(p?.seeds ?? []).map((s) => h("option", { value: s, text: String(s) })));
  }

  private currentIndex(): PresetIndex | undefined {
    return this.index.find((p) => p.preset === this.presetSel.value);
  }

  /** Shows the route's cell (switching preset and seed to it). */
  async show(route: Route): Promise<void> {
    this.route = route;
    await this.ready;
    const c = route.cell ? parseCellKey(route.cell) : undefined;
    if (c && this.index.some((p) => p.preset === c.preset)) {
      let changed = false;
      if (this.presetSel.value !== c.preset) {
        this.presetSel.value = c.preset;
        this.fillSeeds();
        changed = true;
      }
      if (this.seedSel.value !== String(c.seed)) {
        this.seedSel.value = String(c.seed);
        changed = true;
      }
      if (changed) await this.loadGrid();
      else this.updateSelection();
    }
    await this.renderDetail();
  }

  private fetchResult(key: string): Promise<void> {
    if (this.results.has(key)) return Promise.resolve();
    let p = this.pending.get(key);
    if (!p) {
      p = fetchJson<CellResult>(`${this.base}${key}/result.json`)
        .then((r) => void this.results.set(key, reviveResult(r)))
        .catch(() => void this.results.set(key, undefined));
      this.pending.set(key, p);
    }
    return p;
  }

  private async loadGrid(): Promise<void> {
    const p = this.currentIndex();
    if (!p) return;
    const seed = Number(this.seedSel.value);
    const keys = p.rows.map((r) => p.keys.get(r)?.get(seed)).filter((k): k is string => k !== undefined);
    this.summary.textContent = `loading ${keys.length} runs…`;
    // a few at a time: a store can hold hundreds of cells
    const queue = [...keys];
    const workers = Array.from({ length: 6 }, async () => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) await this.fetchResult(k);
    });
    await Promise.all(workers);
    this.renderGrid();
  }

  private renderGrid(): void {
    const p = this.currentIndex();
    if (!p) return;
    const seed = Number(this.seedSel.value);
    const model = gridModel(p, seed, this.results);
    this.model = model;
    const missing = model.rows.filter((r) => r.missing).length;
    this.summary.textContent =
      `${model.rows.length} activations × ${model.sparsity.length} sparsity levels` +
      (missing ? ` · ${missing} runs missing from the store` : "");
    const head = h(
      "tr",
      {},
      h("th", { scope: "col", text: "activation \\ sparsity" }),
      ...model.sparsity.map((s) => h("th", { scope: "col", text: formatSparsity(1 - s) })),
    );
    const rows = model.rows.map((row, r) =>
      h(
        "tr",
        {},
        h("th", { scope: "row", text: row.row }),
        ...(row.missing
          ? [
              h("td", {
                colspan: Math.max(1, model.sparsity.length),
                class: "missing",
                text: "not in the store",
              }),
            ]
          : row.cells.map((cell, c) => {
              const t = cell.loss === undefined ? 0 : lossPosition(cell.loss, model.columnRange[c]);
              const bg = cell.loss === undefined ? "#eee" : viridis(1 - t);
              const b = h("button", {
                type: "button",
                class: `cell${cell.diverged ? " diverged" : ""}`,
                "data-row": r,
                "data-col": c,
                "data-key": cell.key,
                "aria-pressed": "false",
                "aria-label": `${row.row}, sparsity ${formatSparsity(1 - model.sparsity[c])}: loss ${formatLoss(cell.loss)}${cell.diverged ? ", diverged" : ""}`,
                tabindex: -1,
                style: `background:${bg};color:${1 - t < 0.55 ? "#fff" : "#111"}`,
                text: formatLoss(cell.loss) + (cell.diverged ? " †" : ""),
              });
              b.addEventListener("click", () => {
                location.hash = formatRoute({ tab: "browse", cell: cell.key, instance: c });
              });
              return h("td", {}, b);
            })),
      ),
    );
    const table = h(
      "table",
      { class: "loss-grid", "data-testid": "browse-grid", "aria-describedby": "b-grid-note" },
      h("caption", { class: "sr-only", text: "Eval loss by activation and sparsity" }),
      h("thead", {}, head),
      h("tbody", {}, ...rows),
    );
    const hadFocus = this.gridEl.contains(document.activeElement);
    this.gridEl.replaceChildren(table);
    this.gridNote.textContent =
      "Eval loss per activation (rows) and sparsity S = 1 − p (columns). The colour compares activations " +
      "within a column: lighter is lower. † diverged. Select a cell (arrow keys move) to see its figures.";
    this.updateSelection(hadFocus);
  }

  /** Marks the route's cell as pressed and makes it (else the last focused cell) the grid's tab stop. */
  private updateSelection(focus = false): void {
    const buttons = this.gridButtons();
    const key = this.route.cell;
    let stop: HTMLButtonElement | undefined;
    for (const b of buttons) {
      const on =
        key !== undefined && b.dataset.key === key && b.dataset.col === String(this.route.instance ?? 0);
      b.setAttribute("aria-pressed", String(on));
      b.tabIndex = -1;
      if (on) stop = b;
    }
    stop ??=
      buttons.find(
        (b) => b.dataset.row === String(this.focusCell[0]) && b.dataset.col === String(this.focusCell[1]),
      ) ?? buttons[0];
    if (stop) {
      stop.tabIndex = 0;
      if (focus) stop.focus();
    }
  }

  private gridButtons(): HTMLButtonElement[] {
    return [...this.gridEl.querySelectorAll<HTMLButtonElement>("button.cell")];
  }

  private gridKeys(e: KeyboardEvent): void {
    const buttons = this.gridButtons();
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0 || !this.model) return;
    const next = arrowKeys(e, buttons, at, this.model.sparsity.length);
    if (next === undefined) return;
    buttons[at].tabIndex = -1;
    buttons[next].tabIndex = 0;
    buttons[next].focus();
    this.focusCell = [Number(buttons[next].dataset.row), Number(buttons[next].dataset.col)];
  }

  private loadWeights(key: string): Promise<Weights> {
    let p = this.weights.get(key);
    if (!p) {
      p = fetch(`${this.base}${key}/weights.safetensors`)
        .then((res) => {
          if (!res.ok) throw new Error(`weights.safetensors: HTTP ${res.status}`);
          return res.arrayBuffer();
        })
        .then((buf) => {
          const { tensors } = decodeSafetensors(new Uint8Array(buf));
          if (!tensors.W || !tensors.b) throw new Error("weights.safetensors lacks W or b");
          return { W: tensors.W.data, b: tensors.b.data };
        });
      this.weights.set(key, p);
      p.catch(() => this.weights.delete(key));
    }
    return p;
  }

  private async renderDetail(): Promise<void> {
    const key = this.route.cell;
    const result = key ? this.results.get(key) : undefined;
    if (!key || !result) {
      this.detail.replaceChildren(
        h("p", { class: "hint", text: key ? `${key} is not in the store.` : "Select a cell of the grid." }),
      );
      return;
    }
    const i = Math.min(this.route.instance ?? 0, result.instances.length - 1);
    let w: Weights;
    try {
      w = await this.loadWeights(key);
    } catch (e) {
      this.detail.replaceChildren(h("p", { class: "error", text: `${key}: ${(e as Error).message}` }));
      return;
    }
    if (this.route.cell !== key) return; // the user moved on while the weights loaded
    const F = result.nFeatures;
    const data: RunData = {
      title: `${result.activation}${result.variant ? ` (${result.variant})` : ""} · ${result.preset} · seed ${result.seed} · ${result.steps} steps`,
      nFeatures: F,
      nHidden: result.nHidden,
      featureProbability: result.config.featureProbability,
      importance: result.config.importance.flat(),
      W: w.W,
      b: w.b,
      curve: result.lossCurve,
      totalSteps: result.steps,
      overviewNote: result.preset === "phase" ? PHASE_NOTE : undefined,
    };
    if (!this.panel) {
      this.panel = new RunPanel({
        id: "browse",
        onSelect: (inst) => {
          location.hash = formatRoute({ tab: "browse", cell: this.route.cell, instance: inst });
        },
        fileStem: () => slug("tms", this.route.cell ?? "cell", `i${this.route.instance ?? 0}`),
      });
    }
    const inst = result.instances[i];
    const rows: [string, string][] = [
      ["eval loss", formatLoss(inst.loss)],
      ["train loss (last step)", formatLoss(inst.trainLoss)],
      ["diverged", inst.diverged ? `yes, at step ${inst.divergedAtStep}` : "no"],
      ["training", `${result.steps} steps, lr ${result.lr}, batch ${result.batchSize}, ${result.dtype}`],
      ["train time", `${result.timings?.trainSeconds?.toFixed(1) ?? result.seconds.toFixed(1)} s`],
    ];
    this.panel.render(data, i, rows);
    this.heading.textContent = `${result.activation}${result.variant ? ` ${result.variant}` : ""} · ${result.preset} · seed ${result.seed} · sparsity ${formatSparsity(result.config.featureProbability[i])}`;
    this.files.replaceChildren(
      "Files: ",
      h("a", { href: `${this.base}${key}/result.json`, text: "result.json" }),
      " · ",
      h("a", { href: `${this.base}${key}/weights.safetensors`, download: "", text: "weights.safetensors" }),
    );
    // keep the panel's nodes in place, so focus stays on the instance button the user pressed
    if (this.detail.firstChild !== this.heading || !this.detail.contains(this.panel.root)) {
      this.detail.replaceChildren(this.heading, this.panel.root, this.files);
    }
  }

  private renderReport(files: string[]): void {
    if (files.length === 0) {
      this.reportEl.replaceChildren(
        h("h2", { text: "Report" }),
        h("p", {
          class: "hint",
          text: "No report in this store yet: `tms report DIR` writes DIR/report/ (findings, tables, figures).",
        }),
      );
      return;
    }
    const links = files.map((f) =>
      h("a", {
        href: `${this.base}report/${f}`,
        target: f.endsWith(".html") ? "_blank" : undefined,
        rel: "noopener",
        download: f.endsWith(".html") ? undefined : "",
        text: f,
      }),
    );
    const children: Node[] = [
      h("h2", { text: "Report: findings and tables" }),
      h("p", {}, "Open: ", ...links.flatMap((a, k) => (k === 0 ? [a] : [" · ", a]))),
    ];
    if (files.includes("report.html")) {
      children.push(
        h("iframe", {
          src: `${this.base}report/report.html`,
          title: "The store's report (findings, tables, figures)",
          loading: "lazy",
          "data-testid": "report-frame",
        }),
      );
    }
    this.reportEl.replaceChildren(...children);
  }

  get element(): HTMLElement {
    return this.root;
  }
}
