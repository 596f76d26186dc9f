/**
 * Paths into a stored document, for annotations and messages.
 *
 * @module
 */

/**
 * Where a value sits: object keys and array indexes from the root of the stored document.
 *
 * @example
 * ```ts
 * import type { JsonPath } from "./json_path.ts";
 *
 * const path: JsonPath = ["context", "initial", "items", 0];
 * ```
 */
export type JsonPath = (string | number)[];

/**
 * Formats a path for messages: `context.initial.items[0]["a b"]`.
 *
 * @param path The path.
 * @returns Its readable form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPath } from "./json_path.ts";
 *
 * const path = formatPath(["context", "initial", "items", 0, "a b"]);
 * assert.equal(path, 'context.initial.items[0]["a b"]');
 * ```
 */
export function formatPath(path: JsonPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === "" ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}
