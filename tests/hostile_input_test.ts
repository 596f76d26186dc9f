/**
 * Hostile input, generated: random filters and instances (fast-check), forged cursors, a 10 MB
 * state. Nothing produces an SQL error, and what runs agrees with MemoryStorage or round-trips.
 * Injection payloads are in tests/injection_test.ts, rows other programs wrote in
 * tests/foreign_rows_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^3.23.0";
import {
  type InstanceFilter,
  MemoryStorage,
  migrate,
  newInstance,
  PgStorage,
  SerializationError,
  type WorkflowInstance,
} from "../mod.ts";
import { formatPath, type JsonPath } from "../src/typed_json.ts";
import { withoutBookkeeping } from "../testing/storage_conformance.ts";
import { anyInstance, anyRecord, anyString } from "./support/arbitraries.ts";
import {
  defineAll,
  encodeCursor,
  ids,
  outcome,
  PAYLOADS,
  recordingStorage,
  refusedOrRan,
  withHostileSchema,
} from "./support/hostile_input.ts";

Deno.test("random filters run or are refused with ValidationError, and select what MemoryStorage selects", () =>
  withHostileSchema("hostile_filters", async (db) => {
    const { driver, raw } = db;
    const schema = `${db.schema}_filters`;
    await migrate(driver, { schema });
    const { storage } = recordingStorage(driver, schema);
    const memory = new MemoryStorage();
    const seeds: [
      string,
      string,
      WorkflowInstance["status"],
      number,
      Record<string, unknown>,
    ][] = [
      ["f1", "Shop.Order", "pending", 1, { order_id: 1, tags: ["a", "b"], nested: { x: 1 } }],
      ["f2", "Shop.Order", "running", 2, { order_id: 2, at: new Date(0), tags: ["b"] }],
      ["f3", "Shop_Order%Legacy\\Flow", "waiting", 1, { "quote'key": "it's", "%": "_" }],
      ["f4", "Billing'; DROP TABLE x; --", "completed", 3, { big: 12n, set: new Set([1, 2]) }],
      ["f5", "Ünïcode 😀", "failed", 1, { arr: [1, [2, 3]], n: null, s: "a\u0000b" }],
      ["f6", "\\", "running", 1, {}],
      ["f7", "Shop.OrderX", "waiting", 2, { order_id: 1, nested: { x: 1, y: [true] } }],
    ];
    for (const [id, workflow, status, workflowVersion, initial] of seeds) {
      const instance = newInstance({ id, workflow, workflowVersion, initial });
      instance.status = status;
      instance.context.steps = { check: { ok: status !== "failed" } };
      await storage.put(instance);
      await memory.put(instance);
      await new Promise((resolve) => setTimeout(resolve, 3)); // one insertion order for both
    }
    const day = 86_400_000;
    const hostile = fc.oneof(anyString, fc.constantFrom(...PAYLOADS), fc.string());
    const junk = fc.oneof(
      fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true }),
      fc.constantFrom(undefined, null, NaN, -0, Infinity, [], {}, () => 1, Symbol("s")),
    );
    const time = fc.oneof(
      fc.constantFrom(
        new Date(0),
        new Date(-8.64e15),
        new Date(8.64e15),
        new Date(-62_167_219_200_000),
        new Date(253_402_300_800_000),
        new Date(Date.now() - day),
        new Date(Date.now() + day),
        new Date(NaN),
      ),
      fc.date().filter((d) => Math.abs(d.getTime() - Date.now()) > day),
      junk,
    );
    const workflows = seeds.map(([, workflow]) => workflow);
    const contexts = fc.oneof(
      fc.constantFrom<unknown>(
        { initial: { order_id: 1 } },
        { initial: { tags: ["b"] } },
        { initial: { nested: {} } },
        { initial: { at: new Date(0) } },
        { initial: { set: new Set([2]) } },
        { initial: { big: 12n } },
        { initial: { "quote'key": "it's" } },
        { initial: { arr: [[3]] } },
        { initial: { arr: [2] } },
        { initial: { n: null } },
        { initial: { s: "a\u0000b" } },
        { steps: { check: { ok: false } } },
        { initial: { order_id: 1 }, steps: { check: { ok: true } } },
        { initial: {} },
        { other: {} },
        {},
      ),
      fc.record({ initial: anyRecord, steps: anyRecord }, { requiredKeys: [] }),
      junk,
    );
    const entry = fc.oneof(
      fc.tuple(fc.constant("id"), fc.oneof(fc.constantFrom("f1", "f5", "nope"), hostile, junk)),
      fc.tuple(
        fc.constant("status"),
        fc.oneof(fc.constantFrom("pending", "running", "done"), hostile, junk),
      ),
      fc.tuple(
        fc.constant("statusIn"),
        fc.oneof(
          fc.array(fc.constantFrom("pending", "running", "waiting", "failed", "completed")),
          fc.array(fc.oneof(hostile, junk), { maxLength: 2 }),
          junk,
        ),
      ),
      fc.tuple(fc.constant("workflow"), fc.oneof(fc.constantFrom(...workflows), hostile, junk)),
      fc.tuple(
        fc.constant("workflowVersion"),
        fc.oneof(
          fc.integer({ min: -1, max: 4 }),
          fc.constantFrom(2 ** 31 - 1, 2 ** 31, 1.5),
          junk,
        ),
      ),
      fc.tuple(
        fc.constant("workflowFamily"),
        fc.oneof(
          fc.tuple(fc.constantFrom(...workflows), fc.nat(12)).map(([w, n]) => w.slice(0, n)),
          hostile,
          junk,
        ),
      ),
      fc.tuple(fc.constant("contextContains"), contexts),
      fc.tuple(
        fc.constantFrom("updatedBefore", "updatedAfter", "insertedBefore", "insertedAfter"),
        time,
      ),
      fc.tuple(hostile, junk),
    );
    const filters = fc.array(entry, { maxLength: 4 }).map(defineAll);
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(filters, async (filter) => {
        const f = filter as InstanceFilter;
        const onPg = await outcome(async () => ({
          query: ids(await storage.query(f)),
          count: await storage.count(f),
          page: ids((await storage.page(f, { limit: 3 })).items),
        }));
        const inMemory = await outcome(async () => ({
          query: ids(await memory.query(f)),
          count: await memory.count(f),
          page: ids((await memory.page(f, { limit: 3 })).items),
        }));
        refusedOrRan(onPg, "PgStorage");
        if ("value" in onPg) {
          ran++;
          assert.ok("value" in inMemory, `MemoryStorage refused what PgStorage ran`);
          assert.deepEqual(onPg.value, inMemory.value);
        } else assert.ok("error" in inMemory, "MemoryStorage ran what PgStorage refused");
      }),
      { numRuns: 400 },
    );
    assert.ok(ran > 40, `only ${ran} of 400 filters were valid`);
    await raw(`DROP SCHEMA "${schema}" CASCADE`);
  }));

Deno.test("random instances round-trip exactly, or are refused with SerializationError naming the path and nothing is written", () =>
  withHostileSchema("hostile_instances", async (db) => {
    const { driver } = db;
    const storage = new PgStorage({ driver, schema: db.schema });
    class Money {
      cents = 1;
    }
    const poisons = fc.constantFrom<() => unknown>(
      () => () => 1,
      () => Symbol("s"),
      () => new Money(),
      () => /re/g,
      () => new Error("boom"),
      () => new WeakMap(),
      () => Promise.resolve(1),
      () => new Int16Array(2),
      () => new ArrayBuffer(4),
      () => new (class Bytes extends Uint8Array {})(2),
      () => new (class Day extends Date {})(0),
      () => new String("boxed"),
      () => Object.create({ inherited: true }),
      () => defineSymbolKey(),
      () => "cycle",
    );
    // Where to put it: a section of the instance, then a few levels of objects, arrays, maps.
    type Section = [JsonPath, (i: WorkflowInstance) => Record<string, unknown>];
    const section = fc.constantFrom<Section>(
      [["context", "initial"], (i) => i.context.initial],
      [["context", "steps"], (i) => i.context.steps],
      [["step_configs"], (i) => i.stepConfigs],
      [["runtime_metadata"], (i) => i.runtimeMetadata],
      [["telemetry_metadata"], (i) => i.telemetryMetadata],
    );
    const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k.isWellFormed());
    const level = fc.oneof(
      key.map((k) => ({ kind: "object" as const, key: k })),
      fc.nat(2).map((i) => ({ kind: "array" as const, index: i })),
      fc.constant({ kind: "map" as const }),
    );
    const poisoned = fc.option(
      fc.record({ section, key, levels: fc.array(level, { maxLength: 3 }), poison: poisons }),
      { nil: undefined },
    );
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(anyInstance, poisoned, async (instance, where) => {
        await storage.delete(instance.id);
        let expectedPath: string | undefined;
        if (where) {
          const [base, pick] = where.section;
          const path: JsonPath = [...base, where.key];
          let value: unknown = where.poison();
          const trail: JsonPath = [];
          if (value === "cycle") {
            const loop: Record<string, unknown> = { a: 1 };
            loop.self = loop;
            value = loop;
            trail.push("self");
          }
          for (const level of where.levels.toReversed()) {
            if (level.kind === "object") {
              value = defineAll([[level.key, value]]);
              trail.unshift(level.key);
            } else if (level.kind === "array") {
              const array: unknown[] = Array.from({ length: level.index }, () => 0);
              array.push(value);
              value = array;
              trail.unshift(level.index);
            } else {
              value = new Map([["k", value]]);
              trail.unshift(0, 1);
            }
          }
          const target = pick(instance);
          Object.defineProperty(target, where.key, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          expectedPath = formatPath([...path, ...trail]);
        }
        const result = await outcome(() => storage.put(instance));
        if (expectedPath === undefined) {
          assert.ok("value" in result, String("error" in result && result.error));
          const stored = await storage.get(instance.id);
          assert.deepStrictEqual(withoutBookkeeping(stored!), instance);
          await storage.delete(instance.id);
        } else {
          assert.ok("error" in result && result.error instanceof SerializationError);
          assert.equal(result.error.path, expectedPath);
          assert.ok(result.error.message.includes(expectedPath), result.error.message);
          assert.equal(await storage.get(instance.id), null, "nothing written");
          refused++;
        }
      }),
      { numRuns: 150 },
    );
    assert.ok(refused > 20);
    assert.equal(await storage.count({}), 0);
  }));

Deno.test("a 10 MB state round-trips through put, get, query, page and scan", () =>
  withHostileSchema("hostile_big", async (db) => {
    const { driver, raw, table } = db;
    const storage = new PgStorage({ driver, schema: db.schema });
    const big = newInstance({ id: "big::1", workflow: "Big" });
    const text = Array.from({ length: 200_000 }, (_, i) => `line ${i} Zoë 😀 "q" \\ \n`).join("");
    big.context.initial = {
      text,
      bytes: Uint8Array.from({ length: 2_000_000 }, (_, i) => (i * 7) & 255),
      rows: Array.from({ length: 20_000 }, (_, i) => ({ i, at: new Date(i), n: BigInt(i) })),
      lookup: new Map(Array.from({ length: 5000 }, (_, i) => [i, `v${i}`])),
    };
    big.executionHistory = Array.from({ length: 1000 }, (_, i) => ({
      stepRef: `s${i}`,
      event: "completed",
      timestamp: new Date(1_700_000_000_000 + i),
      contextUpdates: { i },
    }));
    const expected = structuredClone(big);
    assert.deepEqual(await storage.put(big), { revision: 1 });
    const { rows } = await raw(
      `SELECT octet_length(state::text) AS n FROM ${table} WHERE id = 'big::1'`,
    );
    assert.ok(rows[0].n >= 10_000_000, `state is ${rows[0].n} bytes`);
    assert.deepStrictEqual(withoutBookkeeping((await storage.get("big::1"))!), expected);
    const [queried] = await storage.query({ workflow: "Big" });
    assert.ok(queried, "query() finds it");
    assert.deepStrictEqual(withoutBookkeeping(queried), expected);
    const [paged] = (await storage.page({ id: "big::1" }, { limit: 1 })).items;
    assert.ok(paged, "page() finds it");
    assert.deepStrictEqual(withoutBookkeeping(paged), expected);
    for await (const item of storage.scan({ workflow: "Big" })) {
      assert.deepStrictEqual(withoutBookkeeping(item), expected);
    }
    assert.deepEqual(await storage.put(big, { expectedRevision: 1 }), { revision: 2 });
    await storage.delete("big::1");
  }));

Deno.test("forged cursors are refused with ValidationError, never reach SQL as an error", () =>
  withHostileSchema("hostile_cursors", async (db) => {
    const { driver, raw, table } = db;
    const storage = new PgStorage({ driver, schema: db.schema });
    await storage.putMany([1, 2, 3].map((i) => newInstance({ id: `c${i}`, workflow: "C" })));
    const real = (await storage.page({}, { limit: 1 })).nextCursor!;
    const stamp = fc.oneof(
      fc.date({ min: new Date(-62_200_000_000_000), max: new Date(253_500_000_000_000) })
        .filter((d) => !Number.isNaN(d.getTime()))
        .map((d) => d.toISOString().replace("Z", "123Z")),
      fc.constantFrom("0000-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z", "x"),
      // PostgreSQL's own forms, over every year a Date holds: BC and five- or six-digit years.
      fc.tuple(fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15) }), fc.nat(999))
        .filter(([d]) => !Number.isNaN(d.getTime()))
        .map(([d, us]) => {
          const year = d.getUTCFullYear();
          const rest = d.toISOString().replace(/^[+-]?\d+/, "")
            .replace("Z", `${String(us).padStart(3, "0")}Z`);
          return year > 0
            ? `${String(year).padStart(4, "0")}${rest}`
            : `${String(1 - year).padStart(4, "0")}${rest} BC`;
        }),
      anyString,
    );
    const cursors = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom(..."ABCxyz019-_=+/'\";%".split("")) }),
      fc.tuple(
        fc.oneof(fc.constant(1), fc.anything()),
        fc.oneof(stamp, fc.anything()),
        fc.oneof(anyString, fc.constantFrom(...PAYLOADS), fc.anything()),
      ).map((parts) => encodeCursor(parts)),
      fc.tuple(stamp, fc.oneof(anyString, fc.constantFrom(...PAYLOADS)))
        .map(([at, id]) => encodeCursor([1, at, id])),
      fc.nat(real.length - 1).map((i) =>
        real.slice(0, i) + (real[i] === "A" ? "B" : "A") + real.slice(i + 1)
      ),
    );
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(cursors, async (cursor) => {
        const result = await outcome(() => storage.page({}, { limit: 2, cursor }));
        refusedOrRan(result, `cursor ${JSON.stringify(cursor)}`);
        if ("error" in result) refused++;
      }),
      { numRuns: 500 },
    );
    assert.ok(refused > 100, `${refused} refused`);
    await raw(`DELETE FROM ${table}`);
  }));

function defineSymbolKey(): Record<string, unknown> {
  return { ok: 1, [Symbol("key")]: 2 };
}
