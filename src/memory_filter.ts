/**
 * Filters evaluated in memory, for {@linkcode MemoryStorage}: the semantics of PgStorage's SQL
 * (jsonb containment included) over an instance's columns and stored context.
 *
 * @module
 */

import type { InstanceStatus } from "./instance.ts";
import type { CheckedFilter } from "./options.ts";

/**
 * What {@linkcode matchesFilter} looks at: an instance's columns and its stored context.
 *
 * @example
 * ```ts
 * import type { FilterSubject } from "./memory_filter.ts";
 *
 * const subject: FilterSubject = {
 *   id: "a", workflow: "W", workflowVersion: 1, status: "pending",
 *   insertedAt: 0, updatedAt: 0, context: () => ({ initial: {}, steps: {} }),
 * };
 * ```
 */
export interface FilterSubject {
  /** The id. */
  id: string;
  /** The workflow name. */
  workflow: string;
  /** The workflow version. */
  workflowVersion: number;
  /** The status. */
  status: InstanceStatus;
  /** First stored, epoch milliseconds. */
  insertedAt: number;
  /** Last stored, epoch milliseconds. */
  updatedAt: number;
  /** The stored context in its JSON form, computed only when a containment needs it. */
  context: () => unknown;
}

/**
 * Whether an instance satisfies a checked filter, with the semantics of PgStorage's SQL (used
 * by {@linkcode MemoryStorage}).
 *
 * @param subject The instance's columns and stored context.
 * @param filter A filter returned by {@linkcode validateFilter}.
 * @returns True when every key holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchesFilter } from "./memory_filter.ts";
 * import { validateFilter } from "./options.ts";
 *
 * const subject = {
 *   id: "a", workflow: "Shop.Order", workflowVersion: 1, status: "pending" as const,
 *   insertedAt: 0, updatedAt: 0, context: () => ({ initial: { n: 1 }, steps: {} }),
 * };
 * assert.ok(matchesFilter(subject, validateFilter({ workflowFamily: "Shop." })));
 * const other = validateFilter({ contextContains: { initial: { n: 2 } } });
 * assert.equal(matchesFilter(subject, other), false);
 * ```
 */
export function matchesFilter(subject: FilterSubject, filter: CheckedFilter): boolean {
  return (filter.id === undefined || subject.id === filter.id) &&
    (filter.idPrefix === undefined || subject.id.startsWith(filter.idPrefix)) &&
    (filter.status === undefined || subject.status === filter.status) &&
    (filter.statusIn === undefined || filter.statusIn.includes(subject.status)) &&
    (filter.workflow === undefined || subject.workflow === filter.workflow) &&
    (filter.workflowVersion === undefined ||
      subject.workflowVersion === filter.workflowVersion) &&
    (filter.workflowFamily === undefined || subject.workflow.startsWith(filter.workflowFamily)) &&
    (filter.updatedBefore === undefined || subject.updatedAt < filter.updatedBefore.getTime()) &&
    (filter.updatedAfter === undefined || subject.updatedAt > filter.updatedAfter.getTime()) &&
    (filter.insertedBefore === undefined ||
      subject.insertedAt < filter.insertedBefore.getTime()) &&
    (filter.insertedAfter === undefined || subject.insertedAt > filter.insertedAfter.getTime()) &&
    (filter.contextDocument === undefined ||
      jsonContains(subject.context(), filter.contextDocument));
}

/**
 * Whether the JSON value `outer` contains `inner` as jsonb's `@>` decides: objects contain the
 * keys given with containing values, arrays contain each element given somewhere (order and
 * repetition do not matter), other values are equal.
 *
 * @param outer A parsed JSON value (what is stored).
 * @param inner A parsed JSON value (what is looked for).
 * @returns True when `outer @> inner` would hold.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonContains } from "./memory_filter.ts";
 *
 * assert.ok(jsonContains({ a: [1, 2, 3], b: true }, { a: [3, 1] }));
 * assert.equal(jsonContains({ a: [1] }, { a: 1 }), false);
 * ```
 */
export function jsonContains(outer: unknown, inner: unknown): boolean {
  if (Array.isArray(inner)) {
    return Array.isArray(outer) && inner.every((item) => outer.some((o) => jsonContains(o, item)));
  }
  if (typeof inner === "object" && inner !== null) {
    if (typeof outer !== "object" || outer === null || Array.isArray(outer)) return false;
    const record = outer as Record<string, unknown>;
    return Object.entries(inner).every(([key, value]) =>
      Object.hasOwn(record, key) && jsonContains(record[key], value)
    );
  }
  return outer === inner;
}
