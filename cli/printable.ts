/**
 * Text from the store made safe for a terminal or a one-line message: control characters,
 * escape sequences and bidirectional overrides escaped as `\uXXXX`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printable, safeJson } from "./printable.ts";
 *
 * assert.equal(printable("a\u001b[31mb"), "a\\u001b[31mb");
 * assert.equal(safeJson({ id: "x\u2028y" }), '{"id":"x\\u2028y"}');
 * ```
 *
 * @module
 */

// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** What `JSON.stringify` leaves raw: it escapes C0 controls itself, and its own line breaks stay. */
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * Makes text safe to print on a terminal: control characters (escape sequences included) and
 * bidirectional overrides become `\uXXXX`.
 *
 * @param text Any text from the store.
 * @returns The text, printable.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar);
}

/**
 * `JSON.stringify`, with the characters it leaves raw that a terminal would act on (C1
 * controls, line separators, bidirectional overrides) escaped too; still valid JSON.
 *
 * @param value A JSON-safe value.
 * @param indent Spaces of indentation, or none for one line.
 * @returns The JSON text.
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(RAW_IN_JSON, escapeChar);
}
