// Loads the native kernel (native/kernel.cc, built by scripts/build-native.mjs into dist/native/) into this
// thread, where the build made one for this machine; else the WebAssembly kernel runs everything. The build
// compiles for the CPU it runs on (-march=native), so the addon is refused on a machine whose CPU lacks a
// feature the build machine had (a copied installation). TMS_NATIVE=off turns it off (then every result is
// bit-identical to the browser's WebAssembly kernel).

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type NativeKernel, setNativeKernel } from "../core/kernels/native/native.js";
import { turnedOff } from "./env-switch.js";
import { PACKAGE_ROOT } from "./package-root.js";

export const NATIVE_ENV = "TMS_NATIVE";
export const NATIVE_DIR = join(PACKAGE_ROOT, "dist", "native");

/** What the build wrote beside the addon (scripts/build-native.mjs). */
export interface NativeBuildInfo {
  compiler: string;
  flags: string[];
  /** The build machine's CPU features (/proc/cpuinfo), every one of which this machine must have. */
  cpuFlags: string[];
  ids: string[];
  skipped: string[];
}

/** This machine's CPU features (/proc/cpuinfo's flags), or undefined where it does not say. */
export function cpuFeatures(): string[] | undefined {
  try {
    const line = /^flags\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    return line ? line[1].trim().split(/\s+/) : undefined;
  } catch {
    return undefined;
  }
}

/** Why the native kernel is not used here, or undefined if it can be. */
export function nativeUnavailable(
  env: NodeJS.ProcessEnv = process.env,
  dir = NATIVE_DIR,
): string | undefined {
  if (turnedOff(env[NATIVE_ENV])) return `${NATIVE_ENV}=${env[NATIVE_ENV]}`;
  const addon = join(dir, "tms_native.node");
  const infoFile = join(dir, "build.json");
  if (!existsSync(addon) || !existsSync(infoFile)) return "not built (no C++ compiler at build time?)";
  let info: Partial<NativeBuildInfo> | null;
  try {
    info = JSON.parse(readFileSync(infoFile, "utf8")) as Partial<NativeBuildInfo> | null;
  } catch {
    return "its build.json is unreadable";
  }
  const flags = info?.cpuFlags;
  if (!Array.isArray(flags) || !flags.every((f) => typeof f === "string"))
    return "its build.json does not list the CPU features it was built for";
  const features = cpuFeatures();
  if (!features) return "this machine's CPU features are unknown";
  const have = new Set(features);
  const missing = flags.filter((f) => !have.has(f));
  if (missing.length > 0) return `built for another CPU (this one lacks ${missing.slice(0, 3).join(", ")})`;
  return undefined;
}

let status: string | undefined;
let loaded: NativeKernel | undefined;

/**
 * Installs the native kernel for this thread if it can run here; returns "native" or why not. Loading
 * failures are reasons too (the WebAssembly kernel then runs), never errors.
 */
export function installNativeKernel(env: NodeJS.ProcessEnv = process.env, dir = NATIVE_DIR): string {
  const why = nativeUnavailable(env, dir);
  if (why) {
    setNativeKernel(undefined);
    status = why;
    return why;
  }
  try {
    const kernel = createRequire(import.meta.url)(join(dir, "tms_native.node")) as NativeKernel;
    setNativeKernel(kernel);
    loaded = kernel;
    status = "native";
  } catch (e) {
    setNativeKernel(undefined);
    status = `could not be loaded (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`;
  }
  return status;
}

/** The addon the last installNativeKernel loaded in this thread, if it did (benchmarks compare with it). */
export function loadedNativeKernel(): NativeKernel | undefined {
  return loaded;
}

/** The last installNativeKernel's outcome in this thread ("native" or why not), if it ran. */
export function nativeKernelStatus(): string | undefined {
  return status;
}
