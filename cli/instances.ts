/**
 * What `deno task inspect` and `deno task dashboard` show of the stored instances: filters from
 * command-line or query-string words, JSON-safe views of an instance, durations, and the
 * statistics, all read through the public {@linkcode Storage} API so they work on any store.
 *
 * @example
 * ```ts ignore
 * import { buildFilter, collectStats } from "./instances.ts";
 *
 * const filter = buildFilter({ status: "running,waiting", idle: "15m" }, Date.now());
 * const stats = await collectStats(storage, Date.now());
 * ```
 *
 * @module
 */

import {
  type CorruptRecordError,
  INSTANCE_STATUSES,
  type InstanceFilter,
  type InstanceStatus,
  type Page,
  type Storage,
  type StoredInstance,
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
  const ms = match ? Number(match[1]) * UNITS[match[2]] : NaN;
  if (!(ms > 0 && ms <= MAX_DURATION_MS)) {
    throw new UsageError(
      `${name} expects a duration such as 30s, 15m, 1h or 2d, got ${JSON.stringify(text)}`,
    );
  }
  return Math.round(ms);
}

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
 * @param time The moment.
 * @param now The current time, epoch milliseconds.
 * @returns The text.
 */
export function formatAge(time: Date, now: number): string {
  const delta = now - time.getTime();
  return delta >= 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(delta)}`;
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

/**
 * Makes a stored value JSON-safe for display: a `Date` becomes its ISO string, a `BigInt` its
 * decimal string, a `Set` an array, a `Map` an array of `[key, value]`, a `Uint8Array` base64,
 * `undefined` null, and `NaN` / `±Infinity` their names.
 *
 * @param value Any value decoded from a store.
 * @returns A value `JSON.stringify` writes faithfully.
 */
export function toPlain(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : String(value);
  }
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Set) return Array.from(value, toPlain);
  if (value instanceof Map) return Array.from(value, ([k, v]) => [toPlain(k), toPlain(v)]);
  if (value instanceof Uint8Array) {
    let binary = "";
    for (const byte of value) binary += String.fromCharCode(byte);
    return btoa(binary);
  }
  if (Array.isArray(value)) return Array.from(value, toPlain);
  // fromEntries defines own properties: a "__proto__" key stays a key.
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
}

/** A lease as shown: who, until when, and whether that moment has passed. */
export interface LeaseView {
  /** The worker holding it. */
  owner: string;
  /** When it lapses, ISO-8601. */
  expiresAt: string;
  /** Whether it had lapsed at the time of reading (by this machine's clock). */
  expired: boolean;
}

/** One instance as a row of a list: what `inspect list --json` prints, one per line. */
export interface InstanceSummary {
  /** The id. */
  id: string;
  /** The workflow name. */
  workflow: string;
  /** The workflow version. */
  workflowVersion: number;
  /** The status. */
  status: InstanceStatus;
  /** The current step, or null. */
  currentStep: string | null;
  /** The revision. */
  revision: number;
  /** When first stored, ISO-8601. */
  insertedAt: string;
  /** When last stored, ISO-8601. */
  updatedAt: string;
  /** The lease, or null. */
  lease: LeaseView | null;
}

/**
 * The row of an instance in a list.
 *
 * @param instance The instance.
 * @param now The current time, epoch milliseconds, to tell expired leases.
 * @returns The summary.
 */
export function summarize(instance: StoredInstance, now: number): InstanceSummary {
  return {
    id: instance.id,
    workflow: instance.workflow,
    workflowVersion: instance.workflowVersion,
    status: instance.status,
    currentStep: instance.currentStep,
    revision: instance.revision,
    insertedAt: instance.insertedAt.toISOString(),
    updatedAt: instance.updatedAt.toISOString(),
    lease: instance.lease && {
      owner: instance.lease.owner,
      expiresAt: instance.lease.expiresAt.toISOString(),
      expired: instance.lease.expiresAt.getTime() <= now,
    },
  };
}

/** One entry of the execution history, with the time since the entry before it. */
export interface TimelineEntry {
  /** The step. */
  stepRef: string;
  /** What happened. */
  event: string;
  /** When, ISO-8601. */
  timestamp: string;
  /** Milliseconds since the previous entry; null for the first. */
  sincePreviousMs: number | null;
  /** What the step added to the context (JSON-safe), or null. */
  contextUpdates: unknown;
}

/** The whole instance as shown: what `inspect show --json` prints and the dashboard renders. */
export interface InstanceDetail extends InstanceSummary {
  /** Initial data and step results (JSON-safe). */
  context: { initial: unknown; steps: unknown };
  /** Per-step configuration (JSON-safe). */
  stepConfigs: unknown;
  /** Steps running, sorted. */
  activeSteps: string[];
  /** Steps finished, sorted. */
  completedSteps: string[];
  /** Engine metadata (JSON-safe). */
  runtimeMetadata: unknown;
  /** Telemetry metadata (JSON-safe). */
  telemetryMetadata: unknown;
  /** The execution history, in stored order, with durations between entries. */
  executionHistory: TimelineEntry[];
}

/**
 * The whole instance, JSON-safe, with the history as a timeline.
 *
 * @param instance The instance.
 * @param now The current time, epoch milliseconds.
 * @returns The detail.
 */
export function detail(instance: StoredInstance, now: number): InstanceDetail {
  let previous: number | undefined;
  return {
    ...summarize(instance, now),
    context: { initial: toPlain(instance.context.initial), steps: toPlain(instance.context.steps) },
    stepConfigs: toPlain(instance.stepConfigs),
    activeSteps: [...instance.activeSteps].sort(),
    completedSteps: [...instance.completedSteps].sort(),
    runtimeMetadata: toPlain(instance.runtimeMetadata),
    telemetryMetadata: toPlain(instance.telemetryMetadata),
    executionHistory: instance.executionHistory.map((entry) => {
      const time = entry.timestamp.getTime();
      const sincePreviousMs = previous === undefined || Number.isNaN(time) ? null : time - previous;
      if (!Number.isNaN(time)) previous = time;
      return {
        stepRef: entry.stepRef,
        event: entry.event,
        timestamp: Number.isNaN(time) ? "invalid date" : entry.timestamp.toISOString(),
        sincePreviousMs,
        contextUpdates: toPlain(entry.contextUpdates),
      };
    }),
  };
}

/** Counts of one workflow, by status. */
export interface WorkflowCounts {
  /** The workflow name. */
  workflow: string;
  /** How many instances it has. */
  total: number;
  /** How many in each status. */
  byStatus: Record<InstanceStatus, number>;
}

/** What `inspect stats` reports. */
export interface Stats {
  /** How many instances there are. */
  total: number;
  /** How many in each status (one `count` each). */
  byStatus: Record<InstanceStatus, number>;
  /** Per workflow, most instances first. */
  byWorkflow: WorkflowCounts[];
  /** The running or waiting instances updated longest ago, oldest first. */
  oldestActive: InstanceSummary[];
  /** Instances whose lease has lapsed: how many, and those that lapsed first. */
  expiredLeases: { count: number; oldest: InstanceSummary[] };
  /** How many instances the scan read (it may differ from `total` while others write). */
  scanned: number;
  /** Rows that could not be decoded: how many, and the first ones (counted nowhere else). */
  corrupt: { count: number; first: CorruptRow[] };
}

/** A row a view could not decode: its id and why (`inspect show <id>` says the same). */
export interface CorruptRow {
  /** The row's id. */
  id: string;
  /** What is wrong with it. */
  reason: string;
}

/**
 * The corrupt rows of a page read with `skipCorrupt`.
 *
 * @param page The page.
 * @returns Their ids and reasons, in insertion order.
 */
export function corruptRows(page: Page): CorruptRow[] {
  return (page.corrupt ?? []).map((error) => ({ id: error.id, reason: corruptReason(error) }));
}

/**
 * What is wrong with a corrupt row: the error's message without its `Corrupt record <id>: `.
 *
 * @param error The error.
 * @returns The reason.
 */
export function corruptReason(error: CorruptRecordError): string {
  const prefix = `Corrupt record ${error.id}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

