import assert from "node:assert/strict";
import pg from "pg";
import {
  CorruptRecordError,
  DatabaseError,
  isConnectionError,
  migrate,
  newInstance,
  PgStorage,
  type SqlDriver,
  ValidationError,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import {
  freshSchemaStorage,
  richInstance,
  STORAGE_CASES,
  storageConformance,
} from "../testing/storage_conformance.ts";
import { checkDriverConformance } from "./support/conformance.ts";
import { withTestSchema } from "./support/test_db.ts";
import { recordingDriver } from "./support/recording_driver.ts";

Deno.test("PgStorage on node-postgres honours the Storage contract", async (t) => {
  const db = await withTestSchema("contract");
  try {
    await checkDriverConformance(t, nodePostgresDriver(db.pool), db.schema);
  } finally {
    await db.drop();
  }
});

Deno.test("PgStorage on a single pg.Client honours the Storage contract", async (t) => {
  const db = await withTestSchema("client");
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await checkDriverConformance(t, nodePostgresDriver(client), db.schema);
  } finally {
    await client.end();
    await db.drop();
  }
});

Deno.test("PgStorage", async (t) => {
  const db = await withTestSchema("pgstorage");
  const { driver, sent } = recordingDriver(nodePostgresDriver(db.pool));
  const table = `"${db.schema}".workflow_instances`;
  const raw = (text: string, params: unknown[] = []) => db.pool.query(text, params);
  try {
    await migrate(driver, { schema: db.schema });
    const storage = new PgStorage({ driver, schema: db.schema });

    await t.step("every operation sends exactly one statement", async () => {
      const instance = newInstance({ id: "one::1", workflow: "W" });
      const operations: [string, () => Promise<unknown>][] = [
        ["put (insert)", () => storage.put(instance)],
        ["put (update)", () => storage.put(instance)],
        ["put (expectedRevision 2)", () => storage.put(instance, { expectedRevision: 2 })],
        [
          "put (expectedRevision 0, conflict)",
          () => storage.put(instance, { expectedRevision: 0 }).catch(() => undefined),
        ],
        ["get", () => storage.get("one::1")],
        ["query", () => storage.query({ statusIn: ["pending", "running"], workflowFamily: "W" })],
        ["put (owner)", () => storage.put(instance, { owner: "w" })],
        [
          "put (owner, expectedRevision)",
          () => storage.put(instance, { owner: "w", expectedRevision: 4 }),
        ],
        [
          "putMany",
          () => storage.putMany([newInstance({ id: "one::2", workflow: "W" }), instance]),
        ],
        ["page", () => storage.page({ status: "pending" }, { limit: 1 })],
        ["count", () => storage.count({ contextContains: { initial: {} } })],
        ["claim", () => storage.claim({ owner: "w", leaseMs: 1000, limit: 2 })],
        ["renewLease", () => storage.renewLease("one::1", { owner: "w", leaseMs: 1000 })],
        [
          "renewLease (lost)",
          () => storage.renewLease("one::1", { owner: "x", leaseMs: 1000 }).catch(() => undefined),
        ],
        ["releaseLease", () => storage.releaseLease("one::1", { owner: "w" })],
        ["prune", () => storage.prune({ olderThan: new Date(0) })],
        ["delete", () => storage.delete("one::1")],
        ["delete (missing)", () => storage.delete("one::1")],
      ];
      for (const [name, operation] of operations) {
        sent.length = 0;
        await operation();
        assert.equal(sent.length, 1, `${name} sent ${sent.length} statements`);
      }
      sent.length = 0;
      await assert.rejects(storage.put({ ...instance, status: "nope" as never }), ValidationError);
      await assert.rejects(storage.query({ nope: 1 } as never), ValidationError);
      assert.equal(sent.length, 0, "invalid input never reaches the database");
    });

    await t.step("the schema name is validated at construction", () => {
      for (
        const schema of [
          "Public",
          "a-b",
          "1abc",
          "",
          "x".repeat(64),
          'x"; DROP TABLE y; --',
          7,
          "a$lz4$",
        ]
      ) {
        assert.throws(() => new PgStorage({ driver, schema: schema as string }), ValidationError);
      }
      assert.throws(() => new PgStorage({} as never), ValidationError);
      assert.equal(new PgStorage({ driver }).schema, "public");
      assert.equal(new PgStorage({ driver, schema: "x".repeat(63) }).schema.length, 63);
    });

    await t.step("state keeps the Elixir adapter's layout in natural JSON", async () => {
      const instance = richInstance("layout::1");
      await storage.put(instance);
      const { rows: [row] } = await raw(
        `SELECT workflow, workflow_version, status, state, revision FROM ${table} WHERE id = $1`,
        ["layout::1"],
      );
      assert.equal(row.workflow, "Shop.OrderWorkflow");
      assert.equal(row.workflow_version, 3);
      assert.equal(row.status, "running");
      assert.equal(row.revision, "1");
      const state = row.state;
      assert.equal(state.current_step, "reserve");
      assert.deepEqual(state.active_steps, ["audit", "reserve"]);
      assert.deepEqual(state.completed_steps, ["validate"]);
      assert.equal(state.context.initial.order_id, 123);
      assert.equal(state.context.initial.placed_at, "2026-11-25T10:20:30.456Z");
      assert.deepEqual(state.step_configs.reserve, { timeout_ms: 5000, retries: 3 });
      assert.deepEqual(state.execution_history[0], {
        step_ref: "validate",
        event: "started",
        timestamp: "2026-11-25T10:20:31.000Z",
        context_updates: null,
      });
      assert.deepEqual(state.telemetry_metadata, { trace_id: "abc123", span: { id: 7 } });
      assert.ok(Array.isArray(state.$types));
      await storage.put(newInstance({ id: "layout::2", workflow: "W", initial: { a: [1, "x"] } }));
      const plain = await raw(`SELECT state FROM ${table} WHERE id = 'layout::2'`);
      assert.equal("$types" in plain.rows[0].state, false, "no annotations for plain JSON");
      assert.deepEqual(Object.keys(plain.rows[0].state).sort(), [
        "active_steps",
        "completed_steps",
        "context",
        "current_step",
        "execution_history",
        "runtime_metadata",
        "step_configs",
        "telemetry_metadata",
      ]);
    });

    await t.step(
      "a raw JSONB containment query finds instances through the GIN index",
      async () => {
        await storage.put(newInstance({ id: "gin::1", workflow: "W", initial: { order_id: 987 } }));
        const text = `SELECT id FROM ${table} WHERE state -> 'context' @> $1::jsonb`;
        const probe = JSON.stringify({ initial: { order_id: 987 } });
        assert.deepEqual((await raw(text, [probe])).rows, [{ id: "gin::1" }]);
        const client = await db.pool.connect();
        try {
          await client.query("SET enable_seqscan = off");
          const plan = await client.query(`EXPLAIN ${text.replace("$1", `'${probe}'`)}`);
          const lines = plan.rows.map((r: Record<string, string>) => r["QUERY PLAN"]).join("\n");
          assert.match(lines, /workflow_instances_context_idx/);
        } finally {
          await client.query("RESET enable_seqscan");
          client.release();
        }
      },
    );

    await t.step(
      "indexes serve status, insertion order, workflow, (workflow, version) and context",
      async () => {
        const { rows } = await raw(
          `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`,
          [db.schema],
        );
        const defs = Object.fromEntries(
          rows.map((r: Record<string, string>) => [r.indexname, r.indexdef]),
        );
        assert.equal(defs.workflow_instances_status_idx, undefined, "replaced by status_order_idx");
        assert.match(
          defs.workflow_instances_status_order_idx,
          /\(status, inserted_at, id COLLATE "C"\)/,
        );
        assert.match(defs.workflow_instances_order_idx, /\(inserted_at, id COLLATE "C"\)/);
        assert.match(defs.workflow_instances_workflow_idx, /\(workflow text_pattern_ops\)/);
        assert.match(
          defs.workflow_instances_workflow_version_idx,
          /\(workflow, workflow_version\)/,
        );
        assert.equal(defs.workflow_instances_state_idx, undefined, "replaced by context_idx");
        assert.match(
          defs.workflow_instances_context_idx,
          /gin \(\(\(state -> 'context'::text\)\) jsonb_path_ops\)/,
        );
        assert.match(defs.workflow_instances_pkey, /\(id\)/);
        const { rows: [options] } = await raw(
          `SELECT reloptions FROM pg_class WHERE oid = $1::regclass`,
          [table],
        );
        assert.deepEqual(options.reloptions, ["parallel_workers=0"]);
      },
    );

    await t.step(
      "concurrent putMany() of the same ids in opposite orders never deadlock",
      async () => {
        const ids = Array.from({ length: 200 }, (_, i) => `bulk::${String(i).padStart(3, "0")}`);
        const orders = [
          ids,
          [...ids].reverse(),
          ids.filter((_, i) => i % 2).concat(
            ids.filter((_, i) => i % 2 === 0).reverse(),
          ),
          [...ids].reverse(),
        ];
        const rounds = 5;
        // Each client on a connection of its own, all at once, round after round.
        await Promise.all(orders.map(async (order) => {
          for (let round = 0; round < rounds; round++) {
            const instances = order.map((id) => newInstance({ id, workflow: "Bulk" }));
            const { revisions } = await storage.putMany(instances);
            assert.equal(revisions.length, order.length);
          }
        }));
        const stored = await storage.query({ workflow: "Bulk" });
        assert.equal(stored.length, ids.length);
        for (const instance of stored) {
          assert.equal(instance.revision, orders.length * rounds, instance.id);
        }
        const last = await storage.putMany(
          [...ids].reverse().map((id) => newInstance({ id, workflow: "Bulk" })),
        );
        assert.ok(last.revisions.every((r) => r === orders.length * rounds + 1));
        await raw(`DELETE FROM ${table} WHERE workflow = 'Bulk'`);
      },
    );

    await t.step("two schemas are two tenants that never see each other", async () => {
      const other = `${db.schema}_b`;
      await migrate(driver, { schema: other });
      try {
        const tenantB = new PgStorage({ driver, schema: other });
        await tenantB.put(newInstance({ id: "tenant::1", workflow: "B" }));
        await storage.put(newInstance({ id: "tenant::1", workflow: "A" }));
        assert.equal((await tenantB.get("tenant::1"))!.workflow, "B");
        assert.equal((await storage.get("tenant::1"))!.workflow, "A");
        assert.deepEqual((await tenantB.query({})).map((i) => i.id), ["tenant::1"]);
        await tenantB.delete("tenant::1");
        assert.ok(await storage.get("tenant::1"));
      } finally {
        await raw(`DROP SCHEMA "${other}" CASCADE`);
      }
    });

    await t.step("timestamps come back at the millisecond they were stored", async () => {
      await storage.put(newInstance({ id: "ts::1", workflow: "W" }));
      const stored = (await storage.get("ts::1"))!;
      const { rows: [row] } = await raw(
        `SELECT (extract(epoch FROM inserted_at) * 1000)::float8 AS ms FROM ${table} WHERE id = 'ts::1'`,
      );
      assert.equal(stored.insertedAt.getTime(), row.ms);
      const [queried] = await storage.query({ id: "ts::1" });
      assert.ok(queried, "the query finds it");
      assert.equal(queried.updatedAt.getTime(), stored.updatedAt.getTime());
    });

    await t.step("foreign sub-millisecond timestamps are floored to the millisecond", async () => {
      await raw(
        `INSERT INTO ${table} (id, workflow, workflow_version, status, state, inserted_at, updated_at,
          lease_owner, lease_expires_at)
         VALUES ('ts::old', 'W', 1, 'pending', '{}', '1969-12-31 23:59:59.0001+00',
          '1969-12-31 23:59:59.9995+00', 'w', '1970-01-01 00:00:00.0009+00')`,
      );
      try {
        const stored = (await storage.get("ts::old"))!;
        assert.equal(stored.insertedAt.getTime(), -1000);
        assert.equal(stored.updatedAt.getTime(), -1);
        assert.equal(stored.lease!.expiresAt.getTime(), 0);
      } finally {
        await raw(`DELETE FROM ${table} WHERE id = 'ts::old'`);
      }
    });

    await t.step("rows written by other programs are decoded safely", async () => {
      const insert = (id: string, state: string, status = "pending") =>
        raw(
          `INSERT INTO ${table} (id, workflow, workflow_version, status, state) VALUES ($1, 'W', 1, $2, $3::jsonb)`,
          [id, status, state],
        );
      await insert("old::1", `{"context": {"initial": {"a": 1}}}`);
      const old = (await storage.get("old::1"))!;
      assert.deepEqual(old.context, { initial: { a: 1 }, steps: {} });
      assert.deepEqual(old.activeSteps, new Set());
      assert.deepEqual(old.executionHistory, []);
      assert.equal(old.currentStep, null);
      assert.equal(old.revision, 1);

      await insert(
        "proto::1",
        `{"context": {"initial": {"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}}}`,
      );
      const proto = (await storage.get("proto::1"))!;
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.deepEqual(Object.getOwnPropertyDescriptor(proto.context.initial, "__proto__")?.value, {
        polluted: true,
      });
      assert.equal(Object.getPrototypeOf(proto.context.initial), Object.prototype);

      const corrupt: [string, string][] = [
        ["bad::steps", `{"active_steps": "validate"}`],
        ["bad::steps2", `{"active_steps": [1, 2]}`],
        ["bad::context", `{"context": []}`],
        ["bad::initial", `{"context": {"initial": 5}}`],
        ["bad::history", `{"execution_history": [{"step_ref": "a"}]}`],
        [
          "bad::when",
          `{"execution_history": [{"step_ref": "a", "event": "b", "timestamp": "yesterday"}]}`,
        ],
        ["bad::state", `[1, 2]`],
        ["bad::types", `{"$types": "nope"}`],
        ["bad::path", `{"$types": [[["context", "initial", "x"], "Date"]]}`],
        ["bad::proto", `{"$types": [[["context", "__proto__"], "Date"]]}`],
        [
          "bad::tag",
          `{"context": {"initial": {"x": 1}}, "$types": [[["context", "initial", "x"], "Evil"]]}`,
        ],
        [
          "bad::date",
          `{"context": {"initial": {"x": "nope"}}, "$types": [[["context", "initial", "x"], "Date"]]}`,
        ],
        [
          "bad::bigint",
          `{"context": {"initial": {"x": "1e3"}}, "$types": [[["context", "initial", "x"], "bigint"]]}`,
        ],
      ];
      for (const [id, state] of corrupt) {
        await insert(id, state);
        await assert.rejects(storage.get(id), (error: unknown) => {
          assert.ok(error instanceof CorruptRecordError, `${id}: ${error}`);
          assert.equal(error.id, id);
          assert.ok(error.message.includes(id));
          return true;
        });
        await raw(`DELETE FROM ${table} WHERE id = $1`, [id]);
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);

      await insert("bad::time", "{}");
      await raw(`UPDATE ${table} SET updated_at = 'infinity' WHERE id = 'bad::time'`);
      await assert.rejects(storage.get("bad::time"), (error: unknown) => {
        assert.ok(error instanceof CorruptRecordError, String(error));
        assert.equal(error.id, "bad::time");
        return true;
      });
      await raw(`DELETE FROM ${table} WHERE id = 'bad::time'`);

      await raw(`ALTER TABLE ${table} DROP CONSTRAINT workflow_instances_status_check`);
      await insert("bad::status", "{}", "paused");
      await assert.rejects(storage.query({}), (error: unknown) => {
        assert.ok(error instanceof CorruptRecordError);
        assert.equal(error.id, "bad::status");
        return true;
      });
      await raw(`DELETE FROM ${table} WHERE id = 'bad::status'`);
    });

    await t.step(
      "database errors keep their SQLSTATE; a missing table says to migrate",
      async () => {
        const unmigrated = new PgStorage({ driver, schema: `${db.schema}_none` });
        await assert.rejects(unmigrated.get("x"), (error: unknown) => {
          assert.ok(error instanceof DatabaseError);
          assert.equal(error.code, "42P01");
          assert.match(error.message, /migrate/);
          assert.ok(error.cause, "the driver's error is the cause");
          return true;
        });
        const broken: SqlDriver = {
          query: () =>
            Promise.reject(Object.assign(new Error("deadlock detected"), { code: "40P01" })),
          transaction: () => Promise.reject(new Error("unused")),
        };
        await assert.rejects(new PgStorage({ driver: broken }).get("x"), (error: unknown) => {
          assert.ok(error instanceof DatabaseError);
          assert.equal(error.code, "40P01");
          assert.equal(error.name, "DatabaseError");
          return true;
        });
      },
    );
  } finally {
    await db.drop();
  }
});

