import assert from "node:assert/strict";
import { DatabaseError, LeaseConflictError } from "./errors.ts";
import { countGroupOf, leaseConflict, singleRow } from "./pg_rows.ts";

Deno.test("singleRow returns the row, or says which operation got none", () => {
  assert.deepEqual(singleRow([{ n: "1" }], "count"), { n: "1" });
  assert.throws(
    () => singleRow([], "prune"),
    (error: unknown) =>
      error instanceof DatabaseError && error.code === "HEPH_DATABASE" &&
      error.message ===
        "Unexpected result of prune: no row, where the statement always returns one",
  );
});

Deno.test("leaseConflict names another owner's live lease, and no holder otherwise", () => {
  const row = { holder: "worker-b", holder_expires: "1767225600000", holder_live: "true" };
  const taken = leaseConflict("order::1", "worker-a", row);
  assert.ok(taken instanceof LeaseConflictError);
  assert.deepEqual(taken.holder, { owner: "worker-b", expiresAt: new Date(1767225600000) });
  assert.equal(
    leaseConflict("order::1", "worker-a", { ...row, holder_live: "false" }).holder,
    null,
  );
  assert.equal(leaseConflict("order::1", "worker-b", row).holder, null);
});

Deno.test("countGroupOf reads a grouped count's row and refuses one that is not a group", () => {
  assert.deepEqual(
    countGroupOf({ workflow: "W", workflow_version: "2", status: "running", n: "5" }),
    { workflow: "W", workflowVersion: 2, status: "running", count: 5 },
  );
  assert.throws(
    () => countGroupOf({ workflow: "W", workflow_version: "2", status: "done", n: "5" }),
    /^DatabaseError: Unexpected row from a grouped count: /,
  );
});
