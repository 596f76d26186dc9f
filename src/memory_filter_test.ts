import assert from "node:assert/strict";
import { type FilterSubject, jsonContains, matchesFilter } from "./memory_filter.ts";
import { validateFilter } from "./options.ts";

Deno.test("jsonContains decides as jsonb's @> does", () => {
  assert.ok(jsonContains({ a: 1, b: { c: [1, 2, 3] } }, { b: { c: [3, 1] } }));
  assert.ok(jsonContains([1, 2, 2], [2, 2, 2]));
  assert.ok(jsonContains({ a: [] }, { a: [] }));
  assert.ok(jsonContains("x", "x"));
  assert.ok(!jsonContains({ a: [1] }, { a: 1 }));
  assert.ok(!jsonContains({ a: 1 }, { a: "1" }));
  assert.ok(!jsonContains([{ a: 1 }], { a: 1 }));
  assert.ok(!jsonContains({}, { toString: {} }));
  assert.ok(!jsonContains(null, {}));
});

Deno.test("matchesFilter applies every key of a checked filter", () => {
  const subject: FilterSubject = {
    id: "order::7",
    workflow: "Shop.Order",
    workflowVersion: 2,
    status: "waiting",
    insertedAt: 1000,
    updatedAt: 2000,
    context: () => ({ initial: { customer: 42, at: "1970-01-01T00:00:00.000Z" }, steps: {} }),
  };
  const matches = (filter: Record<string, unknown>) =>
    matchesFilter(subject, validateFilter(filter));
  assert.ok(matches({}));
  assert.ok(matches({ id: "order::7", idPrefix: "order::", status: "waiting" }));
  assert.ok(matches({ statusIn: ["running", "waiting"], workflow: "Shop.Order" }));
  assert.ok(matches({ workflowVersion: 2, workflowFamily: "Shop." }));
  assert.ok(matches({ updatedBefore: new Date(2001), updatedAfter: new Date(1999) }));
  assert.ok(matches({ insertedBefore: new Date(1001), insertedAfter: new Date(999) }));
  assert.ok(matches({ contextContains: { initial: { at: new Date(0) } } }));
  assert.ok(!matches({ statusIn: [] }));
  assert.ok(!matches({ idPrefix: "Order" }));
  assert.ok(!matches({ updatedBefore: new Date(2000) }));
  assert.ok(!matches({ insertedAfter: new Date(1000) }));
  assert.ok(!matches({ contextContains: { initial: { customer: 41 } } }));
});

Deno.test("matchesFilter reads the context only for a containment", () => {
  let reads = 0;
  const subject: FilterSubject = {
    id: "a",
    workflow: "W",
    workflowVersion: 1,
    status: "pending",
    insertedAt: 0,
    updatedAt: 0,
    context: () => {
      reads++;
      return { initial: {}, steps: {} };
    },
  };
  matchesFilter(subject, validateFilter({ status: "pending" }));
  assert.equal(reads, 0);
  matchesFilter(subject, validateFilter({ contextContains: { steps: {} } }));
  assert.equal(reads, 1);
});
