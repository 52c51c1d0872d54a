// The compiled CLI (dist/, what bin/tms.js runs), loaded into the test process: the command line reads
// files relative to its own location in dist/, so the in-process runs use the same build as the spawned ones.

import { ensureBuilt } from "../helpers/cli.js";

const DIST = new URL("../../dist/src/", import.meta.url).href;

type Main = typeof import("../../src/cli/main.js");
type Errors = typeof import("../../src/cli/errors.js");
type Sweep = typeof import("../../src/cli/commands/sweep.js");
type Store = typeof import("../../src/experiments/store.js");
type Study = typeof import("../../src/experiments/study.js");

export interface Built {
  main: Main["main"];
  isUserError: Errors["isUserError"];
  studyFromFlags: Sweep["studyFromFlags"];
  configHash: Store["configHash"];
  planStudy: Study["planStudy"];
}

let loaded: Promise<Built> | undefined;

export function loadBuilt(): Promise<Built> {
  loaded ??= (async () => {
    ensureBuilt();
    const load = <T>(path: string) => import(/* @vite-ignore */ `${DIST}${path}`) as Promise<T>;
    const [main, errors, sweep, store, study] = await Promise.all([
      load<Main>("cli/main.js"),
      load<Errors>("cli/errors.js"),
      load<Sweep>("cli/commands/sweep.js"),
      load<Store>("experiments/store.js"),
      load<Study>("experiments/study.js"),
    ]);
    return {
      main: main.main,
      isUserError: errors.isUserError,
      studyFromFlags: sweep.studyFromFlags,
      configHash: store.configHash,
      planStudy: study.planStudy,
    };
  })();
  return loaded;
}
