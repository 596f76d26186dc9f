import assert from "node:assert/strict";
import fc from "npm:fast-check@^3.23.0";
import { parseJson } from "../src/parse_json.ts";

Deno.test("parseJson reads any JSON text back to what was written, escaped keys included", () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.constantFrom(undefined, 1, "\t"), (value, space) => {
      // The escaped key sends the text to the hand-written parser.
      const text = JSON.stringify({ '"': value }, null, space);
      assert.equal(JSON.stringify(parseJson(text), null, space), text);
    }),
    { numRuns: 2000 },
  );
});
