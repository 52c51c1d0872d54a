// report.html in a real browser (Debian's chromium, driven by playwright-core): it opens offline, logs no
// errors, requests nothing but itself, and every figure has a size.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { generateReport } from "../../src/report/report.js";
import { CHROMIUM, CHROMIUM_ARGS } from "../helpers/chromium.js";
import { tempDir } from "../helpers/cli.js";
import { CHROMIUM_REQUIREMENT, requireOrSkip } from "../helpers/requirements.js";
import { syntheticStore } from "./synthetic.js";

const hasChromium = requireOrSkip("the browser test of report.html", [CHROMIUM_REQUIREMENT]);

describe.skipIf(!hasChromium)("report.html in headless Chromium", () => {
  let html = "";
  let figures: string[] = [];
  beforeAll(async () => {
    const dir = tempDir("tms-report-browser-");
    syntheticStore(join(dir, "store"), ["intro/relu/seed-2"]);
    const outcome = await generateReport(join(dir, "store"), { formats: ["html"] });
    figures = outcome.figures;
    html = join(dir, "store", "report", "report.html");
  }, 120_000);

  it("renders with no console errors and every figure visible", async () => {
    const context = await chromium.launchPersistentContext(tempDir("tms-chromium-profile-"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("request", (r) => requests.push(r.url()));
      const url = pathToFileURL(html).href;
      await page.goto(url, { waitUntil: "load" });
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
      expect(await page.title()).toContain("Toy Models of Superposition");
      const sizes = await page.$$eval("figure[data-figure]", (els) =>
        els.map((el) => {
          const svg = el.querySelector("svg");
          const r = svg?.getBoundingClientRect();
          return { id: el.getAttribute("data-figure"), w: r?.width ?? 0, h: r?.height ?? 0 };
        }),
      );
      expect(sizes.map((s) => s.id).sort()).toEqual([...figures].sort());
      for (const s of sizes) {
        expect(s.w, s.id!).toBeGreaterThan(50);
        expect(s.h, s.id!).toBeGreaterThan(50);
      }
      // The table of contents links resolve to elements on the page.
      const broken = await page.$$eval("nav.toc a", (as) =>
        as.map((a) => a.getAttribute("href")!.slice(1)).filter((id) => !document.getElementById(id)),
      );
      expect(broken).toEqual([]);
      expect(readFileSync(html, "utf8")).toContain("Missing cells");
    } finally {
      await context.close();
    }
  });
});
