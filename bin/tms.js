#!/usr/bin/env node
// The `tms` command: the bundle of the compiled CLI (scripts/bundle.mjs; `npm run build` makes both).
import module from "node:module";

// Node ≥ 22.1 can keep compiled JavaScript on disk between runs (its default directory under the temp dir;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off): a few tens of milliseconds of a short study's start-up
// (docs/speed.md). Node 20 has no such cache. Enabled before the bundle loads, so that the bundle's own
// modules are cached too.
module.enableCompileCache?.();
const { delayWasmTierUp, enableRelaxedSimd } = await import("../dist/bundle/cli/node-flags.js");

enableRelaxedSimd();
delayWasmTierUp();
const { main } = await import("../dist/bundle/cli/main.js");
await main();
