import { it } from "vitest";
import { syntheticStore } from "/work/main/test/report/synthetic.js";
import { generateReport } from "/work/main/src/report/report.js";
import { rmSync } from "node:fs";
it("make", async () => {
  rmSync("/tmp/synth-store", { recursive: true, force: true });
  syntheticStore("/tmp/synth-store", ["intro/relu/seed-2"]);
  const o = await generateReport("/tmp/synth-store", { out: "/tmp/synth-out" });
  console.log(o.figures, o.gaps);
}, 120000);
