// `tms show DIR`: what a results store holds and what it is missing.

import Table from "cli-table3";
import { loadStore } from "../../experiments/store.js";

export interface ShowOptions {
  preset?: string;
  activation?: string;
}

export function showCommand(dir: string, o: ShowOptions): void {
  const { manifest, results, missing } = loadStore(dir);
  const groups = new Map<
    string,
    { done: number[]; missing: number[]; losses: number[]; diverged: number; seconds: number }
  >();
  const groupOf = (key: string) => key.slice(0, key.lastIndexOf("/"));
  const seedOf = (key: string) => Number(key.slice(key.lastIndexOf("-") + 1));
  const keep = (key: string) => {
    const [preset, act] = key.split("/");
    return (!o.preset || preset === o.preset) && (!o.activation || act.split("~")[0] === o.activation);
  };
  const entry = (g: string) => {
    let e = groups.get(g);
    if (!e) groups.set(g, (e = { done: [], missing: [], losses: [], diverged: 0, seconds: 0 }));
    return e;
  };
  for (const r of results.filter((r) => keep(r.key))) {
    const e = entry(groupOf(r.key));
    e.done.push(r.seed);
    e.losses.push(r.instances.reduce((a, i) => a + i.loss, 0) / r.instances.length);
    e.diverged += r.instances.filter((i) => i.diverged).length;
    e.seconds += r.timings.trainSeconds;
  }
  for (const key of missing.filter(keep)) entry(groupOf(key)).missing.push(seedOf(key));
  const table = new Table({
    head: [
      "preset/activation",
      "seeds done",
      "missing seeds",
      "mean eval loss",
      "diverged instances",
      "train s",
    ],
    style: { head: [], compact: true },
  });
  for (const [g, e] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const mean = e.losses.length ? e.losses.reduce((a, b) => a + b, 0) / e.losses.length : Number.NaN;
    table.push([
      g,
      `${e.done.length}/${e.done.length + e.missing.length}`,
      e.missing.sort((a, b) => a - b).join(",") || "—",
      Number.isNaN(mean) ? "—" : mean.toExponential(3),
      String(e.diverged),
      e.seconds.toFixed(1),
    ]);
  }
  const filteredMissing = missing.filter(keep).length;
  process.stdout.write(
    `${dir}: ${results.length} of ${manifest.cells.length} cells complete` +
      `${filteredMissing ? `, ${filteredMissing} missing (run the same sweep again to finish them)` : ""}\n${table.toString()}\n`,
  );
}
