/**
 * The node-postgres driver: adapts the user's own `pg.Pool` or `pg.Client` (npm:pg) to
 * {@linkcode SqlDriver}. Imports nothing at run time until {@linkcode openStorage} loads npm:pg.
 *
 * @example
 * ```ts ignore
 * import pg from "npm:pg";
 * import { migrate, PgStorage } from "@heph/pg";
 * import { nodePostgresDriver } from "@heph/pg/node-postgres";
 *
 * const driver = nodePostgresDriver(new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") }));
 * await migrate(driver);
 * const storage = new PgStorage({ driver });
 * ```
 *
 * @example One line: the pool, the driver and the storage
 * ```ts ignore
 * import { openStorage } from "@heph/pg/node-postgres";
 *
 * const { storage, close } = await openStorage(Deno.env.get("DATABASE_URL")!, { migrate: true });
 * await close();
 * ```
 *
 * @module
 */

import type { QueryOptions, SqlDriver, SqlResult } from "../src/driver.ts";
import {
  booleanOption,
  type OpenedStorage,
  openOn,
  type OpenStorageOptions,
  splitOpenOptions,
} from "../src/open_storage.ts";
import { withErrorFields } from "./error_fields.ts";
import { inTransaction, serialDriver } from "./session.ts";

/**
 * What the driver needs of a node-postgres `Client` (or a client checked out of a pool).
 *
 * @example
 * ```ts ignore
 * import pg from "npm:pg";
 * import type { NodePostgresClient } from "@heph/pg/node-postgres";
 *
 * const client: NodePostgresClient = new pg.Client();
 * ```
 */
