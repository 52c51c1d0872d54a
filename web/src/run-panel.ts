// The DOM of one run's figures, shared by the Train tab (live) and the Browse tab (stored): the selected
// instance's diagram and metrics, the small multiples (buttons, arrow keys move between them), the loss
// curve and the export buttons.

import { arrowKeys, download, h, rasterizeHeat, svgToPng } from "./dom.js";
import { instanceDiagram, lossCurve, toSvg } from "./figures.js";
import { formatSparsity } from "./format.js";
import {
  exportFigure,
  instanceCount,
  legendOf,
  MAX_MINIS,
  metricsOf,
  overviewClasses,
  overviewColumns,
  overviewFigure,
  type RunData,
  sparsityCaption,
  viewOf,
} from "./panels.js";

export interface PanelOptions {
  /** Suffix of data-testid attributes (diagram-<id>, curve-<id>, …). */
  id: string;
  onSelect: (instance: number) => void;
  /** File name stem for exports. */
  fileStem: () => string;
  /** Extra export buttons (the Train tab's weights). */
  extraExports?: HTMLElement[];
}

export class RunPanel {
  readonly root: HTMLElement;
  private readonly diagram: HTMLElement;
  private readonly metrics: HTMLElement;
  private readonly minis: HTMLElement;
  private readonly curve: HTMLElement;
  private readonly exportSvg: HTMLButtonElement;
  private readonly exportPng: HTMLButtonElement;
  private miniButtons: HTMLButtonElement[] = [];
  private overview: HTMLElement | undefined;
  private legend: HTMLElement | undefined;
  private data: RunData | undefined;
  private selected = 0;

  constructor(private readonly o: PanelOptions) {
    this.diagram = h("div", { class: "diagram", "data-testid": `diagram-${o.id}` });
    this.metrics = h("div", { class: "metrics", "data-testid": `metrics-${o.id}` });
    this.minis = h("div", {
      class: "minis",
      role: "group",
      "aria-label": "All sparsity levels (select one)",
    });
    this.curve = h("div", { class: "curve", "data-testid": `curve-${o.id}` });
    this.exportSvg = h("button", { type: "button", text: "Figure SVG", disabled: true });
    this.exportPng = h("button", { type: "button", text: "Figure PNG", disabled: true });
    this.exportSvg.addEventListener("click", () => this.saveSvg());
    this.exportPng.addEventListener("click", () => void this.savePng());
    this.root = h(
      "div",
      { class: "panel" },
      h("div", { class: "focus" }, this.diagram, this.metrics),
      this.minis,
      this.curve,
      h(
        "div",
        { class: "exports", role: "group", "aria-label": "Export" },
        ...(o.extraExports ?? []),
        this.exportSvg,
        this.exportPng,
      ),
    );
    this.minis.addEventListener("keydown", (e) => {
      const at = this.miniButtons.indexOf(document.activeElement as HTMLButtonElement);
      if (at < 0) return;
      const next = arrowKeys(e, this.miniButtons, at);
      if (next !== undefined) {
        this.miniButtons[next].focus();
        this.o.onSelect(next);
      }
    });
  }

