// The one rule for tests that need a system component: fail under CI, naming the install command; skip with
// a warning locally.

import { afterEach, describe, expect, it, vi } from "vitest";
import {
  commandRequirement,
  filesRequirement,
  isCi,
  MissingRequirementError,
  requireOrSkip,
} from "../helpers/requirements.js";

const absentFile = filesRequirement(["/nonexistent/tms-lab/chromium"], "apt-get install -y chromium");
const absentCommand = commandRequirement("tms-lab-no-such-server", ["--version"], "apt-get install -y x");
const present = filesRequirement([process.execPath], "(already here)");

describe("requireOrSkip", () => {
  afterEach(() => vi.restoreAllMocks());

  it("reads CI as set unless empty, 0 or false", () => {
    expect(isCi({ CI: "1" })).toBe(true);
    expect(isCi({ CI: "true" })).toBe(true);
    expect(isCi({})).toBe(false);
    expect(isCi({ CI: "" })).toBe(false);
    expect(isCi({ CI: "0" })).toBe(false);
    expect(isCi({ CI: "false" })).toBe(false);
  });

  it("under CI, a missing component throws naming it and its install command", () => {
    expect(absentCommand.present()).toBe(false);
    expect(() => requireOrSkip("the browser tests", [present, absentFile], { CI: "1" })).toThrow(
      MissingRequirementError,
    );
    expect(() => requireOrSkip("the browser tests", [absentFile], { CI: "1" })).toThrow(
      /\/nonexistent\/tms-lab\/chromium is missing \(install: apt-get install -y chromium\)/,
    );
    expect(() => requireOrSkip("the queue tests", [absentCommand], { CI: "1" })).toThrow(
      /tms-lab-no-such-server \(on PATH\) is missing \(install: apt-get install -y x\)/,
    );
  });

  it("locally, a missing component skips with a warning that names the install command", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(requireOrSkip("the browser tests", [absentFile], {})).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/SKIPPED.*apt-get install -y chromium/);
  });

  it("everything present: runs, CI or not, silently", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(requireOrSkip("x", [present], { CI: "1" })).toBe(true);
    expect(requireOrSkip("x", [present], {})).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });
});
