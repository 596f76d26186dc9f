/**
 * One home for checking names and identifiers: instance ids, workflow names and versions,
 * statuses, lease owners, schema and role names, and the short description of a bad value
 * that every {@linkcode ValidationError} message ends with.
 *
 * @module
 */

import { ValidationError } from "./errors.ts";
import { INSTANCE_STATUSES, type InstanceStatus } from "./instance.ts";
import { isStorableText } from "./json_value.ts";

/** The longest id, workflow name or owner, in characters (the id column is varchar(255)). */
const MAX_NAME_LENGTH = 255;
const MAX_INT4 = 2147483647;

/**
 * Describes a value briefly for error messages: a string quoted (cut at 80 characters), a
 * BigInt with its `n`, an object by its class. Not part of the public API.
 *
 * @param value Anything.
 * @returns A short description.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describe } from "./validation.ts";
 *
 * assert.equal(describe("a"), '"a"');
 * assert.equal(describe(12n), "12n");
 * assert.equal(describe(new Map()), "a Map");
 * ```
 */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return "an array";
  return value.constructor?.name ? `a ${value.constructor.name}` : "an object";
}

/**
 * Checks an id: 1 to 255 characters of storable text.
 *
 * @param id The candidate id.
 * @returns The id.
 * @throws {ValidationError} When it is not a valid id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateId } from "./validation.ts";
 *
 * assert.equal(validateId("order::1"), "order::1");
 * ```
 */
export function validateId(id: unknown): string {
  if (typeof id !== "string" || id === "") {
    throw new ValidationError(`Invalid id: expected a non-empty string, got ${describe(id)}`);
  }
  if (!isStorableText(id)) {
    throw new ValidationError(`Invalid id: ${JSON.stringify(id)} contains NUL or a lone surrogate`);
  }
  const length = codePoints(id);
  if (length > MAX_NAME_LENGTH) {
    throw new ValidationError(
      `Invalid id: ${length} characters, at most ${MAX_NAME_LENGTH} allowed`,
    );
  }
  return id;
}

/**
 * Whether a value is one of {@linkcode INSTANCE_STATUSES}.
 *
 * @param value Anything.
 * @returns True for a status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isInstanceStatus } from "./validation.ts";
 *
 * assert.ok(isInstanceStatus("running"));
 * assert.equal(isInstanceStatus("done"), false);
 * ```
 */
export function isInstanceStatus(value: unknown): value is InstanceStatus {
  return (INSTANCE_STATUSES as readonly unknown[]).includes(value);
}

/**
 * Checks a status.
 *
 * @param status The candidate.
 * @returns The status.
 * @throws {ValidationError} When it is not one of {@linkcode INSTANCE_STATUSES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateStatus } from "./validation.ts";
 *
 * assert.equal(validateStatus("waiting"), "waiting");
 * ```
 */
export function validateStatus(status: unknown): InstanceStatus {
  if (!isInstanceStatus(status)) {
    throw new ValidationError(
      `Invalid status: ${describe(status)}, expected one of ${INSTANCE_STATUSES.join(", ")}`,
    );
  }
  return status;
}

/**
 * Checks a workflow name: 1 to 255 characters of storable text (longer names would not fit
 * the B-tree index on the workflow column). Prefixes (`idPrefix`, `workflowFamily`) and lease
 * owners follow the same rule.
 *
 * @param workflow The candidate.
 * @param what How to name it in the message.
 * @returns The name.
 * @throws {ValidationError} When it is empty, not text, or too long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateWorkflowName } from "./validation.ts";
 *
 * assert.equal(validateWorkflowName("Shop.Order"), "Shop.Order");
 * assert.equal(validateWorkflowName("Shop.", "workflowFamily"), "Shop.");
 * ```
 */
export function validateWorkflowName(workflow: unknown, what = "workflow"): string {
  if (typeof workflow !== "string" || workflow === "" || !isStorableText(workflow)) {
    throw new ValidationError(
      `Invalid ${what}: expected a non-empty string, got ${describe(workflow)}`,
    );
  }
  const length = codePoints(workflow);
  if (length > MAX_NAME_LENGTH) {
    throw new ValidationError(
      `Invalid ${what}: ${length} characters, at most ${MAX_NAME_LENGTH} allowed`,
    );
  }
  return workflow;
}

function codePoints(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/**
 * Checks a workflow version: an integer from 1 to 2147483647.
 *
 * @param version The candidate.
 * @returns The version.
 * @throws {ValidationError} When it is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateWorkflowVersion } from "./validation.ts";
 *
 * assert.equal(validateWorkflowVersion(2), 2);
 * ```
 */
export function validateWorkflowVersion(version: unknown): number {
  if (
    typeof version !== "number" || !Number.isInteger(version) || version < 1 || version > MAX_INT4
  ) {
    throw new ValidationError(
      `Invalid workflowVersion: expected a positive integer, got ${describe(version)}`,
    );
  }
  return version;
}

/**
 * Checks a lease owner: 1 to 255 characters of storable text.
 *
 * @param value The candidate.
 * @returns The owner.
 * @throws {ValidationError} When it is empty, not text, or too long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateOwner } from "./validation.ts";
 *
 * assert.equal(validateOwner("worker-1"), "worker-1");
 * ```
 */
export function validateOwner(value: unknown): string {
  return validateWorkflowName(value, "owner");
}

/**
 * The schema used when none is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SCHEMA } from "./validation.ts";
 *
 * assert.equal(DEFAULT_SCHEMA, "public");
 * ```
 */
export const DEFAULT_SCHEMA = "public";

/**
 * Checks a schema name (lowercase letters, digits and `_`, not starting with a digit, at most
 * 63 characters) and returns it double-quoted for use in SQL.
 *
 * @param schema The name.
 * @returns The quoted name, such as `"tenant_a"`.
 * @throws {ValidationError} When the name is not a lowercase identifier.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoteSchema } from "./validation.ts";
 *
 * assert.equal(quoteSchema("tenant_a"), '"tenant_a"');
 * ```
 */
export function quoteSchema(schema: unknown): string {
  if (typeof schema !== "string" || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ValidationError(
      `Invalid schema: ${describe(schema)} is not a lowercase identifier of at most 63 characters`,
    );
  }
  return `"${schema}"`;
}

/**
 * Checks a role name and double-quotes it for SQL: any name PostgreSQL allows (1 to 63 bytes,
 * no NUL), except `public` (every role), `none` and the reserved `pg_` prefix.
 *
 * @param role The name, exactly as the role was created (`CREATE ROLE App` creates `app`).
 * @returns The quoted name, such as `"heph_app"`.
 * @throws {ValidationError} When it is not a name a runtime role may have.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoteRole } from "./validation.ts";
 *
 * assert.equal(quoteRole('My "App"'), '"My ""App"""');
 * ```
 */
export function quoteRole(role: unknown): string {
  if (typeof role !== "string" || role === "") {
    throw new ValidationError(`Invalid role: expected a non-empty string, got ${describe(role)}`);
  }
  const bytes = new TextEncoder().encode(role).length;
  if (role.includes("\u0000") || !role.isWellFormed() || bytes > 63) {
    throw new ValidationError(
      `Invalid role: ${describe(role)} is not a PostgreSQL role name (1 to 63 bytes, no NUL)`,
    );
  }
  if (role === "public" || role === "none" || role.startsWith("pg_")) {
    throw new ValidationError(
      `Invalid role: ${describe(role)} is reserved${
        role === "public" ? " (it means every role)" : ""
      }; create a role of its own for the application`,
    );
  }
  return `"${role.replaceAll('"', '""')}"`;
}