export interface NodePostgresClient {
  /** Runs a statement: its text, or a config naming it (node-postgres prepares named ones). */
  query(
    text: string | { name?: string; text: string; values?: unknown[] },
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/**
 * Options of {@linkcode nodePostgresDriver} (and Neon's `neonDriver`).
 *
 * @example
 * ```ts
 * import type { NodePostgresDriverOptions } from "@heph/pg/node-postgres";
 *
 * // Behind PgBouncer in transaction mode (before 1.21): no server-side prepared statements.
 * const options: NodePostgresDriverOptions = { prepare: false };
 * ```
 */
export interface NodePostgresDriverOptions {
  /**
   * Prepare PgStorage's fixed statements (get, put, delete, leases) on the server, once per
   * connection, under the names the core gives them: each later call only binds and executes,
   * skipping the parse and plan (measured on loopback: a 2 KB get ~20% faster, a put ~10%).
   * `true` by default. Set `false` when a pooler between you and PostgreSQL hands each
   * transaction a different server connection and does not track prepared statements:
   * PgBouncer in transaction or statement mode before 1.21 (or 1.21+ without
   * `max_prepared_statements`), and some serverless poolers; there a named statement fails
   * with "prepared statement … does not exist". Direct connections, session-mode poolers and
   * poolers that track protocol-level prepared statements (PgBouncer 1.21+ with
   * `max_prepared_statements` set) are fine.
   */
  prepare?: boolean;
}

/**
 * What the driver needs of a node-postgres `Pool`.
 *
 * @example
 * ```ts ignore
 * import pg from "npm:pg";
 * import type { NodePostgresPool } from "@heph/pg/node-postgres";
 *
 * const pool: NodePostgresPool = new pg.Pool();
 * ```
 */
export interface NodePostgresPool extends NodePostgresClient {
  /**
   * Checks a client out of the pool. While a transaction holds it, the driver listens to its
   * `error` event (when it has `on` and `removeListener`, as node-postgres clients do).
   */
  connect(): Promise<
    NodePostgresClient & {
      release(error?: Error | boolean): void;
      on?(event: "error", listener: (error: Error) => void): unknown;
      removeListener?(event: "error", listener: (error: Error) => void): unknown;
    }
  >;
  /** How many clients are idle; tells a pool from a client. */
  readonly idleCount: number;
}

/**
 * Adapts a node-postgres `Pool` (recommended) or `Client`. Ordinary statements go straight to
 * `query`; a migration's transaction checks out one pooled client for BEGIN … COMMIT. On a
 * plain `Client`, calls are queued while a transaction runs so no other statement slips into it.
 * The driver never closes what you pass in: end the pool yourself.
 *
 * To make storage operations part of your own transaction, pass the client you checked out and
 * ran `BEGIN` on: they commit or roll back with your writes. On such a client `transaction`
 * (so `migrate`) refuses with SQLSTATE `25001` instead of committing your work: a migration
 * needs a transaction of its own.
 *
 * @param client A `pg.Pool` or `pg.Client` (also Neon's, which share this API), or a client
 *   checked out of a pool.
 * @param options `prepare: false` to send every statement unnamed (for transaction-mode
 *   poolers; see {@linkcode NodePostgresDriverOptions}).
 * @returns The driver.
 *
 * @example
 * ```ts ignore
 * import pg from "npm:pg";
 * import { nodePostgresDriver } from "@heph/pg/node-postgres";
 *
 * const pool = new pg.Pool({ connectionString: "postgres://postgres@127.0.0.1:5432/test" });
 * const driver = nodePostgresDriver(pool);
 * const { rows } = await driver.query("SELECT 1::text AS one");
 * await pool.end();
 * ```
 */
export function nodePostgresDriver(
  client: NodePostgresPool | NodePostgresClient,
  options: NodePostgresDriverOptions = {},
): SqlDriver {
  const prepare = options?.prepare ?? true;
  if (typeof prepare !== "boolean") {
    throw new TypeError(`Invalid options: prepare must be a boolean, got ${typeof prepare}`);
  }
  const query = (
    on: NodePostgresClient,
    text: string,
    params?: readonly unknown[],
    hint?: QueryOptions,
  ) =>
    prepare && hint?.name !== undefined
      ? runNamed(on, hint.name, text, params)
      : run(on, text, params);
  if (isPool(client)) {
    return withConnectionStates({
      query: (text, params, hint) => query(client, text, params, hint),
      async transaction(statements) {
        const session = await client.connect();
        let broken: Error | undefined;
        // A checked-out client whose connection dies between two statements emits `error`, and
        // the pool no longer listens to it: unheard, that event would end the process. The
        // next statement fails on its own ("not queryable"), so the listener only notes it.
        const lost = (error: Error) => (broken = error);
        session.on?.("error", lost);
        try {
          return await inTransaction(
            (text, params) => run(session, text, params),
            statements,
            (error) => {
              broken = error instanceof Error ? error : new Error(String(error));
            },
          );
        } finally {
          session.removeListener?.("error", lost);
          session.release(broken); // a connection that could not roll back is discarded
        }
      },
    });
  }
  return withConnectionStates(
    serialDriver((text, params, hint) => query(client, text, params, hint)),
  );
}

/**
 * The driver, its errors given the SQLSTATE of a connection failure node-postgres reports in
 * words only (see {@linkcode connectionState}).
 */
function withConnectionStates(driver: SqlDriver): SqlDriver {
  return {
    query: (text, params, hint) => driver.query(text, params, hint).catch(rethrowWithState),
    transaction: (statements) => driver.transaction(statements).catch(rethrowWithState),
  };
}

/**
 * The SQLSTATE of a connection failure node-postgres (and Neon's WebSocket client, which shares
 * its code) reports in words only, with no `code`: a client closed by its owner (nothing was
 * sent), or a connection that ended or broke.
 *
 * `"08003"` is connection_does_not_exist, `"08006"` connection_failure.
 */
function connectionState(message: string): string | undefined {
  if (/client was closed and is not queryable/i.test(message)) return "08003";
  if (
    /connection terminated|connection (was )?closed|socket (has been )?closed|connection error and is not queryable/i
      .test(message)
  ) {
    return "08006";
  }
  return undefined;
}

/** Rethrows a client's error, given `code` when it has none and its message names a failure. */
function rethrowWithState(error: unknown): never {
  if (typeof error !== "object" || error === null) throw error;
  const fields = error as { code?: unknown; message?: unknown };
  const state = fields.code === undefined && typeof fields.message === "string"
    ? connectionState(fields.message)
    : undefined;
  throw state === undefined ? error : withErrorFields(error, { code: state });
}

function isPool(client: NodePostgresPool | NodePostgresClient): client is NodePostgresPool {
  return typeof (client as NodePostgresPool).idleCount === "number" &&
    typeof (client as NodePostgresPool).connect === "function";
}

async function runNamed(
  client: NodePostgresClient,
  name: string,
  text: string,
  params?: readonly unknown[],
): Promise<SqlResult> {
  const result = await client.query({ name, text, values: params ? [...params] : [] });
  return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
}

async function run(
  client: NodePostgresClient,
  text: string,
  params?: readonly unknown[],
): Promise<SqlResult> {
  const result = await client.query(text, params ? [...params] : undefined);
  return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
}

/**
 * Options of the node-postgres {@linkcode openStorage}: the storage's, the driver's (`prepare`),
 * and any option of `new pg.Pool(…)` (`max`, `ssl`, `connectionTimeoutMillis`, …), passed on
 * as given.
 *
 * @example
 * ```ts
 * import type { NodePostgresOpenOptions } from "@heph/pg/node-postgres";
 *
 * const options: NodePostgresOpenOptions = { schema: "tenant_a", migrate: true, max: 5 };
 * ```
 */
export interface NodePostgresOpenOptions extends OpenStorageOptions, NodePostgresDriverOptions {
  /** Any option of node-postgres' `Pool`. */
  [poolOption: string]: unknown;
}

/**
 * Opens a storage on a connection string in one call: a `pg.Pool` (npm:pg, loaded only when
 * this function runs), the driver and a {@linkcode PgStorage}, migrated first when
 * `migrate: true`. `close()` ends the pool. Errors of idle pooled connections (a server
 * restart) are ignored by the pool's listener: the next statement reports them.
 *
 * @param url A PostgreSQL connection string.
 * @param options The storage's options, `migrate`, `prepare`, and pool options.
 * @returns The storage, its driver, and `close`.
 * @throws {ValidationError} On a bad URL or option.
 * @throws {MigrationError} When `migrate: true` and the migration fails (the pool is ended).
 *
 * @example
 * ```ts ignore
 * import { newInstance } from "@heph/pg";
 * import { openStorage } from "@heph/pg/node-postgres";
 *
 * const { storage, close } = await openStorage(Deno.env.get("DATABASE_URL")!, { migrate: true });
 * await storage.put(newInstance({ id: "order::1", workflow: "Shop.Order" }));
 * await close();
 * ```
 */
export async function openStorage(
  url: string,
  options?: NodePostgresOpenOptions,
): Promise<OpenedStorage> {
  const { own, client: { prepare, ...poolOptions } } = splitOpenOptions(url, options);
  const driverOptions = { prepare: booleanOption(prepare, "prepare") };
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ ...poolOptions, connectionString: url });
  pool.on("error", () => {});
  return await openOn(nodePostgresDriver(pool, driverOptions), () => pool.end(), own);
}
