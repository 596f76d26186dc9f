/**
 * What `inspect stats` reports: counts by status and by workflow, the oldest running or waiting
 * instances, the expired leases and the rows that could not be decoded, from one walk over
 * every page of the public {@linkcode Storage} API.
 *
 * @example
 * ```ts ignore
 * import { collectStats } from "./stats.ts";
 *
 * const stats = await collectStats(storage, Date.now());
 * ```
 *
 * @module
 */

import {
  INSTANCE_STATUSES,
  type InstanceStatus,
  type Page,
  type Storage,
  type StoredInstance,
} from "../mod.ts";
import { type CorruptRow, corruptRows, type InstanceSummary, summarize } from "./instances.ts";

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
  const last = list.at(-1);
  if (list.length === size && last !== undefined && k >= key(last)) return;
  let at = list.findIndex((other) => k < key(other));
  if (at === -1) at = list.length;
  list.splice(at, 0, item);
  if (list.length > size) list.pop();
}
