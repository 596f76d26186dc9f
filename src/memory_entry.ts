/**
 * One row of a {@linkcode MemoryStorage}, and what the store does with rows: decode them as
 * PgStorage decodes its rows, see whose lease holds, order them as PostgreSQL's `COLLATE "C"`
 * does, and count them in groups.
 *
 * @module
 */

import type { CorruptRecordError } from "./errors.ts";
import type { StoredInstance } from "./instance.ts";
import type { CountGroup } from "./storage.ts";
import { decodeEach } from "./instance_decoder.ts";
import type { EncodedInstance } from "./serializer.ts";
import { decodeInstance } from "./instance_decoder.ts";

/**
 * A stored row: the encoded columns, the revision, the times (epoch milliseconds) and the lease.
 *
 * @example
 * ```ts
 * import type { MemoryEntry } from "./memory_entry.ts";
 *
 * const entry: MemoryEntry = {
 *   row: { id: "a", workflow: "W", workflowVersion: 1, status: "pending", state: "{}" },
 *   revision: 1, insertedAt: 0, updatedAt: 0, lease: null,
 * };
 * ```
 */
export interface MemoryEntry {
  /** The columns, `state` as JSON text. */
  row: EncodedInstance;
  /** The revision: 1 after the insert, one more after each update. */
  revision: number;
  /** First stored, epoch milliseconds. */
  insertedAt: number;
  /** Last stored, epoch milliseconds. */
  updatedAt: number;
  /** Who holds the lease and until when (epoch milliseconds), or null. */
  lease: { owner: string; expiresAt: number } | null;
}

/**
 * The live lease another owner holds on an entry, as a {@linkcode LeaseConflictError} reports it.
 *
 * @param entry The entry.
 * @param owner The caller.
 * @param now The current time, epoch milliseconds.
 * @returns The holder and expiry, or null when the lease is free, expired or the caller's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeInstance, newInstance } from "@heph/pg";
 * import { liveLeaseOfAnother, type MemoryEntry } from "./memory_entry.ts";
 *
 * const entry: MemoryEntry = {
 *   row: encodeInstance(newInstance({ id: "a", workflow: "W" })),
 *   revision: 1,
 *   insertedAt: 0,
 *   updatedAt: 0,
 *   lease: { owner: "worker-2", expiresAt: 5_000 },
 * };
 * assert.deepEqual(liveLeaseOfAnother(entry, "worker-1", 1_000), {
 *   owner: "worker-2",
 *   expiresAt: new Date(5_000),
 * });
 * assert.equal(liveLeaseOfAnother(entry, "worker-2", 1_000), null);
 * assert.equal(liveLeaseOfAnother(entry, "worker-1", 6_000), null);
 * ```
 */
export function liveLeaseOfAnother(
  entry: MemoryEntry,
  owner: string,
  now: number,
): { owner: string; expiresAt: Date } | null {
  const lease = entry.lease;
  return lease && lease.owner !== owner && lease.expiresAt > now
    ? { owner: lease.owner, expiresAt: new Date(lease.expiresAt) }
    : null;
}

/**
 * Decodes every entry, keeping the healthy instances and the corrupt rows' errors apart.
 *
 * @typeParam I The type of `context.initial` the caller expects.
 * @param entries The entries.
 * @returns The instances that decode, and an error for each entry that does not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeInstance, newInstance } from "@heph/pg";
 * import { decodeEntries, type MemoryEntry } from "./memory_entry.ts";
 *
 * const entry = (state: string): MemoryEntry => ({
 *   row: { ...encodeInstance(newInstance({ id: "a", workflow: "W" })), state },
 *   revision: 1,
 *   insertedAt: 0,
 *   updatedAt: 0,
 *   lease: null,
 * });
 * const { healthy, corrupt } = decodeEntries([entry("{}"), entry("not json")]);
 * assert.equal(healthy.length, 1);
 * assert.equal(corrupt.length, 1);
 * ```
 */
export function decodeEntries<I extends object>(
  entries: MemoryEntry[],
): { healthy: StoredInstance<I>[]; corrupt: CorruptRecordError[] } {
  return decodeEach(entries, decodeEntry<I>);
}

/**
 * Decodes an entry as the caller's type: `I` is the caller's promise, as on PostgreSQL.
 *
 * @typeParam I The type of `context.initial` the caller expects.
 * @param entry The entry.
 * @returns A fresh instance.
 * @throws {CorruptRecordError} When the row does not hold an instance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEntry } from "./memory_entry.ts";
 *
 * const instance = decodeEntry({
 *   row: { id: "a", workflow: "W", workflowVersion: 1, status: "pending", state: "{}" },
 *   revision: 1, insertedAt: 0, updatedAt: 0, lease: null,
 * });
 * assert.equal(instance.revision, 1);
 * ```
 */
export function decodeEntry<I extends object>(entry: MemoryEntry): StoredInstance<I> {
  return decodeInstance({
    id: entry.row.id,
    workflow: entry.row.workflow,
    workflow_version: entry.row.workflowVersion,
    status: entry.row.status,
    state: entry.row.state,
    revision: entry.revision,
    inserted_at: entry.insertedAt,
    updated_at: entry.updatedAt,
    lease_owner: entry.lease?.owner ?? null,
    lease_expires_at: entry.lease?.expiresAt ?? null,
  }) as StoredInstance<I>;
}

/**
 * Orders `[epoch microseconds, id]` positions: time, then id.
 *
 * @param a One position.
 * @param b The other.
 * @returns Negative, zero or positive, as `a` comes before, with or after `b`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparePositions } from "./memory_entry.ts";
 *
 * assert.ok(comparePositions([1n, "b"], [1n, "a"]) > 0);
 * ```
 */
export function comparePositions(a: [bigint, string], b: [bigint, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : compareCodePoints(a[1], b[1]);
}

/**
 * Orders strings by code point, as PostgreSQL's `COLLATE "C"` does (UTF-8 byte order), not by
 * UTF-16 code unit as `<` does.
 *
 * @param a One string.
 * @param b The other.
 * @returns Negative, zero or positive, as `a` comes before, with or after `b`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareCodePoints } from "./memory_entry.ts";
 *
 * assert.ok("\uffff" > "🙂"); // in UTF-16 code units
 * assert.ok(compareCodePoints("\uffff", "🙂") < 0);
 * ```
 */
export function compareCodePoints(a: string, b: string): number {
  const others = b[Symbol.iterator]();
  for (const char of a) {
    const other = others.next();
    if (other.done) return 1;
    const difference = char.codePointAt(0)! - other.value.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return others.next().done ? 0 : -1;
}

/**
 * Counts entries per workflow, version and status, ordered as {@linkcode Storage.countGroups}
 * promises: workflow (by code point), version, then status (by code point).
 *
 * @param entries The matching entries.
 * @returns One group per workflow, version and status that has entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countGroupsOf } from "./memory_entry.ts";
 *
 * assert.deepEqual(countGroupsOf([]), []);
 * ```
 */
export function countGroupsOf(entries: MemoryEntry[]): CountGroup[] {
  const groups = new Map<string, CountGroup>();
  for (const { row } of entries) {
    const key = JSON.stringify([row.workflow, row.workflowVersion, row.status]);
    const group = groups.get(key);
    if (group) group.count++;
    else {
      groups.set(key, {
        workflow: row.workflow,
        workflowVersion: row.workflowVersion,
        status: row.status,
        count: 1,
      });
    }
  }
  return [...groups.values()].sort((a, b) =>
    compareCodePoints(a.workflow, b.workflow) || a.workflowVersion - b.workflowVersion ||
    compareCodePoints(a.status, b.status)
  );
}
