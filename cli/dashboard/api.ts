/**
 * The dashboard's JSON endpoints under `/api/`: the summary (counts by status and by workflow
 * version, a slow count reused for a while), the filtered list with keyset paging, the stuck
 * instances, the expired leases and one instance. Read through the Storage API only. The
 * answers' shapes are exported for the browser script (cli/dashboard/client/).
 *
 * @example
 * ```ts ignore
 * import { answer, summaryCounter } from "./api.ts";
 *
 * const body = await answer(storage, "public", new URL("http://x/api/summary"), summaryCounter(storage));
 * ```
 *
 * @module
 */

import type { CountGroup, InstanceFilter, InstanceStatus, Storage } from "../../mod.ts";
import { INSTANCE_STATUSES } from "../../mod.ts";
import { UsageError } from "../failure.ts";
import { buildFilter } from "../filter_words.ts";
import {
  type CorruptRow,
  corruptRows,
  detail,
  type InstanceDetail,
  type InstanceSummary,
  summarize,
} from "../instances.ts";
import { typedText } from "../typed_text.ts";
import { LIST_PARAMS } from "./list_params.ts";

/** What /api/instances and /api/stuck answer: a page of rows. */
export interface ListAnswer {
  /** The server's time, ISO. */
  now: string;
  /** The rows. */
  items: InstanceSummary[];
  /** Rows of this page that could not be decoded. */
  corrupt: CorruptRow[];
  /** The next page's cursor, or null. */
  nextCursor: string | null;
  /** How many instances match in all. */
  total: number;
}

/** What /api/expired-leases answers: the expired leases found, and how far the scan went. */
export interface LeaseAnswer extends Omit<ListAnswer, "total"> {
  /** How many unfinished instances this request read. */
  scanned: number;
}

/** What /api/instance answers: the instance, and its values as typed text. */
export interface InstanceAnswer extends InstanceDetail {
  /** The server's time, ISO. */
  now: string;
  /** The values as text that keeps their types (Date, BigInt, Set, Map, bytes). */
  typed: {
    initial: string;
    steps: string;
    stepConfigs: string;
    runtimeMetadata: string;
    telemetryMetadata: string;
    /** Per history entry, its context updates, or null. */
    history: (string | null)[];
  };
}

/** What /api/summary answers. */
export interface SummaryAnswer extends Summary {
  /** The title (the schema). */
  schema: string;
  /** The server's time, ISO. */
  now: string;
}

const DEFAULT_PAGE = 25;
const MAX_PAGE = 200;
/** At most this many instances are read per request when looking for expired leases. */
const LEASE_SCAN_BUDGET = 2_000;
const UNFINISHED: InstanceStatus[] = ["pending", "running", "waiting"];

/** What /api/summary answers besides the title and the time. */
export interface Summary {
  counts: Record<InstanceStatus, number>;
  total: number;
  groups: CountGroup[];
  /** When the counts were read (ISO). */
  countedAt: string;
  /** How long the grouped count took, in milliseconds. */
  tookMs: number;
  /** Whether these counts were read for an earlier request (a slow count is reused). */
  cached: boolean;
}

/** A grouped count slower than this is reused, not repeated on every refresh. */
const SLOW_SUMMARY_MS = 200;

/**
 * The summary from one grouped count ({@linkcode Storage.countGroups}). On a large table that
 * count reads every row (about a second at 1,000,000 rows), so when it took longer than
 * {@linkcode SLOW_SUMMARY_MS} its result is reused for 30 times as long (at least 30 s), and
 * concurrent requests share one count; the answer says when it was counted.
 */
export function summaryCounter(storage: Storage): () => Promise<Summary> {
  let last: { summary: Summary; until: number } | undefined;
  let running: Promise<Summary> | undefined;
  const count = async (): Promise<Summary> => {
    const started = Date.now();
    const groups = await storage.countGroups({});
    const tookMs = Date.now() - started;
    const counts = {} as Record<InstanceStatus, number>;
    for (const status of INSTANCE_STATUSES) counts[status] = 0;
    for (const group of groups) counts[group.status] += group.count;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const summary = {
      counts,
      total,
      groups,
      countedAt: new Date(started).toISOString(),
      tookMs,
      cached: false,
    };
    last = tookMs > SLOW_SUMMARY_MS
      ? { summary, until: Date.now() + Math.max(30_000, 30 * tookMs) }
      : undefined;
    return summary;
  };
  return () => {
    if (last !== undefined && Date.now() < last.until) {
      return Promise.resolve({ ...last.summary, cached: true });
    }
    running ??= count().finally(() => running = undefined);
    return running;
  };
}

/** An unknown endpoint: answered with 404. */
export class NotFound extends Error {}

/**
 * Answers a request to a JSON endpoint.
 *
 * @returns The answer; null for a missing instance.
 * @throws {UsageError} On a bad parameter (400).
 * @throws {NotFound} On an unknown endpoint.
 */
