/**
 * The options of PgStorage and their check, and what its `estimateCount` returns.
 *
 * @module
 */

import type { SqlDriver } from "./driver.ts";
import { ValidationError } from "./errors.ts";
import type { QueryEvent, QueryHooks, QueryWrapper } from "./query_hooks.ts";
import { DEFAULT_SCHEMA, describe } from "./validation.ts";

/**
 * Options of `PgStorage`.
 *
 * @example
 * ```ts ignore
 * import type { PgStorageOptions, SqlDriver } from "@heph/pg";
 *
 * declare const driver: SqlDriver;
 * const options: PgStorageOptions = {
 *   driver,
 *   schema: "tenant_a",
 *   onQuery: (event) => console.log(event.operation, event.durationMs.toFixed(1), "ms"),
 * };
 * ```
 */
export interface PgStorageOptions {
  /** The driver wrapping your PostgreSQL client: the primary, which takes every write. */
  driver: SqlDriver;
  /**
   * A driver on a read replica (a hot standby streaming from the primary). `get`, `query`,
   * `page`, `scan` and `count` go to it unless called with `fromPrimary: true`; writes, claims,
   * leases and conditional puts always go to `driver`. A replica lags the primary a little, so a
   * read there may not show a write that just returned.
   */
  readDriver?: SqlDriver;
  /**
   * The table is a Citus distributed table (`migrate(driver, { distribute: true })`). Claims and
   * prunes then use forms Citus runs over many shards: without `SKIP LOCKED`, so a claim racing
   * another may return fewer instances than are free (even none); call it again.
   */
  distributed?: boolean;
  /** The schema holding `workflow_instances`; `"public"` by default. */
  schema?: string;
  /**
   * Called after every statement, succeeded or failed, for logs and traces. What it throws is
   * ignored; it may be async, but its promise is not awaited and a rejection is ignored too. It
   * should return quickly: it runs on the operation's path.
   */
  onQuery?: ((event: QueryEvent) => void) | ((event: QueryEvent) => Promise<unknown>);
  /**
   * Runs around every statement, for spans that nest (see {@linkcode QueryWrapper}). It must
   * call `run` once and return its result.
   */
  wrapQuery?: QueryWrapper;
}

/**
 * What `PgStorage.estimateCount` returns: a number of instances and whether it is an
 * estimate.
 *
 * @example
 * ```ts
 * import type { CountEstimate } from "@heph/pg";
 *
 * const shown: CountEstimate = { count: 1_204_000, estimated: true };
 * const label = `${shown.estimated ? "≈ " : ""}${shown.count.toLocaleString("en-US")} instances`;
 * ```
 */
export interface CountEstimate {
  /** How many instances. */
  count: number;
  /**
   * `true`: PostgreSQL's statistics estimate, as of the last ANALYZE scaled to the table's
   * current size (typically within a few percent); `false`: an exact count, made because the
   * table had no statistics yet.
   */
  estimated: boolean;
}

/**
 * Checks the options of `PgStorage` and fills in the defaults (the schema name itself is
 * checked where it is quoted).
 *
 * @param options What the caller passed.
 * @returns The options, with `readDriver`, `schema` and `distributed` set.
 * @throws {ValidationError} When a driver is not a SqlDriver or a hook not a function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkStorageOptions } from "./pg_storage_types.ts";
 *
 * const driver = { query: () => Promise.resolve({ rows: [] }), transaction: () => Promise.resolve([]) };
 * assert.equal(checkStorageOptions({ driver }).schema, "public");
 * ```
 */
export function checkStorageOptions(
  options: PgStorageOptions,
):
  & Required<Pick<PgStorageOptions, "driver" | "readDriver" | "schema" | "distributed">>
  & QueryHooks {
  if (typeof options?.driver?.query !== "function") {
    throw new ValidationError("Invalid options: driver must be a SqlDriver");
  }
  if (options.readDriver !== undefined && typeof options.readDriver?.query !== "function") {
    throw new ValidationError(
      `Invalid options: readDriver must be a SqlDriver, got ${describe(options.readDriver)}`,
    );
  }
  if (options.onQuery !== undefined && typeof options.onQuery !== "function") {
    throw new ValidationError(
      `Invalid options: onQuery must be a function, got ${describe(options.onQuery)}`,
    );
  }
  if (options.wrapQuery !== undefined && typeof options.wrapQuery !== "function") {
    throw new ValidationError(
      `Invalid options: wrapQuery must be a function, got ${describe(options.wrapQuery)}`,
    );
  }
  if (options.distributed !== undefined && typeof options.distributed !== "boolean") {
    throw new ValidationError(
      `Invalid options: distributed must be a boolean, got ${describe(options.distributed)}`,
    );
  }
  const checked: ReturnType<typeof checkStorageOptions> = {
    driver: options.driver,
    readDriver: options.readDriver ?? options.driver,
    schema: options.schema ?? DEFAULT_SCHEMA,
    distributed: options.distributed ?? false,
  };
  if (options.onQuery !== undefined) checked.onQuery = options.onQuery;
  if (options.wrapQuery !== undefined) checked.wrapQuery = options.wrapQuery;
  return checked;
}