Deno.test("lost connections, timeouts, denied permissions and bad bytes say what happened", async () => {
  const failing = (error: unknown): SqlDriver => ({
    query: () => Promise.reject(error),
    transaction: () => Promise.reject(error),
  });
  const serverError = (code: string, message: string) =>
    Object.assign(new Error(message), { code });
  const cases: [unknown, string, string, RegExp, boolean][] = [
    [
      serverError("57P01", "terminating connection due to administrator command"),
      "put",
      "57P01",
      /^Connection lost during put, which may or may not have been applied: terminating/,
      true,
    ],
    [
      Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
      "delete",
      "08006",
      /^Connection lost during delete, which may/,
      true,
    ],
    [
      Object.assign(new Error("write EPIPE"), { code: "EPIPE" }), // shaped like a SQLSTATE
      "put",
      "08006",
      /^Connection lost during put, which may or may not have been applied: write EPIPE$/,
      true,
    ],
    [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
      "put",
      "08001",
      /^Cannot run put, no connection to the database: connect ECONNREFUSED/,
      true,
    ],
    [
      serverError("57P03", "the database system is starting up"),
      "get",
      "57P03",
      /^Cannot run get, no connection/,
      true,
    ],
    [
      serverError("57014", "canceling statement due to statement timeout"),
      "put",
      "57014",
      /^The put statement was canceled and rolled back: canceling statement due to statement timeout \(statement_timeout elapsed/,
      false,
    ],
    [
      serverError("55P03", "canceling statement due to lock timeout"),
      "put",
      "55P03",
      /^The put statement was canceled and rolled back: .*another session holds a lock/,
      false,
    ],
    [
      serverError("42501", "permission denied for schema t"),
      "get",
      "42501",
      /^Permission denied for get on "public".workflow_instances: permission denied for schema t \(.*deno run -A jsr:@heph\/pg\/cli migrate --grant <role>\)$/,
      false,
    ],
    [
      serverError("22021", 'invalid byte sequence for encoding "UTF8": 0xff'),
      "get",
      "22021",
      /^A stored string is not valid UTF-8/,
      false,
    ],
    [serverError("40P01", "deadlock detected"), "get", "40P01", /^deadlock detected$/, false],
  ];
  const run = (storage: PgStorage, operation: string) =>
    operation === "put"
      ? storage.put(newInstance({ id: "a", workflow: "W" }))
      : operation === "delete"
      ? storage.delete("a")
      : storage.get("a");
  for (const [thrown, operation, code, message, connection] of cases) {
    await assert.rejects(
      run(new PgStorage({ driver: failing(thrown) }), operation),
      (error: unknown) => {
        assert.ok(error instanceof DatabaseError, String(error));
        assert.equal(error.code, code);
        assert.match(error.message, message);
        assert.equal(isConnectionError(error), connection, code);
        assert.equal(error.cause, thrown, "the driver's error is the cause");
        return true;
      },
    );
  }
  assert.equal(isConnectionError(new Error("57P01")), false);
  assert.equal(isConnectionError(null), false);
});

Deno.test("node-postgres failures reported in words only get a connection SQLSTATE from the driver", async () => {
  // node-postgres gives these errors no code; its adapter names the failure, the core reads no
  // message text. Each is thrown by the client, through a Pool and through a single Client.
  const cases: [Error, string, string, RegExp][] = [
    [
      new Error("Connection terminated unexpectedly"),
      "get",
      "08006",
      /^Connection lost during get: Connection terminated unexpectedly$/,
    ],
    [
      new Error("Connection terminated due to connection timeout"),
      "put",
      "08006",
      /^Connection lost during put, which may or may not have been applied: Connection terminated/,
    ],
    [
      new Error("Client has encountered a connection error and is not queryable"),
      "get",
      "08006",
      /^Connection lost during get: /,
    ],
    [
      new Error("Client was closed and is not queryable"),
      "put",
      "08003",
      /^Cannot run put, no connection to the database: /,
    ],
  ];
  for (const [thrown, operation, code, message] of cases) {
    const client = { query: () => Promise.reject(thrown) };
    const pool = { ...client, idleCount: 0, connect: () => Promise.reject(thrown) };
    for (const driver of [nodePostgresDriver(client), nodePostgresDriver(pool)]) {
      const storage = new PgStorage({ driver });
      await assert.rejects(
        operation === "put"
          ? storage.put(newInstance({ id: "a", workflow: "W" }))
          : storage.get("a"),
        (error: unknown) => {
          assert.ok(error instanceof DatabaseError, String(error));
          assert.equal(error.code, code);
          assert.match(error.message, message);
          assert.ok(isConnectionError(error), code);
          assert.equal(error.cause, thrown, "the driver's error is the cause");
          return true;
        },
      );
      await assert.rejects(driver.transaction([{ text: "SELECT 1" }]), (error: unknown) => {
        assert.equal(error, thrown, "the client's own error, given the code");
        assert.equal((error as { code?: unknown }).code, code);
        return true;
      });
    }
  }
  const frozen = Object.freeze(new Error("Connection terminated unexpectedly"));
  const driver = nodePostgresDriver({ query: () => Promise.reject(frozen) });
  await assert.rejects(new PgStorage({ driver }).get("a"), (error: unknown) => {
    assert.ok(isConnectionError(error));
    assert.equal(error.code, "08006");
    const converted = error.cause;
    assert.ok(converted instanceof DatabaseError, "the driver converted the frozen error");
    assert.equal(converted.cause, frozen, "a frozen error is the cause of the converted one");
    return true;
  });
});

Deno.test("storageConformance() with freshSchemaStorage() passes on node-postgres", async () => {
  const db = await withTestSchema("fresh");
  try {
    const driver = nodePostgresDriver(db.pool);
    const report = await storageConformance("node-postgres", freshSchemaStorage(driver, db.schema));
    assert.deepEqual(report.results.filter((r) => !r.ok), []);
    assert.equal(report.passed, STORAGE_CASES.length);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE $1`,
      [`${db.schema}_%`],
    );
    assert.equal(rows[0].n, 0, "every case's schema was dropped");
  } finally {
    await db.drop();
  }
});

Deno.test("estimateCount() counts exactly until the table has statistics, then estimates", async () => {
  const db = await withTestSchema("estimate");
  try {
    const driver = nodePostgresDriver(db.pool);
    await migrate(driver, { schema: db.schema });
    const events: string[] = [];
    const storage = new PgStorage({
      driver,
      schema: db.schema,
      onQuery: (event) => events.push(event.operation),
    });
    assert.deepEqual(await storage.estimateCount(), { count: 0, estimated: false });
    await storage.putMany(
      Array.from({ length: 40 }, (_, i) => newInstance({ id: `e::${i}`, workflow: "E" })),
    );
    assert.deepEqual(await storage.estimateCount(), { count: 40, estimated: false });
    await db.pool.query(`ANALYZE "${db.schema}".workflow_instances`);
    assert.deepEqual(await storage.estimateCount(), { count: 40, estimated: true });
    assert.deepEqual(events, ["estimateCount", "putMany", "estimateCount", "estimateCount"]);
  } finally {
    await db.drop();
  }
});
