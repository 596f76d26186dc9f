/**
 * Connections killed under load: 16 callers put and get while their backends are terminated
 * over and over (`pg_terminate_backend`). Nothing acknowledged is lost, every failure says the
 * connection was lost, and the same pool serves again afterwards.
 *
 * @module
 */
import assert from "node:assert/strict";
import pg from "pg";
import { migrate, PgStorage } from "../../mod.ts";
import { nodePostgresDriver } from "../../drivers/node_postgres.ts";
import { pause, TrackedLoad } from "../support/fault_load.ts";
import { withTestSchema } from "../support/test_db.ts";

const CALLERS = 16;
const POOL_SIZE = 10;
const CHAOS_MS = 4000;

Deno.test("16 callers while backends are terminated: every call succeeds or says the connection was lost, nothing acknowledged is lost, the pool recovers", async () => {
  const db = await withTestSchema("fault_kill");
  const application = db.schema; // unique: the killer ends only this test's backends
  const pool = new pg.Pool({
    connectionString: db.url,
    application_name: application,
    max: POOL_SIZE,
  });
  // node-postgres reports an idle client's lost connection here (the pool has already dropped
  // the client); without a listener the runtime would end the process.
  let idleErrors = 0;
  pool.on("error", () => idleErrors++);
  const driver = nodePostgresDriver(pool);
  try {
    await migrate(driver, { schema: db.schema });
    const storage = new PgStorage({ driver, schema: db.schema });
    const load = new TrackedLoad(storage, { callers: CALLERS, perCaller: 2, prefix: "kill" });

    let terminated = 0;
    let chaos = true;
    const killer = (async () => {
      while (chaos) {
        const { rows } = await db.pool.query(
          `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = $1 AND pid <> pg_backend_pid()) AS t`,
          [application],
        );
        terminated += rows[0].n;
        await pause(20 + Math.random() * 100);
      }
    })();
    load.start();
    await pause(CHAOS_MS);
    chaos = false;
    await killer;
    await load.stop();

    const { stats } = load;
    console.log(
      `  ${stats.ok} calls succeeded, ${load.lostCount} lost their connection ${
        JSON.stringify(Object.fromEntries(stats.lost))
      }, ${terminated} backends terminated, ${idleErrors} idle clients dropped, ${stats.appliedInDoubt} puts in doubt turned out applied`,
    );
    load.assertClean();
    assert.ok(terminated >= 20, `only ${terminated} backends were terminated`);
    assert.ok(load.lostCount >= 10, "the kills reached running statements");
    // Calls kept getting through between kills: a put and a get per caller at least. How many
    // more is the machine's speed (106–173 here, under 140 kills in 4 s), not a promise.
    assert.ok(stats.ok >= 2 * CALLERS, `only ${stats.ok} calls succeeded`);

    // Every instance reads back as its last acknowledged put wrote it, through a fresh pool.
    const reader = new PgStorage({ driver: nodePostgresDriver(db.pool), schema: db.schema });
    const { exact, inDoubt } = await load.verify(reader);
    assert.equal(exact + inDoubt, CALLERS * 2);

    // The same pool and storage serve every caller again, with no error, and hold no more
    // connections than the pool's maximum.
    await load.settle();
    await load.verify(reader);
    assert.ok(pool.totalCount <= POOL_SIZE);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`,
      [application],
    );
    assert.ok(rows[0].n <= POOL_SIZE, `${rows[0].n} backends for a pool of ${POOL_SIZE}`);
  } finally {
    await pool.end();
    await db.drop();
  }
});
