/**
 * How PgStorage sends a statement: to the primary or the reader, under the name of a fixed
 * statement, inside the query hooks, its failure explained.
 *
 * @module
 */

import type { SqlDriver } from "./driver.ts";
import type { HephError } from "./errors.ts";
import { explainError } from "./explain_error.ts";
import { type Row, singleRow } from "./pg_rows.ts";
import {
  type QueryHooks,
  type QueryInfo,
  type QueryOperation,
  runObserved,
} from "./query_hooks.ts";
import { statementName } from "./statement_name.ts";

/** The operations that write: after a lost connection, one of these may have been applied. */
const WRITES = new Set<QueryOperation>([
  "put",
  "putMany",
  "delete",
  "claim",
  "renewLease",
  "releaseLease",
  "prune",
]);

/**
 * Where a statement goes and what it is about besides its text.
 *
 * @example
 * ```ts
 * import type { RunOptions } from "./statement_runner.ts";
 *
 * const options: RunOptions = { instanceId: "order::1" };
 * ```
 */
export interface RunOptions {
  /** The instance the statement is about, for the hooks. */
  instanceId?: string;
  /** The driver to run it on: the primary unless given (a read passes its reader). */
  driver?: SqlDriver;
}

/**
 * Sends PgStorage's statements, one at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StatementRunner } from "./statement_runner.ts";
 *
 * const driver = {
 *   query: () => Promise.resolve({ rows: [{ n: "3" }] }),
 *   transaction: () => Promise.resolve([]),
 * };
 * const runner = new StatementRunner({ driver, readDriver: driver, schema: "public", hooks: {}, fixed: [] });
 * assert.equal((await runner.one("count", "SELECT count(*)::text AS n FROM t", [])).n, "3");
 * ```
 */
export class StatementRunner {
  /** The schema of the table. */
  readonly schema: string;
  #driver: SqlDriver;
  #readDriver: SqlDriver;
  #hooks: QueryHooks;
  /** The fixed statements (their text never varies with the input), by text: their names. */
  #names: Map<string, string>;

  /**
   * Creates a runner.
   *
   * @param options The primary, the reader, the schema, the hooks and the texts of the fixed
   *   statements (sent under a name derived from the text, which a driver may prepare).
   */
  constructor(options: {
    driver: SqlDriver;
    readDriver: SqlDriver;
    schema: string;
    hooks: QueryHooks;
    fixed: readonly string[];
  }) {
    this.schema = options.schema;
    this.#driver = options.driver;
    this.#readDriver = options.readDriver;
    this.#hooks = options.hooks;
    this.#names = new Map(options.fixed.map((text) => [text, statementName(text)]));
  }

  /**
   * The driver a read goes to.
   *
   * @param fromPrimary The caller asked for the primary.
   * @returns The primary, or the reader (the primary when no reader was given).
   */
  reader(fromPrimary: boolean): SqlDriver {
    return fromPrimary ? this.#driver : this.#readDriver;
  }

  /**
   * Runs one statement.
   *
   * @param operation The storage operation it belongs to.
   * @param text The SQL.
   * @param params Its parameters.
   * @param options The instance it is about, and the driver when not the primary.
   * @returns Its rows.
   * @throws {DatabaseError} When it fails, explained for the operation.
   */
  rows(
    operation: QueryOperation,
    text: string,
    params: unknown[],
    options: RunOptions = {},
  ): Promise<Row[]> {
    const { instanceId, driver = this.#driver } = options;
    const info: QueryInfo = {
      operation,
      schema: this.schema,
      table: "workflow_instances",
      sql: text,
    };
    if (instanceId !== undefined) info.instanceId = instanceId;
    const name = this.#names.get(text);
    const where = { operation, writes: WRITES.has(operation), schema: this.schema };
    return runObserved(
      info,
      () => name === undefined ? driver.query(text, params) : driver.query(text, params, { name }),
      (error): HephError => explainError(error, where),
      this.#hooks,
    );
  }

  /**
   * Runs a statement that returns exactly one row (see {@linkcode singleRow}).
   *
   * @param operation The storage operation it belongs to.
   * @param text The SQL.
   * @param params Its parameters.
   * @param options The instance it is about, and the driver when not the primary.
   * @returns The row.
   * @throws {DatabaseError} When it fails, or returns no row.
   */
  async one(
    operation: QueryOperation,
    text: string,
    params: unknown[],
    options: RunOptions = {},
  ): Promise<Row> {
    return singleRow(await this.rows(operation, text, params, options), operation);
  }
}
