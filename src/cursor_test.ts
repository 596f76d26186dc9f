import assert from "node:assert/strict";
import { cursorMicros, cursorTime, decodeCursor, encodeCursor, PG_MIN_MS } from "./cursor.ts";
import { ValidationError } from "./errors.ts";

Deno.test("a cursor reads back as the position it was made from", () => {
  for (
    const position of [
      { insertedAt: "2026-12-01T08:00:00.123456Z", id: "order::1" },
      { insertedAt: "10000-01-01T00:00:00.000000Z", id: "ünïcödé/🙂" },
      { insertedAt: "4714-11-24T00:00:00.000000Z BC", id: "first" },
    ]
  ) {
    const cursor = encodeCursor(position);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(cursor), position);
  }
});

Deno.test("a cursor this store did not make is refused with a ValidationError", () => {
  const forged = (value: unknown) =>
    btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  for (
    const cursor of [
      "",
      "not a cursor!",
      "x".repeat(2001),
      forged([2, "2026-01-01T00:00:00.000000Z", "a"]),
      forged([1, "2026-02-30T00:00:00.000000Z", "a"]),
      forged([1, "2026-01-01T25:00:00.000000Z", "a"]),
      forged([1, "0000-01-01T00:00:00.000000Z", "a"]),
      forged([1, "4714-11-23T23:59:59.999999Z BC", "a"]),
      forged([1, "2026-01-01T00:00:00Z", "a"]),
      forged([1, "2026-01-01T00:00:00.000000Z", ""]),
      forged([1, "2026-01-01T00:00:00.000000Z"]),
      forged({ insertedAt: "2026-01-01T00:00:00.000000Z", id: "a" }),
    ]
  ) {
    assert.throws(() => decodeCursor(cursor), (error: unknown) => {
      assert.ok(error instanceof ValidationError, `${cursor}: ${error}`);
      assert.match(error.message, /^Invalid cursor: /);
      return true;
    });
  }
});

Deno.test("cursor times compare as instants, across year 10000 and BC", () => {
  const times = [
    "0001-01-01T00:00:00.000000Z BC",
    "0001-01-01T00:00:00.000000Z",
    "2026-01-01T00:00:00.000001Z",
    "10000-01-01T00:00:00.000000Z",
  ];
  const micros = times.map(cursorMicros);
  for (let i = 1; i < micros.length; i++) assert.ok(micros[i - 1]! < micros[i]!, times[i]);
  assert.equal(cursorMicros("1970-01-01T00:00:00.000001Z"), 1n);
});

Deno.test("cursorTime writes milliseconds in PostgreSQL's form, which cursorMicros reads back", () => {
  assert.equal(cursorTime(0), "1970-01-01T00:00:00.000000Z");
  assert.equal(cursorTime(Date.UTC(2026, 11, 1, 8, 30, 0, 123)), "2026-12-01T08:30:00.123000Z");
  assert.equal(cursorTime(Date.UTC(10000, 0, 1)), "10000-01-01T00:00:00.000000Z");
  assert.equal(cursorTime(PG_MIN_MS), "4714-11-24T00:00:00.000000Z BC");
  for (const ms of [0, 1_764_577_800_123, Date.UTC(10000, 0, 1), PG_MIN_MS, -1]) {
    assert.equal(cursorMicros(cursorTime(ms)), BigInt(ms) * 1000n);
  }
});
