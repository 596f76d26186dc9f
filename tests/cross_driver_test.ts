import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { DatabaseError, migrate, PgStorage, type StoredInstance, toDatabaseError } from "../mod.ts";
import { pgliteDriver } from "../drivers/pglite.ts";
import { richInstance, withoutBookkeeping } from "../testing/storage_conformance.ts";
import { openServerDrivers } from "./support/drivers.ts";
import { startPasswordCluster, withTestSchema } from "./support/test_db.ts";

function assertBookkeeping(stored: StoredInstance, reader: string): void {
  assert.equal(typeof stored.revision, "number", `${reader}: revision is a number`);
  assert.ok(stored.insertedAt instanceof Date, `${reader}: insertedAt is a Date`);
  assert.ok(stored.updatedAt instanceof Date, `${reader}: updatedAt is a Date`);
}

Deno.test("an instance written through any driver reads back identical through every other", async () => {
  const db = await withTestSchema("cross");
  const { drivers, close } = await openServerDrivers(db.url);
  const lite = new PGlite();
  try {
    await migrate(drivers[0].driver, { schema: db.schema });
    const storages = drivers.map((d) => ({
      name: d.name,
      storage: new PgStorage({ driver: d.driver, schema: db.schema }),
    }));
    for (const { name, storage } of storages) {
      const instance = richInstance(`cross::${name}`);
      instance.executionHistory[0].timestamp = new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999));
      assert.deepEqual(await storage.put(instance), { revision: 1 });
    }
    const reference = await storages[0].storage.query({});
    assert.equal(reference.length, storages.length);
    for (const reader of storages) {
      for (const writer of storages) {
        const id = `cross::${writer.name}`;
        const stored = await reader.storage.get(id);
        assert.ok(stored, `${reader.name} reads what ${writer.name} wrote`);
        const expected = richInstance(id);
        expected.executionHistory[0].timestamp = new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999));
        assert.deepStrictEqual(
          withoutBookkeeping(stored),
          expected,
          `${writer.name} → ${reader.name}`,
        );
        assertBookkeeping(stored, reader.name);
      }
      assert.deepStrictEqual(
        await reader.storage.query({}),
        reference,
        `${reader.name} queries exactly what node-postgres does`,
      );
    }

    const liteDriver = pgliteDriver(lite);
    await migrate(liteDriver, { schema: "cross" });
    const liteStorage = new PgStorage({ driver: liteDriver, schema: "cross" });
    await liteStorage.put(richInstance("cross::node-postgres"));
    const fromLite = (await liteStorage.get("cross::node-postgres"))!;
    assertBookkeeping(fromLite, "pglite");
    const fromServer = reference.find((i) => i.id === "cross::node-postgres")!;
    fromServer.executionHistory[0].timestamp = richInstance("x").executionHistory[0].timestamp;
    assert.deepStrictEqual(withoutBookkeeping(fromLite), withoutBookkeeping(fromServer));
  } finally {
    await lite.close();
    await close();
    await db.drop();
  }
});

/** What the core makes of what a driver threw. */
async function stateOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const wrapped = toDatabaseError(error);
    assert.ok(wrapped instanceof DatabaseError, String(error));
    return wrapped.code;
  }
  throw new Error("expected a rejection");
}

Deno.test("every driver reports the same failure with the same DatabaseError code", async (t) => {
  const db = await withTestSchema("errors");
  const lite = new PGlite();
  const server = await openServerDrivers(db.url);
  const drivers = [...server.drivers, { name: "pglite", driver: pgliteDriver(lite) }];
  try {
    await t.step("a unique violation is 23505, a syntax error 42601", async () => {
      for (const { name, driver } of drivers) {
        const table = `"${db.schema}_${name.replace(/\W/g, "_")}".t`;
        await driver.query(`CREATE SCHEMA ${table.split(".")[0]}`);
        await driver.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
        await driver.query(`INSERT INTO ${table} VALUES ($1)`, [1]);
        assert.equal(
          await stateOf(driver.query(`INSERT INTO ${table} VALUES ($1)`, [1])),
          "23505",
          name,
        );
        assert.equal(await stateOf(driver.query("SELEC 1")), "42601", name);
        await driver.query(`DROP SCHEMA ${table.split(".")[0]} CASCADE`);
      }
    });
  } finally {
    await lite.close();
    await server.close();
    await db.drop();
  }

  await t.step("a refused connection is 08001", async () => {
    // For Neon's HTTP mode the server it connects to is the SQL-over-HTTP endpoint.
    const refused = await openServerDrivers(`postgres://postgres@127.0.0.1:${closedPort()}/test`, {
      httpEndpoint: `http://127.0.0.1:${closedPort()}/sql`,
    });
    try {
      for (const { name, driver } of refused.drivers) {
        assert.equal(await stateOf(driver.query("SELECT 1")), "08001", name);
      }
    } finally {
      await refused.close();
    }
  });

  await t.step("a bad password is 28P01", async () => {
    const url = new URL(await startPasswordCluster("right-password"));
    url.password = "wrong-password";
    const wrong = await openServerDrivers(url.href);
    try {
      for (const { name, driver } of wrong.drivers) {
        assert.equal(await stateOf(driver.query("SELECT 1")), "28P01", name);
      }
    } finally {
      await wrong.close();
    }
  });
});

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return (listener.addr as Deno.NetAddr).port;
}
