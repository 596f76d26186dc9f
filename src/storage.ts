/**
 * The Storage contract, implemented by {@linkcode PgStorage} and {@linkcode MemoryStorage},
 * and what its methods return. What callers pass (filters and options) is declared in
 * `storage_options.ts` and re-exported here.
 *
 * @module
 */

import type { CorruptRecordError } from "./errors.ts";
import type { InstanceStatus, StoredInstance, WorkflowInstance } from "./instance.ts";
import type {
  ClaimOptions,
  InstanceFilter,
  LeaseOptions,
  PageOptions,
  PruneOptions,
  PutOptions,
  ReadOptions,
  ReleaseLeaseOptions,
  ScanOptions,
} from "./storage_options.ts";

export type * from "./storage_options.ts";

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
