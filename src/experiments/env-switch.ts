// The words that turn an optional part off through its environment variable (TMS_KERNEL_CACHE=off,
// TMS_NATIVE=off): one list for all of them.

const OFF = new Set(["off", "0", "false", "no", "none"]);

/** Whether an environment variable's value turns its part off (unset or empty: no). */
export function turnedOff(value: string | undefined): boolean {
  return value !== undefined && OFF.has(value.toLowerCase());
}
