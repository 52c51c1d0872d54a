// Builds the explorer (web/) into web/dist. `base: "./"` keeps asset paths relative, so the built app works
// from any directory of any static server, not only from `tms serve`. `TMS_STORE=DIR npm run web:dev` also
// serves a results store under /store/ during development, with the same read-only handler as `tms serve`.

import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";
import { handleInfoRequest, handleStoreRequest } from "../src/cli/commands/serve.js";

const here = fileURLToPath(new URL(".", import.meta.url));

function devStore(): Plugin {
  return {
    name: "tms-dev-store",
    configureServer(server) {
      const dir = process.env.TMS_STORE;
      if (!dir) return;
      server.middlewares.use("/store", (req, res) => handleStoreRequest(dir, req, res, req.url ?? "/"));
      server.middlewares.use("/explorer.json", (req, res) => handleInfoRequest(dir, req, res));
    },
  };
}

export default defineConfig({
  root: here,
  base: "./",
  plugins: [devStore()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    reportCompressedSize: false,
  },
  worker: { format: "es" },
  server: { fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } },
});
