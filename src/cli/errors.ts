// Errors a user can fix. The CLI prints their message on one line and exits 2, with no stack trace.

import { UnknownIdError } from "../core/activations.js";
import { FormulaError } from "../core/formula/errors.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function isUserError(e: unknown): e is Error {
  return (
    e instanceof UsageError ||
    e instanceof UnknownIdError ||
    e instanceof FormulaError ||
    // by name: importing experiments/config.js for its class would load zod into every command
    (e instanceof Error && (e.name === "ConfigError" || e.name === "StoreError"))
  );
}

/**
 * A message on one line, safe for a terminal: control characters (newlines in a quoted flag value or config
 * key, escape sequences) are written as escapes.
 */
export function oneLine(message: string): string {
  return message.replace(/\p{Cc}/gu, (c) =>
    c === "\n" ? "\\n" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Runs a command body; user errors become `error: …` and exit 2, anything else exit 1 with its message. */
export async function guard(body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`error: ${oneLine(e.message)}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    }
  }
}
