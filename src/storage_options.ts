/**
 * What callers pass to a {@linkcode Storage}: the filter that selects instances and the options
 * of each operation. `options.ts` checks them at run time.
 *
 * @module
 */

import type { InstanceStatus } from "./instance.ts";

/**
 * Which instances an operation selects. Every given key must hold; `{}` selects all. An unknown
 * key or an invalid value is a {@linkcode ValidationError}: a typo never selects everything.
 * A key whose value is `undefined` counts as absent.
 *
 * @example Waiting or running orders of version 2 for one customer, untouched for an hour
 * ```ts
 * import type { InstanceFilter } from "@heph/pg";
 *
 * const filter: InstanceFilter = {
 *   statusIn: ["waiting", "running"],
 *   workflow: "Shop.OrderWorkflow",
 *   workflowVersion: 2,
 *   contextContains: { initial: { customer_id: 42 } },
 *   updatedBefore: new Date(Date.now() - 3_600_000),
 * };
 * ```
 */
export interface InstanceFilter {
  /** Exactly this id. */
  id?: string;
  /** Ids starting with this prefix; `%`, `_` and `\` are literal. */
  idPrefix?: string;
  /** Exactly this status. */
  status?: InstanceStatus;
  /** Any of these statuses (an empty list selects nothing). */
  statusIn?: readonly InstanceStatus[];
  /** Exactly this workflow name. */
  workflow?: string;
  /** Exactly this workflow version. */
  workflowVersion?: number;
  /** Workflow names starting with this prefix; `%`, `_` and `\` are literal. */
  workflowFamily?: string;
  /**
   * The context contains this document, with PostgreSQL's jsonb containment (`@>`): every key
   * given must be present with a containing value; arrays contain the elements given, in any
   * order. Values are encoded as they are stored (a `Date` matches its ISO string, a `BigInt`
   * its decimal string, a `Set` its elements), so the `state` GIN index serves the query.
   */
  contextContains?: { initial?: Record<string, unknown>; steps?: Record<string, unknown> };
  /** Last stored before this moment. */
  updatedBefore?: Date;
  /** Last stored after this moment. */
  updatedAfter?: Date;
  /** First stored before this moment. */
  insertedBefore?: Date;
  /** First stored after this moment. */
  insertedAfter?: Date;
}

/**
 * Options of {@linkcode Storage.put}.
 *
 * @example Update only what I read, and only while I hold the lease
 * ```ts
 * import type { PutOptions } from "@heph/pg";
 *
 * const options: PutOptions = { expectedRevision: 4, owner: "worker-1" };
 * ```
 */
export interface PutOptions {
  /**
   * Write only if the stored revision is this one (`0`: only if no instance has this id);
   * otherwise throw {@linkcode ConflictError} and write nothing.
   */
  expectedRevision?: number;
  /**
   * The worker writing. When another owner holds a live lease on the instance, the put throws
   * {@linkcode LeaseConflictError} and writes nothing. Without it, leases are not checked.
   */
  owner?: string;
}

/**
 * Options of {@linkcode Storage.claim}: who claims, for how long, how many, and which instances
 * (any {@linkcode InstanceFilter} key).
 *
 * @example Take up to 10 waiting orders for 30 seconds
 * ```ts
 * import type { ClaimOptions } from "@heph/pg";
 *
 * const options: ClaimOptions = { owner: "worker-1", leaseMs: 30_000, limit: 10, status: "waiting" };
 * ```
 */
export interface ClaimOptions extends InstanceFilter {
  /** The worker claiming: 1 to 255 characters. */
  owner: string;
  /** How long the lease lasts, in milliseconds (1 ms to 24 hours). */
  leaseMs: number;
  /** How many instances to take at most (1 to 1000); 1 by default. */
  limit?: number;
}

/**
 * Options of {@linkcode Storage.renewLease}.
 *
 * @example
 * ```ts
 * import type { LeaseOptions } from "@heph/pg";
 *
 * const options: LeaseOptions = { owner: "worker-1", leaseMs: 30_000 };
 * ```
 */
export interface LeaseOptions {
  /** The worker holding the lease. */
  owner: string;
  /** The new duration, from now, in milliseconds. */
  leaseMs: number;
}

/**
 * Options of the reads (`get`, `query`, `count`, and with `page` and `scan`), which a
 * {@linkcode PgStorage} with a `readDriver` sends to a read replica.
 *
 * @example Read my own write, which the replica may not have replayed yet
 * ```ts
 * import type { ReadOptions } from "@heph/pg";
 *
 * const options: ReadOptions = { fromPrimary: true };
 * ```
 */
export interface ReadOptions {
  /**
   * Read from the primary (`driver`) even when a `readDriver` is set: for a caller that must
   * see its own latest write. A replica replays the primary's changes a little later (usually
   * milliseconds, more under load). Stores without replicas ignore it.
   */
  fromPrimary?: boolean;
}

/**
 * Options of {@linkcode Storage.page}.
 *
 * @example
 * ```ts
 * import type { PageOptions } from "@heph/pg";
 *
 * const first: PageOptions = { limit: 100 };
 * ```
 */
export interface PageOptions extends ReadOptions {
  /** Items per page, 1 to 1000. */
  limit: number;
  /** Where to continue: the `nextCursor` of the previous page. Absent for the first page. */
  cursor?: string | null;
  /**
   * `"asc"` (the default): oldest first, in insertion order; `"desc"`: newest first, the
   * reverse of it (PgStorage reads the same keyset indexes backwards). A cursor continues past
   * its position in the order of the call it is given to, so pass the same order each page.
   */
  order?: "asc" | "desc";
  /**
   * Leave rows that cannot be decoded out of `items` and list them in {@linkcode Page.corrupt}
   * instead of failing the page with their {@linkcode CorruptRecordError}. They still count
   * towards `limit`, and the cursor moves past them. `false` by default.
   */
  skipCorrupt?: boolean;
}

/**
 * Options of {@linkcode Storage.scan}.
 *
 * @example
 * ```ts
 * import type { ScanOptions } from "@heph/pg";
 *
 * const options: ScanOptions = { batchSize: 500 };
 * ```
 */
export interface ScanOptions extends ReadOptions {
  /** Instances read per statement, 1 to 1000; 100 by default. */
  batchSize?: number;
}

/**
 * Options of {@linkcode Storage.releaseLease}.
 *
 * @example
 * ```ts
 * import type { ReleaseLeaseOptions } from "@heph/pg";
 *
 * const options: ReleaseLeaseOptions = { owner: "worker-1" };
 * ```
 */
export interface ReleaseLeaseOptions {
  /** The worker holding the lease. */
  owner: string;
}

/**
 * Options of {@linkcode Storage.prune}.
 *
 * @example Forget what finished more than 30 days ago, 500 at a time
 * ```ts
 * import type { PruneOptions } from "@heph/pg";
 *
 * const options: PruneOptions = { olderThan: new Date(Date.now() - 30 * 86_400_000), limit: 500 };
 * ```
 */
export interface PruneOptions {
  /** Which statuses to forget; `["completed", "failed"]` by default. */
  statusIn?: readonly InstanceStatus[];
  /** Only instances last stored before this moment. Required. */
  olderThan: Date;
  /** At most this many per call (1 to 10000); 1000 by default. Call again until it returns 0. */
  limit?: number;
}
