// Number formatting shared by every output (CSV, Markdown, HTML, Word), so the same value reads the same
// everywhere: 3 significant digits, exponent notation below 0.01 and from 10 000 up.

export function num(x: number, digits = 3): string {
  if (Number.isNaN(x)) return "NA";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a < 0.01 || a >= 10_000) {
    const [m, e] = x.toExponential(digits - 1).split("e");
    return `${m}e${Number(e)}`;
  }
  // toPrecision, without a trailing exponent for 1000…9999 (toPrecision(3) gives "1.23e+3").
  if (a >= 10 ** digits) return x.toFixed(0);
  return x.toPrecision(digits);
}

/** "1.23e-4 ± 5.6e-6"; just the mean when the half-width is unknown (a single seed). */
export function meanPm(mean: number, half: number): string {
  return Number.isFinite(half) ? `${num(mean)} ± ${num(half, 2)}` : num(mean);
}

export const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(0)} %` : "NA");

export function pValue(p: number): string {
  if (!Number.isFinite(p)) return "NA";
  return p < 1e-4 ? "< 1e-4" : num(p, 2);
}

export const interval = (lo: number, hi: number): string => `[${num(lo, 2)}, ${num(hi, 2)}]`;

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/**
 * A file-name-safe slug of one or more parts, joined by '-': lower case, runs of anything but a–z, 0–9 and _
 * become one '-' (activation~variant → activation-variant). Figure ids and the explorer's export names.
 */
export const slug = (...parts: (string | number)[]): string =>
  parts
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "-")
    .replace(/^-+|-+$/g, "");
