// The explorer's formula box (issue #18): type an activation as a formula of x; its curve and derivative
// are drawn as you type, and a bad formula shows its problem and position inline. A valid formula replaces
// the first activation of the next training run.

import { compileFormulaActivation, type FormulaDefinition } from "../../src/core/formula/activation.js";
import { byId } from "./dom.js";

/** The id a typed formula trains under (shown in the run's header with its text). */
export const FORMULA_ID = "formula";

const SVG = "http://www.w3.org/2000/svg";
const X_MIN = -4;
const X_MAX = 4;
const N = 161;
const WIDTH = 240;
const HEIGHT = 140;

export class FormulaBox {
  private readonly input = byId<HTMLInputElement>("formula");
  private readonly error = byId("err-formula");
  private readonly plot = byId("formula-plot");

  constructor() {
    this.input.addEventListener("input", () => this.update());
    this.update();
  }

  /** The typed formula's definition; undefined when the box is empty or the formula is invalid. */
  definition(): FormulaDefinition | undefined {
    const text = this.input.value.trim();
    if (!text) return undefined;
    return this.check(text) ? { id: FORMULA_ID, formula: text } : undefined;
  }

  /** Whether the box holds something that is not a valid formula (the run must not start). */
  invalid(): boolean {
    const text = this.input.value.trim();
    return text !== "" && !this.check(text);
  }

  private check(text: string): boolean {
    try {
      compileFormulaActivation({ id: FORMULA_ID, formula: text });
      return true;
    } catch {
      return false;
    }
  }

  private update(): void {
    const text = this.input.value.trim();
    this.plot.replaceChildren();
    if (!text) {
      this.showError("");
      return;
    }
    let act: ReturnType<typeof compileFormulaActivation>;
    try {
      act = compileFormulaActivation({ id: FORMULA_ID, formula: text });
    } catch (e) {
      this.showError((e as Error).message);
      return;
    }
    this.showError("");
    const xs = Array.from({ length: N }, (_, k) => X_MIN + ((X_MAX - X_MIN) * k) / (N - 1));
    const ys = xs.map((x) => act.forward(x));
    const ds = xs.map((x, k) => act.derivative(x, ys[k]));
    this.draw(xs, ys, ds);
  }

  private showError(message: string): void {
    this.error.textContent = message;
    if (message) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
  }

  /** f (solid) and f′ (dashed) on [−4, 4], the y range from the finite values, clipped to ±10. */
  private draw(xs: number[], ys: number[], ds: number[]): void {
    const finite = [...ys, ...ds]
      .filter((v) => Number.isFinite(v))
      .map((v) => Math.max(-10, Math.min(10, v)));
    const lo = Math.min(-1, ...finite);
    const hi = Math.max(1, ...finite);
    const px = (x: number) => ((x - X_MIN) / (X_MAX - X_MIN)) * WIDTH;
    const py = (y: number) => HEIGHT - ((Math.max(lo, Math.min(hi, y)) - lo) / (hi - lo)) * HEIGHT;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute("width", String(WIDTH));
    svg.setAttribute("height", String(HEIGHT));
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "the formula (solid) and its derivative (dashed) on [−4, 4]");
    const line = (cls: string, x1: number, y1: number, x2: number, y2: number) => {
      const l = document.createElementNS(SVG, "line");
      for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) l.setAttribute(k, String(v));
      l.setAttribute("class", cls);
      svg.append(l);
    };
    line("axis", 0, py(0), WIDTH, py(0));
    line("axis", px(0), 0, px(0), HEIGHT);
    const path = (cls: string, vs: number[]) => {
      let d = "";
      let pen = false;
      vs.forEach((v, k) => {
        if (!Number.isFinite(v)) {
          pen = false;
          return;
        }
        d += `${pen ? "L" : "M"}${px(xs[k]).toFixed(1)},${py(v).toFixed(1)}`;
        pen = true;
      });
      const p = document.createElementNS(SVG, "path");
      p.setAttribute("d", d);
      p.setAttribute("class", cls);
      svg.append(p);
    };
    path("formula-f", ys);
    path("formula-df", ds);
    this.plot.append(svg);
  }
}
