/**
 * The Neon driver: adapts the user's own `@neondatabase/serverless` client to
 * {@linkcode SqlDriver}, in either of its modes. Imports nothing at run time until
 * {@linkcode openStorage} loads `@neondatabase/serverless`.
 *
 * - **HTTP**, {@linkcode neonHttpDriver}: the `neon(url)` query function. Every statement is one
 *   stateless HTTP request, and a migration's transaction is one request too (Neon's
 *   non-interactive `sql.transaction([...])`). Suits one-shot statements on Workers and Deploy,
 *   which is every storage operation.
 * - **WebSocket**, {@linkcode neonDriver}: a `Pool` or `Client`, which speak the PostgreSQL
 *   protocol over a WebSocket and share node-postgres' API. On Cloudflare Workers, create, use
 *   and end the pool within one request.
 *
 * Either way a database error keeps its SQLSTATE as `code`, so `DatabaseError` looks
 * the same as on any other driver, and a connection that cannot be made is `"08001"`.
 *
 * @example Over HTTP
 * ```ts ignore
 * import { neon } from "npm:@neondatabase/serverless";
 * import { migrate, PgStorage } from "@heph/pg";
 * import { neonHttpDriver } from "@heph/pg/neon";
 *
 * const driver = neonHttpDriver(neon(Deno.env.get("DATABASE_URL")!));
 * await migrate(driver);
 * const storage = new PgStorage({ driver });
 * ```
 *
 * @example Over a WebSocket
 * ```ts ignore
 * import { Pool } from "npm:@neondatabase/serverless";
 * import { migrate, PgStorage } from "@heph/pg";
 * import { neonDriver } from "@heph/pg/neon";
 *
 * const pool = new Pool({ connectionString: Deno.env.get("DATABASE_URL") });
 * const driver = neonDriver(pool);
 * await migrate(driver);
 * const storage = new PgStorage({ driver });
 * await pool.end();
 * ```
 *
 * @example One line, over HTTP (or `mode: "websocket"`)
 * ```ts ignore
 * import { openStorage } from "@heph/pg/neon";
 *
 * const { storage, close } = await openStorage(Deno.env.get("DATABASE_URL")!);
 * await close();
 * ```
 *
 * @module
 */

import type { SqlDriver, SqlResult, SqlStatement } from "../src/driver.ts";
import { isSqlState, ValidationError } from "../src/errors.ts";
import {
  booleanOption,
  type OpenedStorage,
  openOn,
  type OpenStorageOptions,
  splitOpenOptions,
} from "../src/open_storage.ts";
import { describe } from "../src/validation.ts";
import {
  type NodePostgresClient,
  nodePostgresDriver,
  type NodePostgresDriverOptions,
  type NodePostgresPool,
} from "./node_postgres.ts";
import { withErrorFields } from "./error_fields.ts";

/**
 * What the driver needs of a Neon `Client` (WebSocket mode), or of a client checked out of a
 * Neon `Pool`. The same as node-postgres' client.
 *
 * @example
 * ```ts
 * import { Client } from "@neondatabase/serverless";
 * import type { NeonClient } from "@heph/pg/neon";
 *
 * const client: NeonClient = new Client("postgresql://user:password@ep-example.neon.tech/neondb");
 * ```
 */
export type NeonClient = NodePostgresClient;

/**
 * What the driver needs of a Neon `Pool` (WebSocket mode). The same as node-postgres' pool.
 *
 * @example
 * ```ts
 * import { Pool } from "@neondatabase/serverless";
 * import type { NeonPool } from "@heph/pg/neon";
 *
 * const pool: NeonPool = new Pool({ connectionString: "postgresql://user:password@ep-example.neon.tech/neondb" });
 * ```
 */
export type NeonPool = NodePostgresPool;

