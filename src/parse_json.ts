/**
 * `JSON.parse` that gets escaped property keys right.
 *
 * V8 (seen on 12.8 through 15.0, Deno 2.9.6) can mis-read an object key written with an escape
 * (`"\""`, `"\u0001"`, `"\n"`…) when an earlier `JSON.parse` in the same process built an object
 * with the same keys before it and, in that place, a key holding a backslash: it matches the raw
 * text against that earlier key and takes it, so `"\""` comes back as `"\\"`. Which text fails
 * depends on everything parsed before, so a round trip only fails now and then
 * (nodejs/node#63785, crbug.com/521080746). Text with such a key is parsed here instead; all
 * other text, by far the most, still goes to `JSON.parse`.
 *
 * @module
 */

import { defineOwn } from "./json_value.ts";

/**
 * The rest of a string from inside it, its closing quote, and a colon when it is a key. In JSON
 * a backslash only occurs inside strings, and the first one after a closing quote begins an
 * escape, so matching from each such backslash finds every string holding one.
 */
const STRING_REST = /(?:[^"\\]|\\.)*"[ \t\n\r]*(:?)/y;

/** Whether the text has a key holding an escape (the only keys `JSON.parse` may misread). */
function hasEscapedKey(text: string): boolean {
  for (let at = text.indexOf("\\"); at !== -1; at = text.indexOf("\\", STRING_REST.lastIndex)) {
    STRING_REST.lastIndex = at;
    const found = STRING_REST.exec(text);
    // Not JSON: JSON.parse will say so.
    if (found === null) return false;
    if (found[1] === ":") return true;
  }
  return false;
}

/**
 * Parses JSON text like `JSON.parse` (same result, `__proto__` keys as own properties, a
 * `SyntaxError` for invalid text), immune to V8's misreading of escaped keys.
 *
 * @param text JSON text.
 * @returns The value.
 * @throws {SyntaxError} When the text is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJson } from "./parse_json.ts";
 *
 * const parsed = parseJson('{"p":1,"\\"":2}') as Record<string, number>;
 * assert.deepEqual(Object.keys(parsed), ["p", '"']);
 * ```
 */
export function parseJson(text: string): unknown {
  if (!hasEscapedKey(text)) return JSON.parse(text);
  return new Parser(text).parse();
}

/** One string token: no raw control character, only the escapes JSON has. */
// deno-lint-ignore no-control-regex -- JSON forbids raw U+0000 to U+001F inside strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** An open container: the object or array being filled, and the key its next value takes. */
type Frame = { container: Record<string, unknown> | unknown[]; key: string };

/** A strict JSON parser without recursion (nesting depth is bounded by memory only). */
class Parser {
  #text: string;
  #at = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): unknown {
    const stack: Frame[] = [];
    let value: unknown;
    for (;;) {
      this.#skipWhitespace();
      const c = this.#text[this.#at];
      if (c === "{" || c === "[") {
        this.#at++;
        const frame: Frame = { container: c === "{" ? {} : [], key: "" };
        this.#skipWhitespace();
        const close = c === "{" ? "}" : "]";
        if (this.#text[this.#at] === close) {
          this.#at++;
          value = frame.container;
        } else {
          if (c === "{") frame.key = this.#key();
          stack.push(frame);
          continue;
        }
      } else value = this.#scalar();
      // A value is complete: put it in its container, then close what ends here.
      for (;;) {
        const frame = stack.at(-1);
        if (frame === undefined) {
          this.#skipWhitespace();
          if (this.#at !== this.#text.length) this.#fail();
          return value;
        }
        if (Array.isArray(frame.container)) frame.container.push(value);
        else defineOwn(frame.container, frame.key, value);
        this.#skipWhitespace();
        const next = this.#text[this.#at++];
        if (next === ",") {
          if (!Array.isArray(frame.container)) frame.key = this.#key();
          break;
        }
        if (next !== (Array.isArray(frame.container) ? "]" : "}")) this.#fail(this.#at - 1);
        stack.pop();
        value = frame.container;
      }
    }
  }

  /** A key and its colon. */
  #key(): string {
    this.#skipWhitespace();
    if (this.#text[this.#at] !== '"') this.#fail();
    const key = this.#string();
    this.#skipWhitespace();
    if (this.#text[this.#at++] !== ":") this.#fail(this.#at - 1);
    return key;
  }

  #scalar(): unknown {
    const c = this.#text[this.#at];
    if (c === '"') return this.#string();
    for (const [word, value] of LITERALS) {
      if (this.#text.startsWith(word, this.#at)) {
        this.#at += word.length;
        return value;
      }
    }
    const token = this.#match(NUMBER);
    return Number(token);
  }

  #string(): string {
    const token = this.#match(STRING);
    // A lone string has no key to misread: JSON.parse decodes its escapes.
    return token.includes("\\") ? JSON.parse(token) : token.slice(1, -1);
  }

  #match(pattern: RegExp): string {
    pattern.lastIndex = this.#at;
    const found = pattern.exec(this.#text);
    if (found === null || found[0] === "") return this.#fail();
    this.#at += found[0].length;
    return found[0];
  }

  #skipWhitespace(): void {
    WHITESPACE.lastIndex = this.#at;
    WHITESPACE.test(this.#text);
    this.#at = WHITESPACE.lastIndex;
  }

  #fail(at = this.#at): never {
    const what = at < this.#text.length
      ? `token ${JSON.stringify(this.#text[at])}`
      : "end of JSON input";
    throw new SyntaxError(`Invalid JSON: unexpected ${what} at position ${at}`);
  }
}

const LITERALS: [string, unknown][] = [["true", true], ["false", false], ["null", null]];
