/**
 * The Storage contract, implemented by {@linkcode PgStorage} and {@linkcode MemoryStorage}.
 *
 * @module
 */

import type { InstanceStatus, StoredInstance, WorkflowInstance } from "./instance.ts";

/**
 * Which instances a query selects. Every given key must hold; `{}` selects all. An unknown key
 * or an invalid value is a {@linkcode ValidationError}: a typo never selects everything.
 * A key whose value is `undefined` counts as absent.
 *
 * @example Waiting or running orders of version 2
 * ```ts
 * import type { InstanceFilter } from "@heph/pg";
 *
 * const filter: InstanceFilter = {
 *   statusIn: ["waiting", "running"],
 *   workflow: "Shop.OrderWorkflow",
 *   workflowVersion: 2,
 * };
 * ```
 */
export interface InstanceFilter {
  /** Exactly this id. */
  id?: string;
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
}

/**
 * Options of {@linkcode Storage.put}.
 *
 * @example Insert only
 * ```ts
 * import type { PutOptions } from "@heph/pg";
 *
 * const mustNotExist: PutOptions = { expectedRevision: 0 };
 * ```
 */
export interface PutOptions {
  /**
   * Write only if the stored revision is this one (`0`: only if no instance has this id);
   * otherwise throw {@linkcode ConflictError} and write nothing.
   */
  expectedRevision?: number;
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
 * Where workflow instances live. Every method is atomic on its own.
 *
 * @example Code against the contract, run on any store
 * ```ts
 * import { MemoryStorage, newInstance, type Storage } from "@heph/pg";
 *
 * async function start(storage: Storage, id: string): Promise<number> {
 *   const { revision } = await storage.put(newInstance({ id, workflow: "Shop.Order" }), {
 *     expectedRevision: 0,
 *   });
 *   return revision;
 * }
 * await start(new MemoryStorage(), "order::1"); // 1
 * ```
 */
export interface Storage {
  /**
   * Reads one instance.
   *
   * @param id The instance id.
   * @returns The instance, or null when there is none.
   */
  get(id: string): Promise<StoredInstance | null>;
  /**
   * Inserts or replaces an instance. The workflow version is fixed by the first insert.
   *
   * @param instance The instance.
   * @param options An optional expected revision.
   * @returns The revision now stored.
   */
  put(instance: WorkflowInstance, options?: PutOptions): Promise<PutResult>;
  /**
   * Deletes an instance; deleting one that does not exist is not an error.
   *
   * @param id The instance id.
   */
  delete(id: string): Promise<void>;
  /**
   * Lists the instances matching a filter, ordered by insertion time then id.
   *
   * @param filter Which instances.
   * @returns The matches.
   */
  query(filter: InstanceFilter): Promise<StoredInstance[]>;
}
