import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/fidelity/**/*.fidelity.ts"],
    setupFiles: ["test/helpers/setup.ts"],
    testTimeout: 1_800_000,
    pool: "forks",
    // one suite at a time: each already trains on every core, and each rewrites its section of docs/fidelity.md
    fileParallelism: false,
  },
});
