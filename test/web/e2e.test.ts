// The explorer end to end in a real browser: Debian's chromium, headless, driven by playwright-core, against
// `tms serve` on a small results store made here. Screenshots go to test-results/ (look at them).
// Without /usr/bin/chromium: fails under CI, skipped with a warning locally (helpers/requirements.ts).

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIVATION_IDS } from "../../src/core/activations.js";
import { decodeSafetensors } from "../../src/experiments/safetensors.js";
import { CHROMIUM, CHROMIUM_ARGS } from "../helpers/chromium.js";
import { runCli } from "../helpers/cli.js";
import { ensureWebBuilt, type Served, serveExplorer } from "../helpers/explorer.js";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { CHROMIUM_REQUIREMENT, requireOrSkip } from "../helpers/requirements.js";

const HAS_CHROMIUM = requireOrSkip("the explorer's browser tests", [CHROMIUM_REQUIREMENT]);
const SHOTS = join(REPO_ROOT, "test-results");
const TIMEOUT = 120_000;

describe.skipIf(!HAS_CHROMIUM)(`explorer in ${CHROMIUM} (headless)`, () => {
  let tmp: string;
  let server: Served;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const speed: Record<string, number> = {};

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `web-${name}.png`), fullPage: true });
  const stepOf = async (k: number) =>
    Number((await page.textContent(`[data-testid=run-${k}] [data-testid=step]`))?.split("/")[0]);
  const waitStatus = (k: number, s: string, timeout = TIMEOUT) =>
    page.waitForSelector(`[data-testid=run-${k}][data-status=${s}]`, { timeout });

  async function train(o: { preset: string; a: string; b?: string; steps: number }): Promise<void> {
    await page.selectOption("select[name=preset]", o.preset);
    await page.selectOption("select[name=activationA]", o.a);
    await page.selectOption("select[name=activationB]", o.b ?? "");
    await page.fill("input[name=steps]", String(o.steps));
    await page.click("#btn-train");
  }

  beforeAll(async () => {
    ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), "tms-web-e2e-"));
    const store = join(tmp, "store");
    const sweep = await runCli([
      "sweep",
      "--presets",
      "intro",
      "--activations",
      "relu,gelu",
      "--seeds",
      "0",
      "--steps",
      "50",
      "--out",
      store,
    ]);
    expect(sweep.code, sweep.stderr).toBe(0);
    // a stand-in for `tms report`'s output: Browse links to and embeds DIR/report/report.html
    mkdirSync(join(store, "report"));
    writeFileSync(
      join(store, "report", "report.html"),
      '<!doctype html><html lang="en"><meta charset="utf-8"><title>Report</title><h1>Findings</h1>' +
        "<table><tr><th>activation</th><th>loss</th></tr><tr><td>relu</td><td>1e-3</td></tr></table></html>",
    );
    server = await serveExplorer(store);
    context = await chromium.launchPersistentContext(join(tmp, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  }, 300_000);

  afterAll(async () => {
    writeFileSync(join(SHOTS, "web-speed.json"), `${JSON.stringify(speed, null, 1)}\n`);
    if (Object.keys(speed).length)
      console.log(`[web e2e] browser training speed (steps/s): ${JSON.stringify(speed)}`);
    await context?.close();
    server?.child.kill("SIGTERM");
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("loads the explorer", async () => {
    await page.goto(server.url);
    await expect(page.title()).resolves.toMatch(/tms-lab explorer/);
    expect(await page.getAttribute("#tab-train", "aria-selected")).toBe("true");
    expect(await page.locator("select[name=activationA] option").count()).toBe(ACTIVATION_IDS.length);
  });

  it("trains intro/relu for 500 steps: the loss falls, 5 feature arrows, page stays responsive", async () => {
    await train({ preset: "intro", a: "relu", steps: 500 });
    // running, or already done: 500 steps can end between two of Playwright's polls (once, under the full
    // suite's load, waiting for "running" alone hung until the test's timeout)
    await page.waitForSelector(
      "[data-testid=run-0][data-status=running], [data-testid=run-0][data-status=done]",
      {
        timeout: TIMEOUT / 4,
      },
    );
    // the page answers input while the worker trains: the instance slider moves with the keyboard
    await page.focus("#instance");
    await page.keyboard.press("ArrowLeft");
    await expect(page.textContent("#instance-label")).resolves.toContain("instance 8");
    await page.keyboard.press("ArrowRight");
    await waitStatus(0, "done", TIMEOUT / 4);
    await page.waitForFunction(
      () => document.querySelector("[data-testid=run-0] [data-testid=status]")?.textContent === "done",
      undefined,
      { timeout: TIMEOUT / 4 },
    );
    const first = Number(await page.textContent("[data-testid=run-0] [data-testid=loss-first]"));
    const now = Number(await page.textContent("[data-testid=run-0] [data-testid=loss-now]"));
    expect(first).toBeGreaterThan(0);
    expect(now).toBeLessThan(first);
    expect(await stepOf(0)).toBe(500);
    expect(await page.locator("[data-testid=diagram-0] g.feature").count()).toBe(5);
    expect(await page.locator("[data-testid=run-0] button.mini").count()).toBe(10);
    expect(await page.locator("[data-testid=curve-0] path.loss-line").count()).toBe(10);
    speed.intro = Number(await page.getAttribute("[data-testid=run-0]", "data-steps-per-second"));
    await shot("train-intro-relu");
  });

  it("exports the weights as safetensors and the figure as SVG", async () => {
    const [weights] = await Promise.all([
      page.waitForEvent("download"),
      page.click("[data-testid=run-0] .exports button:has-text('safetensors')"),
    ]);
    expect(weights.suggestedFilename()).toBe("tms-intro-relu-seed0-step500.safetensors");
    const { tensors, metadata } = decodeSafetensors(
      new Uint8Array(readFileSync((await weights.path()) ?? "")),
    );
    expect(tensors.W.shape).toEqual([10, 5, 2]);
    expect(tensors.b.shape).toEqual([10, 5]);
    expect(metadata).toMatchObject({ activation: "relu", preset: "intro", steps: "500" });
    const [fig] = await Promise.all([
      page.waitForEvent("download"),
      page.click("[data-testid=run-0] .exports button:has-text('SVG')"),
    ]);
    const svg = readFileSync((await fig.path()) ?? "", "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<g class="feature"/g)?.length).toBe(50);
    const [png] = await Promise.all([
      page.waitForEvent("download"),
      page.click("[data-testid=run-0] .exports button:has-text('PNG')"),
    ]);
    expect(
      readFileSync((await png.path()) ?? "")
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");
  });

  it("stops and resumes demo training, and measures its speed", async () => {
    await train({ preset: "demo", a: "relu", steps: 1_000_000 });
    await waitStatus(0, "running");
    await page.waitForTimeout(5000);
    await page.click("#btn-stop");
    await waitStatus(0, "paused");
    await page.waitForTimeout(300);
    const stopped = await stepOf(0);
    expect(stopped).toBeGreaterThan(0);
    speed.demo = Number(await page.getAttribute("[data-testid=run-0]", "data-steps-per-second"));
    speed.demoWholeRun = Number(
      await page.getAttribute("[data-testid=run-0]", "data-average-steps-per-second"),
    );
    await page.waitForTimeout(700);
    expect(await stepOf(0)).toBe(stopped);
    expect(await page.isDisabled("#btn-stop")).toBe(true);
    await page.click("#btn-resume");
    await waitStatus(0, "running");
    await page.waitForFunction(
      (s) =>
        Number(document.querySelector("[data-testid=run-0] [data-testid=step]")?.textContent?.split("/")[0]) >
        s,
      stopped,
      { timeout: TIMEOUT },
    );
    // demo: H = 5, so the W Wᵀ heat map and one norm bar per feature
    expect(await page.locator("[data-testid=diagram-0] .norm-bar").count()).toBe(20);
    await page.click("#btn-stop");
    await waitStatus(0, "paused");
    await shot("train-demo-stopped");
  });

  it("trains two activations side by side", async () => {
    await train({ preset: "intro", a: "relu", b: "gelu", steps: 200 });
    await waitStatus(0, "done");
    await waitStatus(1, "done");
    await page.waitForFunction(() => document.body.dataset.trainStatus === "done");
    await page.waitForTimeout(250);
    for (const k of [0, 1]) {
      expect(await page.locator(`[data-testid=diagram-${k}] g.feature`).count()).toBe(5);
      expect(await stepOf(k)).toBe(200);
    }
    expect(await page.textContent("[data-testid=run-1] h2")).toContain("GELU");
    await shot("train-side-by-side");
  });

  it("validates the form and trains a custom model", async () => {
    await page.selectOption("select[name=preset]", "custom");
    await page.fill("input[name=features]", "3");
    await page.fill("input[name=hidden]", "2");
    await page.fill("input[name=probabilities]", "1, 0.1");
    await page.fill("input[name=importance]", "1");
    await page.fill("input[name=steps]", "abc");
    await page.selectOption("select[name=activationB]", "");
    await page.click("#btn-train");
    expect(await page.getAttribute("input[name=steps]", "aria-invalid")).toBe("true");
    expect(await page.textContent("#err-steps")).toMatch(/whole number/);
    await page.fill("input[name=steps]", "100");
    await page.keyboard.press("Enter");
    await waitStatus(0, "done");
    expect(await page.locator("[data-testid=diagram-0] g.feature").count()).toBe(3);
    expect(await page.getAttribute("input[name=steps]", "aria-invalid")).toBeNull();
  });

  it("browses the results store: grid, a cell's figures, keyboard", async () => {
    await page.click("#tab-browse");
    await page.waitForSelector("[data-testid=browse-grid] button.cell");
    const rows = page.locator("[data-testid=browse-grid] tbody tr");
    expect(await rows.count()).toBe(2);
    expect(await page.locator("[data-testid=browse-grid] button.cell").count()).toBe(20);
    const reluRow = page.locator("[data-testid=browse-grid] tbody tr", { hasText: "relu" });
    await reluRow.locator("button.cell").nth(9).click();
    await page.waitForSelector("[data-testid=diagram-browse] g.feature");
    expect(page.url()).toContain("#browse/intro/relu/seed-0/9");
    expect(await page.locator("[data-testid=diagram-browse] g.feature").count()).toBe(5);
    expect(await page.locator("[data-testid=curve-browse] path.loss-line").count()).toBe(10);
    expect(await page.textContent("[data-testid=metrics-browse]")).toMatch(/eval loss/);
    expect(await page.textContent("[data-testid=browse-detail] h2")).toMatch(/relu · intro · seed 0/);
    // arrow keys move along the grid; Enter opens the cell
    await reluRow.locator("button.cell").nth(9).focus();
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("Enter");
    await page.waitForURL(/#browse\/intro\/relu\/seed-0\/8$/);
    await page.waitForFunction(() =>
      document.querySelector("[data-testid=browse-detail] h2")?.textContent?.includes("sparsity 0.93"),
    );
    // small multiples select an instance too
    await page.locator("[data-testid=browse-detail] button.mini").first().click();
    await page.waitForURL(/#browse\/intro\/relu\/seed-0\/0$/);
    await reluRow.locator("button.cell").nth(6).click();
    await page.waitForURL(/\/6$/);
    // the report: a link and the embedded report.html
    expect(await page.getAttribute("#b-report a", "href")).toBe("store/report/report.html");
    await page.locator("[data-testid=report-frame]").scrollIntoViewIfNeeded();
    const frame = page.frameLocator("[data-testid=report-frame]");
    await expect(frame.locator("h1").textContent()).resolves.toBe("Findings");
    await page.waitForTimeout(250);
    await shot("browse-cell");
  });

  it("fits a phone's width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(250);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shot("browse-phone");
    await page.click("#tab-train");
    await page.waitForTimeout(250);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shot("train-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("logged no console errors or failed requests", () => {
    expect(problems).toEqual([]);
  });
});
