import assert from "node:assert/strict";
import {
  ConflictError,
  migrate,
  newInstance,
  PgStorage,
  type QueryEvent,
  type SqlDriver,
  type StoredInstance,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { withTestSchema } from "./support/test_db.ts";

function waiting(id: string) {
  const instance = newInstance({
    id,
    workflow: "Jobs.Work",
    initial: { n: Number(id.split("::")[1]) },
  });
  instance.status = "waiting";
  return instance;
}

Deno.test("8 workers drain 2,000 waiting instances: each processed exactly once, dead workers' leases re-claimed", async () => {
  const db = await withTestSchema("workers");
  const driver = nodePostgresDriver(db.pool);
  try {
    await migrate(driver, { schema: db.schema });
    const storage = new PgStorage({ driver, schema: db.schema });
    for (let i = 0; i < 2000; i += 500) {
      await storage.putMany(Array.from({ length: 500 }, (_, k) => waiting(`job::${i + k}`)));
    }
    // A worker that dies holding leases: its instances come back once the leases expire.
    const orphaned = await storage.claim({
      owner: "dead",
      leaseMs: 1500,
      limit: 25,
      status: "waiting",
    });
    assert.equal(orphaned.length, 25);
    const processed = new Map<string, string>();
    const twice: string[] = [];
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      const owner = `worker-${w}`;
      for (let idle = 0; idle < 40;) {
        const batch = await storage.claim({ owner, leaseMs: 30_000, limit: 10, status: "waiting" });
        if (batch.length === 0) {
          idle++;
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        idle = 0;
        for (const instance of batch) {
          if (processed.has(instance.id)) twice.push(instance.id);
          processed.set(instance.id, owner);
          instance.status = "completed";
          instance.context.steps.work = { by: owner };
          await storage.put(instance, { owner, expectedRevision: instance.revision });
          await storage.releaseLease(instance.id, { owner });
        }
      }
    }));
    assert.deepEqual(twice, [], "no instance processed twice");
    assert.equal(processed.size, 2000, "every instance processed");
    assert.equal(await storage.count({ status: "waiting" }), 0, "none left");
    assert.equal(await storage.count({ status: "completed" }), 2000);
    for (const lost of orphaned) {
      assert.notEqual(processed.get(lost.id), "dead");
      await assert.rejects(storage.releaseLease(lost.id, { owner: "dead" }), ConflictError);
    }
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM "${db.schema}".workflow_instances WHERE revision <> 2`,
    );
    assert.equal(rows[0].n, 0, "each instance written exactly once after its insert");
  } finally {
    await db.drop();
  }
});

Deno.test("with 100,000 rows, filters and pages use indexes, not sequential scans", async (t) => {
  const db = await withTestSchema("explain");
  const driver = nodePostgresDriver(db.pool);
  const table = `"${db.schema}".workflow_instances`;
  try {
    await migrate(driver, { schema: db.schema });
    await db.pool.query(
      `INSERT INTO ${table} (id, workflow, workflow_version, status, state, inserted_at, updated_at)
       SELECT 'seed::' || g, 'Shop.Flow' || (g % 50), 1 + g % 3,
              CASE g % 100 WHEN 0 THEN 'waiting' WHEN 1 THEN 'running' WHEN 2 THEN 'failed'
                WHEN 3 THEN 'pending' ELSE 'completed' END,
              jsonb_build_object('context', jsonb_build_object(
                'initial', jsonb_build_object('order_id', g, 'customer', g % 1000),
                'steps', '{}'::jsonb)),
              now() - (g || ' seconds')::interval, now()
       FROM generate_series(1, 100000) AS g`,
    );
    // Realistic shares: most instances finished, 1% in each live status. (A status holding a
    // large share of the table is read faster by a sequential scan, and the planner knows it.)
    await db.pool.query(`ANALYZE ${table}`);
    const plans: SqlDriver = {
      async query(text, params) {
        const explained = await db.pool.query(`EXPLAIN ${text}`, params as unknown[]);
        return { rows: explained.rows, rowCount: explained.rows.length };
      },
      transaction: () => Promise.reject(new Error("unused")),
    };
    let plan = "";
    const storage = new PgStorage({
      driver: {
        ...plans,
        async query(text, params) {
          const result = await plans.query(text, params);
          plan = result.rows.map((r) => r["QUERY PLAN"]).join("\n");
          return { rows: [], rowCount: 0 };
        },
      },
      schema: db.schema,
    });
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      [
        "contextContains",
        () => storage.query({ contextContains: { initial: { order_id: 4242 } } }),
        /workflow_instances_context_idx/,
      ],
      ["status", () => storage.query({ status: "waiting" }), /workflow_instances_status_order_idx/],
      [
        "statusIn",
        () => storage.query({ statusIn: ["running", "waiting"] }),
        /workflow_instances_status_order_idx/,
      ],
      [
        "a claim",
        () => storage.claim({ owner: "w", leaseMs: 1000, limit: 10, statusIn: ["waiting"] }),
        /workflow_instances_status_order_idx/,
      ],
      [
        "workflow + workflowVersion",
        () => storage.query({ workflow: "Shop.Flow7", workflowVersion: 2 }),
        /workflow_instances_workflow_version_idx|workflow_instances_workflow_idx/,
      ],
      [
        "workflowFamily",
        () => storage.count({ workflowFamily: "Shop.Flow4" }),
        /workflow_instances_workflow_idx/,
      ],
      [
        "a page in insertion order",
        () => storage.page({}, { limit: 100 }),
        /workflow_instances_order_idx/,
      ],
      [
        "a page of a status",
        () => storage.page({ status: "waiting" }, { limit: 100 }),
        /workflow_instances_status_order_idx/,
      ],
    ];
    for (const [name, run, index] of cases) {
      await t.step(`${name} uses an index`, async () => {
        await run().catch(() => undefined);
        assert.match(plan, index, plan);
        assert.doesNotMatch(plan, /Seq Scan/, plan);
      });
    }
    await t.step("a later page starts from the cursor through the index", async () => {
      const real = new PgStorage({ driver, schema: db.schema });
      const first = await real.page({}, { limit: 100 });
      await storage.page({}, { limit: 100, cursor: first.nextCursor });
      assert.match(plan, /Index Cond/, plan);
      assert.doesNotMatch(plan, /Seq Scan|Sort/, plan);
    });
  } finally {
    await db.drop();
  }
});

Deno.test("migrations 2 and 3 apply to a version-1 table holding instances, and go back down", async () => {
  const db = await withTestSchema("upgrade");
  const driver = nodePostgresDriver(db.pool);
  try {
    await migrate(driver, { schema: db.schema, to: 1 });
    const instances = Array.from({ length: 50 }, (_, i) => waiting(`up::${i}`));
    const table = `"${db.schema}".workflow_instances`;
    for (const instance of instances) {
      await db.pool.query(
        `INSERT INTO ${table} (id, workflow, workflow_version, status, state)
         SELECT $1, $2, 1, $3, state FROM (SELECT $4::jsonb AS state) s`,
        [
          instance.id,
          instance.workflow,
          instance.status,
          JSON.stringify({ context: instance.context }),
        ],
      );
    }
    const up = await migrate(driver, { schema: db.schema });
    assert.deepEqual(up.steps.map((s) => [s.version, s.direction]), [[2, "up"], [3, "up"]]);
    const storage = new PgStorage({ driver, schema: db.schema });
    assert.equal(await storage.count({ status: "waiting" }), 50);
    const found = await storage.query({ contextContains: { initial: { n: 12 } } });
    assert.deepEqual(found.map((i) => i.id), ["up::12"], "the context index covers old rows");
    const indexes = async () =>
      (await db.pool.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE '%_state_idx'
           OR schemaname = $1 AND indexname LIKE '%_context_idx'`,
        [db.schema],
      )).rows.map((r: { indexname: string }) => r.indexname);
    assert.deepEqual(await indexes(), ["workflow_instances_context_idx"]);
    assert.deepEqual(
      (await migrate(driver, { schema: db.schema, to: 2 })).steps.map((s) => s.version),
      [3],
    );
    assert.deepEqual(await indexes(), ["workflow_instances_state_idx"]);
    const { rows: [options] } = await db.pool.query(
      `SELECT reloptions FROM pg_class WHERE oid = $1::regclass`,
      [table],
    );
    assert.equal(options.reloptions, null, "going down resets parallel_workers");
    await migrate(driver, { schema: db.schema });
    const claimed = await storage.claim({
      owner: "w",
      leaseMs: 10_000,
      limit: 3,
      status: "waiting",
    });
    assert.deepEqual(claimed.map((i) => i.id), ["up::0", "up::1", "up::2"].sort());
    assert.equal((await storage.get("up::7"))!.context.initial.n, 7);
    const down = await migrate(driver, { schema: db.schema, to: 1 });
    assert.deepEqual(down.steps.map((s) => [s.version, s.direction]), [[3, "down"], [2, "down"]]);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
    assert.equal(rows[0].n, 50, "going down keeps the instances");
    const columns = await db.pool.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND column_name LIKE 'lease%'`,
      [db.schema],
    );
    assert.deepEqual(columns.rows, []);
    await assert.rejects(storage.get("up::1"), /not migrated to the latest version/);
    await migrate(driver, { schema: db.schema });
    assert.equal((await storage.get("up::1"))!.lease, null, "leases do not survive a downgrade");
  } finally {
    await db.drop();
  }
});

Deno.test("onQuery sees every statement with its operation, duration and rows, never its values", async () => {
  const db = await withTestSchema("onquery");
  const driver = nodePostgresDriver(db.pool);
  try {
    await migrate(driver, { schema: db.schema });
    const events: QueryEvent[] = [];
    const storage = new PgStorage({
      driver,
      schema: db.schema,
      onQuery: (event) => {
        events.push(event);
        throw new Error("a broken hook is ignored");
      },
    });
    // A value no duration, count or SQL text can hold by chance (digits could: durationMs).
    const card = "card-Qx-secret";
    const secret = newInstance({ id: "secret::1", workflow: "W", initial: { card } });
    await storage.put(secret);
    await storage.put(secret, { expectedRevision: 1 });
    await storage.get("secret::1");
    await storage.query({ contextContains: { initial: { card } } });
    await storage.page({}, { limit: 5 });
    await storage.count({});
    await storage.claim({ owner: "w", leaseMs: 1000 });
    await storage.renewLease("secret::1", { owner: "w", leaseMs: 1000 });
    await storage.releaseLease("secret::1", { owner: "w" });
    await storage.putMany([newInstance({ id: "other", workflow: "W" })]);
    await storage.prune({ olderThan: new Date(0) });
    await storage.delete("secret::1");
    await assert.rejects(storage.put(secret, { expectedRevision: 5 }), ConflictError);
    const names = events.map((e) => e.operation);
    assert.deepEqual(names, [
      "put",
      "put",
      "get",
      "query",
      "page",
      "count",
      "claim",
      "renewLease",
      "releaseLease",
      "putMany",
      "prune",
      "delete",
      "put",
    ]);
    for (const event of events) {
      assert.ok(event.durationMs >= 0 && event.durationMs < 10_000);
      assert.ok(!JSON.stringify(event).includes(card), "no parameter value reaches the hook");
      // The id is named only as the instance the operation is about, never inside other fields.
      const { instanceId, ...rest } = event;
      assert.ok(!JSON.stringify(rest).includes("secret::1"), "the id only as instanceId");
      assert.ok(instanceId === undefined || instanceId === "secret::1");
      assert.ok(event.sql.length > 0);
    }
    assert.equal(events[2]?.rowCount, 1);
    const unmigrated = new PgStorage({
      driver,
      schema: `${db.schema}_none`,
      onQuery: (e) => events.push(e),
    });
    await assert.rejects(unmigrated.get("x"));
    assert.equal(events.at(-1)!.error?.code, "42P01");
    assert.equal(events.at(-1)!.rowCount, 0);
  } finally {
    await db.drop();
  }
});

Deno.test("an async onQuery hook that rejects is ignored, and not awaited", async () => {
  const db = await withTestSchema("onquery_async");
  const driver = nodePostgresDriver(db.pool);
  try {
    await migrate(driver, { schema: db.schema });
    let calls = 0;
    let settled = 0;
    const storage = new PgStorage({
      driver,
      schema: db.schema,
      onQuery: async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        settled++;
        throw new Error("a rejected hook is ignored");
      },
    });
    await storage.put(newInstance({ id: "a::1", workflow: "W" }));
    assert.equal(settled, 0, "the operation did not wait for the hook");
    await assert.rejects(
      storage.put(newInstance({ id: "a::1", workflow: "W" }), { expectedRevision: 0 }),
      ConflictError,
    );
    const thenable = new PgStorage({
      driver,
      schema: db.schema,
      onQuery: () =>
        ({
          then: () => {
            throw new Error("a broken thenable");
          },
        }) as unknown as Promise<void>,
    });
    assert.ok(await thenable.get("a::1"));
    // Unhandled rejections fail this test: give the hooks time to reject.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(calls, 2);
    assert.equal(settled, 2);
  } finally {
    await db.drop();
  }
});

Deno.test("scan() holds one page at a time", async () => {
  const db = await withTestSchema("scan");
  const driver = nodePostgresDriver(db.pool);
  try {
    await migrate(driver, { schema: db.schema });
    const pages: number[] = [];
    const storage = new PgStorage({
      driver,
      schema: db.schema,
      onQuery: (e) => e.operation === "page" && pages.push(e.rowCount),
    });
    await storage.putMany(Array.from({ length: 95 }, (_, i) => waiting(`scan::${i}`)));
    const seen: StoredInstance[] = [];
    const iterator = storage.scan({ status: "waiting" }, { batchSize: 20 })[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(first.done, false);
    assert.deepEqual(pages, [21], "only the first page was read");
    seen.push(first.value as StoredInstance);
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      seen.push(next.value);
    }
    assert.equal(seen.length, 95);
    assert.deepEqual(pages, [21, 21, 21, 21, 15]);
  } finally {
    await db.drop();
  }
});
