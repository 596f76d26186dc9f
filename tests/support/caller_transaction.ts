/**
 * One check shared by every driver: storage operations in the caller's own transaction commit
 * or roll back with the caller's business writes, and a migration asked inside it refuses
 * without harming it.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DatabaseError,
  grantRuntimeAccess,
  migrate,
  MigrationError,
  newInstance,
  PgStorage,
  type SqlDriver,
} from "../../mod.ts";

/**
 * Runs `work` in one transaction of the caller's own client, then commits it (`"commit"`) or
 * rolls it back (`"rollback"`). `work` gets a driver over that transaction and a way to run the
 * caller's own business statement through the same client.
 */
export type InCallerTransaction = (
  outcome: "commit" | "rollback",
  work: (driver: SqlDriver, business: (sql: string) => Promise<unknown>) => Promise<void>,
) => Promise<void>;

/** Thrown by a test's `work` to make a callback-style API roll back. */
export class Rollback extends Error {
  constructor() {
    super("Rollback requested by the test");
  }
}

/**
 * Checks that a put made in the caller's transaction shares its fate: after a rollback neither
 * the business row nor the instance exists, after a commit both do; `migrate` inside the
 * transaction is a clear MigrationError (and a grant a DatabaseError 25001), and both leave the
 * transaction usable.
 *
 * @param outside A driver outside any transaction, on the same database.
 * @param schema A fresh schema for this check (created here; the caller drops it).
 * @param inTransaction Runs work in one transaction of the caller's client.
 */
export async function checkCallerTransaction(
  outside: SqlDriver,
  schema: string,
  inTransaction: InCallerTransaction,
): Promise<void> {
  await migrate(outside, { schema });
  await outside.query(`CREATE TABLE ${schema}.orders (id text PRIMARY KEY)`);
  const store = new PgStorage({ driver: outside, schema });
  const orders = async () =>
    (await outside.query(`SELECT id FROM ${schema}.orders ORDER BY id`)).rows.map((r) => r.id);

  await inTransaction("rollback", async (driver, business) => {
    await business(`INSERT INTO ${schema}.orders (id) VALUES ('o1')`);
    const storage = new PgStorage({ driver, schema });
    await storage.put(newInstance({ id: "order::1", workflow: "Shop.Order" }));
    assert.equal((await storage.get("order::1"))?.revision, 1, "visible inside the transaction");
  });
  assert.deepEqual(await orders(), [], "the rollback undid the business row");
  assert.equal(await store.get("order::1"), null, "the rollback undid the instance");

  await inTransaction("commit", async (driver, business) => {
    await business(`INSERT INTO ${schema}.orders (id) VALUES ('o2')`);
    const storage = new PgStorage({ driver, schema });
    await storage.put(newInstance({ id: "order::2", workflow: "Shop.Order" }));
    await assert.rejects(
      migrate(driver, { schema }),
      (error: unknown) =>
        error instanceof MigrationError &&
        /inside your open transaction/.test(error.message) &&
        (error.cause as { code?: string })?.code === "25001",
    );
    await assert.rejects(
      grantRuntimeAccess(driver, { schema, role: "heph_nobody" }),
      (error: unknown) => error instanceof DatabaseError && error.code === "25001",
    );
    // The refusals left the caller's transaction usable: this write commits with the rest.
    await storage.put(newInstance({ id: "order::3", workflow: "Shop.Order" }));
  });
  assert.deepEqual(await orders(), ["o2"], "the commit kept the business row");
  assert.equal((await store.get("order::2"))?.revision, 1, "the commit kept the instance");
  assert.equal((await store.get("order::3"))?.revision, 1);
}
