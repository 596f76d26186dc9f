/**
 * PgStorage on Citus: a coordinator and two workers the test starts itself, the table
 * distributed by `id` with `migrate(driver, { distribute: true })`. Skipped, with one line
 * saying so, when Citus is not installed in the local PostgreSQL.
 *
 * @module
 */
import assert from "node:assert/strict";
import pg from "pg";
import { migrate, PgStorage } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { freshSchemaStorage, storageConformance } from "../testing/storage_conformance.ts";
import { CITUS_MISSING, citusInstalled, startCitusCluster } from "./support/citus_cluster.ts";

if (!await citusInstalled()) {
  Deno.test({ name: `PgStorage on Citus: ${CITUS_MISSING}`, ignore: true, fn() {} });
} else {
  Deno.test("PgStorage on a Citus cluster of a coordinator and two workers", async (t) => {
    const cluster = await startCitusCluster();
    const pool = new pg.Pool({ connectionString: cluster.url, max: 12 });
    const driver = nodePostgresDriver(pool);
    try {
      await t.step("the exported conformance suite passes on distributed tables", async () => {
        const report = await storageConformance(
          "citus",
          freshSchemaStorage(driver, "citus_conformance", { distribute: true }),
          {
            onResult: (r) => {
              if (!r.ok) console.log(`FAILED ${r.name}: ${(r.error as Error)?.message}`);
            },
          },
        );
        assert.equal(report.failed, 0, `${report.failed} of ${report.results.length} failed`);
      });
    } finally {
      await pool.end();
      await cluster.destroy();
    }
  });
}
