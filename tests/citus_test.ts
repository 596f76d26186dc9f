/**
 * PgStorage on Citus: a coordinator and two workers the test starts itself, the table
 * distributed by `id` with `migrate(driver, { distribute: true })`. Skipped, with one line
 * saying so, when Citus is not installed in the local PostgreSQL. The refusal without Citus
 * runs on the ordinary test database, always.
 *
 * @module
 */
import assert from "node:assert/strict";
import pg from "pg";
import {
  DatabaseError,
  migrate,
  type Migration,
  MigrationError,
  MIGRATIONS,
  newInstance,
  PgStorage,
  type SqlDriver,
  ValidationError,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { freshSchemaStorage, storageConformance } from "../testing/storage_conformance.ts";
import { CITUS_MISSING, citusInstalled, startCitusCluster } from "./support/citus_cluster.ts";
import { withTestSchema } from "./support/test_db.ts";

Deno.test("migrate() with distribute is refused without the citus extension", async () => {
  const db = await withTestSchema("no_citus");
  const driver = nodePostgresDriver(db.pool);
  try {
    const installed = await db.pool.query(
      "SELECT 1 FROM pg_extension WHERE extname = 'citus'",
    );
    if (installed.rowCount !== 0) {
      console.log("skipped: the test database has the citus extension, so nothing to refuse");
      return;
    }
    await assert.rejects(
      migrate(driver, { schema: db.schema, distribute: true }),
      (error) =>
        error instanceof MigrationError &&
        error.message ===
          `Cannot distribute "${db.schema}".workflow_instances of schema ${db.schema}: the citus extension is not installed in this database (CREATE EXTENSION citus)`,
    );
    const left = await db.pool.query("SELECT to_regnamespace($1) AS s", [`"${db.schema}"`]);
    assert.equal(left.rows[0].s, null, "nothing was created");
    await assert.rejects(
      migrate(driver, { schema: db.schema, distribute: true, to: 1 }),
      (error) =>
        error instanceof ValidationError &&
        /^Invalid options: distribute needs target version 2 or later, got 1/.test(error.message),
    );
    await assert.rejects(
      migrate(driver, { schema: db.schema, distribute: "yes" as unknown as boolean }),
      ValidationError,
    );
  } finally {
    await db.drop();
  }
});

/** A driver that keeps each statement it passes on, with its parameters. */
function recording(inner: SqlDriver) {
  const sent: { text: string; params: readonly unknown[] }[] = [];
  const driver: SqlDriver = {
    query(text, params = []) {
      sent.push({ text, params });
      return inner.query(text, params);
    },
    transaction: (statements) => inner.transaction(statements),
  };
  return { driver, sent };
}

if (!await citusInstalled()) {
  Deno.test({ name: `PgStorage on Citus: ${CITUS_MISSING}`, ignore: true, fn() {} });
} else {
  Deno.test("PgStorage on a Citus cluster of a coordinator and two workers", async (t) => {
    const cluster = await startCitusCluster();
    const pool = new pg.Pool({ connectionString: cluster.url, max: 12 });
    const driver = nodePostgresDriver(pool);
    const distributionOf = async (schema: string) =>
      (await pool.query(
        "SELECT distribution_column AS c, shard_count::int AS n FROM citus_tables WHERE table_name = to_regclass($1)",
        [`"${schema}".workflow_instances`],
      )).rows[0] as { c: string; n: number } | undefined;
    try {
      await t.step("migrate() distributes the table on id, once, idempotently", async () => {
        const first = await migrate(driver, { schema: "dist_once", distribute: true });
        assert.equal(first.distributed, true);
        assert.equal(first.steps.length, MIGRATIONS.length);
        assert.equal((await distributionOf("dist_once"))?.c, "id");
        const again = await migrate(driver, { schema: "dist_once", distribute: true });
        assert.deepEqual(again, {
          schema: "dist_once",
          version: MIGRATIONS.length,
          steps: [],
          sql: [],
          distributed: false,
        });
        const plain = await migrate(driver, { schema: "dist_once" });
        assert.equal(plain.distributed, undefined);
        const dry = await migrate(driver, { schema: "dist_dry", distribute: true, dryRun: true });
        assert.match(dry.sql.at(-1)!, /create_distributed_table/);
        assert.equal(await distributionOf("dist_dry"), undefined, "a dry run changes nothing");
      });

      await t.step("six processes migrating and distributing at once do it once", async () => {
        const results = await Promise.all(
          Array.from(
            { length: 6 },
            () => migrate(driver, { schema: "dist_race", distribute: true }),
          ),
        );
        assert.equal(results.filter((r) => r.distributed).length, 1);
        assert.equal(results.flatMap((r) => r.steps).length, MIGRATIONS.length);
        assert.equal((await distributionOf("dist_race"))?.c, "id");
      });

      await t.step("later migrations apply to the distributed table, on every shard", async () => {
        await migrate(driver, { schema: "dist_later", to: 2, distribute: true });
        const later: Migration = {
          version: MIGRATIONS.length + 1,
          name: "later_index_and_column",
          up:
            `CREATE INDEX workflow_instances_later_idx ON {schema}.workflow_instances (updated_at);
ALTER TABLE {schema}.workflow_instances ADD COLUMN later_note text`,
          down: `DROP INDEX {schema}.workflow_instances_later_idx;
ALTER TABLE {schema}.workflow_instances DROP COLUMN later_note`,
        };
        // This release's own later migrations first, then one more index and column.
        const result = await migrate(driver, {
          schema: "dist_later",
          migrations: [...MIGRATIONS, later],
          distribute: true,
        });
        assert.deepEqual(
          result.steps.map((s) => s.version),
          [...MIGRATIONS.slice(2).map((m) => m.version), later.version],
        );
        assert.equal(result.distributed, false);
        const { n } = (await distributionOf("dist_later"))!;
        for (const url of cluster.workerUrls) {
          const worker = new pg.Client({ connectionString: url });
          await worker.connect();
          try {
            // Citus hides shards from catalog queries on workers unless told otherwise.
            await worker.query("SET citus.override_table_visibility TO off");
            const shards = await worker.query(
              `SELECT count(*)::int AS n FROM pg_indexes
                WHERE schemaname = 'dist_later' AND indexname LIKE 'workflow_instances_later_idx_%'`,
            );
            // The worker's shards, and the table's shell that Citus keeps on every node.
            const columns = await worker.query(
              `SELECT count(*)::int AS tables, count(a.attname)::int AS with_column
                 FROM pg_class c LEFT JOIN pg_attribute a
                   ON a.attrelid = c.oid AND a.attname = 'later_note' AND NOT a.attisdropped
                WHERE c.relnamespace = 'dist_later'::regnamespace AND c.relkind = 'r'
                  AND c.relname LIKE 'workflow\\_instances%'`,
            );
            assert.equal(shards.rows[0].n, n / 2, "each worker holds half the shards, indexed");
            assert.ok(columns.rows[0].tables > n / 2);
            assert.equal(columns.rows[0].with_column, columns.rows[0].tables);
          } finally {
            await worker.end();
          }
        }
        const storage = new PgStorage({ driver, schema: "dist_later", distributed: true });
        await storage.put(newInstance({ id: "after::1", workflow: "W" }));
        assert.equal((await storage.get("after::1"))?.revision, 1);
      });

      await t.step("a table Citus distributes by another column is refused", async () => {
        await migrate(driver, { schema: "dist_other" });
        await pool.query(`SELECT create_reference_table('dist_other.workflow_instances')`);
        await assert.rejects(
          migrate(driver, { schema: "dist_other", distribute: true }),
          (error) =>
            error instanceof MigrationError &&
            /^Cannot distribute "dist_other"\.workflow_instances of schema dist_other: Citus already manages it as a reference table \(distribution column <none>\), not distributed by id$/
              .test(error.message),
        );
      });

      await t.step("the exported conformance suite passes on distributed tables", async () => {
        const failures: string[] = [];
        const report = await storageConformance(
          "citus",
          freshSchemaStorage(driver, "citus_conformance", { distribute: true }),
          {
            onResult: (r) => {
              if (!r.ok) failures.push(`${r.name}: ${(r.error as Error)?.message}`);
            },
          },
        );
        assert.deepEqual(failures, []);
        assert.ok(report.passed > 30);
      });

      await t.step("every operation on one id is a router query: one shard, one task", async () => {
        await migrate(driver, { schema: "dist_router", distribute: true });
        const seen = recording(driver);
        const storage = new PgStorage({
          driver: seen.driver,
          schema: "dist_router",
          distributed: true,
        });
        const order = () => newInstance({ id: "order::1", workflow: "Shop.Order" });
        const operations: [string, () => Promise<unknown>][] = [
          ["put with expectedRevision 0", () => storage.put(order(), { expectedRevision: 0 })],
          ["put", () => storage.put(order())],
          ["put with expectedRevision n", () => storage.put(order(), { expectedRevision: 2 })],
          ["put with an owner", () => storage.put(order(), { owner: "w1" })],
          ["put with both", () => storage.put(order(), { owner: "w1", expectedRevision: 4 })],
          ["get", () => storage.get("order::1")],
          ["query by id", () => storage.query({ id: "order::1" })],
          ["claim by id", () => storage.claim({ id: "order::1", owner: "w1", leaseMs: 60_000 })],
          ["renewLease", () => storage.renewLease("order::1", { owner: "w1", leaseMs: 60_000 })],
          ["releaseLease", () => storage.releaseLease("order::1", { owner: "w1" })],
          ["delete", () => storage.delete("order::1")],
        ];
        for (const [name, run] of operations) {
          const before = seen.sent.length;
          await run();
          assert.equal(seen.sent.length, before + 1, `${name} is one statement`);
          const sent = seen.sent[before];
          assert.ok(sent, `${name} sent its statement`);
          const { text, params } = sent;
          const plan = (await pool.query(`EXPLAIN ${text}`, [...params])).rows
            .map((row: Record<string, string>) => row["QUERY PLAN"]).join("\n");
          const tasks = [...plan.matchAll(/Task Count: (\d+)/g)].map((m) => Number(m[1]));
          assert.deepEqual(tasks, [1], `${name} runs as one task:\n${plan}`);
          assert.doesNotMatch(plan, /Distributed Subplan/, name);
        }
      });

      await t.step("a PgStorage not told the table is distributed says so", async () => {
        await migrate(driver, { schema: "dist_untold", distribute: true });
        const storage = new PgStorage({ driver, schema: "dist_untold" });
        const untold = (error: unknown) =>
          error instanceof DatabaseError && error.code === "0A000" &&
          /^The \w+ statement cannot run on a Citus distributed table: .*\(create the PgStorage with distributed: true\)$/
            .test(error.message);
        const order = newInstance({ id: "untold::1", workflow: "W" });
        await assert.rejects(storage.put(order, { owner: "w1" }), untold);
        await assert.rejects(storage.claim({ owner: "w1", leaseMs: 1000 }), untold);
        await assert.rejects(storage.prune({ olderThan: new Date() }), untold);
        assert.equal(await storage.get("untold::1"), null);
      });

      await t.step("8 workers draining 2,000 instances process each exactly once", async () => {
        await migrate(driver, { schema: "dist_drain", distribute: true });
        const storage = new PgStorage({ driver, schema: "dist_drain", distributed: true });
        const ids = Array.from({ length: 2000 }, (_, i) => `job::${i}`);
        for (let i = 0; i < ids.length; i += 500) {
          await storage.putMany(
            ids.slice(i, i + 500).map((id) => {
              const instance = newInstance({ id, workflow: "W" });
              instance.status = "waiting";
              return instance;
            }),
          );
        }
        const processed: string[] = [];
        await Promise.all(Array.from({ length: 8 }, async (_, w) => {
          const owner = `worker-${w}`;
          for (;;) {
            const batch = await storage.claim({
              owner,
              leaseMs: 60_000,
              limit: 10,
              status: "waiting",
            });
            if (batch.length === 0) {
              // A claim that lost every race comes back empty while work remains: stop only
              // when nothing waits (what others hold, they finish).
              if (await storage.count({ status: "waiting" }) === 0) return;
              await new Promise((resolve) => setTimeout(resolve, 5));
              continue;
            }
            for (const instance of batch) {
              assert.equal(instance.lease?.owner, owner);
              instance.status = "completed";
              instance.context.steps.done_by = owner;
              await storage.put(instance, { owner, expectedRevision: instance.revision });
              await storage.releaseLease(instance.id, { owner });
              processed.push(instance.id);
            }
          }
        }));
        assert.equal(processed.length, 2000);
        assert.equal(new Set(processed).size, 2000, "no instance processed twice");
        assert.equal(await storage.count({ status: "completed" }), 2000);
        assert.equal(await storage.count({ status: "waiting" }), 0);
        const { rows: [{ n }] } = await pool.query(
          "SELECT count(*)::int AS n FROM dist_drain.workflow_instances WHERE lease_owner IS NOT NULL",
        );
        assert.equal(n, 0);
      });
    } finally {
      await pool.end();
      await cluster.destroy();
    }
  });
}