/**
 * Options of {@linkcode neonDriver}: the same as node-postgres' (`prepare`).
 *
 * @example
 * ```ts
 * import type { NeonDriverOptions } from "@heph/pg/neon";
 *
 * const options: NeonDriverOptions = { prepare: false };
 * ```
 */
export type NeonDriverOptions = NodePostgresDriverOptions;

/**
 * Adapts a Neon `Pool` (recommended) or `Client` of `@neondatabase/serverless`, the WebSocket
 * mode. It behaves as {@linkcode nodePostgresDriver} does on node-postgres (whose API Neon's
 * classes share): statements go straight to `query`, a migration's transaction checks out one
 * client for BEGIN … COMMIT, calls on a plain `Client` are queued while a transaction runs.
 * One difference: when the WebSocket itself cannot be opened, the error the runtime reports is
 * an event rather than an `Error`; the driver throws an `Error` with code `"08001"` instead,
 * keeping the event as `cause`. The driver never closes what you pass in: end the pool yourself.
 *
 * A `Client` (or a pooled client) after your own `BEGIN` makes storage operations part of your
 * transaction, as on node-postgres; `migrate` then refuses with SQLSTATE `25001`.
 *
 * Like node-postgres, it prepares PgStorage's fixed statements on the server under the names the
 * core gives them; pass `{ prepare: false }` when the connection goes through a pooler in
 * transaction mode that does not track prepared statements (see
 * {@linkcode NeonDriverOptions}).
 *
 * @param client A `Pool` or `Client` of `@neondatabase/serverless`.
 * @param options `prepare: false` to send every statement unnamed.
 * @returns The driver.
 *
 * @example
 * ```ts ignore
 * import { Pool } from "npm:@neondatabase/serverless";
 * import { neonDriver } from "@heph/pg/neon";
 *
 * const pool = new Pool({ connectionString: Deno.env.get("DATABASE_URL") });
 * const driver = neonDriver(pool);
 * const { rows } = await driver.query("SELECT 1::text AS one");
 * await pool.end();
 * ```
 */
export function neonDriver(
  client: NeonPool | NeonClient,
  options: NeonDriverOptions = {},
): SqlDriver {
  const inner = nodePostgresDriver(client, options);
  return {
    query: (text, params, hint) => inner.query(text, params, hint).catch(rethrowWebSocketError),
    transaction: (statements) => inner.transaction(statements).catch(rethrowWebSocketError),
  };
}

/**
 * What a query of the HTTP query function returns: a lazy promise, which runs when awaited or
 * when passed to `transaction`. (`NeonQueryPromise` in `@neondatabase/serverless`.)
 *
 * @typeParam T What awaiting it alone yields.
 *
 * @example
 * ```ts
 * import { neon } from "@neondatabase/serverless";
 * import type { NeonHttpQuery, NeonHttpResult } from "@heph/pg/neon";
 *
 * const sql = neon("postgresql://user:password@ep-example.neon.tech/neondb");
 * const query: NeonHttpQuery<NeonHttpResult> = sql.query("SELECT 1", [], { fullResults: true });
 * ```
 */
export interface NeonHttpQuery<T = unknown> extends PromiseLike<T> {
  /** The statement and its parameters, as the query function prepared them. */
  readonly queryData: unknown;
}

/**
 * What the HTTP query function returns with `fullResults: true`: the rows keyed by column name
 * and the server's row count.
 *
 * @example
 * ```ts
 * import type { NeonHttpResult } from "@heph/pg/neon";
 *
 * const result: NeonHttpResult = { rows: [{ one: "1" }], rowCount: 1 };
 * ```
 */
export interface NeonHttpResult {
  /** Rows keyed by column name. */
  rows: Record<string, unknown>[];
  /** Rows returned or affected; null for a command without a count. */
  rowCount: number | null;
}

/**
 * What the driver needs of the query function `neon(url)` of `@neondatabase/serverless`.
 *
 * @example
 * ```ts
 * import { neon } from "@neondatabase/serverless";
 * import type { NeonHttpClient } from "@heph/pg/neon";
 *
 * const sql: NeonHttpClient = neon("postgresql://user:password@ep-example.neon.tech/neondb");
 * ```
 */
