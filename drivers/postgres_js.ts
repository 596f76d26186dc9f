/**
 * The postgres.js driver: adapts the user's own `postgres(url)` client (npm:postgres) to
 * {@linkcode SqlDriver}. Imports nothing at run time until {@linkcode openStorage} loads
 * npm:postgres.
 *
 * @example
 * ```ts ignore
 * import postgres from "npm:postgres";
 * import { migrate, PgStorage } from "@heph/pg";
 * import { postgresJsDriver } from "@heph/pg/postgres-js";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!, { onnotice: () => {} });
 * const driver = postgresJsDriver(sql);
 * await migrate(driver);
 * const storage = new PgStorage({ driver });
 * ```
 *
 * @example One line: the client, the driver and the storage
 * ```ts ignore
 * import { openStorage } from "@heph/pg/postgres-js";
 *
 * const { storage, close } = await openStorage(Deno.env.get("DATABASE_URL")!, { migrate: true });
 * await close();
 * ```
 *
 * @module
 */

import type { SqlDriver, SqlResult } from "../src/driver.ts";
import { ValidationError } from "../src/errors.ts";
import { withErrorFields } from "./error_fields.ts";
import {
  type OpenedStorage,
  openOn,
  type OpenStorageOptions,
  splitOpenOptions,
} from "../src/open_storage.ts";
import { insideTransactionError, runEach } from "./session.ts";

/**
 * What a postgres.js query resolves to: an array of rows with the command's row `count`.
 *
 * @example
 * ```ts
 * import type { PostgresJsRows } from "@heph/pg/postgres-js";
 *
 * const rows: PostgresJsRows = Object.assign([{ one: "1" }], { count: 1 });
 * ```
 */
export interface PostgresJsRows extends Iterable<Record<string, unknown>> {
  /** Rows returned. */
  readonly length: number;
  /** Rows returned or affected, from the command tag; null for commands without one (DDL). */
  readonly count?: number | null;
}

/**
 * What the driver needs of a postgres.js transaction (the `sql` that `sql.begin` passes in).
 *
 * @example
 * ```ts ignore
 * import postgres from "npm:postgres";
 * import type { PostgresJsTransaction } from "@heph/pg/postgres-js";
 *
 * await postgres().begin(async (tx) => {
 *   const session: PostgresJsTransaction = tx;
 *   await session.unsafe("SELECT 1");
 * });
 * ```
 */
export interface PostgresJsTransaction {
  /** Runs a statement with `$n` parameters (lazily: it is sent once awaited). */
  unsafe(query: string, parameters?: unknown[]): PromiseLike<PostgresJsRows>;
  /** The client's parsed options; only `transform` is looked at. */
  readonly options?: {
    readonly transform?: {
      readonly column?: { readonly from?: unknown };
      readonly value?: { readonly from?: unknown };
      readonly row?: { readonly from?: unknown };
    };
  };
}

/**
 * What the driver needs of a postgres.js client, the function `postgres(url)` returns.
 *
 * @example
 * ```ts ignore
 * import postgres from "npm:postgres";
 * import type { PostgresJsSql } from "@heph/pg/postgres-js";
 *
 * const sql: PostgresJsSql = postgres("postgres://postgres@127.0.0.1:5432/test");
 * ```
 */
export interface PostgresJsSql extends PostgresJsTransaction {
  /** Runs `fn` in a transaction on one reserved connection: COMMIT when it resolves, else ROLLBACK. */
  begin(fn: (tx: PostgresJsTransaction) => Promise<SqlResult[]>): Promise<SqlResult[]>;
}

/**
 * Adapts a postgres.js client. Statements go through `sql.unsafe(text, params)`; a migration's
 * transaction runs in `sql.begin`, one statement after another on its transaction `tx` (never
 * on the outer `sql`, which would run outside the transaction on another connection, or wait
 * forever for the one the transaction holds: porsager/postgres#893). The driver never closes
 * what you pass in: call `sql.end()` yourself.
 *
 * postgres.js types each parameter from the server's description of the statement; the core's
 * SQL casts its placeholders (`$5::text::jsonb`), so JSON goes in as text and is stored as an
 * object, not as a JSON string. Two client options matter:
 * - a `transform` that renames columns or changes values on the way out (such as
 *   `postgres.camel`) would change the rows the core reads, so such a client is refused: create
 *   one without it for this module;
 * - postgres.js prints the server's notices (`schema … already exists, skipping` when `migrate`
 *   runs again) with `console.log` unless you pass `onnotice`.
 *
 * Pass the `tx` of your own `sql.begin(tx => …)` instead of the client, and every storage
 * operation joins your transaction: it commits or rolls back with your own writes. Such a
 * driver refuses `transaction` (so `migrate`) with SQLSTATE `25001`: a migration needs a
 * transaction of its own.
 *
 * @param sql A `postgres(url, options)` client, or the `tx` of `sql.begin`.
 * @returns The driver.
 * @throws {ValidationError} When the client transforms the columns, values or rows it reads.
 *
 * @example
 * ```ts ignore
 * import postgres from "npm:postgres";
 * import { postgresJsDriver } from "@heph/pg/postgres-js";
 *
 * const sql = postgres("postgres://postgres@127.0.0.1:5432/test", { onnotice: () => {} });
 * const driver = postgresJsDriver(sql);
 * const { rows } = await driver.query("SELECT 1::text AS one");
 * await sql.end();
 * ```
 */
