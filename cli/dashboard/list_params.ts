/**
 * The query parameters of the dashboard's instance list, shared by the browser script (the
 * filter form's fields, kept in the page's address) and /api/instances (which refuses any
 * other parameter).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LIST_PARAMS } from "./list_params.ts";
 *
 * assert.ok(LIST_PARAMS.includes("idPrefix"));
 * ```
 *
 * @module
 */

/** The list's filters, its order and its page size, in the order the form shows them. */
export const LIST_PARAMS: readonly string[] = [
  "id",
  "idPrefix",
  "status",
  "workflow",
  "version",
  "family",
  "since",
  "updatedAfter",
  "updatedBefore",
  "insertedAfter",
  "insertedBefore",
  "context",
  "order",
  "limit",
];
