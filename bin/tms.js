#!/usr/bin/env node
// The `tms` command: the bundle of the compiled CLI (scripts/bundle.mjs; `npm run build` makes both).
import { delayWasmTierUp, enableRelaxedSimd } from "../dist/bundle/cli/node-flags.js";

enableRelaxedSimd();
delayWasmTierUp();
const { main } = await import("../dist/bundle/cli/main.js");
await main();
