import assert from "node:assert/strict";
import pg from "pg";
import {
  migrate,
  type Migration,
  MigrationError,
  MIGRATIONS,
  migrationStatus,
  newInstance,
  PgStorage,
  ValidationError,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { withTestSchema } from "./support/test_db.ts";

Deno.test("migrate()", async (t) => {
  const db = await withTestSchema("migrate");
  const driver = nodePostgresDriver(db.pool);
  const raw = (text: string, params: unknown[] = []) => db.pool.query(text, params);
  const tableExists = async (schema = db.schema) =>
    (await raw(`SELECT to_regclass($1) AS t`, [`"${schema}".workflow_instances`])).rows[0].t !==
      null;
  const latest = MIGRATIONS.at(-1)!.version;
  const versions = MIGRATIONS.map((m) => m.version);
  try {
    await t.step("a fresh schema is created and brought to the latest version", async () => {
      const before = await migrationStatus(driver, { schema: db.schema });
      assert.equal(before.version, 0);
      assert.deepEqual(before.pending.map((p) => p.version), MIGRATIONS.map((m) => m.version));
      const result = await migrate(driver, { schema: db.schema });
      assert.equal(result.version, latest);
      assert.deepEqual(
        result.steps,
        MIGRATIONS.map(({ version, name }) => ({ version, name, direction: "up" })),
      );
      assert.equal(result.steps.at(0)?.name, "create_workflow_instances");
      assert.ok(await tableExists());
      const status = await migrationStatus(driver, { schema: db.schema });
      assert.equal(status.version, latest);
      assert.deepEqual(status.pending, []);
      const [first] = status.applied;
      assert.ok(first, "no migration applied");
      assert.match(first.checksum, /^[0-9a-f]{64}$/);
      assert.ok(status.applied.every((a) => a.checksumMatches));
    });

    await t.step("running it again applies nothing", async () => {
      const result = await migrate(driver, { schema: db.schema });
      assert.deepEqual(result.steps, []);
      assert.equal(result.version, latest);
    });

    await t.step("going down to 0 drops the table; going up brings it back", async () => {
      const storage = new PgStorage({ driver, schema: db.schema });
      await storage.put(newInstance({ id: "a", workflow: "W" }));
      const down = await migrate(driver, { schema: db.schema, to: 0 });
      assert.deepEqual(
        down.steps.map((s) => [s.version, s.direction]),
        versions.toReversed().map((v) => [v, "down"]),
      );
      assert.equal(await tableExists(), false);
      assert.equal((await migrationStatus(driver, { schema: db.schema })).version, 0);
      await migrate(driver, { schema: db.schema });
      assert.ok(await tableExists());
      assert.equal(await storage.get("a"), null);
    });

    await t.step("a dry run returns the SQL and changes nothing", async () => {
      const schema = `${db.schema}_dry`;
      const plan = await migrate(driver, { schema, dryRun: true });
      assert.deepEqual(plan.steps.map((s) => s.version), versions);
      assert.match(
        String(plan.sql.at(0)),
        new RegExp(`CREATE TABLE "${schema}".workflow_instances`),
      );
      assert.equal(await tableExists(schema), false);
      const nothing = await migrate(driver, { schema: db.schema, dryRun: true });
      assert.deepEqual(nothing.steps, []);
      assert.deepEqual(nothing.sql, []);
    });

    await t.step("8 racing migrators on a fresh schema: applied once, none fails", async () => {
      const schema = `${db.schema}_race`;
      try {
        const results = await Promise.all(
          Array.from({ length: 8 }, () => migrate(driver, { schema })),
        );
        const applied = results.flatMap((r) => r.steps);
        assert.deepEqual(applied.map((s) => s.version).sort(), versions);
        assert.ok(results.every((r) => r.version === latest));
        const { rows } = await raw(`SELECT count(*)::int AS n FROM "${schema}".heph_migrations`);
        assert.equal(rows[0].n, MIGRATIONS.length);
      } finally {
        await raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });

    await t.step("racing migrators succeed whatever the server's default isolation", async () => {
      for (const level of ["repeatable read", "serializable"]) {
        const schema = `${db.schema}_iso`;
        const pools = Array.from({ length: 8 }, () =>
          new pg.Pool({
            connectionString: db.url,
            max: 1,
            options: `-c default_transaction_isolation=${level.replace(" ", "\\ ")}`,
          }));
        try {
          const [{ rows }] = await Promise.all([
            pools[0].query("SHOW default_transaction_isolation"),
          ]);
          assert.equal(rows[0].default_transaction_isolation, level);
          const results = await Promise.all(
            pools.map((pool) => migrate(nodePostgresDriver(pool), { schema })),
          );
          assert.deepEqual(
            results.flatMap((r) => r.steps).map((s) => s.version).sort(),
            versions,
            level,
          );
        } finally {
          await Promise.all(pools.map((pool) => pool.end()));
          await raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        }
      }
    });

    await t.step("an empty migration list applies nothing", async () => {
      const result = await migrate(driver, { schema: `${db.schema}_empty`, migrations: [] });
      assert.deepEqual(result, { schema: `${db.schema}_empty`, version: 0, steps: [], sql: [] });
      await raw(`DROP SCHEMA "${db.schema}_empty" CASCADE`);
    });

    await t.step("a failed migration keeps the pooled connection it used", async () => {
      const pool = new pg.Pool({ connectionString: db.url, max: 1 });
      try {
        const single = nodePostgresDriver(pool);
        const pid = async () => (await pool.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
        const before = await pid();
        await assert.rejects(single.transaction([{ text: "SELECT 1/0" }]));
        assert.equal(await pid(), before, "the same backend serves the next query");
        assert.equal(pool.totalCount, 1);
      } finally {
        await pool.end();
      }
    });

    await t.step("an applied migration that changed is refused with MigrationError", async () => {
      await raw(`UPDATE "${db.schema}".heph_migrations SET checksum = 'x' WHERE version = 1`);
      try {
        for (const dryRun of [false, true]) {
          await assert.rejects(migrate(driver, { schema: db.schema, dryRun }), (error: unknown) => {
            assert.ok(error instanceof MigrationError);
            assert.equal(error.code, "HEPH_MIGRATION");
            assert.match(error.message, /^Checksum mismatch for applied migration 1 /);
            return true;
          });
        }
        const status = await migrationStatus(driver, { schema: db.schema });
        assert.equal(status.applied.at(0)?.checksumMatches, false);
      } finally {
        const { applied } = await migrationStatus(driver, { schema: db.schema });
        assert.ok(applied.length > 0);
        await raw(`DROP SCHEMA "${db.schema}" CASCADE`);
        await migrate(driver, { schema: db.schema });
      }
    });

    await t.step("a database newer than this release is refused", async () => {
      await raw(
        `INSERT INTO "${db.schema}".heph_migrations (version, name, checksum) VALUES (99, 'future', 'f')`,
      );
      try {
        await assert.rejects(migrate(driver, { schema: db.schema }), (error: unknown) => {
          assert.ok(error instanceof MigrationError);
          assert.match(error.message, /at version 99, newer than this release knows/);
          return true;
        });
      } finally {
        await raw(`DELETE FROM "${db.schema}".heph_migrations WHERE version = 99`);
      }
    });

    await t.step("a failing migration leaves the schema exactly as it was", async () => {
      const schema = `${db.schema}_fail`;
      const broken: Migration[] = [
        ...MIGRATIONS,
        {
          version: MIGRATIONS.length + 1,
          name: "broken",
          up: "ALTER TABLE {schema}.workflow_instances ADD COLUMN note text; SELECT 1/0;",
          down: "ALTER TABLE {schema}.workflow_instances DROP COLUMN note;",
        },
      ];
      try {
        await assert.rejects(migrate(driver, { schema, migrations: broken }), (error: unknown) => {
          assert.ok(error instanceof MigrationError);
          assert.match(error.message, /division by zero/);
          assert.equal((error.cause as { code?: string }).code, "22012");
          return true;
        });
        assert.equal(await tableExists(schema), false, "migration 1 was rolled back too");
        await migrate(driver, { schema });
        await assert.rejects(migrate(driver, { schema, migrations: broken }), MigrationError);
        const { rows } = await raw(
          `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'note'`,
          [schema],
        );
        assert.equal(rows[0].n, 0);
        assert.equal((await migrationStatus(driver, { schema })).version, latest);
      } finally {
        await raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    });

    await t.step("bad options are refused before anything runs", async () => {
      for (const to of [-1, latest + 1, 1.5, NaN]) {
        await assert.rejects(migrate(driver, { schema: db.schema, to }), ValidationError);
      }
      for (const schema of ["Bad", "x;drop", "", "a".repeat(64)]) {
        await assert.rejects(migrate(driver, { schema }), ValidationError);
        await assert.rejects(migrationStatus(driver, { schema }), ValidationError);
      }
      const [first] = MIGRATIONS;
      assert.ok(first);
      const gap: Migration[] = [{ ...first, version: 2 }];
      await assert.rejects(migrate(driver, { schema: db.schema, migrations: gap }), MigrationError);
    });
  } finally {
    await db.drop();
  }
});
