/**
 * MemoryStorage: the in-memory reference implementation of {@linkcode Storage}, like
 * Hephaestus' ETS storage. For tests and prototypes.
 *
 * @module
 */

import { cursorMicros, cursorTime, decodeCursor, encodeCursor } from "./cursor.ts";
import { ConflictError, LeaseConflictError } from "./errors.ts";
import type { StoredInstance, WorkflowInstance } from "./instance.ts";
import {
  compareCodePoints,
  comparePositions,
  countGroupsOf,
  decodeEntries,
  decodeEntry,
  liveLeaseOfAnother,
  type MemoryEntry,
} from "./memory_entry.ts";
import { matchesFilter } from "./memory_filter.ts";
import { parseJson } from "./parse_json.ts";
import {
  type CheckedFilter,
  validateClaim,
  validateFilter,
  validateLease,
  validatePage,
  validatePrune,
  validatePut,
  validateRead,
} from "./options.ts";
import { scanPages } from "./scan.ts";
import { type EncodedInstance, encodeInstance, encodeInstances } from "./serializer.ts";
import type {
  ClaimOptions,
  CountGroup,
  InstanceFilter,
  LeaseOptions,
  Page,
  PageOptions,
  PruneOptions,
  PutManyResult,
  PutOptions,
  PutResult,
  ReadOptions,
  ReleaseLeaseOptions,
  RenewLeaseResult,
  ScanOptions,
  Storage,
} from "./storage.ts";
import { validateId } from "./validation.ts";

/** Reaches a MemoryStorage's rows, for {@linkcode storeForeignRow}. */
let entriesOf: (storage: MemoryStorage) => Map<string, MemoryEntry>;

/**
 * Keeps instances in memory, encoded exactly as {@linkcode PgStorage} stores them: the same
 * validation, the same lossless round trip, the same filters (jsonb containment included), the
 * same errors, and no aliasing between what you put and what you get.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage, newInstance } from "@heph/pg";
 *
 * const storage = new MemoryStorage();
 * await storage.put(newInstance({ id: "order::1", workflow: "Shop.Order" }));
 * assert.equal((await storage.query({ status: "pending" })).length, 1);
 * ```
 */
export class MemoryStorage implements Storage {
  #entries = new Map<string, MemoryEntry>();

  static {
    entriesOf = (storage) => storage.#entries;
  }

  /**
   * Reads one instance.
   *
   * @param id The instance id.
   * @param options `fromPrimary` (checked; one store has no replicas).
   * @returns A fresh copy of the instance, or null.
   */
  get<I extends object = Record<string, unknown>>(
    id: string,
    options?: ReadOptions,
  ): Promise<StoredInstance<I> | null> {
    return attempt(() => {
      validateRead(options);
      const entry = this.#entries.get(validateId(id));
      return entry ? decodeEntry<I>(entry) : null;
    });
  }

