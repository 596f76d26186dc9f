/**
 * The error classes. Each has a `name` and a stable `code`; a driver's own error, when there
 * is one, is kept as `cause`.
 *
 * @module
 */

/**
 * Options every error accepts.
 *
 * @example
 * ```ts
 * import { HephError, type HephErrorOptions } from "@heph/pg";
 *
 * const options: HephErrorOptions = { cause: new Error("socket closed") };
 * new HephError("Something failed", options);
 * ```
 */
export interface HephErrorOptions {
  /** The underlying error, such as the driver's. */
  cause?: unknown;
}

/**
 * The base class of every error this module throws.
 *
 * @example Catch any of them
 * ```ts
 * import assert from "node:assert/strict";
 * import { HephError, MemoryStorage } from "@heph/pg";
 *
 * let code: string | undefined;
 * try {
 *   await new MemoryStorage().query({ stauts: "running" } as never);
 * } catch (error) {
 *   if (error instanceof HephError) code = error.code;
 * }
 * assert.equal(code, "HEPH_VALIDATION");
 * ```
 */
export class HephError extends Error {
  /** A stable code to branch on. */
  readonly code: string;

  /**
   * Creates a HephError.
   *
   * @param message What went wrong, with the value or path concerned.
   * @param options The cause, if any.
   * @param code The stable code; subclasses set their own.
   */
  constructor(message: string, options: HephErrorOptions = {}, code = "HEPH_ERROR") {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HephError";
    this.code = code;
  }
}

/**
 * Input was refused before anything reached the database: a bad id, status, filter or option.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ValidationError } from "@heph/pg";
 *
 * const error = new ValidationError("Invalid status: \"done\"");
 * assert.equal(error.code, "HEPH_VALIDATION");
 * ```
 */
export class ValidationError extends HephError {
  /**
   * Creates a ValidationError.
   *
   * @param message What was invalid, and its value.
   * @param options The cause, if any.
   */
  constructor(message: string, options: HephErrorOptions = {}) {
    super(message, options, "HEPH_VALIDATION");
    this.name = "ValidationError";
  }
}

/**
 * A value cannot be stored faithfully (a function, a symbol, a class instance, a cycle).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SerializationError } from "@heph/pg";
 *
 * const error = new SerializationError("Cannot store a function", "context.initial.callback");
 * assert.equal(error.path, "context.initial.callback");
 * ```
 */
export class SerializationError extends HephError {
  /** Where in the instance the value sits, such as `context.initial.customer.callback`. */
  readonly path: string;

  /**
   * Creates a SerializationError.
   *
   * @param message What cannot be stored.
   * @param path Where it sits.
   * @param options The cause, if any.
   */
  constructor(message: string, path: string, options: HephErrorOptions = {}) {
    super(message, options, "HEPH_SERIALIZATION");
    this.name = "SerializationError";
    this.path = path;
  }
}

/**
 * A write lost a race: a put's `expectedRevision` did not match the stored revision, or (as
 * {@linkcode LeaseConflictError}) another worker holds the instance's lease. Nothing was written.
 *
 * @example Retry a read-modify-write
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConflictError } from "@heph/pg";
 *
 * const error = new ConflictError("order::1", 3, 4);
 * assert.equal(error.actual, 4);
 * ```
 */
export class ConflictError extends HephError {
  /** The instance id. */
  readonly id: string;
  /** The revision the caller expected (0: must not exist); null for a lease conflict. */
  readonly expected: number | null;
  /** The revision found (0: did not exist), or null when unknown. */
  readonly actual: number | null;

  /**
   * Creates a ConflictError.
   *
   * @param id The instance id.
   * @param expected The revision the caller expected, or null when no revision was expected.
   * @param actual The revision found, 0 when absent, null when unknown.
   * @param options The cause, and a message replacing the default one.
   */
  constructor(
    id: string,
    expected: number | null,
    actual: number | null,
    options: HephErrorOptions & { message?: string } = {},
  ) {
    const found = actual === null
      ? "an existing instance"
      : actual === 0
      ? "no instance"
      : `revision ${actual}`;
    const wanted = expected === 0 ? "no instance" : `revision ${expected}`;
    super(
      options.message ?? `Conflict on instance ${id}: expected ${wanted}, found ${found}`,
      options,
      "HEPH_CONFLICT",
    );
    this.name = "ConflictError";
    this.id = id;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Another worker holds a live lease on the instance, or the caller's lease was lost (expired or
 * taken over); nothing was written. A {@linkcode ConflictError}, so one `catch` serves both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConflictError, LeaseConflictError } from "@heph/pg";
 *
 * const error = new LeaseConflictError("order::1", "worker-a", { owner: "worker-b", expiresAt: new Date() });
 * assert.ok(error instanceof ConflictError);
 * assert.equal(error.holder?.owner, "worker-b");
 * ```
 */
export class LeaseConflictError extends ConflictError {
  /** Who asked. */
  readonly owner: string;
  /** The live lease that stood in the way, or null when the caller's lease had lapsed. */
  readonly holder: { owner: string; expiresAt: Date } | null;

  /**
   * Creates a LeaseConflictError.
   *
   * @param id The instance id.
   * @param owner Who asked.
   * @param holder The live lease held by someone else, or null when the caller holds none.
   * @param options The cause, if any.
   */
  constructor(
    id: string,
    owner: string,
    holder: { owner: string; expiresAt: Date } | null,
    options: HephErrorOptions = {},
  ) {
    const why = holder
      ? `leased by ${holder.owner} until ${holder.expiresAt.toISOString()}`
      : `${owner} holds no live lease on it`;
    super(id, null, null, { ...options, message: `Lease conflict on instance ${id}: ${why}` });
    this.name = "LeaseConflictError";
    this.owner = owner;
    this.holder = holder;
  }
}

/**
 * A stored row could not be decoded: its shape is wrong or its type annotations are invalid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorruptRecordError } from "@heph/pg";
 *
 * const error = new CorruptRecordError("order::1", "state.active_steps is not a list");
 * assert.equal(error.id, "order::1");
 * ```
 */
