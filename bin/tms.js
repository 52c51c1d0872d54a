#!/usr/bin/env node
import { enableRelaxedSimd } from "../dist/src/cli/node-flags.js";

enableRelaxedSimd();
await import("../dist/src/cli/main.js");