const emptyCounts = (): Record<InstanceStatus, number> =>
  Object.fromEntries(INSTANCE_STATUSES.map((s) => [s, 0])) as Record<InstanceStatus, number>;

/**
 * Counts by status with `count`, then one walk over every page (memory bounded by the batch
 * size, the number of workflows and `top`) for the counts by workflow, the oldest running/waiting
 * instances and the expired leases. Rows that cannot be decoded are counted and named in
 * `corrupt`, never fatal.
 *
 * @param storage The store.
 * @param now The current time, epoch milliseconds.
 * @param options `top`: how many oldest instances and expired leases to list (5);
 *   `batchSize` of the scan (500).
 * @returns The statistics.
 */
export async function collectStats(
  storage: Storage,
  now: number,
  options: { top?: number; batchSize?: number } = {},
): Promise<Stats> {
  const top = options.top ?? 5;
  const byStatus = emptyCounts();
  for (const status of INSTANCE_STATUSES) byStatus[status] = await storage.count({ status });
  const workflows = new Map<string, WorkflowCounts>();
  const oldestActive: StoredInstance[] = [];
  const expired: StoredInstance[] = [];
  let expiredCount = 0;
  let scanned = 0;
  const corrupt = { count: 0, first: [] as CorruptRow[] };
  for await (const instance of healthyRows(storage, options.batchSize ?? 500, corrupt, top)) {
    scanned++;
    let counts = workflows.get(instance.workflow);
    if (!counts) {
      counts = { workflow: instance.workflow, total: 0, byStatus: emptyCounts() };
      workflows.set(instance.workflow, counts);
    }
    counts.total++;
    counts.byStatus[instance.status]++;
    if (instance.status === "running" || instance.status === "waiting") {
      keepSmallest(oldestActive, instance, (i) => i.updatedAt.getTime(), top);
    }
    if (instance.lease && instance.lease.expiresAt.getTime() <= now) {
      expiredCount++;
      keepSmallest(expired, instance, (i) => i.lease!.expiresAt.getTime(), top);
    }
  }
  return {
    total: INSTANCE_STATUSES.reduce((sum, s) => sum + byStatus[s], 0),
    byStatus,
    byWorkflow: [...workflows.values()].sort((a, b) =>
      b.total - a.total || (a.workflow < b.workflow ? -1 : 1)
    ),
    oldestActive: oldestActive.map((i) => summarize(i, now)),
    expiredLeases: { count: expiredCount, oldest: expired.map((i) => summarize(i, now)) },
    scanned: scanned + corrupt.count,
    corrupt,
  };
}