export class CorruptRecordError extends HephError {
  /** The id of the row that failed to decode. */
  readonly id: string;

  /**
   * Creates a CorruptRecordError.
   *
   * @param id The id of the corrupt row.
   * @param detail What is wrong with it.
   * @param options The cause, if any.
   */
  constructor(id: string, detail: string, options: HephErrorOptions = {}) {
    super(`Corrupt record ${id}: ${detail}`, options, "HEPH_CORRUPT_RECORD");
    this.name = "CorruptRecordError";
    this.id = id;
  }
}

/**
 * A migration could not be applied or reverted, or an applied migration was changed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MigrationError } from "@heph/pg";
 *
 * const error = new MigrationError("Checksum mismatch for applied migration 1");
 * assert.equal(error.code, "HEPH_MIGRATION");
 * ```
 */
export class MigrationError extends HephError {
  /**
   * Creates a MigrationError.
   *
   * @param message What went wrong.
   * @param options The cause, if any.
   */
  constructor(message: string, options: HephErrorOptions = {}) {
    super(message, options, "HEPH_MIGRATION");
    this.name = "MigrationError";
  }
}

/**
 * The database or the connection failed. `code` is the SQLSTATE when the server sent one
 * (`"23505"`, `"57P01"`, …); `"08001"` when no connection could be made and `"08006"` when one
 * was lost, whichever driver noticed; else `"HEPH_DATABASE"`. The driver's error is the `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseError } from "@heph/pg";
 *
 * const error = new DatabaseError("relation does not exist", { sqlState: "42P01" });
 * assert.equal(error.code, "42P01");
 * ```
 */
export class DatabaseError extends HephError {
  /** The server's detail line, when it sent one. */
  readonly detail: string | undefined;

  /**
   * Creates a DatabaseError.
   *
   * @param message The server's or the driver's message.
   * @param options The SQLSTATE, the detail and the driver's error.
   */
  constructor(
    message: string,
    options: HephErrorOptions & { sqlState?: string; detail?: string } = {},
  ) {
    super(message, options, options.sqlState ?? "HEPH_DATABASE");
    this.name = "DatabaseError";
    this.detail = options.detail;
  }
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Whether a value has the shape of a SQLSTATE: five digits or capital letters. Driver adapters
 * use it to tell a server's code from their client's own codes.
 *
 * @param value Anything, such as an error's `code`.
 * @returns True for a string such as `"23505"` or `"57P01"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSqlState } from "./errors.ts";
 *
 * assert.equal(isSqlState("57P01"), true);
 * assert.equal(isSqlState("ECONNREFUSED"), false);
 * ```
 */
export function isSqlState(value: unknown): value is string {
  return typeof value === "string" && SQLSTATE.test(value);
}

/**
 * Wraps whatever a driver threw into a {@linkcode DatabaseError}, keeping the SQLSTATE.
 * Errors of this module pass through unchanged.
 *
 * @param error What the driver threw.
 * @returns A HephError.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toDatabaseError } from "@heph/pg";
 *
 * const error = toDatabaseError(Object.assign(new Error("boom"), { code: "57P01" }));
 * assert.equal(error.code, "57P01");
 * ```
 */
export function toDatabaseError(error: unknown): HephError {
  if (error instanceof HephError) return error;
  const fields = (typeof error === "object" && error !== null ? error : {}) as Record<
    string,
    unknown
  >;
  const message = typeof fields.message === "string" && fields.message !== ""
    ? fields.message
    : String(error);
  // Each driver adapter puts the SQLSTATE on `code` (or `sqlState`) and the detail on `detail`,
  // also for failures its client reports in words only. System codes first: EPIPE has the
  // shape of a SQLSTATE.
  const sqlState = systemState(fields.code) ??
    [fields.code, fields.sqlState].find(isSqlState);
  const detail = typeof fields.detail === "string" ? fields.detail : undefined;
  return new DatabaseError(message, { sqlState, detail, cause: error });
}

/** SQLSTATEs for the system codes of connection failures, so every driver agrees. */
function systemState(code: unknown): string | undefined {
  if (NOT_CONNECTED.includes(String(code))) return "08001"; // unable to establish a connection
  if (CONNECTION_LOST.includes(String(code))) return "08006"; // connection_failure
  return undefined;
}

/** System error codes (Node's and Deno's sockets) of a connection that could not be made. */
const NOT_CONNECTED = [
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
];

/** System error codes of an open connection that was lost. */
const CONNECTION_LOST = [
  "ECONNRESET",
  "EPIPE",
];
