/**
 * The contract every driver adapter implements: the smallest surface the core needs.
 *
 * @module
 */

/**
 * One SQL statement with its positional parameters (`$1`, `$2`, …).
 *
 * @example
 * ```ts
 * import type { SqlStatement } from "@heph/pg";
 *
 * const statement: SqlStatement = { text: "SELECT $1::int AS n", params: [1] };
 * ```
 */
export interface SqlStatement {
  /** The SQL text. */
  text: string;
  /** Parameter values: strings, numbers, booleans or null. */
  params?: readonly unknown[];
}

/**
 * What a statement returned: its rows as objects keyed by column name. The core reads only
 * `rows`; `rowCount` is informational, for callers of a driver of their own.
 *
 * @example
 * ```ts
 * import type { SqlResult } from "@heph/pg";
 *
 * const result: SqlResult = { rows: [{ n: 1 }], rowCount: 1 };
 * ```
 */
export interface SqlResult {
  /** Rows keyed by column name. The core selects text forms, so values are strings or null. */
  rows: Record<string, unknown>[];
  /** Rows returned or affected, when the client reports it. The core never reads it. */
  rowCount?: number;
}

/**
 * What the core says about a statement besides its text, for a driver to use or ignore.
 *
 * @example
 * ```ts
 * import type { QueryOptions } from "@heph/pg";
 *
 * const options: QueryOptions = { name: "heph_1x2y3z" };
 * ```
 */
export interface QueryOptions {
  /**
   * A stable name for this statement text, given to the fixed statements PgStorage sends over
   * and over (get, put, delete, leases): the same name always comes with the same text, since
   * it is derived from it. A driver may prepare the statement on the server under this name
   * once per connection and then only bind and execute it (node-postgres and Neon's `Pool` do,
   * unless created with `prepare: false`); a driver that cannot simply ignores it.
   */
  name?: string;
}

/**
 * The interface the core is written against. An adapter wraps the user's own client
 * (node-postgres, Neon, postgres.js, deno-postgres, PGlite) and adds nothing else.
 *
 * - `query` runs one statement, in one round trip where the client allows; `options.name`,
 *   when given, lets it prepare the statement server-side (see {@linkcode QueryOptions}).
 * - `transaction` runs a fixed list of statements in one transaction, all or nothing. It is
 *   non-interactive on purpose (no statement depends on a previous result in JavaScript), so
 *   stateless HTTP drivers can implement it as one request. Migrations and grants use it.
 *
 * A driver has no `close`: it never owns the client passed in, so ending that client (a pool's
 * `end()`) stays with the caller. The `openStorage` of the node-postgres, Neon and postgres.js
 * adapters returns a `close` for the pool it opened.
 *
 * Errors thrown by `query` and `transaction` carry the server's SQLSTATE as `code` (or as
 * `sqlState`, where `code` holds a code of the client's own) and its detail line as `detail`.
 * Each adapter normalises its client's error shape to that, including connection failures its
 * client reports in words or in codes of its own (class `08`), so the core, which turns them
 * into {@linkcode DatabaseError}, knows no driver.
 *
 * @example A driver over any `query(text, params)` client
 * ```ts
 * import type { SqlDriver, SqlResult, SqlStatement } from "@heph/pg";
 *
 * function loggingDriver(inner: SqlDriver): SqlDriver {
 *   return {
 *     query(text: string, params?: readonly unknown[]): Promise<SqlResult> {
 *       console.log(text);
 *       return inner.query(text, params);
 *     },
 *     transaction(statements: readonly SqlStatement[]): Promise<SqlResult[]> {
 *       return inner.transaction(statements);
 *     },
 *   };
 * }
 * ```
 */
export interface SqlDriver {
  /**
   * Runs one statement.
   *
   * @param text SQL with `$n` placeholders.
   * @param params The parameters.
   * @param options A stable statement name the driver may prepare under, or nothing.
   * @returns The rows.
   */
  query(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlResult>;
  /**
   * Runs statements in one transaction: all commit or none do.
   *
   * @param statements The statements, in order.
   * @returns One result per statement.
   */
  transaction(statements: readonly SqlStatement[]): Promise<SqlResult[]>;
}
