/**
 * What PgStorage says when a statement fails: the driver's error as a {@linkcode DatabaseError}
 * whose message names the operation and, for the failures a user can act on (a table not
 * migrated, a missing grant, a timeout, a Citus table, a replica, a lost connection), what
 * happened and what to do.
 *
 * @module
 */

import { isConnectionError, wasNotSent } from "./connection_errors.ts";
import { DatabaseError, type HephError, toDatabaseError } from "./errors.ts";

/**
 * Where a statement failed: the storage operation, whether it writes, and the schema of the
 * table.
 *
 * @example
 * ```ts
 * import type { FailedStatement } from "./explain_error.ts";
 *
 * const where: FailedStatement = { operation: "put", writes: true, schema: "public" };
 * ```
 */
export interface FailedStatement {
  /** The storage operation, such as `"put"`. */
  operation: string;
  /** It writes: after a lost connection, it may or may not have been applied. */
  writes: boolean;
  /** The schema of `workflow_instances`. */
  schema: string;
}

/**
 * Converts what a driver threw during a storage operation into the {@linkcode HephError} the
 * operation throws: a {@linkcode DatabaseError} keeping the SQLSTATE, the detail and the
 * driver's error as `cause`, its message explained where the code calls for it.
 *
 * @param error What the driver threw.
 * @param where The operation, whether it writes, and the schema.
 * @returns The error to throw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainError } from "./explain_error.ts";
 *
 * const missing = Object.assign(new Error('relation "x" does not exist'), { code: "42P01" });
 * const error = explainError(missing, { operation: "get", writes: false, schema: "public" });
 * assert.match(error.message, /^Table "public"\.workflow_instances is missing or not migrated/);
 * ```
 */
export function explainError(error: unknown, where: FailedStatement): HephError {
  const wrapped = toDatabaseError(error);
  if (!(wrapped instanceof DatabaseError)) return wrapped;
  const message = explanation(wrapped, where);
  if (message === undefined) return wrapped;
  return new DatabaseError(message, {
    sqlState: wrapped.code,
    detail: wrapped.detail,
    cause: error,
  });
}

/** The message for a failure the user can act on, or undefined to keep the driver's. */
function explanation(
  error: DatabaseError,
  { operation, writes, schema }: FailedStatement,
): string | undefined {
  const table = `"${schema}".workflow_instances`;
  const reason = error.message;
  switch (error.code) {
    case "42P01":
    case "42703":
      return `Table ${table} is missing or not migrated to the latest version: run migrate(driver, { schema: "${schema}" }) or: deno run -A jsr:@heph/pg/cli migrate --schema ${schema}`;
    case "42501":
      return `Permission denied for ${operation} on ${table}: ${reason} (a runtime role needs USAGE on the schema and SELECT, INSERT, UPDATE, DELETE on the table: grantRuntimeAccess() or: deno run -A jsr:@heph/pg/cli migrate --grant <role>)`;
    case "57014":
      return `The ${operation} statement was canceled and rolled back: ${reason} (statement_timeout elapsed, or the statement was canceled)`;
    case "55P03":
      return `The ${operation} statement was canceled and rolled back: ${reason} (another session holds a lock it needs; see lock_timeout)`;
    case "0A000":
      return /FOR UPDATE\/SHARE|ON CONFLICT clause of INSERTs on distributed tables/.test(reason)
        ? `The ${operation} statement cannot run on a Citus distributed table: ${reason} (create the PgStorage with distributed: true)`
        : undefined;
    case "25006":
      return `The ${operation} statement reached a read-only server and was refused: ${reason} (writes need the primary: a replica belongs in readDriver, never in driver)`;
    case "22021":
      // Only a database whose encoding is not UTF8 (SQL_ASCII) holds such bytes: another
      // program wrote them, and the server will not convert them for a UTF-8 client.
      return `A stored string is not valid UTF-8, so the server would not send the rows of ${operation}: ${reason}`;
  }
  if (!isConnectionError(error)) return undefined;
  return wasNotSent(error)
    ? `Cannot run ${operation}, no connection to the database: ${reason}`
    : writes
    ? `Connection lost during ${operation}, which may or may not have been applied: ${reason}`
    : `Connection lost during ${operation}: ${reason}`;
}
