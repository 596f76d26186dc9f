import assert from "node:assert/strict";
import { parseJson } from "./parse_json.ts";

/** Primes V8: a parsed object with the keys `before` and then `\` (one backslash). */
function prime(before: string[]): void {
  JSON.parse(`{${before.map((key) => `${JSON.stringify(key)}:0,`).join("")}"\\\\":0}`);
}

Deno.test("parseJson reads escaped keys right after V8 was primed to misread them", () => {
  for (const [n, escaped, key] of [[1, '\\"', '"'], [2, "\\u0001", "\u0001"], [3, "\\n", "\n"]]) {
    const prefix = `parse_json_prime_${n}`;
    prime([prefix]);
    const text = `{"outer":{${JSON.stringify(prefix)}:1,"${escaped}":2}}`;
    const parsed = parseJson(text) as { outer: Record<string, unknown> };
    assert.deepEqual(Object.keys(parsed.outer), [prefix, key], text);
  }
  // Escapes in values first, one of them a quote and a colon: the escaped key is still found.
  prime(["parse_json_value", "parse_json_prime_4"]);
  const value = '"x\\":\\\\"';
  const text = `{"parse_json_value":${value},"parse_json_prime_4":1,"\\"":2}`;
  const parsed = parseJson(text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ["parse_json_value", "parse_json_prime_4", '"'], text);
  assert.equal(parsed.parse_json_value, 'x":\\');
});

Deno.test("parseJson gives what JSON.parse gives, on both of its paths", () => {
  const own = JSON.parse('{"__proto__":{"polluted":true}}');
  const texts = [
    "1",
    " -1.5e+3 ",
    '"a\\u0000\\ud800\\"\\\\\\/\\b\\f\\n\\r\\t"',
    "[]",
    "{}",
    ' [ 1 , "x" , null , true , false , [ ] , { } ] ',
    '{"a":{"b":[{"c":"d"}]},"e":0}',
    '{"a":1,"a":2,"b":3}',
    '{"2":"two","1":"one","x":"x"}',
    '{"__proto__":{"polluted":true}}',
    '\t{\n"k" :\r"v"\n}\n',
  ];
  for (const text of texts) {
    // The same text, once without and once with an escaped key (the hand-written path).
    for (const variant of [text, `{"\\\\":${text}}`]) {
      const expected = variant === text ? JSON.parse(text) : { "\\": JSON.parse(text) };
      const parsed = parseJson(variant);
      assert.deepStrictEqual(parsed, expected, variant);
      assert.equal(JSON.stringify(parsed), JSON.stringify(expected), variant);
    }
  }
  const parsed = parseJson('{"\\"":{"__proto__":{"polluted":true}}}') as Record<string, unknown>;
  assert.deepStrictEqual(parsed['"'], own);
  assert.equal(Object.getPrototypeOf(parsed['"']), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  // Deep nesting does not overflow the stack.
  const deep = `{"\\"":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
  let value = (parseJson(deep) as Record<string, unknown>)['"'];
  for (let i = 1; i < 100_000; i++) value = (value as unknown[])[0];
  assert.deepEqual(value, []);
});

Deno.test("parseJson refuses what JSON.parse refuses, with a SyntaxError", () => {
  const bad = [
    "",
    " ",
    "{",
    "[1,]",
    '{"a":1,}',
    "01",
    "1.",
    ".5",
    "-",
    "+1",
    "tru",
    "nul",
    "NaN",
    "{'a':1}",
    '{"a" 1}',
    '{"a":1 "b":2}',
    "[1 2]",
    '"\\x"',
    '"\\u12"',
    '"\u0001"',
    '"open',
    "[1]]",
    "{} {}",
    "\u00a01",
    "\ufeff1",
  ];
  for (const text of bad) {
    for (const variant of [text, `{"\\"":${text}}`]) {
      assert.throws(() => JSON.parse(variant), SyntaxError, `JSON.parse accepts ${variant}`);
      assert.throws(() => parseJson(variant), SyntaxError, variant);
    }
  }
  assert.throws(() => parseJson('{"\\"":1,}'), /^SyntaxError: Invalid JSON: unexpected token "}"/);
});
