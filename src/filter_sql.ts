/**
 * Filters as SQL: the conditions of a checked filter on table alias `w`, with their
 * parameters, and timestamps as parameter text.
 *
 * @module
 */

import { PG_MIN_MS } from "./cursor.ts";
import type { CheckedFilter } from "./options.ts";

/**
 * A compiled filter: its conditions on table alias `w` (all must hold) and their parameters,
 * numbered from 1. A caller adds conditions of its own to the list and parameters with `bind`,
 * then joins the list with {@linkcode whereClause}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFilter } from "./filter_sql.ts";
 *
 * const compiled = compileFilter({ status: "running" });
 * assert.deepEqual(compiled.conditions, ["w.status = $1"]);
 * assert.deepEqual(compiled.params, ["running"]);
 * ```
 */
export interface CompiledFilter {
  /** The conditions, such as `w.status = $1`; empty for no condition. */
  conditions: string[];
  /** The parameters, in placeholder order. */
  params: unknown[];
  /** Adds a parameter and returns its placeholder. */
  bind(value: unknown): string;
}

/**
 * Compiles a checked filter into conditions on table alias `w`.
 *
 * @param filter A filter from `validateFilter`.
 * @returns The conditions, their parameters, and `bind` for more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileFilter } from "./filter_sql.ts";
 * import { whereClause } from "./sql_params.ts";
 *
 * const { conditions, params } = compileFilter({ workflow: "Shop.Order", statusIn: ["pending"] });
 * assert.equal(whereClause(conditions), "WHERE w.status IN ($1) AND w.workflow = $2");
 * assert.deepEqual(params, ["pending", "Shop.Order"]);
 * ```
 */
export function compileFilter(filter: CheckedFilter): CompiledFilter {
  const params: unknown[] = [];
  const bind = (value: unknown) => `$${params.push(value)}`;
  const conditions: string[] = [];
  if (filter.id !== undefined) conditions.push(`w.id = ${bind(filter.id)}`);
  if (filter.idPrefix !== undefined) {
    const pattern = filter.idPrefix.replace(/[\\%_]/g, "\\$&") + "%";
    conditions.push(`w.id LIKE ${bind(pattern)} ESCAPE E'\\\\'`);
  }
  if (filter.status !== undefined) conditions.push(`w.status = ${bind(filter.status)}`);
  if (filter.statusIn !== undefined) {
    conditions.push(
      filter.statusIn.length === 0
        ? "false"
        : `w.status IN (${filter.statusIn.map(bind).join(", ")})`,
    );
  }
  if (filter.workflow !== undefined) conditions.push(`w.workflow = ${bind(filter.workflow)}`);
  if (filter.workflowVersion !== undefined) {
    conditions.push(`w.workflow_version = ${bind(filter.workflowVersion)}::integer`);
  }
  if (filter.workflowFamily !== undefined) {
    const pattern = filter.workflowFamily.replace(/[\\%_]/g, "\\$&") + "%";
    conditions.push(`w.workflow LIKE ${bind(pattern)} ESCAPE E'\\\\'`);
  }
  if (filter.contextDocument !== undefined) {
    // Served by the GIN index on state -> 'context' (migration 3).
    const document = JSON.stringify(filter.contextDocument);
    conditions.push(`(w.state -> 'context') @> ${bind(document)}::text::jsonb`);
  }
  const moments: [keyof CheckedFilter, string][] = [
    ["updatedBefore", "w.updated_at <"],
    ["updatedAfter", "w.updated_at >"],
    ["insertedBefore", "w.inserted_at <"],
    ["insertedAfter", "w.inserted_at >"],
  ];
  for (const [key, comparison] of moments) {
    const value = filter[key] as Date | undefined;
    if (value !== undefined) {
      conditions.push(`${comparison} ${bind(timestampParam(value))}::text::timestamptz`);
    }
  }
  return { conditions, params, bind };
}

/**
 * A valid Date as timestamptz input text, for any Date JavaScript can hold: ISO-8601 for years
 * 1 to 9999; PostgreSQL's own forms beyond (`10000-01-01T…`, `0044-03-15T… BC`), which
 * `toISOString()`'s signed years are not; `-infinity` before the earliest timestamptz, which
 * compares with every stored time exactly as that Date would.
 *
 * @param date A valid Date.
 * @returns Text for a `$n::text::timestamptz` parameter (a text parameter: postgres.js would
 *   otherwise parse a timestamptz parameter with `new Date()` and send `toISOString()` back,
 *   dropping microseconds and the forms above).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timestampParam } from "./filter_sql.ts";
 *
 * assert.equal(timestampParam(new Date("2024-05-01T12:00:00Z")), "2024-05-01T12:00:00.000Z");
 * assert.equal(timestampParam(new Date(-8.64e15)), "-infinity");
 * ```
 */
export function timestampParam(date: Date): string {
  const ms = date.getTime();
  const year = date.getUTCFullYear();
  if (year >= 1 && year <= 9999) return date.toISOString();
  if (ms < PG_MIN_MS) return "-infinity";
  const rest = date.toISOString().replace(/^[+-]?\d+/, "");
  return year > 0 ? `${year}${rest}` : `${String(1 - year).padStart(4, "0")}${rest} BC`;
}