export interface NeonHttpClient {
  /**
   * Prepares one statement with `$n` placeholders.
   *
   * @param text The SQL.
   * @param params The parameters.
   * @param options `fullResults: true` for rows keyed by column name plus the row count.
   * @returns The lazy query.
   */
  query(
    text: string,
    params?: unknown[],
    options?: { fullResults: true },
  ): NeonHttpQuery<NeonHttpResult>;
  /**
   * Runs prepared statements in one transaction, in one HTTP request.
   *
   * @param queries Statements from {@linkcode NeonHttpClient.query} (the driver passes an
   *   array; Neon also accepts a function returning one, hence the union).
   * @param options `fullResults: true` for rows keyed by column name plus the row count.
   * @returns One result per statement.
   */
  transaction(
    queries: NeonHttpQuery[] | ((sql: never) => unknown[]),
    options?: { fullResults: true },
  ): Promise<NeonHttpResult[]>;
}

/**
 * Adapts the HTTP query function `neon(url)` of `@neondatabase/serverless`. Each statement is
 * one HTTP request; `transaction` sends all its statements in one request, which Neon runs in
 * one transaction (all or nothing). Nothing to close. When the HTTP endpoint cannot be reached
 * at all, the driver's `NeonDbError` gets the code `"08001"`.
 *
 * @param sql The function returned by `neon(url)`.
 * @returns The driver.
 *
 * @example Build the driver (no request is sent until a statement runs)
 * ```ts
 * import { neon } from "@neondatabase/serverless";
 * import { neonHttpDriver } from "@heph/pg/neon";
 *
 * const driver = neonHttpDriver(neon("postgresql://user:password@ep-example.neon.tech/neondb"));
 * ```
 *
 * @example Run a statement
 * ```ts ignore
 * import { neon } from "npm:@neondatabase/serverless";
 * import { neonHttpDriver } from "@heph/pg/neon";
 *
 * const driver = neonHttpDriver(neon(Deno.env.get("DATABASE_URL")!));
 * const { rows } = await driver.query("SELECT $1::text AS greeting", ["hello"]);
 * ```
 */
export function neonHttpDriver(sql: NeonHttpClient): SqlDriver {
  return {
    async query(text: string, params?: readonly unknown[]): Promise<SqlResult> {
      try {
        return toResult(await sql.query(text, params ? [...params] : [], { fullResults: true }));
      } catch (error) {
        throw withConnectionState(error);
      }
    },
    async transaction(statements: readonly SqlStatement[]): Promise<SqlResult[]> {
      if (statements.length === 0) return [];
      // fullResults goes on the transaction, where Neon's types want it, not on each query.
      const queries = statements.map(({ text, params }) =>
        sql.query(text, params ? [...params] : [])
      );
      try {
        return (await sql.transaction(queries, { fullResults: true })).map(toResult);
      } catch (error) {
        throw withConnectionState(error);
      }
    },
  };
}

function toResult(result: NeonHttpResult): SqlResult {
  return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
}

/**
 * `NeonDbError` carries the server's SQLSTATE as `code` already; when the request itself failed
 * (`sourceError` set: refused, DNS, TLS) it has none, and gets the one for "no connection".
 */
function withConnectionState(error: unknown): unknown {
  if (typeof error !== "object" || error === null) return error;
  const fields = error as { code?: unknown; sourceError?: unknown };
  return fields.sourceError !== undefined && !isSqlState(fields.code)
    ? withErrorFields(error, { code: "08001" }) // sqlclient_unable_to_establish_sqlconnection
    : error;
}

