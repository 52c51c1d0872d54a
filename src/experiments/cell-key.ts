// A cell's key, `preset/activation[~variant]/seed-k`: its directory in a results store, its job in a queue,
// its route in the explorer. Built and parsed here only.

import type { SoftmaxDim } from "../core/kernels/types.js";
import type { DType } from "../core/model.js";

/** Tags that distinguish cells beyond preset/activation/seed: "f64", "softmax-batch", an optimizer not AdamW. */
export function variantOf(dtype: DType, softmaxDim: SoftmaxDim, optimizer = "adamw"): string {
  const tags: string[] = [];
  if (dtype === "f64") tags.push("f64");
  if (softmaxDim === "batch") tags.push("softmax-batch");
  if (optimizer !== "adamw") tags.push(optimizer);
  return tags.join("+");
}

export function cellKey(preset: string, activation: string, variant: string, seed: number): string {
  return `${preset}/${activation}${variant ? `~${variant}` : ""}/seed-${seed}`;
}

export interface CellKey {
  key: string;
  preset: string;
  /** Activation id with the variant suffix (relu~f64), as a grid row label. */
  row: string;
  activation: string;
  variant: string;
  seed: number;
}

/** The parts of a key cellKey built; undefined for anything else. */
export function parseCellKey(key: string): CellKey | undefined {
  const m = key.match(/^([^/]+)\/(([^/~]+)(?:~([^/]+))?)\/seed-(\d+)$/);
  if (!m) return undefined;
  return { key, preset: m[1], row: m[2], activation: m[3], variant: m[4] ?? "", seed: Number(m[5]) };
}
