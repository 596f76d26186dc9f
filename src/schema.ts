/**
 * Schema names: checked once, quoted once.
 *
 * @module
 */

import { ValidationError } from "./errors.ts";
import { describe } from "./serializer.ts";

/**
 * The schema used when none is given.
 *
 * @example
 * ```ts
 * import { DEFAULT_SCHEMA } from "./schema.ts";
 *
 * const schemaOf = (options: { schema?: string }) => options.schema ?? DEFAULT_SCHEMA;
 * schemaOf({}); // "public"
 * ```
 */
export const DEFAULT_SCHEMA = "public";

/**
 * Checks a schema name (lowercase letters, digits and `_`, not starting with a digit, at most 63 characters) and returns it
 * double-quoted for use in SQL.
 *
 * @param schema The name.
 * @returns The quoted name, such as `"tenant_a"`.
 * @throws {ValidationError} When the name is not a lowercase identifier.
 *
 * @example
 * ```ts
 * import { quoteSchema } from "./schema.ts";
 *
 * quoteSchema("tenant_a"); // '"tenant_a"'
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
