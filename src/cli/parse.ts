// Parsers for numeric CLI flags: each rejects what is not a number of the right kind, naming the flag.

import { UsageError } from "./errors.js";

/** A number written in decimal (1, -2.5, .5, 1e-3): not hex, binary, Infinity or empty, which Number() takes. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export function intFlag(flag: string, min = 0) {
  return (raw: string): number => {
    const v = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(v) || v < min)
      throw new UsageError(`${flag} expects an integer ≥ ${min}, got '${raw}'`);
    return v;
  };
}

export function positiveFlag(flag: string) {
  return (raw: string): number => {
    const v = Number(raw);
    if (!DECIMAL.test(raw.trim()) || !Number.isFinite(v) || v <= 0)
      throw new UsageError(`${flag} expects a positive number, got '${raw}'`);
    return v;
  };
}

export function choiceFlag<T extends string>(flag: string, choices: readonly T[]) {
  return (raw: string): T => {
    if (!choices.includes(raw as T))
      throw new UsageError(`${flag} must be one of ${choices.join(", ")}, got '${raw}'`);
    return raw as T;
  };
}

export function numberList(flag: string) {
  return (raw: string): number[] => {
    const values = raw.split(",").map((s) => s.trim());
    return values.map((s) => {
      const v = Number(s);
      if (!DECIMAL.test(s) || !Number.isFinite(v))
        throw new UsageError(`${flag} expects comma-separated numbers, got '${s}'`);
      return v;
    });
  };
}
