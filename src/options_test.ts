import assert from "node:assert/strict";
import {
  validateClaim,
  validateExpectedRevision,
  validateFilter,
  validateLease,
  validatePage,
  validatePrune,
  validatePut,
  validateRead,
} from "./options.ts";
import type { ClaimOptions, PageOptions, PruneOptions } from "./storage_options.ts";

/** Asserts that `work` throws a ValidationError whose message matches `message`. */
const refuses = (work: () => unknown, message: RegExp) =>
  assert.throws(work, { name: "ValidationError", message });

Deno.test("validateFilter returns a frozen copy without undefined keys, statuses deduplicated", () => {
  const given = { status: "running", workflow: undefined, statusIn: ["failed", "failed"] };
  const checked = validateFilter(given);
  assert.deepEqual(checked, { status: "running", statusIn: ["failed"] });
  assert.ok(Object.isFrozen(checked));
  assert.notEqual(checked, given);
  assert.deepEqual(validateFilter({}), {});
});

Deno.test("validateFilter copies its Dates: a later change to the caller's Date is not seen", () => {
  const at = new Date(1000);
  const checked = validateFilter({ updatedBefore: at });
  at.setTime(5);
  assert.equal(checked.updatedBefore?.getTime(), 1000);
  refuses(
    () => validateFilter({ insertedAfter: "2026-01-01" }),
    /^Invalid insertedAfter: expected a valid Date, got "2026-01-01"$/,
  );
  refuses(() => validateFilter({ updatedAfter: new Date(NaN) }), /^Invalid updatedAfter: /);
});

Deno.test("validateFilter refuses unknown keys and bad values, naming them", () => {
  refuses(() => validateFilter(null), /^Invalid filter: expected an object, got null$/);
  refuses(() => validateFilter([]), /^Invalid filter: expected an object, got an array$/);
  refuses(
    () => validateFilter({ stauts: "running" }),
    /^Invalid filter: unknown key "stauts", expected one of id, idPrefix, status, statusIn, /,
  );
  refuses(() => validateFilter({ id: "" }), /^Invalid id: /);
  refuses(() => validateFilter({ idPrefix: "" }), /^Invalid idPrefix: /);
  refuses(() => validateFilter({ status: "done" }), /^Invalid status: "done"/);
  refuses(
    () => validateFilter({ statusIn: "running" }),
    /^Invalid statusIn: expected a list of statuses, got "running"$/,
  );
  refuses(() => validateFilter({ workflowVersion: 0 }), /^Invalid workflowVersion: /);
  refuses(() => validateFilter({ workflowFamily: 1 }), /^Invalid workflowFamily: /);
});

Deno.test("validateFilter accepts the extra keys its caller names, and lists them when refusing", () => {
  assert.deepEqual(validateFilter({ owner: "w", status: "waiting" }, ["owner"]), {
    status: "waiting",
  });
  refuses(() => validateFilter({ leaseMs: 1 }, ["owner"]), /, insertedAfter, owner$/);
});

Deno.test("validateFilter checks contextContains and encodes it as it is stored", () => {
  const checked = validateFilter({
    contextContains: { initial: { at: new Date(0), n: 10n, tags: new Set(["a"]) } },
  });
  assert.deepEqual(checked.contextDocument, {
    initial: { at: "1970-01-01T00:00:00.000Z", n: "10", tags: ["a"] },
  });
  refuses(
    () => validateFilter({ contextContains: {} }),
    /^Invalid contextContains: expected an object with initial and\/or steps, got a Object$/,
  );
  refuses(
    () => validateFilter({ contextContains: { other: {} } }),
    /^Invalid contextContains: "other" must be "initial" or "steps" with an object$/,
  );
  refuses(
    () => validateFilter({ contextContains: { steps: [] } }),
    /^Invalid contextContains: "steps" must be/,
  );
  refuses(
    () => validateFilter({ contextContains: { initial: { f: () => 1 } } }),
    /^Invalid contextContains: Cannot store a function: contextContains.initial.f$/,
  );
});

Deno.test("validateExpectedRevision and validatePut: a typo never drops a concurrency check", () => {
  assert.equal(validateExpectedRevision(undefined), undefined);
  assert.equal(validateExpectedRevision(0), 0);
  for (const bad of [-1, 1.5, "1", null, 2 ** 53]) {
    refuses(
      () => validateExpectedRevision(bad),
      /^Invalid expectedRevision: expected a non-negative integer, got /,
    );
  }
  assert.deepEqual(validatePut(undefined), { expectedRevision: undefined, owner: undefined });
  assert.deepEqual(validatePut({ expectedRevision: 2, owner: "w" }), {
    expectedRevision: 2,
    owner: "w",
  });
  refuses(
    () => validatePut({ expectedRevison: 2 }),
    /^Invalid put options: unknown key "expectedRevison", expected expectedRevision, owner$/,
  );
  refuses(() => validatePut(null), /^Invalid put options: expected an object, got null$/);
  refuses(() => validatePut({ owner: "" }), /^Invalid owner: /);
});

