/**
 * Durations written for people, shared by the terminal commands and the dashboard's browser
 * script (cli/dashboard/client/, bundled): pure functions, no Deno or DOM API.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatAge, formatDuration } from "./duration.ts";
 *
 * assert.equal(formatDuration(185_000), "3m 05s");
 * assert.equal(formatAge(0, 4_200), "4.2 s ago");
 * ```
 *
 * @module
 */

/**
 * Writes a duration for people: `350 ms`, `4.2 s`, `3m 05s`, `2h 07m`, `3d 04h`.
 *
 * @param ms Milliseconds (the sign is ignored).
 * @returns The text.
 */
export function formatDuration(ms: number): string {
  const abs = Math.abs(Math.round(ms));
  if (abs < 1_000) return `${abs} ms`;
  if (abs < 60_000) return `${(Math.floor(abs / 100) / 10).toFixed(1)} s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  const s = Math.floor(abs / 1_000);
  if (abs < 3_600_000) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  const m = Math.floor(s / 60);
  if (abs < 86_400_000) return `${Math.floor(m / 60)}h ${pad(m % 60)}m`;
  const h = Math.floor(m / 60);
  return `${Math.floor(h / 24)}d ${pad(h % 24)}h`;
}

/**
 * How long ago (or from now) a moment is: `3m 05s ago`, `in 12.0 s`.
 *
 * @param time The moment, as a Date or epoch milliseconds.
 * @param now The current time, epoch milliseconds.
 * @returns The text.
 */
export function formatAge(time: Date | number, now: number): string {
  const delta = now - (typeof time === "number" ? time : time.getTime());
  return delta >= 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(delta)}`;
}