/**
 * A WebSocket that cannot be opened is reported as an error event, not an `Error`, with no code:
 * throw an `Error` with the SQLSTATE for "no connection". A connection lost later surfaces as
 * node-postgres' "Connection terminated unexpectedly", which the node-postgres driver underneath
 * gives the code `"08006"`.
 */
function rethrowWebSocketError(error: unknown): never {
  if (
    typeof error === "object" && error !== null && !(error instanceof Error) &&
    (error as { type?: unknown }).type === "error"
  ) {
    const event = error as { message?: unknown; error?: { message?: unknown } };
    const reason = [event.message, event.error?.message].find((m) =>
      typeof m === "string" && m !== ""
    );
    throw Object.assign(
      new Error(`Cannot open the WebSocket to the database${reason ? `: ${reason}` : ""}`, {
        cause: error,
      }),
      { code: "08001" },
    );
  }
  throw error;
}

/**
 * Options of the Neon {@linkcode openStorage}: the storage's, the mode, the WebSocket driver's
 * (`prepare`; over HTTP no statement is prepared, whatever it says), and any option of the client
 * it makes (`neon(url, …)` over HTTP, `new Pool(…)` over a WebSocket), passed on as given.
 *
 * @example
 * ```ts
 * import type { NeonOpenOptions } from "@heph/pg/neon";
 *
 * const options: NeonOpenOptions = { mode: "websocket", schema: "tenant_a", max: 5 };
 * ```
 */
export interface NeonOpenOptions extends OpenStorageOptions, NeonDriverOptions {
  /**
   * `"http"` (the default): one stateless HTTP request per statement, nothing to close, right
   * for Workers and Deploy. `"websocket"`: a `Pool` over WebSockets.
   */
  mode?: "http" | "websocket";
  /** Any option of the client. */
  [clientOption: string]: unknown;
}

/**
 * Opens a storage on a Neon connection string in one call: the client of the chosen mode
 * (`@neondatabase/serverless`, loaded only when this function runs), the driver and a
 * {@linkcode PgStorage}, migrated first when `migrate: true`. `close()` ends the WebSocket pool
 * (over HTTP there is nothing to end). Neon's global `neonConfig` applies as usual.
 *
 * @param url A Neon (or any PostgreSQL reachable through Neon's proxy) connection string.
 * @param options The mode, the storage's options, `migrate`, `prepare`, and client options.
 * @returns The storage, its driver, and `close`.
 * @throws {ValidationError} On a bad URL, mode or option.
 * @throws {MigrationError} When `migrate: true` and the migration fails (the pool is ended).
 *
 * @example
 * ```ts ignore
 * import { newInstance } from "@heph/pg";
 * import { openStorage } from "@heph/pg/neon";
 *
 * const { storage, close } = await openStorage(Deno.env.get("DATABASE_URL")!, { mode: "websocket" });
 * await storage.put(newInstance({ id: "order::1", workflow: "Shop.Order" }));
 * await close();
 * ```
 */
export async function openStorage(url: string, options?: NeonOpenOptions): Promise<OpenedStorage> {
  const { own, client: { mode = "http", prepare, ...clientOptions } } = splitOpenOptions(
    url,
    options,
  );
  const driverOptions = { prepare: booleanOption(prepare, "prepare") };
  if (mode !== "http" && mode !== "websocket") {
    throw new ValidationError(
      `Invalid options: mode must be "http" or "websocket", got ${describe(mode)}`,
    );
  }
  // Loaded here, not at the top: the adapters above must load no package. (Bundlers keep all of
  // the package's exports for a dynamic import: about 20 KB more in a worker bundle.)
  const { neon, Pool } = await import("@neondatabase/serverless");
  if (mode === "http") {
    const sql = neon(url, clientOptions);
    return await openOn(neonHttpDriver(sql), () => Promise.resolve(), own);
  }
  const pool = new Pool({ ...clientOptions, connectionString: url });
  pool.on("error", () => {});
  return await openOn(neonDriver(pool, driverOptions), () => pool.end(), own);
}
