/**
 * Indexed reads in tests under `noUncheckedIndexedAccess`.
 *
 * @module
 */
import assert from "node:assert/strict";

/** The item at `index`, failing the test when it is missing. */
export function nth<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) assert.fail(`no item at index ${index}: there are ${items.length}`);
  return item;
}
