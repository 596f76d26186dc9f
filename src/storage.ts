/**
 * The Storage contract, implemented by {@linkcode PgStorage} and {@linkcode MemoryStorage}.
 *
 * @module
 */

import type { CorruptRecordError } from "./errors.ts";
import type { InstanceStatus, StoredInstance, WorkflowInstance } from "./instance.ts";

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
 * One group of {@linkcode Storage.countGroups}: how many instances of one workflow version have
 * one status.
 *
 * @example
 * ```ts
 * import type { CountGroup } from "@heph/pg";
 *
 * const group: CountGroup = {
 *   workflow: "Shop.OrderWorkflow",
 *   workflowVersion: 2,
 *   status: "failed",
 *   count: 17,
 * };
 * ```
 */
export interface CountGroup {
  /** The workflow name. */
  workflow: string;
  /** The workflow version. */
  workflowVersion: number;
  /** The status. */
  status: InstanceStatus;
  /** How many instances (at least 1). */
  count: number;
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
 * What {@linkcode Storage.put} returns.
 *
 * @example
 * ```ts
 * import type { PutResult } from "@heph/pg";
 *
 * const result: PutResult = { revision: 1 };
 * ```
 */
export interface PutResult {
  /** The revision now stored: 1 after an insert, one more after each update. */
  revision: number;
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
 * One page of instances, and where the next one starts.
 *
 * @typeParam I The type of each instance's `context.initial`.
 *
 * @example
 * ```ts
 * import type { Page } from "@heph/pg";
 *
 * const last: Page = { items: [], nextCursor: null };
 * ```
 */
export interface Page<I extends object = Record<string, unknown>> {
  /** The instances, in insertion order (or its reverse, with `order: "desc"`). */
  items: StoredInstance<I>[];
  /** Pass it as `cursor` for the next page; null after the last one. */
  nextCursor: string | null;
  /**
   * With `skipCorrupt`, the rows of this page that could not be decoded, in insertion order,
   * each error naming its row's `id` and what is wrong; absent otherwise.
   */
  corrupt?: CorruptRecordError[];
}

/**
 * What {@linkcode Storage.putMany} returns.
 *
 * @example
 * ```ts
 * import type { PutManyResult } from "@heph/pg";
 *
 * const result: PutManyResult = { revisions: [1, 4] };
 * ```
 */
export interface PutManyResult {
  /** The revision now stored for each instance, in the order given. */
  revisions: number[];
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
 * What {@linkcode Storage.renewLease} returns.
 *
 * @example
 * ```ts
 * import type { RenewLeaseResult } from "@heph/pg";
 *
 * const result: RenewLeaseResult = { expiresAt: new Date(Date.now() + 30_000) };
 * ```
 */
export interface RenewLeaseResult {
  /** When the lease now lapses. */
  expiresAt: Date;
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

/**
 * Where workflow instances live. Every method is atomic on its own; on PostgreSQL, every method
 * is one SQL statement (`scan` is one per page).
 *
 * @example Code against the contract, run on any store
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage, newInstance, type Storage } from "@heph/pg";
 *
 * async function start(storage: Storage, id: string): Promise<number> {
 *   const { revision } = await storage.put(newInstance({ id, workflow: "Shop.Order" }), {
 *     expectedRevision: 0,
 *   });
 *   return revision;
 * }
 * assert.equal(await start(new MemoryStorage(), "order::1"), 1);
 * ```
 */
export interface Storage {
  /**
   * Reads one instance.
   *
   * @typeParam I The type of `context.initial` the caller expects (not checked at run time).
   * @param id The instance id.
   * @param options `fromPrimary`: read from the primary, not a replica.
   * @returns The instance, or null when there is none.
   */
  get<I extends object = Record<string, unknown>>(
    id: string,
    options?: ReadOptions,
  ): Promise<StoredInstance<I> | null>;
  /**
   * Inserts or replaces an instance. The workflow version is fixed by the first insert.
   *
   * @param instance The instance.
   * @param options An optional expected revision, and the owner for the lease check.
   * @returns The revision now stored.
   */
  put(instance: WorkflowInstance<object>, options?: PutOptions): Promise<PutResult>;
  /**
   * Inserts or replaces several instances at once, all or nothing, as `put` would one by one.
   *
   * @param instances The instances; each id at most once.
   * @returns The revisions now stored, in the order given.
   */
  putMany(instances: readonly WorkflowInstance<object>[]): Promise<PutManyResult>;
  /**
   * Deletes an instance; deleting one that does not exist is not an error.
   *
   * @param id The instance id.
   */
  delete(id: string): Promise<void>;
  /**
   * Lists all instances matching a filter, ordered by insertion time then id.
   *
   * @typeParam I The type of `context.initial` the caller expects (not checked at run time).
   * @param filter Which instances.
   * @param options `fromPrimary`: read from the primary, not a replica.
   * @returns The matches.
   */
  query<I extends object = Record<string, unknown>>(
    filter: InstanceFilter,
    options?: ReadOptions,
  ): Promise<StoredInstance<I>[]>;
  /**
   * Reads one page of the instances matching a filter, in insertion order (keyset pagination:
   * stable while others insert, update and delete). A row that cannot be decoded fails the page
   * with its {@linkcode CorruptRecordError}, unless `skipCorrupt` lists it in `corrupt`.
   *
   * @typeParam I The type of `context.initial` the caller expects (not checked at run time).
   * @param filter Which instances.
   * @param options The page size and the cursor of the previous page.
   * @returns The page and the next cursor.
   */
  page<I extends object = Record<string, unknown>>(
    filter: InstanceFilter,
    options: PageOptions,
  ): Promise<Page<I>>;
  /**
   * Walks every instance matching a filter, one page at a time.
   *
   * @typeParam I The type of `context.initial` the caller expects (not checked at run time).
   * @param filter Which instances.
   * @param options `batchSize`, the page size (100 by default); `fromPrimary`.
   * @returns The instances, in insertion order.
   */
  scan<I extends object = Record<string, unknown>>(
    filter: InstanceFilter,
    options?: ScanOptions,
  ): AsyncIterable<StoredInstance<I>>;
  /**
   * Counts the instances matching a filter.
   *
   * @param filter Which instances.
   * @param options `fromPrimary`: read from the primary, not a replica.
   * @returns How many.
   */
  count(filter: InstanceFilter, options?: ReadOptions): Promise<number>;
  /**
   * Counts the instances matching a filter per workflow, version and status, in one statement
   * (PgStorage: one `GROUP BY`). Groups without instances are left out; groups come ordered by
   * workflow (by code point), version, then status (by code point).
   *
   * @param filter Which instances.
   * @param options `fromPrimary`: read from the primary, not a replica.
   * @returns One {@linkcode CountGroup} per workflow, version and status that has instances.
   */
  countGroups(filter: InstanceFilter, options?: ReadOptions): Promise<CountGroup[]>;
  /**
   * Leases up to `limit` matching instances whose lease is free or expired to `owner`, oldest
   * first, skipping those another claim is taking at the same moment. A claim never keeps a
   * lease on an instance it does not return: when a row it took cannot be decoded, it gives up
   * every lease it just took and throws that row's {@linkcode CorruptRecordError} (PgStorage
   * sends a second statement for that, on this path only).
   *
   * @typeParam I The type of `context.initial` the caller expects (not checked at run time).
   * @param options The owner, the lease duration, the limit and the filter.
   * @returns The instances now leased to `owner`.
   */
  claim<I extends object = Record<string, unknown>>(
    options: ClaimOptions,
  ): Promise<StoredInstance<I>[]>;
  /**
   * Extends a lease the caller holds.
   *
   * @param id The instance id.
   * @param options The owner and the new duration from now.
   * @returns When the lease now lapses.
   */
  renewLease(id: string, options: LeaseOptions): Promise<RenewLeaseResult>;
  /**
   * Gives up a lease the caller holds.
   *
   * @param id The instance id.
   * @param options The owner.
   */
  releaseLease(id: string, options: ReleaseLeaseOptions): Promise<void>;
  /**
   * Deletes finished instances last stored before a moment, at most `limit` at a time.
   *
   * @param options The statuses, the moment and the limit.
   * @returns How many were deleted.
   */
  prune(options: PruneOptions): Promise<number>;
}
