/**
 * The deno-postgres driver: adapts the user's own `Pool`, `Client` or `PoolClient` of
 * deno-postgres (`jsr:@db/postgres`) to {@linkcode SqlDriver}. Imports nothing at run time.
 *
 * Written against deno-postgres 0.19.5 (`jsr:@db/postgres@0.19.5`), whose API it uses:
 * `pool.connect()` → `PoolClient`, `client.release()`, `client.queryObject({ text, args })`
 * → `{ rows, rowCount }`. Transactions are plain `BEGIN` … `COMMIT` statements on one
 * connection rather than `client.createTransaction()`: that API answers a failed statement
 * with a `TransactionError` whose SQLSTATE sits only on its `cause`.
 *
 * @example
 * ```ts ignore
 * import { Pool } from "jsr:@db/postgres";
 * import { migrate, PgStorage } from "@heph/pg";
 * import { denoPostgresDriver } from "@heph/pg/deno-postgres";
 *
 * const pool = new Pool(Deno.env.get("DATABASE_URL"), 10, true);
 * const driver = denoPostgresDriver(pool);
 * await migrate(driver);
 * const storage = new PgStorage({ driver });
 * ```
 *
 * @module
 */

import type { SqlDriver, SqlResult } from "../src/driver.ts";
import { withErrorFields } from "./error_fields.ts";
import { inTransaction, serialDriver } from "./session.ts";

/**
 * What the driver needs of a deno-postgres `Client` (or a `PoolClient` checked out of a pool).
 *
 * @example
 * ```ts ignore
 * import { Client } from "jsr:@db/postgres";
 * import type { DenoPostgresClient } from "@heph/pg/deno-postgres";
 *
 * const client: DenoPostgresClient = new Client("postgres://postgres@127.0.0.1:5432/test");
 * ```
 */
export interface DenoPostgresClient {
  /** Runs a statement; `rowCount` is undefined or NaN for commands without a row count. */
  queryObject(
    options: { text: string; args?: unknown[] },
  ): Promise<{ rows: Record<string, unknown>[]; rowCount?: number }>;
}

/**
 * What the driver needs of a deno-postgres `Pool`.
 *
 * @example
 * ```ts ignore
 * import { Pool } from "jsr:@db/postgres";
 * import type { DenoPostgresPool } from "@heph/pg/deno-postgres";
 *
 * const pool: DenoPostgresPool = new Pool("postgres://postgres@127.0.0.1:5432/test", 10, true);
 * ```
 */
export interface DenoPostgresPool {
  /** Checks a client out of the pool, waiting for one when all are in use. */
  connect(): Promise<DenoPostgresClient & { release(): void; end(): Promise<void> }>;
}

/**
 * Adapts a deno-postgres `Pool` (recommended), `Client` or `PoolClient`. On a pool every call
 * checks out a client and releases it afterwards; a migration's transaction runs BEGIN … COMMIT
 * on one checked-out client, which is closed (and reconnected by the pool on its next checkout)
 * if it could not roll back. On a single client, calls are queued so no other statement slips
 * into a transaction. Errors from the server are the driver's own `PostgresError`, given `code`
 * (the SQLSTATE) and `detail` from its `fields`. The driver never closes what you pass in: end the
 * pool or client yourself.
 *
 * To make storage operations part of your own transaction, pass the `Transaction` of
 * `client.createTransaction(name)` after its `begin()`: they commit or roll back with your
 * writes. On a client inside a transaction `transaction` (so `migrate`) refuses with SQLSTATE
 * `25001` instead of committing your work: a migration needs a transaction of its own.
 *
 * @param client A deno-postgres `Pool`, `Client` or `PoolClient` (connected, or able to connect),
 *   or a begun `Transaction`.
 * @returns The driver.
 *
 * @example
 * ```ts ignore
 * import { Pool } from "jsr:@db/postgres";
 * import { denoPostgresDriver } from "@heph/pg/deno-postgres";
 *
 * const pool = new Pool("postgres://postgres@127.0.0.1:5432/test", 10, true);
 * const driver = denoPostgresDriver(pool);
 * const { rows } = await driver.query("SELECT 1::text AS one");
 * await pool.end();
 * ```
 */
export function denoPostgresDriver(client: DenoPostgresPool | DenoPostgresClient): SqlDriver {
  if (isPool(client)) {
    return {
      async query(text, params) {
        const session = await client.connect();
        try {
          return await run(session, text, params);
        } finally {
          session.release();
        }
      },
      async transaction(statements) {
        const session = await client.connect();
        let broken = false;
        try {
          return await inTransaction(
            (text, params) => run(session, text, params),
            statements,
            () => {
              broken = true;
            },
          );
        } finally {
          // A connection that could not roll back is closed; the pool reconnects it on checkout.
          if (broken) await session.end().catch(() => undefined);
          session.release();
        }
      },
    };
  }
  return serialDriver((text, params) => run(client, text, params));
}

function isPool(client: DenoPostgresPool | DenoPostgresClient): client is DenoPostgresPool {
  return typeof (client as DenoPostgresClient).queryObject !== "function" &&
    typeof (client as DenoPostgresPool).connect === "function";
}

async function run(
  client: DenoPostgresClient,
  text: string,
  params?: readonly unknown[],
): Promise<SqlResult> {
  try {
    // Without args deno-postgres uses the simple protocol, else one prepared statement.
    const result = await client.queryObject({ text, args: params ? [...params] : [] });
    const count = result.rowCount;
    return {
      rows: result.rows,
      rowCount: typeof count === "number" && Number.isFinite(count) ? count : result.rows.length,
    };
  } catch (error) {
    throw withSqlState(error);
  }
}

/** Lifts a `PostgresError`'s `fields.code` and `fields.detail` onto the error itself. */
function withSqlState(error: unknown): unknown {
  if (typeof error !== "object" || error === null) return error;
  const target = error as { code?: unknown; detail?: unknown; fields?: unknown };
  const fields = target.fields as { code?: unknown; detail?: unknown } | undefined;
  if (typeof fields !== "object" || fields === null) return error;
  return withErrorFields(error, {
    code: target.code === undefined && typeof fields.code === "string" ? fields.code : undefined,
    detail: target.detail === undefined && typeof fields.detail === "string"
      ? fields.detail
      : undefined,
  });
}
