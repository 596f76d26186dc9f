/**
 * Stable names for statement texts, under which drivers may prepare them server-side.
 *
 * @module
 */

/**
 * A name derived from a statement's text alone: equal texts get equal names in every process,
 * and different texts different names (a 53-bit hash, cyrb53, in base 36 behind `heph_`), so a
 * connection never sees one name with two texts. At most 17 characters, well within
 * PostgreSQL's 63.
 *
 * @param text The SQL text.
 * @returns The name, such as `heph_3k9x0q2m1z7a`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statementName } from "./statement_name.ts";
 *
 * assert.ok(statementName("SELECT 1") === statementName("SELECT 1"));
 * assert.ok(statementName("SELECT 1").startsWith("heph_"));
 * ```
 */
export function statementName(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `heph_${(4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)}`;
}