  /**
   * Inserts or updates an instance; see {@linkcode Storage.put}.
   *
   * @param instance The instance.
   * @param options An optional expected revision and owner.
   * @returns The revision now stored.
   */
  put(instance: WorkflowInstance<object>, options?: PutOptions): Promise<PutResult> {
    return attempt(() => {
      const { expectedRevision: expected, owner } = validatePut(options);
      const row = encodeInstance(instance);
      const existing = this.#entries.get(row.id);
      const now = Date.now();
      if (owner !== undefined && expected !== 0 && existing) {
        const holder = liveLeaseOfAnother(existing, owner, now);
        if (holder) throw new LeaseConflictError(row.id, owner, holder);
      }
      const actual = existing?.revision ?? 0;
      if (expected !== undefined && expected !== actual) {
        throw new ConflictError(row.id, expected, actual);
      }
      return { revision: this.#write(row, now) };
    });
  }

  /**
   * Inserts or updates several instances, all or nothing; see {@linkcode Storage.putMany}.
   *
   * @param instances The instances; each id at most once.
   * @returns The revisions now stored, in the order given.
   */
  putMany(instances: readonly WorkflowInstance<object>[]): Promise<PutManyResult> {
    return attempt(() => {
      const rows = encodeInstances(instances);
      const now = Date.now();
      return { revisions: rows.map((row) => this.#write(row, now)) };
    });
  }

  /**
   * Deletes an instance; deleting a missing one is not an error.
   *
   * @param id The instance id.
   */
  delete(id: string): Promise<void> {
    return attempt(() => {
      this.#entries.delete(validateId(id));
    });
  }

  /**
   * Lists instances matching a filter, ordered by insertion time then id.
   *
   * @param filter Which instances; `{}` for all.
   * @param options `fromPrimary` (checked; one store has no replicas).
   * @returns Fresh copies of the matches.
   */
  query<I extends object = Record<string, unknown>>(
    filter: InstanceFilter,
    options?: ReadOptions,
  ): Promise<StoredInstance<I>[]> {
    return attempt(() => {
      validateRead(options);
      return this.#matching(validateFilter(filter)).map(decodeEntry<I>);
    });
  }

  /**
   * Reads one page in insertion order; see {@linkcode Storage.page}.
   *
   * @param filter Which instances.
   * @param options The page size and cursor.
   * @returns The page and the next cursor.
   */
  page<I extends object = Record<string, unknown>>(
    filter: InstanceFilter,
    options: PageOptions,
  ): Promise<Page<I>> {
    return attempt(() => {
      const { limit, cursor, skipCorrupt, descending } = validatePage(options);
      const checked = validateFilter(filter);
      const after = cursor === null ? null : decodeCursor(cursor);
      const afterMicros = after === null ? 0n : cursorMicros(after.insertedAt);
      const sign = descending ? -1 : 1;
      const matching = this.#matching(checked);
      if (descending) matching.reverse();
      const rest = matching.filter((entry) =>
        after === null ||
        sign *
              comparePositions([BigInt(entry.insertedAt) * 1000n, entry.row.id], [
                afterMicros,
                after.id,
              ]) >
          0
      );
      const items = rest.slice(0, limit);
      const last = rest.length > limit ? items[limit - 1] : undefined;
      const nextCursor = last
        ? encodeCursor({ insertedAt: cursorTime(last.insertedAt), id: last.row.id })
        : null;
      if (!skipCorrupt) return { items: items.map(decodeEntry<I>), nextCursor };
      const { healthy, corrupt } = decodeEntries<I>(items);
      return { items: healthy, nextCursor, corrupt };
    });
  }

  /**
   * Walks every matching instance a page at a time; see {@linkcode Storage.scan}.
   *
   * @param filter Which instances.
   * @param options `batchSize` (100 by default) and `fromPrimary`.
   * @returns The instances, in insertion order.
   */
  scan<I extends object = Record<string, unknown>>(
    filter: InstanceFilter,
    options: ScanOptions = {},
  ): AsyncGenerator<StoredInstance<I>, void, undefined> {
    return scanPages((f, o) => this.page<I>(f, o), filter, options);
  }

  /**
   * Counts the matching instances.
   *
   * @param filter Which instances.
   * @param options `fromPrimary` (checked; one store has no replicas).
   * @returns How many.
   */
  count(filter: InstanceFilter, options?: ReadOptions): Promise<number> {
    return attempt(() => {
      validateRead(options);
      return this.#matching(validateFilter(filter)).length;
    });
  }

  /**
   * Counts the matching instances per workflow, version and status; see
   * {@linkcode Storage.countGroups}.
   *
   * @param filter Which instances.
   * @param options Checked, otherwise ignored (there is no replica).
   * @returns The groups that have instances, ordered by workflow, version and status.
   */
  countGroups(filter: InstanceFilter, options?: ReadOptions): Promise<CountGroup[]> {
    return attempt(() => {
      validateRead(options);
      return countGroupsOf(this.#matching(validateFilter(filter)));
    });
  }

  /**
   * Leases up to `limit` matching instances whose lease is free or expired; see
   * {@linkcode Storage.claim}.
   *
   * @param options The owner, duration, limit and filter.
   * @returns The instances now leased to the owner.
   */
  claim<I extends object = Record<string, unknown>>(
    options: ClaimOptions,
  ): Promise<StoredInstance<I>[]> {
    return attempt(() => {
      const { owner, leaseMs, limit, filter } = validateClaim(options);
      const now = Date.now();
      const picked = this.#matching(filter)
        .filter((entry) => entry.lease === null || entry.lease.expiresAt <= now)
        .slice(0, limit);
      const lease = { owner, expiresAt: now + leaseMs };
      const { healthy, corrupt } = decodeEntries<I>(picked.map((entry) => ({ ...entry, lease })));
      // Like PgStorage: a claim that meets a corrupt row keeps no lease and throws.
      if (corrupt.length > 0) throw corrupt[0];
      for (const entry of picked) entry.lease = { ...lease };
      return healthy;
    });
  }

  /**
   * Extends a live lease the caller holds; see {@linkcode Storage.renewLease}.
   *
   * @param id The instance id.
   * @param options The owner and the new duration.
   * @returns The new expiry.
   */
  renewLease(id: string, options: LeaseOptions): Promise<RenewLeaseResult> {
    return attempt(() => {
      const { owner, leaseMs } = validateLease(options, true);
      const now = Date.now();
      const entry = this.#heldBy(validateId(id), owner, now);
      entry.lease = { owner, expiresAt: now + leaseMs };
      return { expiresAt: new Date(entry.lease.expiresAt) };
    });
  }

  /**
   * Gives up a live lease the caller holds; see {@linkcode Storage.releaseLease}.
   *
   * @param id The instance id.
   * @param options The owner.
   */
  releaseLease(id: string, options: ReleaseLeaseOptions): Promise<void> {
    return attempt(() => {
      const { owner } = validateLease(options, false);
      this.#heldBy(validateId(id), owner, Date.now()).lease = null;
    });
  }

  /**
   * Deletes finished instances last stored before a moment; see {@linkcode Storage.prune}.
   *
   * @param options The statuses, the moment and the limit.
   * @returns How many were deleted.
   */
  prune(options: PruneOptions): Promise<number> {
    return attempt(() => {
      const { statusIn, olderThan, limit } = validatePrune(options);
      const doomed = [...this.#entries.values()]
        .filter((e) => statusIn.includes(e.row.status) && e.updatedAt < olderThan.getTime())
        .sort((a, b) => a.updatedAt - b.updatedAt || compareCodePoints(a.row.id, b.row.id))
        .slice(0, limit);
      for (const entry of doomed) this.#entries.delete(entry.row.id);
      return doomed.length;
    });
  }

  #write(row: EncodedInstance, now: number): number {
    const existing = this.#entries.get(row.id);
    const entry: MemoryEntry = existing
      ? {
        ...existing,
        row: { ...row, workflowVersion: existing.row.workflowVersion },
        revision: existing.revision + 1,
        updatedAt: now,
      }
      : { row, revision: 1, insertedAt: now, updatedAt: now, lease: null };
    this.#entries.set(row.id, entry);
    return entry.revision;
  }

  #matching(filter: CheckedFilter): MemoryEntry[] {
    return [...this.#entries.values()]
      .filter((entry) =>
        matchesFilter({
          ...entry.row,
          insertedAt: entry.insertedAt,
          updatedAt: entry.updatedAt,
          context: () => (parseJson(entry.row.state) as { context: unknown }).context,
        }, filter)
      )
      .sort((a, b) => a.insertedAt - b.insertedAt || compareCodePoints(a.row.id, b.row.id));
  }

  #heldBy(id: string, owner: string, now: number): MemoryEntry {
    const entry = this.#entries.get(id);
    if (entry?.lease?.owner === owner && entry.lease.expiresAt > now) return entry;
    throw new LeaseConflictError(id, owner, entry ? liveLeaseOfAnother(entry, owner, now) : null);
  }
}

function attempt<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Stores a row as another program might have written it, unchecked: the way to give a
 * MemoryStorage the corrupt rows a PostgreSQL table can hold (for tests of code that meets
 * them). Not part of the public API.
 *
 * @param storage The store.
 * @param row The columns: `state` as JSON text, anything at all in the others.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage } from "@heph/pg";
 * import { storeForeignRow } from "./memory_storage.ts";
 *
 * const storage = new MemoryStorage();
 * storeForeignRow(storage, { id: "bad::1", state: "not json" });
 * await assert.rejects(storage.get("bad::1"), { name: "CorruptRecordError" });
 * ```
 */
export function storeForeignRow(
  storage: MemoryStorage,
  row: { id: string; workflow?: string; status?: string; state: string },
): void {
  const now = Date.now();
  entriesOf(storage).set(row.id, {
    row: {
      id: row.id,
      workflow: row.workflow ?? "W",
      workflowVersion: 1,
      status: (row.status ?? "pending") as EncodedInstance["status"],
      state: row.state,
    },
    revision: 1,
    insertedAt: now,
    updatedAt: now,
    lease: null,
  });
}
