// The explorer's entry: tabs (Train, Browse) driven by the URL hash, and the store info from explorer.json.

import { BrowseView, type ExplorerInfo } from "./browse-view.js";
import { byId } from "./dom.js";
import { formatRoute, parseRoute, type Tab } from "./route.js";
import { TrainView } from "./train-view.js";
import "./styles.css";

const TABS: Tab[] = ["train", "browse"];

async function loadInfo(): Promise<ExplorerInfo> {
  try {
    const res = await fetch("explorer.json", { cache: "no-cache" });
    if (!res.ok) return { store: null, report: [] };
    const info = (await res.json()) as Partial<ExplorerInfo>;
    return { store: info.store ?? null, report: Array.isArray(info.report) ? info.report : [] };
  } catch {
    return { store: null, report: [] };
  }
}

function start(): void {
  new TrainView();
  let browse: BrowseView | undefined;
  const infoPromise = loadInfo();
  const getBrowse = async () => {
    if (!browse) {
      browse = new BrowseView();
      void browse.init(await infoPromise);
    }
    return browse;
  };

  const tabEl = (t: Tab) => byId<HTMLButtonElement>(`tab-${t}`);
  const panelEl = (t: Tab) => byId(`panel-${t}`);

  const apply = async () => {
    const route = parseRoute(location.hash);
    for (const t of TABS) {
      const on = t === route.tab;
      tabEl(t).setAttribute("aria-selected", String(on));
      tabEl(t).tabIndex = on ? 0 : -1;
      panelEl(t).hidden = !on;
    }
    document.title = route.tab === "train" ? "Train · tms-lab explorer" : "Browse · tms-lab explorer";
    if (route.tab === "browse") await (await getBrowse()).show(route);
  };

  for (const t of TABS) {
    tabEl(t).addEventListener("click", () => {
      if (parseRoute(location.hash).tab !== t) location.hash = formatRoute({ tab: t });
    });
    tabEl(t).addEventListener("keydown", (e) => {
      const k = TABS.indexOf(t);
      const next =
        e.key === "ArrowRight"
          ? (k + 1) % TABS.length
          : e.key === "ArrowLeft"
            ? (k + TABS.length - 1) % TABS.length
            : -1;
      if (next < 0) return;
      e.preventDefault();
      tabEl(TABS[next]).focus();
      location.hash = formatRoute({ tab: TABS[next] });
    });
  }
  window.addEventListener("hashchange", () => void apply());
  void apply();
  // the Browse tab says whether a store is being served
  void infoPromise.then((info) => {
    byId("tab-browse").dataset.store = info.store ? "yes" : "no";
  });
}

start();
