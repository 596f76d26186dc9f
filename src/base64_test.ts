import assert from "node:assert/strict";
import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from "./base64.ts";

Deno.test("base64 and base64url round-trip every byte, large inputs included", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const large = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31) % 256);
  for (const bytes of [new Uint8Array(), all, large]) {
    assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
    const url = encodeBase64Url(bytes);
    assert.match(url, /^[A-Za-z0-9_-]*$/);
    assert.deepEqual(decodeBase64Url(url), bytes);
  }
  assert.equal(encodeBase64(new Uint8Array([104, 105])), "aGk=");
  assert.equal(encodeBase64Url(new Uint8Array([251, 255])), "-_8");
  assert.throws(() => decodeBase64("not base64!"));
});
