/**
 * The filter words of `inspect list` and of the dashboard's query string (`--status`,
 * `--since 1h`, `--context '{…}'`…) turned into an {@linkcode InstanceFilter}, checked the way
 * the store checks it.
 *
 * @example
 * ```ts ignore
 * import { buildFilter } from "./filter_words.ts";
 *
 * const filter = buildFilter({ status: "running,waiting", idle: "15m" }, Date.now());
 * ```
 *
 * @module
 */

import {
  INSTANCE_STATUSES,
  type InstanceFilter,
  type InstanceStatus,
  ValidationError,
} from "../mod.ts";
import { validateFilter } from "../src/options.ts";
import { UsageError } from "./failure.ts";

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const MAX_DURATION_MS = 100 * 365 * 86_400_000;

/**
 * Reads a duration such as `30s`, `15m`, `1h`, `2d` or `1w`.
 *
 * @param text The duration.
 * @param name The option it came from, for the message (such as `--since`).
 * @returns Milliseconds, more than 0.
 * @throws {UsageError} When it is not a duration.
 */
export function parseDuration(text: string, name: string): number {
  const match = /^(\d{1,12}(?:\.\d{1,6})?)(ms|s|m|h|d|w)$/.exec(text.trim());
  const [, amount, unit] = match ?? [];
  const factor = unit === undefined ? undefined : UNITS[unit];
  const ms = factor === undefined ? NaN : Number(amount) * factor;
  if (!(ms > 0 && ms <= MAX_DURATION_MS)) {
    throw new UsageError(
      `${name} expects a duration such as 30s, 15m, 1h or 2d, got ${JSON.stringify(text)}`,
    );
  }
  return Math.round(ms);
}

/** The filter words `inspect list` and the dashboard accept; each optional. */
export interface FilterWords {
  /** One status, or several separated by commas. */
  status?: string;
  /** Exactly this workflow name. */
  workflow?: string;
  /** Workflow names starting with this prefix. */
  family?: string;
  /** Updated within this duration (updatedAfter now minus it). */
  since?: string;
  /** Not updated for this duration (updatedBefore now minus it). */
  idle?: string;
  /** A JSON document the context contains: `{"initial": {...}, "steps": {...}}`. */
  context?: string;
}

/**
 * Turns filter words into an {@linkcode InstanceFilter}, checked the way the store checks it.
 *
 * @param words The words; absent or empty ones are ignored.
 * @param now The current time, epoch milliseconds.
 * @param label How to name an option in a message: `--status` on the command line, `status` in
 *   a query string.
 * @returns The filter.
 * @throws {UsageError} On a bad status, duration, JSON document or value.
 */
export function buildFilter(
  words: FilterWords,
  now: number,
  label: (name: string) => string = (name) => `--${name}`,
): InstanceFilter {
  const filter: InstanceFilter = {};
  const given = (value: string | undefined): value is string => value !== undefined && value !== "";
  if (given(words.status)) {
    const statuses = words.status.split(",").map((s) => s.trim());
    for (const status of statuses) {
      if (!(INSTANCE_STATUSES as readonly string[]).includes(status)) {
        throw new UsageError(
          `${label("status")} expects ${
            INSTANCE_STATUSES.join(", ")
          } (or several, comma-separated), got ${JSON.stringify(status)}`,
        );
      }
    }
    filter.statusIn = [...new Set(statuses)] as InstanceStatus[];
  }
  if (given(words.workflow)) filter.workflow = words.workflow;
  if (given(words.family)) filter.workflowFamily = words.family;
  if (given(words.since)) {
    filter.updatedAfter = new Date(now - parseDuration(words.since, label("since")));
  }
  if (given(words.idle)) {
    filter.updatedBefore = new Date(now - parseDuration(words.idle, label("idle")));
  }
  if (given(words.context)) {
    let document: unknown;
    try {
      document = JSON.parse(words.context);
    } catch {
      throw new UsageError(
        `${label("context")} expects a JSON document such as {"initial":{"order_id":123}}`,
      );
    }
    filter.contextContains = document as InstanceFilter["contextContains"];
  }
  try {
    validateFilter(filter);
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(error.message, false);
    throw error;
  }
  return filter;
}
