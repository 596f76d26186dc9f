import assert from "node:assert/strict";
import { isConnectionError, wasNotSent } from "./connection_errors.ts";
import { DatabaseError, isSqlState, toDatabaseError, ValidationError } from "./errors.ts";

Deno.test("isSqlState accepts five digits or capitals only", () => {
  for (const code of ["23505", "57P01", "08006", "HV000"]) assert.ok(isSqlState(code), code);
  for (const code of ["2350", "235055", "57p01", "EPIPE ", undefined, 23505, null]) {
    assert.ok(!isSqlState(code), String(code));
  }
});

Deno.test("toDatabaseError keeps the SQLSTATE, the detail and the driver's error", () => {
  const driverError = Object.assign(new Error("duplicate key value"), {
    code: "23505",
    detail: "Key (id)=(a) already exists.",
  });
  const error = toDatabaseError(driverError);
  assert.ok(error instanceof DatabaseError);
  assert.equal(error.code, "23505");
  assert.equal(error.detail, "Key (id)=(a) already exists.");
  assert.equal(error.message, "duplicate key value");
  assert.equal(error.cause, driverError);
  assert.equal(toDatabaseError({ message: "x", sqlState: "40P01" }).code, "40P01");
});

Deno.test("toDatabaseError reads no driver's private shape: a nested fields.code is the adapter's job", () => {
  const error = toDatabaseError(Object.assign(new Error("syntax"), { fields: { code: "42601" } }));
  assert.equal(error.code, "HEPH_DATABASE");
});

Deno.test("toDatabaseError reads no message text: naming a failure described in words is the adapter's job", () => {
  for (
    const message of [
      "Connection terminated unexpectedly",
      "Client was closed and is not queryable",
    ]
  ) {
    assert.equal(toDatabaseError(new Error(message)).code, "HEPH_DATABASE", message);
  }
});

Deno.test("toDatabaseError maps system codes before SQLSTATE-shaped ones", () => {
  assert.equal(
    toDatabaseError(Object.assign(new Error("write EPIPE"), { code: "EPIPE" })).code,
    "08006",
  );
  assert.equal(
    toDatabaseError(Object.assign(new Error("connect"), { code: "ECONNREFUSED" })).code,
    "08001",
  );
  assert.equal(toDatabaseError("plain text").message, "plain text");
  assert.equal(toDatabaseError(undefined).code, "HEPH_DATABASE");
});

Deno.test("toDatabaseError passes this module's errors through unchanged", () => {
  const own = new ValidationError('Invalid id: ""');
  assert.equal(toDatabaseError(own), own);
});

Deno.test("isConnectionError and wasNotSent tell lost connections from refused ones", () => {
  const lost = new DatabaseError("terminating", { sqlState: "57P01" });
  const refused = new DatabaseError("connect", { sqlState: "08001" });
  assert.ok(isConnectionError(lost) && !wasNotSent(lost));
  assert.ok(isConnectionError(refused) && wasNotSent(refused));
  assert.ok(!isConnectionError(new DatabaseError("deadlock", { sqlState: "40P01" })));
  assert.ok(!isConnectionError(new Error("08006")));
});
