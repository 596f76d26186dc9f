/**
 * Compares what a store returns with what was put.
 *
 * @module
 */
import type { StoredInstance, WorkflowInstance } from "../mod.ts";

/**
 * Strips what a store adds (revision, timestamps) so a stored instance compares with the
 * instance that was put.
 *
 * @param stored What `get` returned.
 * @returns The WorkflowInstance part.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage, newInstance } from "@heph/pg";
 * import { withoutBookkeeping } from "@heph/pg/testing";
 *
 * const storage = new MemoryStorage();
 * const instance = newInstance({ id: "a", workflow: "W" });
 * await storage.put(instance);
 * assert.deepStrictEqual(withoutBookkeeping((await storage.get("a"))!), instance);
 * ```
 */
export function withoutBookkeeping(stored: StoredInstance): WorkflowInstance {
  const { revision: _r, insertedAt: _i, updatedAt: _u, lease: _l, ...instance } = stored;
  return instance;
}
