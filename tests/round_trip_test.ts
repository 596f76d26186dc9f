import assert from "node:assert/strict";
import fc from "npm:fast-check@^3.23.0";
import {
  decodeInstance,
  encodeInstance,
  MemoryStorage,
  migrate,
  newInstance,
  PgStorage,
  SerializationError,
  type Storage,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { withoutBookkeeping } from "../testing/storage_conformance.ts";
import { anyInstance, hostileValue } from "./support/arbitraries.ts";
import { withTestSchema } from "./support/test_db.ts";

async function roundTrips(storage: Storage, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(anyInstance, async (instance) => {
      await storage.delete(instance.id);
      try {
        await storage.put(instance);
        const stored = await storage.get(instance.id);
        assert.ok(stored);
        assert.deepStrictEqual(withoutBookkeeping(stored), instance);
      } finally {
        await storage.delete(instance.id);
      }
    }),
    { numRuns: runs },
  );
}

Deno.test("random instances round-trip exactly through encode and decode", () => {
  fc.assert(
    fc.property(anyInstance, (instance) => {
      const row = encodeInstance(instance);
      const decoded = decodeInstance({
        id: row.id,
        workflow: row.workflow,
        workflow_version: row.workflowVersion,
        status: row.status,
        state: row.state,
        revision: "1",
        inserted_at: "0",
        updated_at: "0",
      });
      assert.deepStrictEqual(withoutBookkeeping(decoded), instance);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("random instances round-trip exactly through MemoryStorage", async () => {
  await roundTrips(new MemoryStorage(), 300);
});

Deno.test("random instances round-trip exactly through PostgreSQL jsonb", async () => {
  const db = await withTestSchema("roundtrip");
  try {
    const driver = nodePostgresDriver(db.pool);
    await migrate(driver, { schema: db.schema });
    await roundTrips(new PgStorage({ driver, schema: db.schema }), 300);
  } finally {
    await db.drop();
  }
});

Deno.test("a Date whose toJSON was replaced is still stored as its ISO string", async () => {
  const storage = new MemoryStorage();
  const at = new Date(Date.UTC(2026, 0, 2));
  Object.defineProperty(at, "toJSON", { value: () => "\u0000not a date" });
  const instance = newInstance({ id: "date::1", workflow: "W", initial: { at } });
  await storage.put(instance);
  assert.deepStrictEqual(
    (await storage.get("date::1"))!.context.initial.at,
    new Date(at.getTime()),
  );
  assert.equal(JSON.parse(encodeInstance(instance).state).context.initial.at, at.toISOString());
});

Deno.test("any value put() accepts, get() returns: refused at put or decoded at get", async () => {
  const storage = new MemoryStorage();
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(hostileValue, async (value) => {
      const instance = newInstance({ id: "any::1", workflow: "W", initial: { value } });
      try {
        await storage.put(instance);
      } catch (error) {
        assert.ok(error instanceof SerializationError, String(error));
        return;
      }
      accepted++;
      const stored = await storage.get("any::1");
      assert.ok(stored);
      assert.equal((await storage.query({ id: "any::1" })).length, 1);
    }),
    { numRuns: 1000 },
  );
  assert.ok(accepted > 100, `only ${accepted} of 1000 values were accepted`);
});
