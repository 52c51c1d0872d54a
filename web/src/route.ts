// The explorer's hash route: #train, #browse, or #browse/<cell key>/<instance>.

import { parseCellKey } from "../../src/experiments/cell-key.js";

export type Tab = "train" | "browse";

export interface Route {
  tab: Tab;
  /** Browse: a cell key (preset/activation[~variant]/seed-k) and an instance index. */
  cell?: string;
  instance?: number;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== "browse") return { tab: "train" };
  if (parts.length >= 4) {
    const key = parts.slice(1, 4).join("/");
    const instance = parts[4] !== undefined && /^\d+$/.test(parts[4]) ? Number(parts[4]) : undefined;
    if (parseCellKey(key))
      return instance === undefined ? { tab: "browse", cell: key } : { tab: "browse", cell: key, instance };
  }
  return { tab: "browse" };
}

export function formatRoute(r: Route): string {
  if (r.tab === "train") return "#train";
  if (!r.cell) return "#browse";
  const path = r.cell.split("/").map(encodeURIComponent).join("/");
  return `#browse/${path}${r.instance !== undefined ? `/${r.instance}` : ""}`;
}
