// Runs in every test process: the same WebAssembly features as the `tms` command (src/cli/node-flags.ts).
import { enableRelaxedSimd } from "../../src/cli/node-flags.js";

enableRelaxedSimd();
