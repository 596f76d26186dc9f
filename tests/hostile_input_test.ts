/**
 * Hostile input: random filters and instances (fast-check), injection payloads in every string
 * that reaches SQL, rows other programs wrote, a 10 MB state, forged cursors. Nothing produces
 * an SQL error, changes a row it should not, or dies without naming the row.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^3.23.0";
import pg from "pg";
import {
  CorruptRecordError,
  DatabaseError,
  grantRuntimeAccess,
  type InstanceFilter,
  MemoryStorage,
  migrate,
  migrationStatus,
  newInstance,
  PgStorage,
  SerializationError,
  type SqlDriver,
  type StoredInstance,
  ValidationError,
  type WorkflowInstance,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { formatPath, type JsonPath } from "../src/typed_json.ts";
import { withoutBookkeeping } from "../testing/storage_conformance.ts";
import { anyInstance, anyRecord, anyString } from "./support/arbitraries.ts";
import { withTestSchema } from "./support/test_db.ts";

/** Strings that try to end a literal, an identifier or a statement, or to widen a LIKE. */
const PAYLOADS = [
  "'",
  "''",
  '"',
  "\\",
  "\\'",
  "%",
  "_",
  "%_\\%",
  "'; DROP TABLE canary; --",
  '"; DROP SCHEMA public CASCADE; --',
  "'); DELETE FROM workflow_instances; --",
  "' OR '1'='1",
  "') OR true --",
  "%' OR workflow LIKE '%",
  "\\'; TRUNCATE canary; --",
  "$1",
  "$$; DROP TABLE canary; $$",
  "$heph_migration$",
  "$heph_sql$",
  "{schema}",
  "*/ DROP TABLE canary; /*",
  "--",
  ";",
  "\n; UPDATE canary SET note = 'pwned';",
  "E'\\x00'",
  "\u0000",
  "a\u0000'; DROP TABLE canary; --",
  "\uD800'",
  "😀'\"\\",
  "\u2028\u2029",
  "x".repeat(255) + "'",
];

/** What the onQuery hook saw: every SQL text PgStorage sent. */
function recordingStorage(driver: SqlDriver, schema: string) {
  const sent: string[] = [];
  const storage = new PgStorage({ driver, schema, onQuery: ({ sql }) => sent.push(sql) });
  return { storage, sent };
}

/** Settles an operation: its value, or what it threw. */
async function outcome<T>(work: () => Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await work() };
  } catch (error) {
    return { error };
  }
}

/** Asserts that a failure is a ValidationError (never a database error). */
function refusedOrRan(result: { value: unknown } | { error: unknown }, what: string): void {
  if ("error" in result) {
    assert.ok(
      result.error instanceof ValidationError,
      `${what}: ${
        result.error instanceof DatabaseError
          ? `${result.error.code} ${result.error.message}`
          : result.error
      }`,
    );
  }
}

