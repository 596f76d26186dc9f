/**
 * MemoryStorage: the in-memory reference implementation of {@linkcode Storage}, like
 * Hephaestus' ETS storage. For tests and prototypes.
 *
 * @module
 */

import { ConflictError } from "./errors.ts";
import type { StoredInstance, WorkflowInstance } from "./instance.ts";
import { matchesFilter, validateExpectedRevision, validateFilter } from "./options.ts";
import { decodeInstance, type EncodedInstance, encodeInstance, validateId } from "./serializer.ts";
import type { InstanceFilter, PutOptions, PutResult, Storage } from "./storage.ts";

interface Entry {
  row: EncodedInstance;
  revision: number;
  insertedAt: number;
  updatedAt: number;
}

/**
 * Keeps instances in memory, encoded exactly as {@linkcode PgStorage} stores them: the same
 * validation, the same lossless round trip, the same errors, and no aliasing between what you
 * put and what you get.
 *
 * @example
 * ```ts
 * import { MemoryStorage, newInstance } from "@heph/pg";
 *
 * const storage = new MemoryStorage();
 * await storage.put(newInstance({ id: "order::1", workflow: "Shop.Order" }));
 * (await storage.query({ status: "pending" })).length; // 1
 * ```
 */
export class MemoryStorage implements Storage {
  #entries = new Map<string, Entry>();

  /**
   * Reads one instance.
   *
   * @param id The instance id.
   * @returns A fresh copy of the instance, or null.
   */
  get(id: string): Promise<StoredInstance | null> {
    return attempt(() => {
      const entry = this.#entries.get(validateId(id));
      return entry ? decode(entry) : null;
    });
  }

  /**
   * Inserts or updates an instance; see {@linkcode Storage.put}.
   *
   * @param instance The instance.
   * @param options An optional expected revision.
   * @returns The revision now stored.
   */
  put(instance: WorkflowInstance, options: PutOptions = {}): Promise<PutResult> {
    return attempt(() => {
      const expected = validateExpectedRevision(options?.expectedRevision);
      const row = encodeInstance(instance);
      const existing = this.#entries.get(row.id);
      const actual = existing?.revision ?? 0;
      if (expected !== undefined && expected !== actual) {
        throw new ConflictError(row.id, expected, actual);
      }
      const now = Date.now();
      const entry: Entry = existing
        ? {
          row: { ...row, workflowVersion: existing.row.workflowVersion },
          revision: existing.revision + 1,
          insertedAt: existing.insertedAt,
          updatedAt: now,
        }
        : { row, revision: 1, insertedAt: now, updatedAt: now };
      this.#entries.set(row.id, entry);
      return { revision: entry.revision };
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
   * @returns Fresh copies of the matches.
   */
  query(filter: InstanceFilter): Promise<StoredInstance[]> {
    return attempt(() => {
      const checked = validateFilter(filter);
      return [...this.#entries.values()]
        .filter((entry) => matchesFilter(entry.row, checked))
        .sort((a, b) => a.insertedAt - b.insertedAt || compare(a.row.id, b.row.id))
        .map(decode);
    });
  }
}

function decode(entry: Entry): StoredInstance {
  return decodeInstance({
    id: entry.row.id,
    workflow: entry.row.workflow,
    workflow_version: entry.row.workflowVersion,
    status: entry.row.status,
    state: entry.row.state,
    revision: entry.revision,
    inserted_at: entry.insertedAt,
    updated_at: entry.updatedAt,
  });
}

/** Orders ids by code point, as PostgreSQL's `COLLATE "C"` does (UTF-8 byte order). */
function compare(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function attempt<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}
