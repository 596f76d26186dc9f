import assert from "node:assert/strict";
import { CorruptRecordError, SerializationError, ValidationError } from "./errors.ts";
import { newInstance, type WorkflowInstance } from "./instance.ts";
import { encodeInstance, encodeInstances } from "./serializer.ts";
import { decodeInstance, type InstanceRow } from "./instance_decoder.ts";

/** The row PostgreSQL would return for an encoded instance, with the given timestamps. */
function rowOf(instance: WorkflowInstance<object>, extra: Partial<InstanceRow> = {}): InstanceRow {
  const { workflowVersion, ...columns } = encodeInstance(instance);
  const times = { revision: "1", inserted_at: "0", updated_at: "0" };
  return { ...columns, workflow_version: workflowVersion, ...times, ...extra };
}

/** Asserts that decoding `row` throws a CorruptRecordError naming `id` and matching `detail`. */
function corrupt(row: InstanceRow, id: string, detail: RegExp): void {
  assert.throws(() => decodeInstance(row), (error: unknown) => {
    assert.ok(error instanceof CorruptRecordError, String(error));
    assert.equal(error.id, id);
    assert.match(error.message, detail);
    return true;
  });
}

Deno.test("values JSON cannot hold come back as they were, with annotations only where needed", () => {
  const initial = {
    at: new Date(Date.UTC(2026, 11, 1, 8, 30, 0, 123)),
    invalid: new Date(NaN),
    big: -(2n ** 70n),
    tags: new Set(["a", 1]),
    prices: new Map<unknown, unknown>([["x", 1.5], [2, new Date(0)]]),
    bytes: new Uint8Array([0, 255, 7]),
    missing: undefined,
    numbers: [NaN, Infinity, -Infinity, -0, 0],
    // deno-lint-ignore no-sparse-arrays
    sparse: [1, , , 4],
    nul: "a\u0000b",
    lone: "\ud800",
    ["key\u0000"]: "value",
    nested: { deep: [{ at: new Date(1) }] },
    plain: { a: [1, "two", null, true] },
  };
  const instance = newInstance<typeof initial>({ id: "typed::1", workflow: "W", initial });
  const decoded = decodeInstance(rowOf(instance));
  assert.deepStrictEqual(decoded.context.initial, initial);
  assert.ok(Object.hasOwn(decoded.context.initial, "missing"));
  assert.ok(!(1 in decoded.context.initial.sparse));
  const state = JSON.parse(encodeInstance(instance).state);
  assert.equal(state.context.initial.at, "2026-12-01T08:30:00.123Z");
  assert.deepEqual(state.context.initial.plain, initial.plain);
  const plain = JSON.parse(encodeInstance(newInstance({ id: "p", workflow: "W" })).state);
  assert.ok(!("$types" in plain));
});

Deno.test("a __proto__ key stays plain data both ways and touches no prototype", () => {
  const initial = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}');
  initial.m = new Map([["k", 1]]);
  const decoded = decodeInstance(rowOf(newInstance({ id: "proto::1", workflow: "W", initial })));
  assert.ok(Object.hasOwn(decoded.context.initial, "__proto__"));
  assert.deepStrictEqual(decoded.context.initial, initial);
  assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  assert.equal(Object.getPrototypeOf(decoded.context.initial), Object.prototype);
});

Deno.test("step sets are stored sorted and without repeats, history timestamps as ISO strings", () => {
  const instance = newInstance({ id: "steps::1", workflow: "W" });
  instance.activeSteps = new Set(["b", "a"]);
  instance.completedSteps = new Set(["z"]);
  instance.executionHistory = [
    { stepRef: "a", event: "started", timestamp: new Date(5), contextUpdates: null },
    { stepRef: "a", event: "completed", timestamp: new Date(6), contextUpdates: { ok: 1n } },
  ];
  const state = JSON.parse(encodeInstance(instance).state);
  assert.deepEqual(state.active_steps, ["a", "b"]);
  assert.equal(state.execution_history[0].timestamp, "1970-01-01T00:00:00.005Z");
  const decoded = decodeInstance(rowOf(instance));
  assert.deepStrictEqual(decoded.activeSteps, new Set(["a", "b"]));
  assert.deepStrictEqual(decoded.executionHistory, instance.executionHistory);
});

Deno.test("timestamp columns read Dates, ISO strings and epoch milliseconds, fractions floored", () => {
  const instance = newInstance({ id: "time::1", workflow: "W" });
  const read = (value: unknown) => decodeInstance(rowOf(instance, { inserted_at: value }));
  const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
  assert.deepStrictEqual(read(at).insertedAt, at);
  assert.notEqual(read(at).insertedAt, at);
  assert.deepStrictEqual(read("2026-01-02T03:04:05.006Z").insertedAt, at);
  assert.deepStrictEqual(read(at.getTime()).insertedAt, at);
  assert.deepStrictEqual(read(String(at.getTime())).insertedAt, at);
  assert.deepStrictEqual(read("1767323045006.999").insertedAt, at);
  assert.equal(read(-0.5).insertedAt.getTime(), -1);
  assert.equal(read("-0.5").insertedAt.getTime(), -1);
  corrupt(
    rowOf(instance, { updated_at: "yesterday" }),
    "time::1",
    /column updated_at is not a timestamp: "yesterday"/,
  );
  corrupt(rowOf(instance, { updated_at: null }), "time::1", /column updated_at is not a timestamp/);
});

