import assert from "node:assert/strict";
import { DatabaseError, ValidationError } from "./errors.ts";
import { explainError } from "./explain_error.ts";

const read = { operation: "get", writes: false, schema: "tenant_a" };
const write = { operation: "put", writes: true, schema: "tenant_a" };
const serverError = (code: string, message: string) => Object.assign(new Error(message), { code });

Deno.test("explainError says what to do about a missing table, a missing grant and a Citus table", () => {
  const missing = explainError(serverError("42P01", 'relation "x" does not exist'), read);
  assert.ok(missing instanceof DatabaseError);
  assert.equal(missing.code, "42P01");
  assert.match(missing.message, /^Table "tenant_a"\.workflow_instances is missing or not migrated/);
  assert.match(missing.message, /migrate --schema tenant_a$/);
  const denied = explainError(serverError("42501", "permission denied for table x"), write);
  assert.match(denied.message, /^Permission denied for put on "tenant_a"\.workflow_instances: /);
  const citus = explainError(
    serverError("0A000", "could not run distributed query with FOR UPDATE/SHARE commands"),
    write,
  );
  assert.match(citus.message, /cannot run on a Citus distributed table: .*distributed: true\)$/);
  const otherFeature = serverError("0A000", "cannot do that");
  assert.equal(explainError(otherFeature, write).message, "cannot do that");
});

Deno.test("explainError tells a lost write from a lost read and from a statement never sent", () => {
  const lost = serverError("57P01", "terminating connection due to administrator command");
  assert.match(
    explainError(lost, write).message,
    /^Connection lost during put, which may or may not/,
  );
  assert.match(explainError(lost, read).message, /^Connection lost during get: terminating/);
  const refused = serverError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1");
  const error = explainError(refused, write);
  assert.equal(error.code, "08001");
  assert.match(error.message, /^Cannot run put, no connection to the database: connect/);
  assert.equal(error.cause, refused, "the driver's error is the cause");
});

Deno.test("explainError keeps other errors as the driver gave them, and passes this module's own", () => {
  const deadlock = serverError("40P01", "deadlock detected");
  const error = explainError(deadlock, write);
  assert.ok(error instanceof DatabaseError);
  assert.equal(error.message, "deadlock detected");
  assert.equal(error.cause, deadlock);
  const own = new ValidationError('Invalid id: ""');
  assert.equal(explainError(own, read), own);
});
