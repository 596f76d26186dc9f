import assert from "node:assert/strict";
import { ValidationError } from "./errors.ts";
import {
  DEFAULT_SCHEMA,
  describe,
  isInstanceStatus,
  quoteRole,
  quoteSchema,
  validateId,
  validateOwner,
  validateStatus,
  validateWorkflowName,
  validateWorkflowVersion,
} from "./validation.ts";

/** Asserts that `work` throws a ValidationError whose message matches `message`. */
function refuses(work: () => unknown, message: RegExp): void {
  assert.throws(work, (error: unknown) => {
    assert.ok(error instanceof ValidationError, String(error));
    assert.equal(error.code, "HEPH_VALIDATION");
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("describe names a value briefly: strings quoted and cut, BigInts with n, objects by class", () => {
  assert.equal(describe("a"), '"a"');
  assert.equal(describe("x".repeat(100)), JSON.stringify("x".repeat(80) + "…"));
  assert.equal(describe(12n), "12n");
  assert.equal(describe(undefined), "undefined");
  assert.equal(describe(null), "null");
  assert.equal(describe(1.5), "1.5");
  assert.equal(describe([1]), "an array");
  assert.equal(describe(new Map()), "a Map");
  assert.equal(describe({}), "a Object");
  assert.equal(describe(Object.create(null)), "an object");
});

Deno.test("validateId accepts 1 to 255 code points of storable text", () => {
  assert.equal(validateId("order::1"), "order::1");
  assert.equal(validateId("🙂".repeat(255)), "🙂".repeat(255));
  refuses(() => validateId(""), /^Invalid id: expected a non-empty string, got ""$/);
  refuses(() => validateId(1), /^Invalid id: expected a non-empty string, got 1$/);
  refuses(() => validateId(undefined), /got undefined$/);
  refuses(
    () => validateId("a\u0000b"),
    /^Invalid id: "a\\u0000b" contains NUL or a lone surrogate$/,
  );
  refuses(() => validateId("a\ud800"), /contains NUL or a lone surrogate$/);
  refuses(() => validateId("x".repeat(256)), /^Invalid id: 256 characters, at most 255 allowed$/);
});

Deno.test("validateWorkflowName and validateOwner: 1 to 255 code points, named in the message", () => {
  assert.equal(validateWorkflowName("Shop.Order"), "Shop.Order");
  assert.equal(validateWorkflowName("é".repeat(255)), "é".repeat(255));
  refuses(
    () => validateWorkflowName(""),
    /^Invalid workflow: expected a non-empty string, got ""$/,
  );
  refuses(() => validateWorkflowName("a\u0000"), /^Invalid workflow: expected a non-empty string/);
  refuses(() => validateWorkflowName(null, "idPrefix"), /^Invalid idPrefix: .* got null$/);
  refuses(
    () => validateWorkflowName("w".repeat(256), "workflowFamily"),
    /^Invalid workflowFamily: 256 characters, at most 255 allowed$/,
  );
  assert.equal(validateOwner("worker-1"), "worker-1");
  refuses(() => validateOwner(""), /^Invalid owner: expected a non-empty string, got ""$/);
  refuses(() => validateOwner(7), /^Invalid owner: .* got 7$/);
});

Deno.test("validateWorkflowVersion accepts integers from 1 to 2147483647", () => {
  for (const version of [1, 2, 2147483647]) assert.equal(validateWorkflowVersion(version), version);
  for (const version of [0, -1, 1.5, 2147483648, NaN, "1", 1n, null]) {
    refuses(
      () => validateWorkflowVersion(version),
      /^Invalid workflowVersion: expected a positive integer, got /,
    );
  }
});

Deno.test("validateStatus and isInstanceStatus know the five statuses and nothing else", () => {
  for (const status of ["pending", "running", "waiting", "completed", "failed"]) {
    assert.equal(validateStatus(status), status);
    assert.ok(isInstanceStatus(status));
  }
  for (const status of ["done", "PENDING", "", null, 0]) {
    assert.ok(!isInstanceStatus(status));
    refuses(
      () => validateStatus(status),
      /^Invalid status: .*, expected one of pending, running, waiting, completed, failed$/,
    );
  }
});

Deno.test("quoteSchema accepts lowercase identifiers of at most 63 characters", () => {
  assert.equal(DEFAULT_SCHEMA, "public");
  assert.equal(quoteSchema("public"), '"public"');
  assert.equal(quoteSchema("_tenant_9"), '"_tenant_9"');
  assert.equal(quoteSchema("a".repeat(63)), `"${"a".repeat(63)}"`);
  for (const schema of ["", "Tenant", "9a", "a-b", 'a"b', "a".repeat(64), null, 1]) {
    refuses(
      () => quoteSchema(schema),
      /^Invalid schema: .* is not a lowercase identifier of at most 63 characters$/,
    );
  }
});

Deno.test("quoteRole quotes any PostgreSQL role name but the reserved ones", () => {
  assert.equal(quoteRole("heph_app"), '"heph_app"');
  assert.equal(quoteRole('My "App"'), '"My ""App"""');
  assert.equal(quoteRole("é".repeat(31)), `"${"é".repeat(31)}"`);
  refuses(() => quoteRole(""), /^Invalid role: expected a non-empty string, got ""$/);
  refuses(() => quoteRole(undefined), /^Invalid role: expected a non-empty string, got undefined$/);
  refuses(
    () => quoteRole("é".repeat(32)),
    /is not a PostgreSQL role name \(1 to 63 bytes, no NUL\)$/,
  );
  refuses(() => quoteRole("a\u0000"), /is not a PostgreSQL role name/);
  refuses(() => quoteRole("a\udc00"), /is not a PostgreSQL role name/);
  refuses(
    () => quoteRole("public"),
    /^Invalid role: "public" is reserved \(it means every role\);/,
  );
  refuses(() => quoteRole("none"), /^Invalid role: "none" is reserved; create a role of its own/);
  refuses(() => quoteRole("pg_monitor"), /^Invalid role: "pg_monitor" is reserved;/);
});
