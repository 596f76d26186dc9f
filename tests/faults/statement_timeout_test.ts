/**
 * A statement that hangs because another session holds a lock on its row: the timeouts a user
 * sets on the connection (`statement_timeout`, `lock_timeout`, in the client's options, the
 * URL or on the role) cancel it on the server, and the operation rejects with a clear
 * DatabaseError; nothing is written and the pool keeps working.
 *
 * @module
 */
import assert from "node:assert/strict";
import pg from "pg";
import {
  DatabaseError,
  grantRuntimeAccess,
  migrate,
  newInstance,
  PgStorage,
  type Storage,
} from "../../mod.ts";
import { nodePostgresDriver } from "../../drivers/node_postgres.ts";
import { pause } from "../support/fault_load.ts";
import { withTestSchema } from "../support/test_db.ts";

/** Another session that holds row `id` locked (as an unfinished UPDATE does) until released. */
async function lockRow(url: string, table: string, id: string): Promise<() => Promise<void>> {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  await holder.query("BEGIN");
  await holder.query(`SELECT 1 FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
  return async () => {
    await holder.query("ROLLBACK");
    await holder.end();
  };
}

/** Asserts that `operation` rejects with `code` and a clear message, in well under a second. */
async function rejectsInTime(
  operation: Promise<unknown>,
  name: string,
  code: "57014" | "55P03",
): Promise<void> {
  const started = performance.now();
  await assert.rejects(operation, (error: unknown) => {
    assert.ok(error instanceof DatabaseError, String(error));
    assert.equal(error.code, code);
    const why = code === "57014"
      ? /canceling statement due to statement timeout \(statement_timeout elapsed/
      : /canceling statement due to lock timeout \(another session holds a lock it needs/;
    assert.match(
      error.message,
      new RegExp(`^The ${name} statement was canceled and rolled back: `),
    );
    assert.match(error.message, why);
    return true;
  });
  const took = performance.now() - started;
  assert.ok(took < 3000, `${name} took ${took.toFixed(0)} ms`);
}

Deno.test("a statement blocked by another session's lock honours the timeout set on the connection", async (t) => {
  const db = await withTestSchema("fault_timeout");
  const table = `"${db.schema}".workflow_instances`;
  const owner = nodePostgresDriver(db.pool);
  const pools: pg.Pool[] = [];
  const storageWith = (config: pg.PoolConfig): { storage: Storage; pool: pg.Pool } => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2, ...config });
    pools.push(pool);
    return {
      storage: new PgStorage({ driver: nodePostgresDriver(pool), schema: db.schema }),
      pool,
    };
  };
  try {
    await migrate(owner, { schema: db.schema });
    const admin = new PgStorage({ driver: owner, schema: db.schema });
    await admin.put(newInstance({ id: "locked::1", workflow: "W", initial: { v: 1 } }));
    await admin.put(newInstance({ id: "free::1", workflow: "W" }));

    await t.step("without a timeout, a put on a locked row waits for the lock", async () => {
      const { storage } = storageWith({});
      const release = await lockRow(db.url, table, "locked::1");
      let settled = false;
      const put = storage.put(newInstance({ id: "locked::1", workflow: "W", initial: { v: 2 } }))
        .finally(() => settled = true);
      await pause(400);
      assert.equal(settled, false, "still waiting");
      await release();
      assert.deepEqual(await put, { revision: 2 });
    });

    await t.step(
      "statement_timeout (pg option): writes on the locked row are canceled, reads and claims go on",
      async () => {
        const { storage, pool } = storageWith({ statement_timeout: 300 });
        const release = await lockRow(db.url, table, "locked::1");
        try {
          const changed = newInstance({ id: "locked::1", workflow: "W", initial: { v: 3 } });
          await rejectsInTime(storage.put(changed), "put", "57014");
          await rejectsInTime(storage.put(changed, { expectedRevision: 2 }), "put", "57014");
          await rejectsInTime(storage.delete("locked::1"), "delete", "57014");
          await rejectsInTime(storage.putMany([changed]), "putMany", "57014");
          // MVCC: readers are not blocked by a row lock; claims skip locked rows.
          assert.deepEqual((await storage.get("locked::1"))!.context.initial, { v: 2 });
          const claimed = await storage.claim({ owner: "w", leaseMs: 1000, limit: 5 });
          assert.deepEqual(claimed.map((i) => i.id), ["free::1"]);
          await storage.releaseLease("free::1", { owner: "w" });
        } finally {
          await release();
        }
        // Nothing was written, and the same pool serves the next put on its connections.
        const stored = (await storage.get("locked::1"))!;
        assert.equal(stored.revision, 2);
        assert.deepEqual(stored.context.initial, { v: 2 });
        const put = newInstance({ id: "locked::1", workflow: "W", initial: { v: 4 } });
        assert.deepEqual(await storage.put(put, { expectedRevision: 2 }), { revision: 3 });
        assert.ok(pool.totalCount <= 2);
      },
    );

    await t.step("lock_timeout in the URL (options=-c lock_timeout=…): 55P03", async () => {
      const url = new URL(db.url);
      url.searchParams.set("options", "-c lock_timeout=200");
      const { storage } = storageWith({ connectionString: url.href });
      const release = await lockRow(db.url, table, "locked::1");
      try {
        const changed = newInstance({ id: "locked::1", workflow: "W", initial: { v: 5 } });
        await rejectsInTime(storage.put(changed), "put", "55P03");
        await rejectsInTime(
          storage.renewLease("locked::1", { owner: "w", leaseMs: 1000 }),
          "renewLease",
          "55P03",
        );
      } finally {
        await release();
      }
      assert.equal((await storage.get("locked::1"))!.revision, 3);
    });

    await t.step(
      "lock_timeout set on the runtime role (ALTER ROLE … SET) applies with any client",
      async () => {
        const role = `${db.schema}_rt`;
        await db.pool.query(`CREATE ROLE "${role}" LOGIN`);
        try {
          await db.pool.query(`ALTER ROLE "${role}" SET lock_timeout = '200ms'`);
          await grantRuntimeAccess(owner, { schema: db.schema, role });
          const url = new URL(db.url);
          url.username = role;
          const { storage } = storageWith({ connectionString: url.href });
          const release = await lockRow(db.url, table, "locked::1");
          try {
            const changed = newInstance({ id: "locked::1", workflow: "W", initial: { v: 6 } });
            await rejectsInTime(storage.put(changed), "put", "55P03");
          } finally {
            await release();
          }
          assert.equal((await storage.get("locked::1"))!.revision, 3);
        } finally {
          await Promise.all(pools.splice(0).map((pool) => pool.end()));
          await db.pool.query(`DROP OWNED BY "${role}"`);
          await db.pool.query(`DROP ROLE "${role}"`);
        }
      },
    );
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
    await db.drop();
  }
});
