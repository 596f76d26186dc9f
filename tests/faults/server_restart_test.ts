/**
 * The server restarts mid-run (a clean fast shutdown, then a crash-like immediate one) on a
 * cluster this test starts: calls during the outage reject clearly, and afterwards the same
 * storage object works again with every acknowledged write in place.
 *
 * @module
 */
import assert from "node:assert/strict";
import pg from "pg";
import { isConnectionError, migrate, newInstance, PgStorage } from "../../mod.ts";
import { nodePostgresDriver } from "../../drivers/node_postgres.ts";
import { pause, TrackedLoad } from "../support/fault_load.ts";
import { startThrowawayCluster } from "../support/test_db.ts";

Deno.test("a server restart mid-run: calls during the outage reject clearly, then the same storage works and no acknowledged write is missing", async (t) => {
  const cluster = await startThrowawayCluster();
  const pool = new pg.Pool({
    connectionString: cluster.url,
    max: 8,
    connectionTimeoutMillis: 5000,
  });
  pool.on("error", () => {}); // idle clients losing their server: the pool drops them
  const driver = nodePostgresDriver(pool);
  try {
    await migrate(driver);
    const storage = new PgStorage({ driver });
    const load = new TrackedLoad(storage, {
      callers: 16,
      perCaller: 2,
      prefix: "restart",
      pauseMs: 20,
    });
    load.start();
    try {
      for (const mode of ["fast", "immediate"] as const) {
        await t.step(`pg_ctl stop -m ${mode}, then start`, async () => {
          await pause(700);
          const before = { ok: load.stats.ok, lost: load.lostCount };
          await cluster.stop(mode);
          // While the server is down, every call is refused at once, with a clear error.
          const started = performance.now();
          await assert.rejects(storage.get("restart::0::0"), (error: unknown) => {
            assert.ok(isConnectionError(error), String(error));
            assert.equal(error.code, "08001");
            assert.match(error.message, /^Cannot run get, no connection to the database: /);
            return true;
          });
          assert.ok(performance.now() - started < 5000, "refused without waiting");
          await pause(700);
          assert.ok(load.lostCount > before.lost, "the callers saw the outage");
          await cluster.start();
          const back = load.stats.ok;
          await waitFor(() => load.stats.ok > back + 100, 15_000);
          assert.ok(load.stats.ok > before.ok);
        });
      }
    } finally {
      await load.stop();
    }
    const { stats } = load;
    console.log(
      `  ${stats.ok} calls succeeded, ${load.lostCount} refused or lost ${
        JSON.stringify(Object.fromEntries(stats.lost))
      }, ${stats.appliedInDoubt} puts in doubt turned out applied`,
    );
    load.assertClean();
    // The storage object created before both restarts reads every acknowledged write.
    await load.verify(storage);
    await load.settle();
    await storage.put(newInstance({ id: "after::1", workflow: "W" }));
    assert.equal((await storage.get("after::1"))!.revision, 1);
  } finally {
    await pool.end();
    await cluster.destroy();
  }
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not recovered within ${timeoutMs} ms`);
    await pause(20);
  }
}