function defineAll(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

const ids = (instances: StoredInstance[]) => instances.map((i) => i.id);

Deno.test("hostile input", async (t) => {
  const db = await withTestSchema("hostile");
  const driver = nodePostgresDriver(db.pool);
  const raw = (text: string, params: unknown[] = []) => db.pool.query(text, params);
  const table = `"${db.schema}".workflow_instances`;
  try {
    await migrate(driver, { schema: db.schema });

    await t.step(
      "random filters run or are refused with ValidationError, and select what MemoryStorage selects",
      async () => {
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
      },
    );

    await t.step(
      "random instances round-trip exactly, or are refused with SerializationError naming the path and nothing is written",
      async () => {
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
      },
    );

    await t.step(
      "injection: payloads in every string that reaches SQL change no other row and no schema",
      async () => {
        // Canaries: a table of our own, an instance, and another tenant's schema.
        const tenant = `${db.schema}_tenant`;
        await migrate(driver, { schema: tenant });
        await raw(`CREATE TABLE "${db.schema}".canary (note text)`);
        await raw(`INSERT INTO "${db.schema}".canary VALUES ('intact')`);
        const { storage, sent } = recordingStorage(driver, db.schema);
        const other = new PgStorage({ driver, schema: tenant });
        const canary = newInstance({ id: "canary", workflow: "Canary", initial: { alive: true } });
        await storage.put(canary);
        await other.put(canary);
        const memory = new MemoryStorage();
        await memory.put(canary);
        // Our own objects only: other test runs create and drop schemas in this database meanwhile
        // (each with a canary of its own). A payload names `canary` unqualified: that is
        // public.canary on the default search_path, which no test creates.
        const catalog = async () =>
          (await raw(
            `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE (n.nspname IN ($1, $2) OR (n.nspname = 'public' AND c.relname = 'canary'))
              AND c.relkind IN ('r', 'p', 'v') ORDER BY 1`,
            [db.schema, tenant],
          )).rows.map((r: { name: string }) => r.name);
        const schemasBefore = await catalog();
        // What another run does at the same time must not matter.
        const bystander = `${db.schema}_bystander`;
        await raw(`CREATE SCHEMA "${bystander}"; CREATE TABLE "${bystander}".t (x int)`);

        let stored = 0;
        for (const payload of PAYLOADS) {
          const what = JSON.stringify(payload.slice(0, 40));
          const instance = newInstance({
            id: payload,
            workflow: payload,
            initial: defineAll([[payload, payload], ["nested", defineAll([[payload, [payload]]])]]),
          });
          instance.currentStep = payload;
          instance.activeSteps = new Set([payload]);
          const put = await outcome(() => storage.put(instance));
          refusedOrRan(put, `put ${what}`);
          if ("value" in put) {
            stored++;
            await memory.put(instance);
            assert.deepStrictEqual(withoutBookkeeping((await storage.get(payload))!), instance);
          }
          // Every filter key that takes a string, against the reference semantics.
          const filters: InstanceFilter[] = [
            { id: payload },
            { workflow: payload },
            { workflowFamily: payload },
            { contextContains: { initial: defineAll([[payload, payload]]) } },
            { contextContains: { steps: defineAll([[payload, {}]]) } },
            { contextContains: { initial: { nested: defineAll([[payload, [payload]]]) } } },
            { status: payload as never },
            { statusIn: [payload as never] },
            defineAll([[payload, 1]]) as InstanceFilter,
          ];
          for (const filter of filters) {
            const onPg = await outcome(async () => ids(await storage.query(filter)));
            refusedOrRan(onPg, `query ${what}`);
            const inMemory = await outcome(async () => ids(await memory.query(filter)));
            if ("value" in onPg) assert.deepEqual(onPg, inMemory, `query ${what}`);
          }
          // Lease owners and ids of lease operations.
          for (
            const operation of [
              () => storage.claim({ owner: payload, leaseMs: 60_000, limit: 5, id: payload }),
              () => storage.renewLease(payload, { owner: payload, leaseMs: 1000 }),
              () => storage.releaseLease(payload, { owner: payload }),
              () => storage.put(instance, { owner: payload }),
              () => storage.put(instance, { owner: payload, expectedRevision: 1 }),
              () => storage.putMany([instance]),
              () => storage.count({ workflowFamily: payload }),
            ] as (() => Promise<unknown>)[]
          ) {
            const result = await outcome(operation);
            if ("error" in result && result.error instanceof Error) {
              assert.ok(
                result.error instanceof ValidationError ||
                  result.error.name.endsWith("ConflictError"),
                `${what}: ${result.error}`,
              );
            }
          }
          // Cursors, raw and wrapped in a well-formed envelope.
          const envelope = btoa(
            String.fromCharCode(
              ...new TextEncoder().encode(
                JSON.stringify([1, "2026-01-01T00:00:00.000000Z", payload]),
              ),
            ),
          ).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
          for (const cursor of [payload, envelope]) {
            refusedOrRan(
              await outcome(() => storage.page({}, { limit: 2, cursor })),
              `cursor ${what}`,
            );
          }
          await assert.rejects(storage.page({}, { limit: 2, cursor: payload }), ValidationError);
          // Schema and role names: only lowercase identifiers pass ("_" is one), always quoted.
          if (/^[a-z_][a-z0-9_]*$/.test(payload)) {
            assert.equal(new PgStorage({ driver, schema: payload }).schema, payload);
          } else {
            assert.throws(() => new PgStorage({ driver, schema: payload }), ValidationError);
            await assert.rejects(migrate(driver, { schema: payload }), ValidationError);
            await assert.rejects(migrationStatus(driver, { schema: payload }), ValidationError);
            await assert.rejects(
              grantRuntimeAccess(driver, { schema: payload, role: "nobody" }),
              ValidationError,
            );
          }
          await assert.rejects(
            grantRuntimeAccess(driver, { schema: db.schema, role: payload }),
            (error: unknown) =>
              error instanceof ValidationError ||
              (error instanceof DatabaseError && error.code === "42704"), // no such role
          );
          const deleted = await outcome(() => storage.delete(payload));
          refusedOrRan(deleted, `delete ${what}`);
          if ("value" in deleted) await memory.delete(payload);
        }

        assert.equal(stored, PAYLOADS.length - 4, "all but NUL, lone surrogate, too long");
        assert.deepEqual((await raw(`SELECT note FROM "${db.schema}".canary`)).rows, [
          { note: "intact" },
        ]);
        for (const tenantStorage of [storage, other]) {
          const alive = (await tenantStorage.get("canary"))!;
          assert.equal(alive.revision, 1);
          assert.deepStrictEqual(withoutBookkeeping(alive), canary);
        }
        assert.deepEqual(ids(await storage.query({})), ["canary"], "every payload row was deleted");
        assert.deepEqual(ids(await other.query({})), ["canary"]);
        assert.deepEqual(await catalog(), schemasBefore, "no table or schema created or dropped");
        await raw(`DROP SCHEMA "${bystander}" CASCADE`);
        // Values travel as parameters: no payload ever reached the SQL text.
        for (const marker of ["DROP", "TRUNCATE", "canary", "OR '1'", "pwned", "DELETE FROM w"]) {
          assert.deepEqual(sent.filter((sql) => sql.includes(marker)), [], marker);
        }
        await raw(`DROP TABLE "${db.schema}".canary`);
        await raw(`DROP SCHEMA "${tenant}" CASCADE`);
      },
    );

    await t.step(
      "rows other programs wrote: each field of state with each JSON type is decoded or refused naming the row",
      async () => {
        const storage = new PgStorage({ driver, schema: db.schema });
        const values = ["1", '"text"', "true", "null", "[]", "{}", "[1]", '["a"]', '{"a": 1}'];
        const history = (entry: string) => `[${entry}]`;
        const entry = (field: string, value: string) => {
          const fields: Record<string, string> = {
            step_ref: '"a"',
            event: '"b"',
            timestamp: '"2026-01-01T00:00:00.000Z"',
            context_updates: "null",
          };
          fields[field] = value;
          return `{${Object.entries(fields).map(([k, v]) => `"${k}": ${v}`).join(", ")}}`;
        };
        const isObject = (v: string) => v.startsWith("{");
        const isStringList = (v: string) => v === "[]" || v === '["a"]';
        // [field, the state with that field set to v, whether v is acceptable there]
        const fields: [string, (v: string) => string, (v: string) => boolean][] = [
          ["current_step", (v) => `{"current_step": ${v}}`, (v) => v === "null" || v === '"text"'],
          ["context", (v) => `{"context": ${v}}`, isObject],
          ["context.initial", (v) => `{"context": {"initial": ${v}}}`, isObject],
          ["context.steps", (v) => `{"context": {"steps": ${v}}}`, isObject],
          ["step_configs", (v) => `{"step_configs": ${v}}`, isObject],
          ["runtime_metadata", (v) => `{"runtime_metadata": ${v}}`, isObject],
          ["telemetry_metadata", (v) => `{"telemetry_metadata": ${v}}`, isObject],
          ["active_steps", (v) => `{"active_steps": ${v}}`, isStringList],
          ["completed_steps", (v) => `{"completed_steps": ${v}}`, isStringList],
          ["execution_history", (v) => `{"execution_history": ${v}}`, (v) => v === "[]"],
          ["execution_history[0]", (v) => `{"execution_history": ${history(v)}}`, () => false],
          [
            "execution_history[0].step_ref",
            (v) => `{"execution_history": ${history(entry("step_ref", v))}}`,
            (v) => v === '"text"',
          ],
          [
            "execution_history[0].event",
            (v) => `{"execution_history": ${history(entry("event", v))}}`,
            (v) => v === '"text"',
          ],
          [
            "execution_history[0].timestamp",
            (v) => `{"execution_history": ${history(entry("timestamp", v))}}`,
            () => false,
          ],
          [
            "execution_history[0].context_updates",
            (v) => `{"execution_history": ${history(entry("context_updates", v))}}`,
            (v) => v === "null" || isObject(v),
          ],
          ["$types", (v) => `{"$types": ${v}}`, (v) => v === "[]"],
          ["state", (v) => v, isObject],
        ];
        const insert = (id: string, state: string) =>
          raw(
            `INSERT INTO ${table} (id, workflow, workflow_version, status, state) VALUES ($1, 'W', 1, 'pending', $2::jsonb)`,
            [id, state],
          );
        let decoded = 0;
        let refused = 0;
        for (const [field, state, acceptable] of fields) {
          for (const value of values) {
            const id = `other::${field}=${value}`;
            await insert(id, state(value));
            const result = await outcome(() => storage.get(id));
            if (acceptable(value)) {
              assert.ok("value" in result, `${id}: ${"error" in result && result.error}`);
              assert.equal(result.value!.id, id);
              decoded++;
            } else {
              assert.ok("error" in result, `${id} was decoded`);
              assert.ok(result.error instanceof CorruptRecordError, `${id}: ${result.error}`);
              assert.equal(result.error.id, id);
              assert.ok(result.error.message.includes(id), result.error.message);
              const root = field === "$types" ? "type annotation" : field.replace(/[.[].*$/, "");
              assert.ok(
                result.error.message.includes(root),
                `${id}: ${result.error.message} does not name ${root}`,
              );
              refused++;
            }
            await raw(`DELETE FROM ${table} WHERE id = $1`, [id]);
          }
        }
        assert.ok(decoded > 20 && refused > 80, `${decoded} decoded, ${refused} refused`);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      },
    );

    await t.step(
      "rows other programs wrote: prototype-pollution payloads stay plain data",
      async () => {
        const storage = new PgStorage({ driver, schema: db.schema });
        const pollute = `{"polluted": true}`;
        const states = [
          `{"step_configs": {"__proto__": ${pollute}}, "runtime_metadata": {"constructor": {"prototype": ${pollute}}}}`,
          `{"execution_history": [{"step_ref": "a", "event": "b", "timestamp": "2026-01-01T00:00:00.000Z", "context_updates": {"__proto__": ${pollute}}}]}`,
          // A Map whose key is "__proto__", a Set holding one, a date stored under "__proto__".
          `{"context": {"initial": {"m": [["__proto__", ${pollute}]], "s": ["__proto__"], "__proto__": "2026-01-01T00:00:00.000Z"}},
          "$types": [[["context", "initial", "m"], "Map"], [["context", "initial", "s"], "Set"], [["context", "initial", "__proto__"], "Date"]]}`,
          // Escaped keys renamed back to "__proto__" and "constructor".
          `{"context": {"initial": {"k1": ${pollute}, "k2": ${pollute}}},
          "$types": [[["context", "initial"], "keys", [["k1", "__proto__"], ["k2", "constructor"]]]]}`,
        ];
        for (const [i, state] of states.entries()) {
          await raw(
            `INSERT INTO ${table} (id, workflow, workflow_version, status, state) VALUES ($1, 'W', 1, 'pending', $2::jsonb)`,
            [`proto::${i}`, state],
          );
        }
        const read = await storage.query({ workflow: "W" });
        assert.deepEqual(ids(read), ["proto::0", "proto::1", "proto::2", "proto::3"]);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
        assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
        const own = (object: unknown, key: string) =>
          Object.getOwnPropertyDescriptor(object as object, key)?.value;
        assert.deepEqual(own(read[0].stepConfigs, "__proto__"), { polluted: true });
        assert.equal(Object.getPrototypeOf(read[0].stepConfigs), Object.prototype);
        assert.deepEqual(own(read[0].runtimeMetadata, "constructor"), {
          prototype: { polluted: true },
        });
        const updates = read[1].executionHistory[0].contextUpdates!;
        assert.deepEqual(own(updates, "__proto__"), { polluted: true });
        const initial = read[2].context.initial;
        assert.deepEqual([...(initial.m as Map<string, unknown>).keys()], ["__proto__"]);
        assert.deepEqual(initial.s, new Set(["__proto__"]));
        assert.ok(own(initial, "__proto__") instanceof Date);
        assert.equal(Object.getPrototypeOf(initial), Object.prototype);
        assert.deepEqual(own(read[3].context.initial, "__proto__"), { polluted: true });
        assert.deepEqual(own(read[3].context.initial, "constructor"), { polluted: true });
        assert.equal(Object.getPrototypeOf(read[3].context.initial), Object.prototype);
        await raw(`DELETE FROM ${table}`);
      },
    );

    await t.step(
      "a corrupt row among good ones: get, query, page, scan and claim name it; count still counts",
      async () => {
        const storage = new PgStorage({ driver, schema: db.schema });
        for (const id of ["good::1", "good::2", "good::3"]) {
          await storage.put(newInstance({ id, workflow: "Mixed" }));
        }
        const checks = (id: string) => (error: unknown) => {
          assert.ok(error instanceof CorruptRecordError, String(error));
          assert.equal(error.id, id);
          return true;
        };
        // Column values the table's constraints forbid, written once the constraints are dropped.
        const constraints = await raw(
          `SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'`,
          [table],
        );
        for (const { conname } of constraints.rows) {
          await raw(`ALTER TABLE ${table} DROP CONSTRAINT "${conname}"`);
        }
        const columns: [string, string][] = [
          ["status", "status = 'paused'"],
          ["workflow", "workflow = ''"],
          ["workflow_version", "workflow_version = 0"],
          ["revision", "revision = 0"],
          ["inserted_at", "inserted_at = '-infinity'"],
          ["lease", "lease_owner = 'w', lease_expires_at = NULL"],
          ["state", `state = '{"active_steps": "x"}'`],
        ];
        for (const [what, set] of columns) {
          const id = `bad::${what}`;
          await raw(
            `INSERT INTO ${table} (id, workflow, workflow_version, status, state, inserted_at, updated_at)
           VALUES ($1, 'Mixed', 1, 'waiting', '{}', now(), now())`,
            [id],
          );
          await raw(`UPDATE ${table} SET ${set} WHERE id = $1`, [id]);
          await assert.rejects(storage.get(id), checks(id), what);
          await assert.rejects(storage.query({}), checks(id), what);
          await assert.rejects(storage.page({}, { limit: 10 }), checks(id), what);
          await assert.rejects(
            (async () => {
              for await (const _ of storage.scan({}, { batchSize: 2 })) { /* walk */ }
            })(),
            checks(id),
            what,
          );
          if (what !== "lease") {
            await assert.rejects(
              storage.claim({ owner: "w", leaseMs: 1000, limit: 10, id }),
              checks(id),
              what,
            );
          }
          assert.equal(await storage.count({}), 4);
          // The good rows stay readable one by one, and filters that skip the bad row work.
          assert.deepEqual(ids(await storage.query({ id: "good::2" })), ["good::2"]);
          await raw(`DELETE FROM ${table} WHERE id = $1`, [id]);
        }
        assert.deepEqual(ids(await storage.query({})), ["good::1", "good::2", "good::3"]);
        // Back to a table with its constraints.
        await raw(`DROP SCHEMA "${db.schema}" CASCADE`);
        await migrate(driver, { schema: db.schema });
      },
    );

    await t.step(
      "rows other programs wrote: deep nesting, odd text and bytes that are not UTF-8",
      async () => {
        const storage = new PgStorage({ driver, schema: db.schema });
        const insert = (id: string, state: string) =>
          raw(
            `INSERT INTO ${table} (id, workflow, workflow_version, status, state) VALUES ($1, 'W', 1, 'pending', $2::jsonb)`,
            [id, state],
          );
        const depth = 5000;
        await insert(
          "deep",
          `{"context": {"initial": {"d": ${"[".repeat(depth)}${"]".repeat(depth)}}}}`,
        );
        let value = (await storage.get("deep"))!.context.initial.d;
        let levels = 0;
        while (Array.isArray(value) && value.length > 0) (value = value[0], levels++);
        assert.equal(levels, depth - 1);
        // Writing it back is refused with the path, not a stack overflow.
        const deep = (await storage.get("deep"))!;
        await assert.rejects(storage.put(deep), SerializationError);

        // Text that is valid UTF-8 but unusual comes back exactly.
        const odd = "\uFFFE\uFFFF \u{10FFFF} \u{1F600} \u200B\u2028 \\ud800 \\u0000 \x7F";
        await insert("odd", JSON.stringify({ context: { initial: { [odd]: odd } } }));
        assert.deepEqual((await storage.get("odd"))!.context.initial, { [odd]: odd });
        // Escaped text under a "string" annotation: the designed form decodes, a malformed one
        // is a corrupt record.
        await insert(
          "escaped",
          `{"context": {"initial": {"s": "\\\\ud800\\\\u0000"}}, "$types": [[["context", "initial", "s"], "string"]]}`,
        );
        assert.equal((await storage.get("escaped"))!.context.initial.s, "\uD800\u0000");
        await insert(
          "escaped::bad",
          `{"context": {"initial": {"s": "\\\\ud8"}}, "$types": [[["context", "initial", "s"], "string"]]}`,
        );
        await assert.rejects(storage.get("escaped::bad"), (error: unknown) => {
          assert.ok(error instanceof CorruptRecordError);
          assert.equal(error.id, "escaped::bad");
          assert.match(error.message, /bad string value at context\.initial\.s/);
          return true;
        });
        // A UTF8 database refuses bytes that are not UTF-8 on the way in.
        await assert.rejects(
          raw(`INSERT INTO ${table} (id, workflow, workflow_version, status, state)
               VALUES (E'bytes\\xff', 'W', 1, 'pending', '{}')`),
          (error: unknown) => (error as { code?: string }).code === "22021",
        );
        await raw(`DELETE FROM ${table}`);

        // A SQL_ASCII database stores any bytes; PostgreSQL then refuses to send such a row to a
        // UTF-8 client. The read rejects with a clear DatabaseError (22021), rows that are not
        // selected stay readable, and nothing is decoded wrongly.
        const database = `${db.schema}_ascii`;
        await raw(
          `CREATE DATABASE "${database}" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
        );
        const url = new URL(db.url);
        url.pathname = `/${database}`;
        const pool = new pg.Pool({ connectionString: url.href });
        try {
          const ascii = nodePostgresDriver(pool);
          await migrate(ascii, { schema: "heph" });
          const other = new PgStorage({ driver: ascii, schema: "heph" });
          await other.put(newInstance({ id: "good", workflow: "W", initial: { s: "Zoë" } }));
          await pool.query(
            `INSERT INTO heph.workflow_instances (id, workflow, workflow_version, status, state)
             VALUES (E'bytes\\xff', 'W', 1, 'pending', E'{"context": {"initial": {"s": "\\xff\\xfe"}}}')`,
          );
          await assert.rejects(other.query({}), (error: unknown) => {
            assert.ok(error instanceof DatabaseError, String(error));
            assert.equal(error.code, "22021");
            assert.match(
              error.message,
              /^A stored string is not valid UTF-8, so the server would not send the rows of query: invalid byte sequence for encoding "UTF8": 0xff/,
            );
            return true;
          });
          assert.deepEqual((await other.get("good"))!.context.initial, { s: "Zoë" });
          assert.deepEqual(ids(await other.query({ id: "good" })), ["good"]);
          assert.equal(await other.count({}), 2);
        } finally {
          await pool.end();
          await raw(`DROP DATABASE "${database}"`);
        }
      },
    );

    await t.step("a 10 MB state round-trips through put, get, query, page and scan", async () => {
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
      assert.deepStrictEqual(
        withoutBookkeeping((await storage.query({ workflow: "Big" }))[0]),
        expected,
      );
      assert.deepStrictEqual(
        withoutBookkeeping((await storage.page({ id: "big::1" }, { limit: 1 })).items[0]),
        expected,
      );
      for await (const item of storage.scan({ workflow: "Big" })) {
        assert.deepStrictEqual(withoutBookkeeping(item), expected);
      }
      assert.deepEqual(await storage.put(big, { expectedRevision: 1 }), { revision: 2 });
      await storage.delete("big::1");
    });

    await t.step(
      "forged cursors are refused with ValidationError, never reach SQL as an error",
      async () => {
        const storage = new PgStorage({ driver, schema: db.schema });
        await storage.putMany([1, 2, 3].map((i) => newInstance({ id: `c${i}`, workflow: "C" })));
        const real = (await storage.page({}, { limit: 1 })).nextCursor!;
        const encode = (value: unknown) =>
          btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(value))))
            .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
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
          ).map((parts) => encode(parts)),
          fc.tuple(stamp, fc.oneof(anyString, fc.constantFrom(...PAYLOADS)))
            .map(([at, id]) => encode([1, at, id])),
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
      },
    );
  } finally {
    await db.drop();
  }
});

function defineSymbolKey(): Record<string, unknown> {
  return { ok: 1, [Symbol("key")]: 2 };
}