export function postgresJsDriver(sql: PostgresJsSql | PostgresJsTransaction): SqlDriver {
  const transform = sql.options?.transform;
  const transformed = (["column", "value", "row"] as const)
    .filter((kind) => typeof transform?.[kind]?.from === "function");
  if (transformed.length > 0) {
    throw new ValidationError(
      `Invalid postgres.js client: it transforms ${transformed.join(", ")} on the way out, ` +
        `which changes the rows the core reads; use a client without transform.${transformed[0]}`,
    );
  }
  if (typeof (sql as PostgresJsSql).begin !== "function") {
    return {
      query: (text, params) => run(sql, text, params),
      transaction: () => Promise.reject(insideTransactionError()),
    };
  }
  const client = sql as PostgresJsSql;
  return {
    query: (text, params) => run(client, text, params),
    transaction: (statements) =>
      client.begin((tx) => runEach((text, params) => run(tx, text, params), statements))
        .catch((error) => {
          throw withSqlState(error);
        }),
  };
}

/**
 * postgres.js' own codes for connection failures, as SQLSTATEs: `08001` no connection could be
 * made, `08006` an open one was lost.
 */
const CONNECTION_STATES = new Map([
  ["CONNECT_TIMEOUT", "08001"],
  ["CONNECTION_CLOSED", "08006"],
  ["CONNECTION_ENDED", "08006"],
  ["CONNECTION_DESTROYED", "08006"],
]);

/**
 * Gives an error carrying one of postgres.js' connection codes the SQLSTATE as `sqlState`,
 * keeping its own `code` as it is.
 */
function withSqlState(error: unknown): unknown {
  if (typeof error !== "object" || error === null) return error;
  const fields = error as { code?: unknown; sqlState?: unknown; message?: unknown };
  const state = typeof fields.code === "string" ? CONNECTION_STATES.get(fields.code) : undefined;
  if (state === undefined || fields.sqlState !== undefined) return error;
  return withErrorFields(error, { sqlState: state });
}

async function run(
  sql: PostgresJsTransaction,
  text: string,
  params?: readonly unknown[],
): Promise<SqlResult> {
  let result: PostgresJsRows;
  try {
    result = await sql.unsafe(text, params ? [...params] : []);
  } catch (error) {
    throw withSqlState(error);
  }
  return { rows: [...result], rowCount: result.count ?? result.length };
}

/**
 * Options of the postgres.js {@linkcode openStorage}: the storage's, and any option of
 * `postgres(url, …)` (`max`, `ssl`, `idle_timeout`, …), passed on as given. `prepare` is
 * postgres.js' own: the driver sends every statement with `sql.unsafe`, which postgres.js does
 * not prepare unless told to.
 *
 * @example
 * ```ts
 * import type { PostgresJsOpenOptions } from "@heph/pg/postgres-js";
 *
 * const options: PostgresJsOpenOptions = { schema: "tenant_a", migrate: true, max: 5 };
 * ```
 */
export interface PostgresJsOpenOptions extends OpenStorageOptions {
  /** Any option of postgres.js' `postgres(url, options)`. */
  [clientOption: string]: unknown;
}

/**
 * Opens a storage on a connection string in one call: a postgres.js client (npm:postgres,
 * loaded only when this function runs), the driver and a {@linkcode PgStorage}, migrated first
 * when `migrate: true`. The server's notices are not printed unless you pass `onnotice`.
 * `close()` ends the client.
 *
 * @param url A PostgreSQL connection string.
 * @param options The storage's options, `migrate`, and client options.
 * @returns The storage, its driver, and `close`.
 * @throws {ValidationError} On a bad URL or option, or a client option that transforms rows.
 * @throws {MigrationError} When `migrate: true` and the migration fails (the client is ended).
 *
 * @example
 * ```ts ignore
 * import { newInstance } from "@heph/pg";
 * import { openStorage } from "@heph/pg/postgres-js";
 *
 * const { storage, close } = await openStorage(Deno.env.get("DATABASE_URL")!, { migrate: true });
 * await storage.put(newInstance({ id: "order::1", workflow: "Shop.Order" }));
 * await close();
 * ```
 */
export async function openStorage(
  url: string,
  options?: PostgresJsOpenOptions,
): Promise<OpenedStorage> {
  const { own, client } = splitOpenOptions(url, options);
  const { default: postgres } = await import("postgres");
  const sql = postgres(url, { onnotice: () => {}, ...client });
  let driver: SqlDriver;
  try {
    driver = postgresJsDriver(sql);
  } catch (error) {
    await sql.end();
    throw error;
  }
  return await openOn(driver, () => sql.end(), own);
}
