/**
 * PgStorage with a `readDriver` on a real streaming replica: a throwaway primary and a hot
 * standby copied from it with `pg_basebackup -R`, both on loopback ports of their own.
 *
 * @module
 */
import assert from "node:assert/strict";
import pg from "pg";
import { DatabaseError, migrate, newInstance, PgStorage } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { startThrowawayCluster } from "./support/test_db.ts";
import { recordingDriver } from "./support/recording_driver.ts";

/** Waits until the replica has replayed everything the primary has written so far. */
async function caughtUp(primary: pg.Pool, replica: pg.Pool): Promise<void> {
  const { rows: [{ lsn }] } = await primary.query("SELECT pg_current_wal_lsn()::text AS lsn");
  for (let i = 0; i < 1500; i++) {
    const { rows: [{ done }] } = await replica.query(
      "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS done",
      [lsn],
    );
    if (done) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the replica did not replay up to ${lsn} within 30 s`);
}

Deno.test("PgStorage with a readDriver on a streaming replica", async (t) => {
  const primary = await startThrowawayCluster();
  const replica = await startThrowawayCluster({ standbyOf: primary.url });
  const primaryPool = new pg.Pool({ connectionString: primary.url, max: 4 });
  const replicaPool = new pg.Pool({ connectionString: replica.url, max: 4 });
  const schema = "replica_routing";
  try {
    await migrate(nodePostgresDriver(primaryPool), { schema });
    const toPrimary = recordingDriver(nodePostgresDriver(primaryPool));
    const toReplica = recordingDriver(nodePostgresDriver(replicaPool));
    const storage = new PgStorage({
      driver: toPrimary.driver,
      readDriver: toReplica.driver,
      schema,
    });

    await t.step("reads go to readDriver; no statement that writes ever reaches it", async () => {
      /** Runs one operation and says which driver its statements went to. */
      const where = async (work: () => Promise<unknown>) => {
        const [primaryBefore, replicaBefore] = [toPrimary.sent.length, toReplica.sent.length];
        await work();
        const primarySent = toPrimary.sent.length - primaryBefore;
        const replicaSent = toReplica.sent.length - replicaBefore;
        assert.ok(primarySent === 0 || replicaSent === 0, "one operation, one server");
        assert.ok(primarySent + replicaSent > 0, "the operation sent a statement");
        return primarySent > 0 ? "primary" : "replica";
      };
      const order = (id: string) => newInstance({ id, workflow: "Shop.Order" });
      const writes: [string, () => Promise<unknown>][] = [
        ["put", () => storage.put(order("r::1"))],
        ["put expectedRevision 0", () => storage.put(order("r::2"), { expectedRevision: 0 })],
        ["put expectedRevision n", () => storage.put(order("r::1"), { expectedRevision: 1 })],
        ["put with an owner", () => storage.put(order("r::3"), { owner: "w1" })],
        ["putMany", () => storage.putMany([order("r::4"), order("r::5")])],
        ["claim", () => storage.claim({ owner: "w1", leaseMs: 60_000, limit: 2 })],
        ["renewLease", () => storage.renewLease("r::1", { owner: "w1", leaseMs: 60_000 })],
        ["releaseLease", () => storage.releaseLease("r::1", { owner: "w1" })],
        ["delete", () => storage.delete("r::5")],
        ["prune", () => storage.prune({ olderThan: new Date(Date.now() + 60_000) })],
      ];
      for (const [name, work] of writes) assert.equal(await where(work), "primary", name);
      await caughtUp(primaryPool, replicaPool);
      const reads: [string, (fromPrimary?: boolean) => Promise<unknown>][] = [
        ["get", (fromPrimary) => storage.get("r::1", { fromPrimary })],
        ["query", (fromPrimary) => storage.query({ workflow: "Shop.Order" }, { fromPrimary })],
        ["page", (fromPrimary) => storage.page({}, { limit: 2, fromPrimary })],
        ["count", (fromPrimary) => storage.count({}, { fromPrimary })],
        ["scan", async (fromPrimary) => {
          const seen = [];
          for await (const item of storage.scan({}, { batchSize: 1, fromPrimary })) seen.push(item);
          assert.equal(seen.length, 4);
        }],
      ];
      for (const [name, read] of reads) {
        assert.equal(await where(() => read()), "replica", name);
        assert.equal(await where(() => read(true)), "primary", `${name} with fromPrimary`);
        assert.equal(await where(() => read(false)), "replica", `${name} with fromPrimary false`);
      }
      assert.ok(toReplica.sent.length > 0);
      for (const text of toReplica.sent) {
        assert.match(text, /^\s*SELECT\b/, "only plain SELECTs reach the replica");
        assert.doesNotMatch(text, /\b(INSERT|UPDATE|DELETE|FOR SHARE|FOR UPDATE)\b/);
      }
      await assert.rejects(
        storage.get("r::1", { fromPrimary: "yes" as unknown as boolean }),
        /Invalid fromPrimary: expected a boolean/,
      );
    });

    await t.step("a replica read sees a write once the replica has replayed it", async () => {
      await replicaPool.query("SELECT pg_wal_replay_pause()");
      try {
        for (let i = 0;; i++) {
          const { rows: [{ state }] } = await replicaPool.query(
            "SELECT pg_get_wal_replay_pause_state() AS state",
          );
          if (state === "paused") break;
          if (i === 1500) throw new Error("the replica did not pause replay");
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const instance = newInstance({ id: "lag::1", workflow: "Shop.Order" });
        assert.equal((await storage.put(instance)).revision, 1);
        // The replica has not replayed the write: a replica read misses it, the primary has it.
        assert.equal(await storage.get("lag::1"), null);
        assert.equal((await storage.get("lag::1", { fromPrimary: true }))?.revision, 1);
        assert.equal(await storage.count({ id: "lag::1" }), 0);
        assert.equal(await storage.count({ id: "lag::1" }, { fromPrimary: true }), 1);
      } finally {
        await replicaPool.query("SELECT pg_wal_replay_resume()");
      }
      await caughtUp(primaryPool, replicaPool);
      assert.equal((await storage.get("lag::1"))?.revision, 1);
      assert.deepEqual((await storage.query({ id: "lag::1" })).map((i) => i.id), ["lag::1"]);
    });

    await t.step(
      "a write sent to a replica by mistake is a clear DatabaseError 25006",
      async () => {
        const mistaken = new PgStorage({ driver: nodePostgresDriver(replicaPool), schema });
        const readOnly = (error: unknown) => {
          assert.ok(error instanceof DatabaseError);
          assert.equal(error.code, "25006");
          assert.match(
            error.message,
            /^The \w+ statement reached a read-only server and was refused: /,
          );
          assert.match(error.message, /readDriver/);
          return true;
        };
        const instance = newInstance({ id: "mistake::1", workflow: "Shop.Order" });
        await assert.rejects(mistaken.put(instance), readOnly);
        await assert.rejects(mistaken.put(instance, { expectedRevision: 0 }), readOnly);
        await assert.rejects(mistaken.claim({ owner: "w1", leaseMs: 1000 }), readOnly);
        await assert.rejects(mistaken.delete("lag::1"), readOnly);
        assert.equal(await storage.get("mistake::1", { fromPrimary: true }), null);
        assert.equal((await storage.get("lag::1", { fromPrimary: true }))?.revision, 1);
      },
    );
  } finally {
    await Promise.allSettled([primaryPool.end(), replicaPool.end()]);
    await replica.destroy();
    await primary.destroy();
  }
});
