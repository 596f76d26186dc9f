/**
 * The PGlite driver: adapts the user's own `PGlite` instance (npm:@electric-sql/pglite),
 * PostgreSQL compiled to WebAssembly and embedded in the process, to {@linkcode SqlDriver}.
 * Imports nothing at run time.
 *
 * @example
 * ```ts ignore
 * import { PGlite } from "npm:@electric-sql/pglite";
 * import { migrate, PgStorage } from "@heph/pg";
 * import { pgliteDriver } from "@heph/pg/pglite";
 *
 * const db = new PGlite(); // in memory; new PGlite("./data") persists to a directory
 * const driver = pgliteDriver(db);
 * await migrate(driver);
 * const storage = new PgStorage({ driver });
 * ```
 *
 * @module
 */

import type { SqlDriver, SqlResult } from "../src/driver.ts";
import { insideTransactionError, runEach } from "./session.ts";

/**
 * What a PGlite query resolves to.
 *
 * @example
 * ```ts
 * import type { PGliteResults } from "@heph/pg/pglite";
 *
 * const results: PGliteResults = { rows: [{ one: "1" }], affectedRows: 0, rowCount: 1 };
 * ```
 */
export interface PGliteResults {
  /** Rows keyed by column name. */
  rows: Record<string, unknown>[];
  /** Rows changed by INSERT, UPDATE or DELETE (0 for a SELECT). */
  affectedRows?: number;
  /** Rows returned or changed, from the command tag; absent for commands without one (DDL). */
  rowCount?: number;
}

/**
 * What the driver needs of a PGlite transaction (the `tx` that `db.transaction` passes in).
 *
 * @example
 * ```ts ignore
 * import { PGlite } from "npm:@electric-sql/pglite";
 * import type { PGliteTransaction } from "@heph/pg/pglite";
 *
 * await new PGlite().transaction((tx) => {
 *   const session: PGliteTransaction = tx;
 *   return session.query("SELECT 1");
 * });
 * ```
 */
export interface PGliteTransaction {
  /** Runs one statement with `$n` parameters. */
  query(query: string, params?: unknown[]): Promise<PGliteResults>;
}

/**
 * What the driver needs of a `PGlite` instance.
 *
 * @example
 * ```ts ignore
 * import { PGlite } from "npm:@electric-sql/pglite";
 * import type { PGliteClient } from "@heph/pg/pglite";
 *
 * const db: PGliteClient = new PGlite();
 * ```
 */
export interface PGliteClient extends PGliteTransaction {
  /** Runs `fn` in a transaction: COMMIT when it resolves, else ROLLBACK. */
  transaction(fn: (tx: PGliteTransaction) => Promise<SqlResult[]>): Promise<SqlResult[]>;
}

/**
 * Adapts a PGlite instance. Statements go through `db.query(text, params)`; a migration's
 * transaction runs in `db.transaction`, one statement after another on its `tx` (PGlite has a
 * single connection, so calling `db.query` inside would wait for the transaction forever).
 * Other calls queue behind a running transaction. The driver never closes what you pass in:
 * call `db.close()` yourself.
 *
 * PGlite attaches the query's parameters to its errors as an enumerable `params` property, so
 * printing an error would print the instance being written; the driver makes that property
 * non-enumerable (it is still there), as postgres.js does by default.
 *
 * Pass the `tx` of your own `db.transaction(tx => …)` instead, and every storage operation
 * joins your transaction: it commits or rolls back with your own writes. Such a driver refuses
 * `transaction` (so `migrate`) with SQLSTATE `25001`: a migration needs a transaction of its own.
 *
 * @param db A `PGlite` instance, in memory or on a directory, or the `tx` of `db.transaction`.
 * @returns The driver.
 *
 * @example
 * ```ts ignore
 * import { PGlite } from "npm:@electric-sql/pglite";
 * import { pgliteDriver } from "@heph/pg/pglite";
 *
 * const db = new PGlite();
 * const driver = pgliteDriver(db);
 * const { rows } = await driver.query("SELECT 1::text AS one");
 * await db.close();
 * ```
 */
export function pgliteDriver(db: PGliteClient | PGliteTransaction): SqlDriver {
  if (typeof (db as PGliteClient).transaction !== "function") {
    return {
      query: (text, params) => run(db, text, params),
      transaction: () => Promise.reject(insideTransactionError()),
    };
  }
  const client = db as PGliteClient;
  return {
    query: (text, params) => run(db, text, params),
    async transaction(statements) {
      try {
        return await client.transaction((tx) =>
          runEach((text, params) => run(tx, text, params), statements)
        );
      } catch (error) {
        throw hideParams(error);
      }
    },
  };
}

async function run(
  db: PGliteTransaction,
  text: string,
  params?: readonly unknown[],
): Promise<SqlResult> {
  let result: PGliteResults;
  try {
    result = await db.query(text, params ? [...params] : undefined);
  } catch (error) {
    throw hideParams(error);
  }
  // rowCount comes from the command tag; without it, affectedRows is 0 for a SELECT.
  const rowCount = result.rowCount ?? Math.max(result.affectedRows ?? 0, result.rows.length);
  return { rows: result.rows, rowCount };
}

/** Keeps the parameters a PGlite error carries out of `console.log` and other inspections. */
function hideParams(error: unknown): unknown {
  if (typeof error === "object" && error !== null) {
    const params = Object.getOwnPropertyDescriptor(error, "params");
    if (params?.enumerable && params.configurable) {
      Object.defineProperty(error, "params", { enumerable: false });
    }
  }
  return error;
}