export async function answer(
  storage: Storage,
  schema: string,
  url: URL,
  summary: () => Promise<Summary>,
): Promise<SummaryAnswer | ListAnswer | LeaseAnswer | InstanceAnswer | null> {
  const q = url.searchParams;
  const now = Date.now();
  const at = new Date(now).toISOString();
  const limit = pageSize(q.get("limit"));
  const cursor = q.get("cursor") || null;
  const order = q.get("order") || "asc";
  if (order !== "asc" && order !== "desc") {
    throw new UsageError(`order expects asc or desc, got ${JSON.stringify(order)}`);
  }
  const listPage = async (filter: InstanceFilter): Promise<ListAnswer> => {
    const page = await storage.page(filter, { limit, cursor, skipCorrupt: true, order });
    return {
      now: at,
      items: page.items.map((i) => summarize(i, now)),
      corrupt: corruptRows(page),
      nextCursor: page.nextCursor,
      total: await storage.count(filter),
    };
  };
  switch (url.pathname) {
    case "/api/summary":
      return { schema, now: at, ...await summary() };
    case "/api/instances":
      return await listPage(listFilter(q, now));
    case "/api/stuck": {
      const filter = buildFilter(
        { status: "running,waiting", idle: q.get("idle") || "15m" },
        now,
        (name) => name,
      );
      return await listPage(filter);
    }
    case "/api/expired-leases": {
      // No filter selects leases, so pages of unfinished instances are read until `limit`
      // expired ones are found or the budget is spent; the cursor resumes the walk.
      const items: InstanceSummary[] = [];
      const corrupt: CorruptRow[] = [];
      let scanned = 0;
      let next = cursor;
      do {
        const page = await storage.page({ statusIn: UNFINISHED }, {
          limit: 200,
          cursor: next,
          skipCorrupt: true,
        });
        scanned += page.items.length + (page.corrupt?.length ?? 0);
        corrupt.push(...corruptRows(page));
        for (const instance of page.items) {
          if (instance.lease && instance.lease.expiresAt.getTime() <= now) {
            items.push(summarize(instance, now));
          }
        }
        next = page.nextCursor;
      } while (next !== null && items.length < limit && scanned < LEASE_SCAN_BUDGET);
      return { now: at, items, corrupt, nextCursor: next, scanned };
    }
    case "/api/instance": {
      const id = q.get("id");
      if (id === null) throw new UsageError("id is required");
      const instance = await storage.get(id);
      return instance && {
        now: at,
        ...detail(instance, now),
        // The same values as text that keeps their types (Date, BigInt, Set, Map, bytes).
        typed: {
          initial: typedText(instance.context.initial),
          steps: typedText(instance.context.steps),
          stepConfigs: typedText(instance.stepConfigs),
          runtimeMetadata: typedText(instance.runtimeMetadata),
          telemetryMetadata: typedText(instance.telemetryMetadata),
          history: instance.executionHistory.map((entry) =>
            entry.contextUpdates === null ? null : typedText(entry.contextUpdates)
          ),
        },
      };
    }
    default:
      throw new NotFound(`no such endpoint: ${url.pathname}`);
  }
}

/** What /api/instances accepts: the list's parameters, `idle` and the page's cursor. */
const ACCEPTED_PARAMS = [...LIST_PARAMS, "idle", "cursor"];

/**
 * The list's filter from the URL: `status` (comma-separated), `workflow` (exact), `family`
 * (prefix), `version`, `id`, `idPrefix`, `since` / `idle` (durations), `updatedAfter`,
 * `updatedBefore`, `insertedAfter`, `insertedBefore` (ISO times) and `context` (a JSON document,
 * as `inspect --context`), all combined.
 */
function listFilter(q: URLSearchParams, now: number): InstanceFilter {
  for (const key of q.keys()) {
    if (!ACCEPTED_PARAMS.includes(key)) {
      throw new UsageError(`unknown parameter: ${JSON.stringify(key)}`);
    }
  }
  const word = (name: string) => q.get(name) || undefined;
  const filter = buildFilter(
    {
      status: word("status"),
      workflow: word("workflow"),
      family: word("family"),
      since: word("since"),
      idle: word("idle"),
      context: word("context"),
    },
    now,
    (name) => name,
  );
  const id = word("id");
  if (id !== undefined) filter.id = id;
  const idPrefix = word("idPrefix");
  if (idPrefix !== undefined) filter.idPrefix = idPrefix;
  const version = word("version");
  if (version !== undefined) {
    if (!/^\d{1,9}$/.test(version)) {
      throw new UsageError(`version expects a whole number, got ${JSON.stringify(version)}`);
    }
    filter.workflowVersion = Number(version);
  }
  for (const key of ["updatedAfter", "updatedBefore", "insertedAfter", "insertedBefore"] as const) {
    const value = word(key);
    if (value === undefined) continue;
    const time = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value)
      ? Date.parse(value)
      : NaN;
    if (Number.isNaN(time)) {
      throw new UsageError(
        `${key} expects an ISO time such as 2026-01-31T12:00:00Z, got ${JSON.stringify(value)}`,
      );
    }
    // A later key of the same bound (since/idle) is narrowed, never widened.
    const bound = new Date(time);
    const current = filter[key];
    filter[key] = current === undefined
      ? bound
      : key.endsWith("After")
      ? (current > bound ? current : bound)
      : (current < bound ? current : bound);
  }
  return filter;
}

function pageSize(value: string | null): number {
  if (value === null || value === "") return DEFAULT_PAGE;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_PAGE) {
    throw new UsageError(
      `limit expects a number from 1 to ${MAX_PAGE}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}
