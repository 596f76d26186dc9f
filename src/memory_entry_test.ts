import assert from "node:assert/strict";
import { compareCodePoints } from "./memory_entry.ts";

Deno.test('compareCodePoints orders as COLLATE "C": by code point, shorter first', () => {
  assert.ok(compareCodePoints("\uffff", "🙂") < 0);
  assert.ok("\uffff" > "🙂");
  assert.ok(compareCodePoints("a", "ab") < 0);
  assert.ok(compareCodePoints("ab", "a") > 0);
  assert.equal(compareCodePoints("é🙂", "é🙂"), 0);
  assert.equal(compareCodePoints("", ""), 0);
  assert.deepEqual(["b", "🙂", "a", "\uffff", "B"].sort(compareCodePoints), [
    "B",
    "a",
    "b",
    "\uffff",
    "🙂",
  ]);
});
