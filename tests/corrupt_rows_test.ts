/**
 * Rows another program wrote that cannot be decoded: claims keep no lease they did not hand
 * over, and pages can return the healthy rows with the corrupt ones named. MemoryStorage and
 * PgStorage behave the same.
 */
import assert from "node:assert/strict";
import {
  CorruptRecordError,
  MemoryStorage,
  migrate,
  newInstance,
  PgStorage,
  type Storage,
  ValidationError,
} from "../mod.ts";
import { storeForeignRow } from "../src/memory_storage.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { withTestSchema } from "./support/test_db.ts";

const CORRUPT_STATE = `{"active_steps": "validate"}`;

/** Four rows in insertion order a1, a2 (corrupt), a3, a4 (ids break any tie in time). */
async function seed(storage: Storage, plant: (id: string) => Promise<void>): Promise<void> {
  await storage.put(newInstance({ id: "a1", workflow: "W" }));
  await plant("a2");
  await storage.put(newInstance({ id: "a3", workflow: "W" }));
  await storage.put(newInstance({ id: "a4", workflow: "W" }));
}

async function behaviour(storage: Storage, remove: (id: string) => Promise<void>) {
  const seen: unknown[] = [];
  const leases = async () => {
    const page = await storage.page({}, { limit: 10, skipCorrupt: true });
    return page.items.map((i) => [i.id, i.lease?.owner ?? null]);
  };
  await assert.rejects(storage.claim({ owner: "w1", leaseMs: 60_000, limit: 10 }), (error) => {
    assert.ok(error instanceof CorruptRecordError, String(error));
    seen.push(["claim failed on", error.id]);
    return true;
  });
  seen.push(["after the failed claim", await leases()]);
  await assert.rejects(
    storage.claim({ owner: "w2", leaseMs: 60_000, limit: 2 }),
    CorruptRecordError,
  );
  seen.push([
    "claim past it",
    (await storage.claim({ owner: "w2", leaseMs: 60_000, id: "a3" })).map((i) => i.id),
  ]);
  await assert.rejects(storage.page({}, { limit: 10 }), CorruptRecordError);
  await assert.rejects(
    storage.page({}, { limit: 10, skipCorrupt: "yes" as unknown as boolean }),
    ValidationError,
  );
  const first = await storage.page({}, { limit: 2, skipCorrupt: true });
  const second = await storage.page({}, { limit: 2, skipCorrupt: true, cursor: first.nextCursor });
  seen.push([
    "pages",
    first.items.map((i) => i.id),
    first.corrupt!.map((e) => [e.id, e.message]),
    second.items.map((i) => i.id),
    second.corrupt,
    second.nextCursor,
  ]);
  await remove("a2");
  seen.push([
    "claim after the fix",
    (await storage.claim({ owner: "w3", leaseMs: 60_000, limit: 10 })).map((i) => i.id),
  ]);
  return seen;
}

Deno.test("corrupt rows: MemoryStorage and PgStorage agree", async () => {
  const memory = new MemoryStorage();
  await seed(
    memory,
    (id) => Promise.resolve(storeForeignRow(memory, { id, state: CORRUPT_STATE })),
  );
  const expected = await behaviour(memory, (id) => memory.delete(id));
  assert.deepEqual(expected, [
    ["claim failed on", "a2"],
    ["after the failed claim", [["a1", null], ["a3", null], ["a4", null]]],
    ["claim past it", ["a3"]],
    [
      "pages",
      ["a1"],
      [["a2", "Corrupt record a2: state.active_steps has the wrong type"]],
      ["a3", "a4"],
      [],
      null,
    ],
    ["claim after the fix", ["a1", "a4"]],
  ]);

  const db = await withTestSchema("corrupt");
  try {
    const driver = nodePostgresDriver(db.pool);
    await migrate(driver, { schema: db.schema });
    const storage = new PgStorage({ driver, schema: db.schema });
    await seed(storage, async (id) => {
      await db.pool.query(
        // Milliseconds, as put() stores them: a µs server time could sort after a3's put.
        `INSERT INTO "${db.schema}".workflow_instances
           (id, workflow, workflow_version, status, state, inserted_at, updated_at)
         VALUES ($1, 'W', 1, 'pending', $2::jsonb,
           date_trunc('milliseconds', clock_timestamp()), date_trunc('milliseconds', clock_timestamp()))`,
        [id, CORRUPT_STATE],
      );
    });
    assert.deepEqual(await behaviour(storage, (id) => storage.delete(id)), expected);
  } finally {
    await db.drop();
  }
});
