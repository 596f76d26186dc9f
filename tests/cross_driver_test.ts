import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import {
  DatabaseError,
  migrate,
  PgStorage,
  type SqlDriver,
  type StoredInstance,
  toDatabaseError,
} from "../mod.ts";
import { pgliteDriver } from "../drivers/pglite.ts";
import { neonDriver } from "../drivers/neon.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { postgresJsDriver } from "../drivers/postgres_js.ts";
import { richInstance, withoutBookkeeping } from "../testing/storage_conformance.ts";
import { openServerDrivers } from "./support/drivers.ts";
import { startPasswordCluster, withTestSchema } from "./support/test_db.ts";

const MILLENNIUM_EVE = new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999));

/** Sets the timestamp of an instance's first history entry, which `richInstance` gives one. */
function firstStepAt<T extends { executionHistory: { timestamp: Date }[] }>(
  instance: T,
  at: Date,
): T {
  const [first] = instance.executionHistory;
  assert.ok(first, "the instance has a history entry");
  first.timestamp = at;
  return instance;
}

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
    const [primary] = drivers;
    assert.ok(primary, "at least one server driver");
    await migrate(primary.driver, { schema: db.schema });
    const storages = drivers.map((d) => ({
      name: d.name,
      storage: new PgStorage({ driver: d.driver, schema: db.schema }),
    }));
    for (const { name, storage } of storages) {
      const instance = firstStepAt(richInstance(`cross::${name}`), MILLENNIUM_EVE);
      assert.deepEqual(await storage.put(instance), { revision: 1 });
    }
    const reference = await new PgStorage({ driver: primary.driver, schema: db.schema }).query({});
    assert.equal(reference.length, storages.length);
    for (const reader of storages) {
      for (const writer of storages) {
        const id = `cross::${writer.name}`;
        const stored = await reader.storage.get(id);
        assert.ok(stored, `${reader.name} reads what ${writer.name} wrote`);
        const expected = firstStepAt(richInstance(id), MILLENNIUM_EVE);
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
    const fromServer = reference.find((i) => i.id === "cross::node-postgres");
    assert.ok(fromServer, "node-postgres wrote one");
    const [richStep] = richInstance("x").executionHistory;
    assert.ok(richStep);
    firstStepAt(fromServer, richStep.timestamp);
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

Deno.test("each adapter names its client's own connection failures with a SQLSTATE, keeping the error", async () => {
  const rejecting = (error: Error) => () => Promise.reject(error);
  const cases: [string, Error, SqlDriver, string][] = [];
  const closed = Object.assign(new Error("write CONNECTION_CLOSED 127.0.0.1:5432"), {
    code: "CONNECTION_CLOSED",
  });
  cases.push(["postgres.js", closed, postgresJsDriver({ unsafe: rejecting(closed) }), "08006"]);
  const timeout = Object.assign(new Error("write CONNECT_TIMEOUT 127.0.0.1:5432"), {
    code: "CONNECT_TIMEOUT",
  });
  cases.push(["postgres.js", timeout, postgresJsDriver({ unsafe: rejecting(timeout) }), "08001"]);
  const terminated = new Error("Connection terminated unexpectedly");
  const pg = { query: rejecting(terminated) };
  cases.push(["node-postgres", terminated, nodePostgresDriver(pg), "08006"]);
  const neonClosed = new Error("Client was closed and is not queryable");
  cases.push(["Neon", neonClosed, neonDriver({ query: rejecting(neonClosed) }), "08003"]);
  for (const [name, thrown, driver, code] of cases) {
    await assert.rejects(driver.query("SELECT 1"), (error: unknown) => {
      assert.equal(error, thrown, `${name}: the client's own error`);
      const wrapped = toDatabaseError(error);
      assert.ok(wrapped instanceof DatabaseError);
      assert.equal(wrapped.code, code, `${name}: ${thrown.message}`);
      assert.equal(wrapped.cause, thrown);
      return true;
    });
  }
  assert.equal(closed.code, "CONNECTION_CLOSED", "postgres.js' own code stays as it was");
});

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return (listener.addr as Deno.NetAddr).port;
}