  /** Draws `data` with instance `selected` in focus; `rows` are extra metrics lines for the focus. */
  render(data: RunData, selected: number, rows: [string, string][] = []): void {
    const n = instanceCount(data);
    this.data = data;
    this.selected = Math.min(selected, n - 1);
    const i = this.selected;
    const m = metricsOf(data, i);
    const fig = instanceDiagram(viewOf(data, i, m), {
      size: data.nHidden === 2 ? 260 : 220,
      rasterize: rasterizeHeat,
      rasterizeAbove: 0,
      caption: `${sparsityCaption(data, i)} (p = ${data.featureProbability[i].toPrecision(3)})`,
    });
    this.diagram.innerHTML = toSvg(fig, {
      role: "img",
      "aria-label": `Feature diagram at sparsity ${formatSparsity(data.featureProbability[i])}`,
      class: "fig",
    });
    const lines: [string, string][] = [
      ["features represented", `${m.featuresRepresented} of ${data.nFeatures}`],
      ["fraction in superposition", m.fractionSuperposed.toFixed(2)],
      ["dimensions per feature D*", Number.isFinite(m.dimsPerFeature) ? m.dimsPerFeature.toFixed(3) : "∞"],
      [
        "bias mean (min … max)",
        `${m.biasMean.toFixed(3)} (${m.biasMin.toFixed(2)} … ${m.biasMax.toFixed(2)})`,
      ],
      ...rows,
    ];
    this.metrics.replaceChildren(
      h(
        "table",
        {},
        h(
          "tbody",
          {},
          ...lines.map(([k, v]) => h("tr", {}, h("th", { scope: "row", text: k }), h("td", { text: v }))),
        ),
      ),
    );
    if (n <= MAX_MINIS) this.renderMinis(data);
    else this.renderOverview(data);
    this.curve.innerHTML = toSvg(
      lossCurve(data.curve, { width: 480, height: 200, totalSteps: data.totalSteps, highlight: i }),
      { role: "img", "aria-label": "Training loss against step, log-log", class: "fig" },
    );
    this.exportSvg.disabled = false;
    this.exportPng.disabled = false;
  }

  private renderMinis(data: RunData): void {
    const n = instanceCount(data);
    this.overview?.remove();
    this.overview = undefined;
    if (this.miniButtons.length !== n) {
      this.miniButtons = Array.from({ length: n }, (_, i) => {
        const b = h("button", { type: "button", class: "mini", "data-instance": i });
        b.addEventListener("click", () => this.o.onSelect(i));
        return b;
      });
      this.minis.replaceChildren(...this.miniButtons);
    }
    const size = data.nHidden === 2 ? 84 : 96;
    this.miniButtons.forEach((b, i) => {
      const sel = i === this.selected;
      b.setAttribute("aria-pressed", String(sel));
      b.tabIndex = sel ? 0 : -1;
      b.setAttribute("aria-label", `sparsity ${formatSparsity(data.featureProbability[i])}`);
      b.innerHTML = toSvg(
        instanceDiagram(viewOf(data, i), {
          size,
          compact: true,
          caption: sparsityCaption(data, i),
          rasterize: rasterizeHeat,
          rasterizeAbove: 0,
        }),
        { "aria-hidden": "true" },
      );
    });
  }

  private renderOverview(data: RunData): void {
    this.miniButtons = [];
    if (!this.overview) {
      this.overview = h("div", { class: "overview" });
      this.overview.addEventListener("click", (e) => {
        const target = (e.target as Element).closest("[data-instance]");
        if (target) this.o.onSelect(Number(target.getAttribute("data-instance")));
      });
      this.legend = h("ul", { class: "legend", "aria-label": "Overview colours" });
      const n = instanceCount(data);
      this.minis.replaceChildren(
        this.overview,
        h(
          "div",
          { class: "overview-notes" },
          h("p", {
            class: "hint",
            text: `${n} instances, ${overviewColumns(n)} per row; click one, or use the Instance slider.`,
          }),
          ...(data.overviewNote ? [h("p", { class: "hint", text: data.overviewNote })] : []),
          this.legend,
        ),
      );
    }
    const classes = overviewClasses(data);
    this.overview.innerHTML = toSvg(overviewFigure(data, this.selected, classes), {
      role: "img",
      "aria-label": "Overview of all instances",
    });
    this.legend?.replaceChildren(
      ...legendOf(classes).map((c) =>
        h("li", {}, h("span", { class: "swatch", style: `background:${c.colour}` }), c.label),
      ),
    );
  }

  private figureSvg(): { svg: string; width: number; height: number } | undefined {
    if (!this.data) return undefined;
    const fig = exportFigure(this.data, this.selected, rasterizeHeat);
    return { svg: toSvg(fig), width: fig.width, height: fig.height };
  }

  private saveSvg(): void {
    const f = this.figureSvg();
    if (f) download(new Blob([f.svg], { type: "image/svg+xml" }), `${this.o.fileStem()}.svg`);
  }

  private async savePng(): Promise<void> {
    const f = this.figureSvg();
    if (f) download(await svgToPng(f.svg, f.width, f.height), `${this.o.fileStem()}.png`);
  }
}