Deno.test("validateClaim: owner, lease from 1 ms to 24 hours, limit 1 to 1000, and a filter", () => {
  const claim = validateClaim({ owner: "w", leaseMs: 30_000, status: "waiting" });
  assert.deepEqual(claim, {
    owner: "w",
    leaseMs: 30_000,
    limit: 1,
    filter: { status: "waiting" },
  });
  assert.equal(validateClaim({ owner: "w", leaseMs: 86_400_000, limit: 1000 }).limit, 1000);
  refuses(
    () => validateClaim({ owner: "w", leaseMs: 0 }),
    /^Invalid leaseMs: expected an integer from 1 to 86400000, got 0$/,
  );
  refuses(
    () => validateClaim({ owner: "w", leaseMs: 1, limit: 1001 }),
    /^Invalid limit: expected an integer from 1 to 1000, got 1001$/,
  );
  refuses(() => validateClaim({ leaseMs: 1 } as ClaimOptions), /^Invalid owner: /);
  refuses(
    () => validateClaim({ owner: "w", leaseMs: 1, stauts: "x" } as ClaimOptions),
    /^Invalid filter: unknown key "stauts"/,
  );
  refuses(
    () => validateClaim(undefined as unknown as ClaimOptions),
    /^Invalid claim options: expected an object, got undefined$/,
  );
});

Deno.test("validateLease: renew needs leaseMs, release takes the owner alone", () => {
  assert.deepEqual(validateLease({ owner: "w", leaseMs: 5 }, true), { owner: "w", leaseMs: 5 });
  assert.deepEqual(validateLease({ owner: "w" }, false), { owner: "w", leaseMs: 0 });
  refuses(
    () => validateLease({ owner: "w", leaseMs: 5 }, false),
    /^Invalid lease options: unknown key "leaseMs", expected owner$/,
  );
  refuses(
    () => validateLease({ owner: "w" }, true),
    /^Invalid leaseMs: expected an integer from 1 to 86400000, got undefined$/,
  );
});

Deno.test("validatePage: limit, cursor, order, skipCorrupt and fromPrimary", () => {
  assert.deepEqual(validatePage({ limit: 10 }), {
    limit: 10,
    cursor: null,
    skipCorrupt: false,
    fromPrimary: false,
    descending: false,
  });
  assert.deepEqual(
    validatePage({ limit: 1, cursor: "abc", order: "desc", skipCorrupt: true, fromPrimary: true }),
    { limit: 1, cursor: "abc", skipCorrupt: true, fromPrimary: true, descending: true },
  );
  refuses(() => validatePage({ limit: 0 }), /^Invalid limit: expected an integer from 1 to 1000/);
  refuses(
    () => validatePage({ limit: 1, order: "up" } as unknown as PageOptions),
    /^Invalid order: expected "asc" or "desc", got "up"$/,
  );
  refuses(
    () => validatePage({ limit: 1, cursor: 5 } as unknown as PageOptions),
    /^Invalid cursor: expected a string or null, got 5$/,
  );
  refuses(
    () => validatePage({ limit: 1, skipCorrupt: "yes" } as unknown as PageOptions),
    /^Invalid skipCorrupt: expected a boolean, got "yes"$/,
  );
  refuses(
    () => validatePage({ limit: 1, batchSize: 5 } as unknown as PageOptions),
    /^Invalid page options: unknown key "batchSize", expected limit, cursor, skipCorrupt, fromPrimary, order$/,
  );
});

Deno.test("validateRead: at most fromPrimary, a boolean", () => {
  assert.deepEqual(validateRead(undefined), { fromPrimary: false });
  assert.deepEqual(validateRead({}), { fromPrimary: false });
  assert.deepEqual(validateRead({ fromPrimary: true }), { fromPrimary: true });
  refuses(
    () => validateRead({ fromPrimary: 1 } as unknown as { fromPrimary: boolean }),
    /^Invalid fromPrimary: expected a boolean, got 1$/,
  );
  refuses(
    () => validateRead({ primary: true } as unknown as { fromPrimary: boolean }),
    /^Invalid read options: unknown key "primary", expected fromPrimary$/,
  );
});

Deno.test("validatePrune: finished statuses and 1000 by default, olderThan required", () => {
  const olderThan = new Date(1000);
  assert.deepEqual(validatePrune({ olderThan }), {
    statusIn: ["completed", "failed"],
    olderThan,
    limit: 1000,
  });
  assert.deepEqual(
    validatePrune({ olderThan, statusIn: ["failed", "failed"], limit: 10_000 }).statusIn,
    ["failed"],
  );
  refuses(
    () => validatePrune({} as PruneOptions),
    /^Invalid olderThan: expected a valid Date, got undefined$/,
  );
  refuses(
    () => validatePrune({ olderThan, limit: 10_001 }),
    /^Invalid limit: expected an integer from 1 to 10000, got 10001$/,
  );
  refuses(
    () => validatePrune({ olderThan, status: "failed" } as unknown as PruneOptions),
    /^Invalid prune options: unknown key "status"$/,
  );
});
