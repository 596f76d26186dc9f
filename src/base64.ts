/**
 * Base64 and base64url for bytes, in one place: typed JSON stores `Uint8Array`s as base64 and
 * page cursors are base64url.
 *
 * @module
 */

const CHUNK = 0x8000;

/**
 * Encodes bytes as standard base64 (with padding).
 *
 * @param bytes The bytes.
 * @returns The base64 text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBase64 } from "./base64.ts";
 *
 * assert.equal(encodeBase64(new Uint8Array([104, 105])), "aGk=");
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64 into bytes.
 *
 * @param text The base64 text.
 * @returns The bytes.
 * @throws {DOMException} When the text is not base64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBase64 } from "./base64.ts";
 *
 * assert.deepEqual(decodeBase64("aGk="), new Uint8Array([104, 105]));
 * ```
 */
export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Encodes bytes as base64url without padding.
 *
 * @param bytes The bytes.
 * @returns The base64url text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBase64Url } from "./base64.ts";
 *
 * assert.equal(encodeBase64Url(new Uint8Array([251, 255])), "-_8");
 * ```
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Decodes base64url (padded or not) into bytes.
 *
 * @param text The base64url text.
 * @returns The bytes.
 * @throws {DOMException} When the text is not base64url.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBase64Url } from "./base64.ts";
 *
 * assert.deepEqual(decodeBase64Url("-_8"), new Uint8Array([251, 255]));
 * ```
 */
export function decodeBase64Url(text: string): Uint8Array {
  return decodeBase64(text.replaceAll("-", "+").replaceAll("_", "/"));
}
