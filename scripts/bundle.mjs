// Bundles the compiled command line (dist/src, from tsc) into dist/bundle/cli/, which bin/tms.js runs. Node
// loads an ES module graph file by file, resolving and compiling each: ≈ 100 of ours cost a sweep worker
// ≈ 50 ms and the main thread more, on every command (docs/speed.md, "Start-up"). One file per entry, with
// the code they share in chunks, loads in a fraction of that. Third-party packages stay outside (several
// read their own files at run time), except the pure-JavaScript ones every sweep or train command loads.
// All outputs share one directory three levels below the package root, as dist/src/cli/ is, and the
// worker entries sit beside the code that starts them (new URL("./sweep-worker.js", import.meta.url)).
//
//   node scripts/bundle.mjs          (npm run build runs it after tsc)

import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}dist/src/`;
const outdir = `${root}dist/bundle/cli`;

/** Packages bundled in: pure JavaScript, no files of their own read at run time. */
const BUNDLED = new Set(["commander", "zod", "smol-toml", "jsep", "cli-table3", "cli-progress"]);

const { generatorFingerprint } = await import(`${dist}experiments/kernel-cache.js`);

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [
    `${dist}cli/main.js`,
    `${dist}cli/node-flags.js`,
    `${dist}experiments/sweep-worker.js`,
    `${dist}experiments/queue/processor.js`,
  ],
  outdir,
  entryNames: "[name]",
  chunkNames: "chunk-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  define: { __TMS_CORE_FINGERPRINT__: JSON.stringify(generatorFingerprint(`${dist}core/`)) },
  // the CommonJS packages bundled in (commander, cli-table3) require Node's built-ins, which an ES module
  // can do only through a require of its own
  banner: {
    js: 'import { createRequire as __tmsCreateRequire } from "node:module";\nconst require = __tmsCreateRequire(import.meta.url);',
  },
  logLevel: "warning",
  plugins: [
    {
      name: "external-packages",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          // a bundled package's own dependencies come with it (Node's built-ins stay outside on their own)
          if (args.importer.includes("/node_modules/")) return undefined;
          const name = args.path.startsWith("@")
            ? args.path.split("/").slice(0, 2).join("/")
            : args.path.split("/")[0];
          return BUNDLED.has(name) ? undefined : { path: args.path, external: true };
        });
      },
    },
  ],
});
