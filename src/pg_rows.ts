/**
 * Rows PgStorage reads back, which are untrusted: decoded into instances (corrupt ones named),
 * checked to be there when a statement must return one, and read for what stood in a
 * conditional write's way.
 *
 * @module
 */

import { DatabaseError, LeaseConflictError } from "./errors.ts";
import { INSTANCE_STATUSES, type StoredInstance } from "./instance.ts";
import { decodeInstance, type InstanceRow } from "./instance_decoder.ts";
import { describe } from "./validation.ts";
import type { CountGroup } from "./storage.ts";

/** A row as a driver returns it: values keyed by column name, not yet checked. */
export type Row = Record<string, unknown>;

/**
 * The one row a statement returns by construction (an aggregate, a `RETURNING` of a write, an
 * outcome query). A driver that returns none breaks that promise: a clear error, never a read
 * of `undefined`.
 *
 * @param rows The statement's rows.
 * @param operation The storage operation, for the message.
 * @returns The first row.
 * @throws {DatabaseError} When there is no row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { singleRow } from "./pg_rows.ts";
 *
 * assert.equal(singleRow([{ n: "3" }], "count").n, "3");
 * ```
 */
export function singleRow(rows: readonly Row[], operation: string): Row {
  const [row] = rows;
  if (row === undefined) {
    throw new DatabaseError(
      `Unexpected result of ${operation}: no row, where the statement always returns one`,
    );
  }
  return row;
}

/**
 * Decodes a row as the caller's type: `I` is the caller's promise, not checked.
 *
 * @typeParam I The caller's type of `context.initial`.
 * @param row A row of the instance columns.
 * @returns The instance.
 * @throws {CorruptRecordError} When the row cannot be decoded (names its id).
 *
 * @example
 * ```ts ignore
 * import { decodeRow } from "./pg_rows.ts";
 *
 * const instance = decodeRow<{ order_id: number }>(row);
 * ```
 */
export function decodeRow<I extends object>(row: Row): StoredInstance<I> {
  return decodeInstance(row as unknown as InstanceRow) as StoredInstance<I>;
}

/**
 * Whether a conditional write's outcome row shows a live lease held by someone other than
 * `owner`.
 *
 * @param row An outcome row (`holder`, `holder_live`).
 * @param owner Who wrote.
 * @returns True when another owner's live lease stood in the way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heldByAnother } from "./pg_rows.ts";
 *
 * assert.ok(heldByAnother({ holder: "worker-b", holder_live: "true" }, "worker-a"));
 * assert.equal(heldByAnother({ holder: "worker-a", holder_live: "true" }, "worker-a"), false);
 * ```
 */
export function heldByAnother(row: Row, owner: string): boolean {
  return row.holder !== null && row.holder !== owner && row.holder_live === "true";
}

/**
 * The {@linkcode LeaseConflictError} a refused lease operation or owned put throws, naming the
 * live lease of another owner when the outcome row shows one.
 *
 * @param id The instance id.
 * @param owner Who asked.
 * @param row The outcome row (`holder`, `holder_expires`, `holder_live`).
 * @returns The error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { leaseConflict } from "./pg_rows.ts";
 *
 * const row = { holder: "worker-b", holder_expires: "1767225600000", holder_live: "true" };
 * assert.equal(leaseConflict("order::1", "worker-a", row).holder?.owner, "worker-b");
 * ```
 */
export function leaseConflict(id: string, owner: string, row: Row): LeaseConflictError {
  const holder = heldByAnother(row, owner)
    ? { owner: String(row.holder), expiresAt: new Date(Number(row.holder_expires)) }
    : null;
  return new LeaseConflictError(id, owner, holder);
}

/**
 * A row of the grouped count, checked.
 *
 * @param row A row with `workflow`, `workflow_version`, `status` and `n`.
 * @returns The group.
 * @throws {DatabaseError} When the row is not a group (an altered table).
 *
 * @example
 * ```ts
 * import { countGroupOf } from "./pg_rows.ts";
 *
 * countGroupOf({ workflow: "Shop.Order", workflow_version: "1", status: "running", n: "2" });
 * // { workflow: "Shop.Order", workflowVersion: 1, status: "running", count: 2 }
 * ```
 */
export function countGroupOf(row: Row): CountGroup {
  const group = {
    workflow: row.workflow,
    workflowVersion: Number(row.workflow_version),
    status: row.status,
    count: Number(row.n),
  };
  if (
    typeof group.workflow !== "string" || !Number.isInteger(group.workflowVersion) ||
    !(INSTANCE_STATUSES as readonly unknown[]).includes(group.status) ||
    !(group.count >= 1)
  ) {
    throw new DatabaseError(`Unexpected row from a grouped count: ${describe(row)}`);
  }
  return group as CountGroup;
}
