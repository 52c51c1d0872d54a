// The explorer's formula box end to end in Chromium (issue #18): the curve and its derivative drawn as you
// type, a bad formula's problem and position shown inline (and Train refused), and a typed formula trained
// live in the browser's worker, its loss falling. Skipped, saying why, without /usr/bin/chromium.

import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_ARGS } from "../helpers/chromium.js";
import { ensureWebBuilt, type Served, serveExplorer } from "../helpers/explorer.js";
import { REPO_ROOT } from "../helpers/fixtures.js";

const HAS_CHROMIUM = existsSync(CHROMIUM);
const SHOTS = join(REPO_ROOT, "test-results");
const TIMEOUT = 120_000;

if (!HAS_CHROMIUM)
  console.warn(`[formula e2e] skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!HAS_CHROMIUM)("explorer formula box in Chromium", () => {
  let tmp: string;
  let server: Served;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), "tms-formula-e2e-"));
    server = await serveExplorer();
    context = await chromium.launchPersistentContext(join(tmp, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    await page.goto(server.url);
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    server?.child.kill("SIGTERM");
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("draws the curve and its derivative as you type", async () => {
    await page.fill("[data-testid=formula]", "x * sigmoid(1.702 * x)");
    await page.waitForSelector("[data-testid=formula-plot] path.formula-f");
    const d = await page.getAttribute("[data-testid=formula-plot] path.formula-f", "d");
    const dd = await page.getAttribute("[data-testid=formula-plot] path.formula-df", "d");
    // 161 points each, as one unbroken line
    expect(d?.match(/[ML]/g)).toHaveLength(161);
    expect(dd?.match(/[ML]/g)).toHaveLength(161);
    expect(d).not.toBe(dd);
    expect(await page.textContent("[data-testid=formula-error]")).toBe("");
  });

  it("shows a bad formula's problem and position inline, and refuses to train it", async () => {
    await page.fill("[data-testid=formula]", "x * foo(x)");
    await expect(page.textContent("[data-testid=formula-error]")).resolves.toMatch(
      /unknown function 'foo'.*at position 5/,
    );
    expect(await page.getAttribute("[data-testid=formula]", "aria-invalid")).toBe("true");
    expect(await page.locator("[data-testid=formula-plot] path").count()).toBe(0);
    await page.fill("[data-testid=formula]", "x * (2 + x");
    await expect(page.textContent("[data-testid=formula-error]")).resolves.toMatch(/syntax error/);
    await page.click("#btn-train");
    await expect(page.textContent("#run-status")).resolves.toMatch(/Fix the formula/);
    expect(await page.locator("[data-testid=run-0]").count()).toBe(0);
  });

  it("trains a typed formula live: steps advance and the loss falls", async () => {
    await page.fill("[data-testid=formula]", "max(x, 0.1*x)");
    await page.selectOption("select[name=preset]", "intro");
    await page.fill("input[name=steps]", "400");
    await page.click("#btn-train");
    await page.waitForSelector("[data-testid=run-0][data-status=done]", { timeout: TIMEOUT });
    const header = await page.textContent("[data-testid=run-0] header h2");
    expect(header).toContain("max(x, 0.1*x)");
    const step = Number((await page.textContent("[data-testid=run-0] [data-testid=step]"))?.split("/")[0]);
    expect(step).toBe(400);
    const first = Number(await page.textContent("[data-testid=run-0] [data-testid=loss-first]"));
    const now = Number(await page.textContent("[data-testid=run-0] [data-testid=loss-now]"));
    expect(first).toBeGreaterThan(0);
    expect(now).toBeLessThan(first);
    await page.screenshot({ path: join(SHOTS, "web-formula.png"), fullPage: true });
    expect(problems).toEqual([]);
  });
});
