/**
 * Which database errors mean the connection failed rather than the statement, and whether the
 * statement was sent at all.
 *
 * @module
 */

import { DatabaseError } from "./errors.ts";

/**
 * SQLSTATEs outside class 08 that also mean the session is gone: `57P01` admin_shutdown
 * (`pg_terminate_backend`, a fast shutdown), `57P02` crash_shutdown, `57P03`
 * cannot_connect_now (starting up or shutting down), `57P04` database_dropped, `57P05`
 * idle_session_timeout.
 */
const SESSION_ENDED = ["57P01", "57P02", "57P03", "57P04", "57P05"];

/**
 * Whether an error means the connection failed rather than the statement: a
 * {@linkcode DatabaseError} whose code is in class `08` (`08001` no connection could be made,
 * `08003` the client was closed, `08006` the connection was lost, …) or is `57P01`
 * admin_shutdown (`pg_terminate_backend`, a fast shutdown), `57P02` crash_shutdown, `57P03`
 * cannot_connect_now (the server is starting up or shutting down), `57P04` database_dropped or
 * `57P05` idle_session_timeout. The pool replaces such a connection; the next call opens a new
 * one. A write that failed so may or may not have been applied (unless the code is `08001`,
 * `08003` or `57P03`: then nothing was sent): read before retrying, or retry with
 * `expectedRevision`.
 *
 * @param error What an operation threw.
 * @returns True for a lost or refused connection.
 *
 * @example Retry reads when the connection was lost
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseError, isConnectionError } from "@heph/pg";
 *
 * const lost = new DatabaseError("terminating connection due to administrator command", {
 *   sqlState: "57P01",
 * });
 * assert.equal(isConnectionError(lost), true);
 * const deadlock = new DatabaseError("deadlock detected", { sqlState: "40P01" });
 * assert.equal(isConnectionError(deadlock), false);
 * ```
 */
export function isConnectionError(error: unknown): error is DatabaseError {
  return error instanceof DatabaseError &&
    (error.code.startsWith("08") || SESSION_ENDED.includes(error.code));
}

/**
 * Whether a connection error means the statement never reached the server (no connection,
 * a closed client, a server not yet or no longer accepting connections).
 *
 * @param error A {@linkcode DatabaseError} for which {@linkcode isConnectionError} holds.
 * @returns True when nothing was sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseError } from "./errors.ts";
 * import { wasNotSent } from "./connection_errors.ts";
 *
 * assert.ok(wasNotSent(new DatabaseError("connect ECONNREFUSED", { sqlState: "08001" })));
 * const dropped = new DatabaseError("terminating connection", { sqlState: "57P01" });
 * assert.equal(wasNotSent(dropped), false);
 * ```
 */
export function wasNotSent(error: DatabaseError): boolean {
  return ["08001", "08003", "08004", "57P03"].includes(error.code);
}
