#!/usr/bin/env node
import { delayWasmTierUp, enableRelaxedSimd } from "../dist/src/cli/node-flags.js";

enableRelaxedSimd();
delayWasmTierUp();
const { main } = await import("../dist/src/cli/main.js");
await main();
