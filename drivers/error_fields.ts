/**
 * How a driver adapter normalises its client's error: it puts the SQLSTATE and the detail where
 * the core reads them (`code` or `sqlState`, `detail`) on the client's own error, which it then
 * throws as it is.
 *
 * @module
 */

import { DatabaseError, isSqlState } from "../src/errors.ts";

/**
 * The fields an adapter puts on its client's error; an undefined one is left alone.
 *
 * @example
 * ```ts
 * import type { ErrorFields } from "./error_fields.ts";
 *
 * const fields: ErrorFields = { code: "42601", detail: "near BAD" };
 * ```
 */
export interface ErrorFields {
  /** The SQLSTATE, where the client left `code` empty. */
  code?: string;
  /** The SQLSTATE, where `code` holds a code of the client's own. */
  sqlState?: string;
  /** The server's detail line. */
  detail?: string;
}

/**
 * Puts the fields on the client's error and returns it. An error that cannot take them (a
 * frozen one) is converted here instead: a {@linkcode DatabaseError} with the SQLSTATE and the
 * detail (given, or the error's own), the error's message, and the error as its `cause`.
 *
 * @param error The client's error.
 * @param fields What to put on it.
 * @returns The error to throw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withErrorFields } from "./error_fields.ts";
 *
 * const error = withErrorFields(new Error("Connection terminated unexpectedly"), { code: "08006" });
 * assert.equal((error as { code?: string }).code, "08006");
 * ```
 */
export function withErrorFields(error: object, fields: ErrorFields): unknown {
  try {
    const target = error as Record<string, unknown>;
    for (const key of ["code", "sqlState", "detail"] as const) {
      if (fields[key] !== undefined) target[key] = fields[key];
    }
    return error;
  } catch {
    const own = error as {
      code?: unknown;
      sqlState?: unknown;
      detail?: unknown;
      message?: unknown;
    };
    const message = typeof own.message === "string" ? own.message : String(error);
    return new DatabaseError(message, {
      sqlState: [fields.sqlState, fields.code, own.sqlState, own.code].find(isSqlState),
      detail: fields.detail ?? (typeof own.detail === "string" ? own.detail : undefined),
      cause: error,
    });
  }
}
