// The index of a results store's cells for the Browse tab: cells grouped by preset into activation rows and
// seeds, and the activation × sparsity grid of one seed with its colour ranges.

import { parseCellKey } from "../../src/experiments/cell-key.js";

export interface PresetIndex {
  preset: string;
  rows: string[];
  seeds: number[];
  /** row → seed → key */
  keys: Map<string, Map<number, string>>;
}

/** Groups a manifest's cells by preset: the grid rows (activations, in manifest order) and seeds. */
export function indexCells(cells: readonly string[]): PresetIndex[] {
  const byPreset = new Map<string, PresetIndex>();
  for (const key of cells) {
    const c = parseCellKey(key);
    if (!c) continue;
    let p = byPreset.get(c.preset);
    if (!p) byPreset.set(c.preset, (p = { preset: c.preset, rows: [], seeds: [], keys: new Map() }));
    if (!p.keys.has(c.row)) {
      p.keys.set(c.row, new Map());
      p.rows.push(c.row);
    }
    p.keys.get(c.row)?.set(c.seed, key);
    if (!p.seeds.includes(c.seed)) p.seeds.push(c.seed);
  }
  for (const p of byPreset.values()) p.seeds.sort((a, b) => a - b);
  return [...byPreset.values()];
}

/** What a grid cell shows: one instance of one stored run. */
export interface GridCell {
  key: string;
  instance: number;
  loss: number | undefined;
  diverged: boolean;
}

export interface GridModel {
  /** Column headers: each instance's sparsity (1 − p). */
  sparsity: number[];
  rows: { row: string; key: string | undefined; cells: GridCell[]; missing: boolean }[];
  /** log10 of the smallest and largest finite loss over the grid. */
  logRange: [number, number];
  /** The same per column (sparsity level): the colour scale compares activations at one sparsity. */
  columnRange: [number, number][];
}

interface ResultLike {
  instances: { sparsity: number; loss: number; diverged: boolean }[];
}

/** The activation × sparsity grid of one preset and seed, from the results loaded so far. */
export function gridModel(
  index: PresetIndex,
  seed: number,
  results: ReadonlyMap<string, ResultLike | undefined>,
): GridModel {
  let sparsity: number[] = [];
  for (const row of index.rows) {
    const r = results.get(index.keys.get(row)?.get(seed) ?? "");
    if (r && r.instances.length > sparsity.length) sparsity = r.instances.map((i) => i.sparsity);
  }
  let lo = Infinity;
  let hi = -Infinity;
  const rows = index.rows.map((row) => {
    const key = index.keys.get(row)?.get(seed);
    const r = key ? results.get(key) : undefined;
    const cells: GridCell[] = sparsity.map((_, i) => {
      const inst = r?.instances[i];
      const loss = inst && Number.isFinite(inst.loss) ? inst.loss : undefined;
      if (loss !== undefined && loss > 0) {
        lo = Math.min(lo, Math.log10(loss));
        hi = Math.max(hi, Math.log10(loss));
      }
      return { key: key ?? "", instance: i, loss, diverged: inst?.diverged ?? false };
    });
    return { row, key, cells, missing: !r };
  });
  if (!Number.isFinite(lo)) [lo, hi] = [0, 0];
  const columnRange = sparsity.map((_, i): [number, number] => {
    const logs = rows.map((r) => r.cells[i].loss).filter((l): l is number => l !== undefined && l > 0);
    return logs.length > 0 ? [Math.min(...logs.map(Math.log10)), Math.max(...logs.map(Math.log10))] : [0, 0];
  });
  return { sparsity, rows, logRange: [lo, hi], columnRange };
}