/** Every row a page at a time, the corrupt ones counted in `corrupt` (the first `keep` kept). */
async function* healthyRows(
  storage: Storage,
  batchSize: number,
  corrupt: { count: number; first: CorruptRow[] },
  keep: number,
): AsyncGenerator<StoredInstance> {
  let cursor: string | null = null;
  do {
    const page: Page = await storage.page({}, { limit: batchSize, cursor, skipCorrupt: true });
    yield* page.items;
    for (const row of corruptRows(page)) {
      if (corrupt.count++ < keep) corrupt.first.push(row);
    }
    cursor = page.nextCursor;
  } while (cursor !== null);
}

/** Inserts `item` into `list` (sorted by `key` ascending), keeping at most `size` items. */
function keepSmallest<T>(list: T[], item: T, key: (item: T) => number, size: number): void {
  if (size <= 0) return;
  const k = key(item);
  if (list.length === size && k >= key(list[size - 1])) return;
  let at = list.findIndex((other) => k < key(other));
  if (at === -1) at = list.length;
  list.splice(at, 0, item);
  if (list.length > size) list.pop();
}

// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** What `JSON.stringify` leaves raw: it escapes C0 controls itself, and its own line breaks stay. */
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * Makes text safe to print on a terminal: control characters (escape sequences included) and
 * bidirectional overrides become `\uXXXX`.
 *
 * @param text Any text from the store.
 * @returns The text, printable.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar);
}

/**
 * `JSON.stringify`, with the characters it leaves raw that a terminal would act on (C1
 * controls, line separators, bidirectional overrides) escaped too; still valid JSON.
 *
 * @param value A JSON-safe value.
 * @param indent Spaces of indentation, or none for one line.
 * @returns The JSON text.
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(RAW_IN_JSON, escapeChar);
}
