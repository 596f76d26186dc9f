import assert from "node:assert/strict";
import {
  ConflictError,
  DatabaseError,
  migrate,
  newInstance,
  PgStorage,
  type QueryEvent,
  type QueryInfo,
  ValidationError,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { withTestSchema } from "./support/test_db.ts";

Deno.test("query hooks", async (t) => {
  const db = await withTestSchema("hooks");
  const driver = nodePostgresDriver(db.pool);
  try {
    await migrate(driver, { schema: db.schema });

    await t.step("onQuery events carry the schema and the instance id, never values", async () => {
      const events: QueryEvent[] = [];
      const storage = new PgStorage({ driver, schema: db.schema, onQuery: (e) => events.push(e) });
      const secret = newInstance({ id: "order::1", workflow: "W", initial: { card: "4111" } });
      await storage.put(secret);
      await storage.get("order::1");
      await storage.count({});
      await storage.delete("order::1");
      assert.deepEqual(
        events.map(({ operation, schema, table, instanceId }) => ({
          operation,
          schema,
          table,
          instanceId,
        })),
        [
          {
            operation: "put",
            schema: db.schema,
            table: "workflow_instances",
            instanceId: "order::1",
          },
          {
            operation: "get",
            schema: db.schema,
            table: "workflow_instances",
            instanceId: "order::1",
          },
          {
            operation: "count",
            schema: db.schema,
            table: "workflow_instances",
            instanceId: undefined,
          },
          {
            operation: "delete",
            schema: db.schema,
            table: "workflow_instances",
            instanceId: "order::1",
          },
        ],
      );
      assert.ok(
        events[2] && !("instanceId" in events[2]),
        "no instanceId key where the operation has none",
      );
      assert.ok(!JSON.stringify(events).includes("4111"));
    });

    await t.step("wrapQuery runs around each statement, before it is sent", async () => {
      const log: string[] = [];
      const seen: QueryInfo[] = [];
      const storage = new PgStorage({
        driver: {
          query: (text, params) => {
            log.push("driver");
            return driver.query(text, params);
          },
          transaction: (statements) => driver.transaction(statements),
        },
        schema: db.schema,
        wrapQuery: async (info, run) => {
          seen.push(info);
          log.push(`before ${info.operation}`);
          try {
            const result = await run();
            log.push(`after ${info.operation} ${result.rowCount}`);
            return result;
          } catch (error) {
            log.push(`failed ${info.operation} ${(error as DatabaseError).name}`);
            throw error;
          }
        },
        onQuery: (e) => log.push(`event ${e.operation}`),
      });
      await storage.put(newInstance({ id: "order::2", workflow: "W" }));
      await assert.rejects(
        storage.put(newInstance({ id: "order::2", workflow: "W" }), { expectedRevision: 0 }),
        ConflictError,
      );
      assert.deepEqual(log, [
        "before put",
        "driver",
        "after put 1",
        "event put",
        "before put",
        "driver",
        "after put 1",
        "event put",
      ]);
      assert.deepEqual(seen[0], {
        operation: "put",
        schema: db.schema,
        table: "workflow_instances",
        instanceId: "order::2",
        sql: seen[0]?.sql,
      });
    });

    await t.step("wrapQuery sees the error the operation throws, already explained", async () => {
      const failures: unknown[] = [];
      const storage = new PgStorage({
        driver,
        schema: `${db.schema}_none`,
        wrapQuery: (_info, run) =>
          run().catch((error) => {
            failures.push(error);
            throw error;
          }),
      });
      const thrown = await storage.get("x").catch((error) => error);
      assert.ok(thrown instanceof DatabaseError);
      assert.equal(thrown.code, "42P01");
      assert.deepEqual(failures, [thrown]);
    });

    await t.step("a wrapQuery that is not a function is refused", () => {
      assert.throws(
        // @ts-expect-error not a function
        () => new PgStorage({ driver, wrapQuery: "trace" }),
        (error: unknown) =>
          error instanceof ValidationError &&
          error.message === 'Invalid options: wrapQuery must be a function, got "trace"',
      );
    });
  } finally {
    await db.drop();
  }
});
