/**
 * What PgStorage tells hooks about its statements, and how it runs one under them:
 * `wrapQuery` around the statement, `onQuery` after it.
 *
 * @module
 */

import type { SqlResult } from "./driver.ts";
import type { HephError } from "./errors.ts";

/**
 * The storage operations `PgStorage` runs, one SQL statement each.
 *
 * @example
 * ```ts
 * import type { QueryOperation } from "@heph/pg";
 *
 * const writes: QueryOperation[] = ["put", "putMany", "delete", "prune"];
 * ```
 */
export type QueryOperation =
  | "get"
  | "put"
  | "putMany"
  | "delete"
  | "query"
  | "page"
  | "count"
  | "countGroups"
  | "estimateCount"
  | "claim"
  | "renewLease"
  | "releaseLease"
  | "prune";

/**
 * What a statement is about, known before it runs: what {@linkcode QueryWrapper} receives.
 * Never parameter values or instance state.
 *
 * @example
 * ```ts
 * import type { QueryInfo } from "@heph/pg";
 *
 * const info: QueryInfo = {
 *   operation: "get",
 *   schema: "public",
 *   table: "workflow_instances",
 *   instanceId: "order::1",
 *   sql: "SELECT …",
 * };
 * ```
 */
export interface QueryInfo {
  /** The storage operation. */
  operation: QueryOperation;
  /** The schema of the table. */
  schema: string;
  /** The table, without its schema. */
  table: "workflow_instances";
  /** The instance the operation is about, for get, put, delete, renewLease and releaseLease. */
  instanceId?: string;
  /** The SQL text (placeholders only; parameter values are never passed). */
  sql: string;
}

/**
 * What `PgStorageOptions.onQuery` receives after each statement: never parameter values.
 *
 * @example
 * ```ts
 * import type { QueryEvent } from "@heph/pg";
 *
 * const event: QueryEvent = {
 *   operation: "get",
 *   schema: "public",
 *   table: "workflow_instances",
 *   instanceId: "order::1",
 *   sql: "SELECT …",
 *   durationMs: 0.4,
 *   rowCount: 1,
 * };
 * ```
 */
export interface QueryEvent extends QueryInfo {
  /** How long the statement took, in milliseconds. */
  durationMs: number;
  /** Rows the statement returned (0 when it failed). */
  rowCount: number;
  /** The error, when it failed. */
  error?: HephError;
}

/**
 * Runs around every statement: called before it is sent with what it is about and a `run`
 * function that sends it, it returns what `run` returned (or throws what it threw). Work done
 * around `run` (a span started before and ended after, a context made active) is in effect
 * while the driver runs the statement, so what the driver does nests inside it. `run` throws
 * the {@linkcode HephError} the operation will throw. `@heph/pg/otel` is one such wrapper;
 * any tracer or logger can be another.
 *
 * @example Time each statement with a wrapper of your own
 * ```ts
 * import type { QueryWrapper } from "@heph/pg";
 *
 * const timed: QueryWrapper = async (info, run) => {
 *   const started = performance.now();
 *   try {
 *     return await run();
 *   } finally {
 *     console.log(info.operation, info.schema, performance.now() - started);
 *   }
 * };
 * ```
 */
export type QueryWrapper = (info: QueryInfo, run: () => Promise<SqlResult>) => Promise<SqlResult>;

/**
 * The hooks a statement runs under: `onQuery` after it, `wrapQuery` around it.
 *
 * @example
 * ```ts
 * import type { QueryHooks } from "./query_hooks.ts";
 *
 * const hooks: QueryHooks = { onQuery: (event) => console.log(event.operation, event.durationMs) };
 * ```
 */
export interface QueryHooks {
  /** Hears of every statement after it ran (see `PgStorageOptions.onQuery`). */
  onQuery?: ((event: QueryEvent) => void) | ((event: QueryEvent) => Promise<unknown>);
  /** Runs around every statement (see {@linkcode QueryWrapper}). */
  wrapQuery?: QueryWrapper;
}

/**
 * Runs one statement under the hooks: `send` inside `wrapQuery` (when given), a failure turned
 * into the error the operation throws by `convert`, then `onQuery` told what happened. What
 * `onQuery` throws or rejects with is ignored; its promise is not awaited.
 *
 * @param info What the statement is about (a copy goes to `wrapQuery`).
 * @param send Sends the statement to the driver.
 * @param convert Turns what the driver threw into the operation's error.
 * @param hooks `onQuery` and `wrapQuery`, each optional.
 * @returns The rows.
 * @throws {HephError} What `convert` made of the driver's error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HephError } from "./errors.ts";
 * import { runObserved } from "./query_hooks.ts";
 *
 * const counts: number[] = [];
 * const rows = await runObserved(
 *   { operation: "count", schema: "public", table: "workflow_instances", sql: "SELECT 1" },
 *   () => Promise.resolve({ rows: [{ n: "1" }] }),
 *   (error) => new HephError(String(error)),
 *   { onQuery: (event) => void counts.push(event.rowCount) },
 * );
 * assert.deepEqual(rows, [{ n: "1" }]);
 * assert.deepEqual(counts, [1]);
 * ```
 */
export async function runObserved(
  info: QueryInfo,
  send: () => Promise<SqlResult>,
  convert: (error: unknown) => HephError,
  hooks: QueryHooks,
): Promise<Record<string, unknown>[]> {
  const started = performance.now();
  let rows: Record<string, unknown>[] = [];
  let failure: HephError | undefined;
  const run = async (): Promise<SqlResult> => {
    try {
      return await send();
    } catch (error) {
      throw (failure = convert(error));
    }
  };
  try {
    rows = (await (hooks.wrapQuery ? hooks.wrapQuery({ ...info }, run) : run())).rows;
    return rows;
  } finally {
    if (hooks.onQuery) {
      const event: QueryEvent = {
        ...info,
        durationMs: performance.now() - started,
        rowCount: rows.length,
      };
      if (failure) event.error = failure;
      try {
        const result: unknown = hooks.onQuery(event);
        // Not awaited; a rejection must not become an unhandled one (which ends a process).
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === "function") {
          (result as PromiseLike<unknown>).then(undefined, () => {});
        }
      } catch { /* a hook never breaks an operation */ }
    }
  }
}