Deno.test("integer columns read numbers, BigInts and digit strings; others are corrupt", () => {
  const instance = newInstance({ id: "int::1", workflow: "W", workflowVersion: 3 });
  assert.equal(decodeInstance(rowOf(instance, { revision: 7n })).revision, 7);
  assert.equal(decodeInstance(rowOf(instance, { revision: 7 })).revision, 7);
  assert.equal(decodeInstance(rowOf(instance, { workflow_version: "3" })).workflowVersion, 3);
  corrupt(rowOf(instance, { revision: "0" }), "int::1", /column revision is invalid: 0/);
  corrupt(rowOf(instance, { revision: "1.5" }), "int::1", /column revision is invalid: "1.5"/);
  corrupt(rowOf(instance, { status: "done" }), "int::1", /column status is invalid: "done"/);
  corrupt(rowOf(instance, { workflow: "" }), "int::1", /column workflow is invalid: ""/);
});

Deno.test("a lease comes back with its owner and expiry; none when both are null", () => {
  const instance = newInstance({ id: "lease::1", workflow: "W" });
  assert.equal(decodeInstance(rowOf(instance)).lease, null);
  const leased = decodeInstance(
    rowOf(instance, { lease_owner: "w", lease_expires_at: "1000" }),
  );
  assert.deepStrictEqual(leased.lease, { owner: "w", expiresAt: new Date(1000) });
  corrupt(rowOf(instance, { lease_owner: 1 }), "lease::1", /column lease_owner is invalid: 1/);
});

Deno.test("a corrupt state names the instance and what is wrong", () => {
  const instance = newInstance({ id: "bad::1", workflow: "W" });
  corrupt(rowOf(instance, { state: "{" }), "bad::1", /state is not valid JSON/);
  corrupt(rowOf(instance, { state: "[]" }), "bad::1", /state is not an object/);
  corrupt(
    rowOf(instance, { state: '{"active_steps": [1]}' }),
    "bad::1",
    /state.active_steps has the wrong type/,
  );
  corrupt(
    rowOf(instance, { state: '{"context": {"initial": 1}}' }),
    "bad::1",
    /state.context.initial has the wrong type/,
  );
  corrupt(
    rowOf(instance, { state: '{"$types": [[["nowhere"], "Date"]]}' }),
    "bad::1",
    /type annotation points nowhere: nowhere/,
  );
  corrupt(
    rowOf(instance, { state: '{"current_step": "x", "$types": [[["current_step"], "bigint"]]}' }),
    "bad::1",
    /bad bigint value at current_step/,
  );
  assert.throws(
    () => decodeInstance({ ...rowOf(instance), id: 5 }),
    (error: unknown) =>
      error instanceof CorruptRecordError && /id is not a string/.test(error.message),
  );
});

Deno.test("encoding refuses what cannot be stored faithfully, naming the path", () => {
  const refuse = (initial: Record<string, unknown>, path: string, what: RegExp) =>
    assert.throws(
      () => encodeInstance(newInstance({ id: "x", workflow: "W", initial })),
      (error: unknown) => {
        assert.ok(error instanceof SerializationError, String(error));
        assert.equal(error.path, path);
        assert.match(error.message, what);
        return true;
      },
    );
  refuse({ f: () => 1 }, "context.initial.f", /^Cannot store a function: context.initial.f$/);
  refuse({ s: Symbol("s") }, "context.initial.s", /a symbol/);
  refuse({ u: new URL("https://example.com") }, "context.initial.u", /an instance of URL/);
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  refuse({ cycle }, "context.initial.cycle.self", /a cycle/);
});

Deno.test("encoding validates the columns and the shape of an instance", () => {
  const refuse = (change: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => encodeInstance({ ...newInstance({ id: "a", workflow: "W" }), ...change }),
      (error: unknown) => error instanceof ValidationError && message.test(error.message),
    );
  refuse({ id: "" }, /^Invalid id: /);
  refuse({ workflow: 1 }, /^Invalid workflow: /);
  refuse({ workflowVersion: 0 }, /^Invalid workflowVersion: /);
  refuse({ status: "done" }, /^Invalid status: /);
  refuse({ context: null }, /^Invalid instance: context must be an object, got null$/);
  refuse({ currentStep: 1 }, /^Invalid instance: currentStep must be a string or null, got 1$/);
  refuse({ activeSteps: "a" }, /^Invalid instance: active_steps must be a Set of step names/);
  refuse(
    { executionHistory: [{}] },
    /^Invalid instance: executionHistory\[0\].stepRef must be a string/,
  );
  assert.throws(
    () => encodeInstance(null as unknown as WorkflowInstance),
    /^ValidationError: Invalid instance: expected an object, got null$/,
  );
});

Deno.test("encodeInstances keeps the order and refuses a repeated id", () => {
  const a = newInstance({ id: "a", workflow: "W" });
  const b = newInstance({ id: "b", workflow: "W" });
  assert.deepEqual(encodeInstances([b, a]).map((row) => row.id), ["b", "a"]);
  assert.throws(
    () => encodeInstances([a, b, a]),
    /^ValidationError: Invalid instances: id "a" appears twice$/,
  );
  assert.throws(
    () => encodeInstances("a" as unknown as WorkflowInstance[]),
    /^ValidationError: Invalid instances: expected a list, got "a"$/,
  );
});
