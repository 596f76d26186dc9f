/**
 * Rows other programs wrote (or that a damaged table holds): each field of `state` with each
 * JSON type, prototype-pollution payloads, values the table's constraints forbid, deep
 * nesting, unusual text and bytes that are not UTF-8. Each is decoded safely or refused with a
 * CorruptRecordError naming the row; nothing dies without naming it.
 *
 * @module
 */
import assert from "node:assert/strict";
import pg from "pg";
import {
  CorruptRecordError,
  DatabaseError,
  migrate,
  newInstance,
  PgStorage,
  SerializationError,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import {
  type HostileSchema,
  ids,
  outcome,
  rawInsert,
  withHostileSchema,
} from "./support/hostile_input.ts";

Deno.test("rows other programs wrote: each field of state with each JSON type is decoded or refused naming the row", () =>
  withHostileSchema("foreign_fields", async (db) => {
    const { driver, raw, table } = db;
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
    const insert = rawInsert(raw, table);
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
  }));

Deno.test("rows other programs wrote: prototype-pollution payloads stay plain data", () =>
  withHostileSchema("foreign_proto", async (db) => {
    const { driver, raw, table } = db;
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
    const insert = rawInsert(raw, table);
    for (const [i, state] of states.entries()) await insert(`proto::${i}`, state);
    const read = await storage.query({ workflow: "W" });
    assert.deepEqual(ids(read), ["proto::0", "proto::1", "proto::2", "proto::3"]);
    const [configs, history, typed, renamed] = read;
    assert.ok(configs && history && typed && renamed, "four rows");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    const own = (object: unknown, key: string) =>
      Object.getOwnPropertyDescriptor(object as object, key)?.value;
    assert.deepEqual(own(configs.stepConfigs, "__proto__"), { polluted: true });
    assert.equal(Object.getPrototypeOf(configs.stepConfigs), Object.prototype);
    assert.deepEqual(own(configs.runtimeMetadata, "constructor"), {
      prototype: { polluted: true },
    });
    const updates = history.executionHistory.at(0)?.contextUpdates;
    assert.deepEqual(own(updates, "__proto__"), { polluted: true });
    const initial = typed.context.initial;
    assert.deepEqual([...(initial.m as Map<string, unknown>).keys()], ["__proto__"]);
    assert.deepEqual(initial.s, new Set(["__proto__"]));
    assert.ok(own(initial, "__proto__") instanceof Date);
    assert.equal(Object.getPrototypeOf(initial), Object.prototype);
    assert.deepEqual(own(renamed.context.initial, "__proto__"), { polluted: true });
    assert.deepEqual(own(renamed.context.initial, "constructor"), { polluted: true });
    assert.equal(Object.getPrototypeOf(renamed.context.initial), Object.prototype);
  }));

/**
 * Stores good::1…3, drops the table's check constraints, then for each column writes one row
 * holding a value they forbid, runs `check` with its id and the column, and deletes the row.
 */
async function eachCorruptRow(
  { driver, raw, table, schema }: HostileSchema,
  check: (storage: PgStorage, id: string, what: string) => Promise<void>,
): Promise<PgStorage> {
  const storage = new PgStorage({ driver, schema });
  for (const id of ["good::1", "good::2", "good::3"]) {
    await storage.put(newInstance({ id, workflow: "Mixed" }));
  }
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
    await check(storage, id, what);
    await raw(`DELETE FROM ${table} WHERE id = $1`, [id]);
  }
  return storage;
}

Deno.test("a corrupt row among good ones: get, query, page, scan and claim name it", () =>
  withHostileSchema("foreign_corrupt", async (db) => {
    const checks = (id: string) => (error: unknown) => {
      assert.ok(error instanceof CorruptRecordError, String(error));
      assert.equal(error.id, id);
      return true;
    };
    await eachCorruptRow(db, async (storage, id, what) => {
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
    });
  }));

Deno.test("a corrupt row among good ones: count still counts it, and reads that skip it work", () =>
  withHostileSchema("foreign_skip", async (db) => {
    const storage = await eachCorruptRow(db, async (storage) => {
      assert.equal(await storage.count({}), 4);
      // The good rows stay readable one by one, and filters that skip the bad row work.
      assert.deepEqual(ids(await storage.query({ id: "good::2" })), ["good::2"]);
    });
    assert.deepEqual(ids(await storage.query({})), ["good::1", "good::2", "good::3"]);
  }));

Deno.test("rows other programs wrote: 5000 levels of nesting are read back, and writing them back is refused with SerializationError", () =>
  withHostileSchema("foreign_deep", async (db) => {
    const { driver, raw, table } = db;
    const storage = new PgStorage({ driver, schema: db.schema });
    const insert = rawInsert(raw, table);
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
  }));

Deno.test("rows other programs wrote: text that is valid UTF-8 but unusual comes back exactly", () =>
  withHostileSchema("foreign_text", async (db) => {
    const { driver, raw, table } = db;
    const storage = new PgStorage({ driver, schema: db.schema });
    const insert = rawInsert(raw, table);
    // Text that is valid UTF-8 but unusual comes back exactly.
    const odd = "\uFFFE\uFFFF \u{10FFFF} \u{1F600} \u200B\u2028 \\ud800 \\u0000 \x7F";
    await insert("odd", JSON.stringify({ context: { initial: { [odd]: odd } } }));
    assert.deepEqual((await storage.get("odd"))!.context.initial, { [odd]: odd });
  }));

Deno.test("rows other programs wrote: escaped text under a string annotation decodes; a malformed escape is a corrupt record", () =>
  withHostileSchema("foreign_escaped", async (db) => {
    const { driver, raw, table } = db;
    const storage = new PgStorage({ driver, schema: db.schema });
    const insert = rawInsert(raw, table);
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
  }));

Deno.test("a UTF8 database refuses bytes that are not UTF-8 on the way in", () =>
  withHostileSchema("foreign_utf8", async (db) => {
    const { raw, table } = db;
    // A UTF8 database refuses bytes that are not UTF-8 on the way in.
    await assert.rejects(
      raw(`INSERT INTO ${table} (id, workflow, workflow_version, status, state)
               VALUES (E'bytes\\xff', 'W', 1, 'pending', '{}')`),
      (error: unknown) => (error as { code?: string }).code === "22021",
    );
  }));

Deno.test("a SQL_ASCII database: a row that is not UTF-8 fails the read with DatabaseError 22021; rows not selected stay readable", () =>
  withHostileSchema("foreign_ascii", async (db) => {
    const { raw } = db;
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
  }));
