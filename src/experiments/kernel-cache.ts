// Generated WebAssembly (step kernels, samplers, optimizers) kept on disk between processes, so a short run
// skips generation: core's ModuleByteCache (kernels/engine.ts) as files. An entry's name hashes its module
// key and a fingerprint of the generator (the code of src/core as this process runs it), so changing the
// generator, the shape, precision, activation (a formula's text included), FMA mode or paths never reuses
// an entry. Each file carries a checksum of its key and bytes: a file that is cut short, damaged or
// unreadable is a miss. Writes go to a temporary file renamed into place, so a concurrent reader sees a
// whole entry or none. Everything here is best-effort: a cache that cannot be read or written is no cache.
//
// Location: $TMS_KERNEL_CACHE, else $XDG_CACHE_HOME/tms-lab/kernels, else <os tmpdir>/tms-lab-kernels-<uid>.
// Behind it, read-only, the kernels `npm run build` generated into dist/kernels/ (scripts/prebuild-kernels.mjs:
// the seed study's and the large presets' relu), so a fresh installation's first short run does not generate
// them either. TMS_KERNEL_CACHE=off turns both off; deleting the directory clears it.

import { createHash } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { threadId } from "node:worker_threads";
import { type ModuleByteCache, setModuleByteCache } from "../core/kernels/engine.js";
import { turnedOff } from "./env-switch.js";
import { PACKAGE_ROOT } from "./package-root.js";

export const KERNEL_CACHE_ENV = "TMS_KERNEL_CACHE";
const MAGIC = Buffer.from("TMSMOD01");
const DIGEST = 32;
/** When the directory outgrows this, the oldest entries go until it is half as large. */
export const CACHE_MAX_BYTES = 256 * 2 ** 20;

/** The cache directory the environment asks for, or undefined when it turns the cache off. */
export function kernelCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const asked = env[KERNEL_CACHE_ENV]?.trim();
  if (asked) return turnedOff(asked) ? undefined : asked;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "tms-lab", "kernels");
  return join(tmpdir(), `tms-lab-kernels-${process.getuid?.() ?? "user"}`);
}

/**
 * A fingerprint of the generator: a hash of every module under src/core (the compiled .js files, or the
 * .ts sources when this runs from them), names and contents. Any change to core makes a fresh cache.
 */
export function generatorFingerprint(coreDir = defaultCoreDir()): string {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const hash = createHash("sha256");
  const walk = (dir: string, rel: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else if (e.name.endsWith(ext) && !e.name.endsWith(".d.ts")) {
        hash.update(`${rel}${e.name}\0`);
        hash.update(readFileSync(join(dir, e.name)));
      }
    }
  };
  walk(coreDir, "");
  return hash.digest("hex");
}

const defaultCoreDir = () => fileURLToPath(new URL("../core/", import.meta.url));

// The bundle the `tms` command runs (scripts/bundle.mjs) has no src/core files beside it: it carries the
// fingerprint of the core modules it was built from, which also spares each thread the hashing.
declare const __TMS_CORE_FINGERPRINT__: string | undefined;
const bundledFingerprint =
  typeof __TMS_CORE_FINGERPRINT__ === "string" ? __TMS_CORE_FINGERPRINT__ : undefined;
let fingerprintOfThisProcess: string | undefined;
const defaultFingerprint = () => {
  fingerprintOfThisProcess ??= bundledFingerprint ?? generatorFingerprint();
  return fingerprintOfThisProcess;
};

/** Where the build leaves the kernels it generated (scripts/prebuild-kernels.mjs). */
export const SHIPPED_KERNELS_DIR = join(PACKAGE_ROOT, "dist", "kernels");

/**
 * The disk cache in `dir` for the generator with this fingerprint (computed on first use by default).
 * `readOnly`: the installation's own shipped entries: never written, and trusted as its code is (the
 * ownership check guards a shared temporary directory, not the package's files).
 */
export function diskModuleCache(
  dir: string,
  fingerprint?: () => string,
  options: { readOnly?: boolean } = {},
): ModuleByteCache {
  let fp: string | undefined;
  let trimmed = false;
  let usable: boolean | undefined;
  const trusted = () => {
    usable ??= options.readOnly ? true : ownDirectory(dir);
    return usable;
  };
  const nameOf = (key: string) => {
    fp ??= (fingerprint ?? defaultFingerprint)();
    return createHash("sha256").update(`${fp}\n${key}`).digest("hex").slice(0, 40);
  };
  const digestOf = (key: string, payload: Uint8Array) =>
    createHash("sha256").update(key).update("\0").update(payload).digest();
  return {
    get(key) {
      if (!trusted()) return undefined;
      const file = join(dir, `${nameOf(key)}.bin`);
      let entry: Buffer;
      try {
        entry = readFileSync(file);
      } catch {
        return undefined;
      }
      const head = MAGIC.length + DIGEST;
      const payload = entry.subarray(head);
      const ok =
        entry.length > head &&
        entry.subarray(0, MAGIC.length).equals(MAGIC) &&
        entry.subarray(MAGIC.length, head).equals(digestOf(key, payload));
      if (ok) return new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
      if (!options.readOnly) removeQuietly(file);
      return undefined;
    },
    set(key, bytes) {
      try {
        if (options.readOnly || !trusted()) return;
        if (!trimmed) {
          trimCache(dir, CACHE_MAX_BYTES);
          trimmed = true;
        }
        const file = join(dir, `${nameOf(key)}.bin`);
        const temp = `${file}.${process.pid}-${threadId}.tmp`;
        writeFileSync(temp, Buffer.concat([MAGIC, digestOf(key, bytes), bytes]));
        renameSync(temp, file);
      } catch {
        // a full disk or a read-only directory: the next run generates again
      }
    },
  };
}

/**
 * Creates the directory (private to this user) if needed; false when that fails or it belongs to someone
 * else (a shared temporary directory: another user's entries are not trusted).
 */
function ownDirectory(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const uid = process.getuid?.();
    return uid === undefined || statSync(dir).uid === uid;
  } catch {
    return false;
  }
}

/** Removes the oldest entries (and stray temporary files) while the directory holds more than `max` bytes. */
function trimCache(dir: string, max: number): void {
  const files: { path: string; stat: Stats }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      files.push({ path, stat: statSync(path) });
    } catch {
      // removed meanwhile by another process
    }
  }
  let total = files.reduce((sum, f) => sum + f.stat.size, 0);
  if (total <= max) return;
  files.sort((a, b) => a.stat.mtimeMs - b.stat.mtimeMs);
  for (const f of files) {
    if (total <= max / 2) break;
    removeQuietly(f.path);
    total -= f.stat.size;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Looks in `first`, then in `then`; stores in `first`. */
export function layeredModuleCache(first: ModuleByteCache, then: ModuleByteCache): ModuleByteCache {
  return {
    get: (key) => first.get(key) ?? then.get(key),
    set: (key, bytes) => first.set(key, bytes),
  };
}

/**
 * Installs the disk cache for this thread's generated modules, with the build's shipped kernels behind it,
 * unless the environment turns it off.
 */
export function installKernelCache(
  env: NodeJS.ProcessEnv = process.env,
  shipped = SHIPPED_KERNELS_DIR,
): void {
  const dir = kernelCacheDir(env);
  setModuleByteCache(
    dir
      ? layeredModuleCache(diskModuleCache(dir), diskModuleCache(shipped, undefined, { readOnly: true }))
      : undefined,
  );
}
