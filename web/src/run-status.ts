// A run's lifecycle in the explorer: the status after each event, and which buttons a status enables.

export type RunStatus = "idle" | "starting" | "running" | "paused" | "done" | "error";
export type RunEvent = "train" | "started" | "stop" | "resume" | "finished" | "failed";

/** The status after `event`; events that make no sense in a status leave it unchanged. */
export function nextStatus(status: RunStatus, event: RunEvent): RunStatus {
  switch (event) {
    case "train":
      return "starting";
    case "started":
      return status === "starting" ? "running" : status;
    case "stop":
      return status === "running" || status === "starting" ? "paused" : status;
    case "resume":
      return status === "paused" ? "running" : status;
    case "finished":
      return status === "running" || status === "paused" || status === "starting" ? "done" : status;
    case "failed":
      return "error";
  }
}

/** Combined status of the side-by-side runs: running if any runs, then paused, starting, error, done, idle. */
export function combinedStatus(statuses: readonly RunStatus[]): RunStatus {
  for (const s of ["running", "starting", "paused", "error", "done"] as const)
    if (statuses.includes(s)) return s;
  return "idle";
}

export interface Controls {
  train: boolean;
  stop: boolean;
  resume: boolean;
  export: boolean;
}

/** Which buttons are enabled in a status (Train always restarts from scratch). */
export function controlsFor(status: RunStatus, hasWeights: boolean): Controls {
  return {
    train: true,
    stop: status === "running" || status === "starting",
    resume: status === "paused",
    export: hasWeights && status !== "starting",
  };
}
