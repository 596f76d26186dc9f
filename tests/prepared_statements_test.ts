import assert from "node:assert/strict";
import pg from "pg";
import { Client as NeonClient } from "@neondatabase/serverless";
import { migrate, newInstance, PgStorage, type QueryOptions } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { neonDriver } from "../drivers/neon.ts";
import { statementName } from "../src/statement_name.ts";
import { withTestSchema } from "./support/test_db.ts";
import { startWsProxy } from "../cli/neon_local/ws_proxy.ts";
import { useLocalWsProxy } from "./support/neon_client.ts";

/** The names prepared on the connection of `client`, which only this test uses. */
async function prepared(client: pg.Client | NeonClient): Promise<string[]> {
  const { rows } = await client.query("SELECT name FROM pg_prepared_statements ORDER BY name");
  return rows.map((r: { name: string }) => r.name);
}

Deno.test("statementName() is stable, distinct per text and a valid identifier", () => {
  const a = statementName('SELECT 1 FROM "a".workflow_instances');
  assert.equal(a, statementName('SELECT 1 FROM "a".workflow_instances'));
  assert.notEqual(a, statementName('SELECT 1 FROM "b".workflow_instances'));
  assert.match(a, /^heph_[0-9a-z]{1,11}$/);
});

Deno.test("PgStorage names its fixed statements; drivers prepare them unless told not to", async (t) => {
  const db = await withTestSchema("prepared");
  try {
    await migrate(nodePostgresDriver(db.pool), { schema: db.schema });

    await t.step("the core passes a name for get and put, none for a query", async () => {
      const seen: [string, QueryOptions | undefined][] = [];
      const inner = nodePostgresDriver(db.pool);
      const storage = new PgStorage({
        schema: db.schema,
        driver: {
          query(text, params, options) {
            seen.push([text, options]);
            return inner.query(text, params, options);
          },
          transaction: (statements) => inner.transaction(statements),
        },
      });
      await storage.put(newInstance({ id: "a", workflow: "W" }));
      await storage.get("a");
      await storage.query({ workflow: "W" });
      assert.equal(seen.length, 3);
      for (const [text, options] of seen.slice(0, 2)) {
        assert.equal(options?.name, statementName(text));
      }
      assert.equal(seen[2]?.[1]?.name, undefined);
    });

    await t.step("node-postgres prepares them once per connection", async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const storage = new PgStorage({ driver: nodePostgresDriver(client), schema: db.schema });
        for (let i = 0; i < 3; i++) {
          await storage.put(newInstance({ id: "b", workflow: "W" }));
          assert.equal((await storage.get("b"))?.revision, i + 1);
        }
        const names = await prepared(client);
        assert.equal(names.length, 2);
        assert.ok(names.every((n) => n.startsWith("heph_")));
      } finally {
        await client.end();
      }
    });

    await t.step("prepare: false sends every statement unnamed", async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const driver = nodePostgresDriver(client, { prepare: false });
        const storage = new PgStorage({ driver, schema: db.schema });
        await storage.put(newInstance({ id: "c", workflow: "W" }));
        assert.equal((await storage.get("c"))?.revision, 1);
        assert.deepEqual(await prepared(client), []);
      } finally {
        await client.end();
      }
    });

    await t.step("Neon's WebSocket client prepares them, and not with prepare: false", async () => {
      const proxy = await startWsProxy();
      useLocalWsProxy(proxy.port);
      try {
        for (const prepare of [true, false]) {
          const client = new NeonClient(db.url);
          await client.connect();
          try {
            const storage = new PgStorage({
              driver: neonDriver(client, { prepare }),
              schema: db.schema,
            });
            await storage.put(newInstance({ id: `neon-${prepare}`, workflow: "W" }));
            assert.ok(await storage.get(`neon-${prepare}`));
            assert.equal((await prepared(client)).length, prepare ? 2 : 0);
          } finally {
            await client.end();
          }
        }
      } finally {
        await proxy.close();
      }
    });

    await t.step(
      "a prepared statement survives the table being dropped and re-created",
      async () => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          const driver = nodePostgresDriver(client);
          const storage = new PgStorage({ driver, schema: db.schema });
          await storage.put(newInstance({ id: "d", workflow: "W" }));
          await migrate(driver, { schema: db.schema, to: 0 });
          await migrate(driver, { schema: db.schema });
          assert.equal(await storage.get("d"), null);
          assert.equal((await storage.put(newInstance({ id: "d", workflow: "W" }))).revision, 1);
        } finally {
          await client.end();
        }
      },
    );

    await t.step("a bad prepare option is refused", () => {
      assert.throws(
        () => nodePostgresDriver(db.pool, { prepare: "no" as unknown as boolean }),
        /Invalid options: prepare must be a boolean, got string/,
      );
    });
  } finally {
    await db.drop();
  }
});
