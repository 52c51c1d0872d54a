#!/usr/bin/env node
import { enableRelaxedSimd } from "../dist/src/cli/node-flags.js";

enableRelaxedSimd();
const { main } = await import("../dist/src/cli/main.js");
await main();
