/**
 * Checks of a driver adapter below the Storage contract: error codes, transactions, migrations,
 * row counts and how JSON parameters land. Shared by the driver test files, each running them
 * as steps on its own driver.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DatabaseError,
  migrate,
  MigrationError,
  MIGRATIONS,
  migrationStatus,
  newInstance,
  PgStorage,
  type SqlDriver,
  toDatabaseError,
} from "../../mod.ts";

/** Asserts `promise` rejects with what toDatabaseError turns into a DatabaseError of `code`. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    const wrapped = toDatabaseError(error);
    assert.ok(wrapped instanceof DatabaseError, `${error} is a DatabaseError`);
    assert.equal(wrapped.code, code, String(error));
    assert.equal(wrapped.cause, error, "the driver's error is the cause");
    return true;
  });
}

/**
 * Runs the driver checks as steps, in schemas `${prefix}_…` it creates and drops through the
 * driver itself.
 */
export async function checkDriverBehaviour(
  t: Deno.TestContext,
  driver: SqlDriver,
  prefix: string,
): Promise<void> {
  const schema = `${prefix}_checks`;
  const table = `"${schema}".workflow_instances`;
  await migrate(driver, { schema });
  try {
    const storage = new PgStorage({ driver, schema });

    await t.step("a unique violation is a DatabaseError with code 23505", async () => {
      await storage.put(newInstance({ id: "dup::1", workflow: "W" }));
      const insert = `INSERT INTO ${table} (id, workflow, workflow_version, status, state)
        VALUES ($1, 'W', 1, 'pending', '{}')`;
      await rejectsWithCode(driver.query(insert, ["dup::1"]), "23505");
      // Through PgStorage: a unique index the upsert's ON CONFLICT (id) does not cover.
      await driver.query(`CREATE UNIQUE INDEX one_per_workflow ON ${table} (workflow)`);
      try {
        await assert.rejects(
          storage.put(newInstance({ id: "dup::2", workflow: "W" })),
          (error: unknown) => {
            assert.ok(error instanceof DatabaseError, String(error));
            assert.equal(error.code, "23505");
            assert.ok(error.cause, "the driver's error is the cause");
            return true;
          },
        );
      } finally {
        await driver.query(`DROP INDEX "${schema}".one_per_workflow`);
      }
      assert.equal(await storage.get("dup::2"), null);
    });

    await t.step("a syntax error is a DatabaseError with code 42601", async () => {
      await rejectsWithCode(driver.query("SELEC 1"), "42601");
      await rejectsWithCode(driver.query("SELECT $1::text FROM", ["x"]), "42601");
      // Through the core's transaction path: a migration with a typo.
      await assert.rejects(
        migrate(driver, {
          schema: `${prefix}_typo`,
          migrations: [{
            version: 1,
            name: "typo",
            up: "CREATE TABL {schema}.t (a int)",
            down: "",
          }],
        }),
        (error: unknown) => {
          assert.ok(error instanceof MigrationError, String(error));
          assert.ok(error.cause instanceof DatabaseError);
          assert.equal(error.cause.code, "42601");
          return true;
        },
      );
      const typo = await driver.query(`SELECT to_regnamespace($1)::text AS name`, [
        `${prefix}_typo`,
      ]);
      assert.equal(typo.rows[0]?.name, null, "the failed migration created nothing");
    });

    await t.step("transaction() returns one result per statement, in order", async () => {
      const results = await driver.transaction([
        { text: `CREATE TABLE "${schema}".tx_ok (n integer)` },
        {
          text: `INSERT INTO "${schema}".tx_ok VALUES ($1::integer), ($2::integer)`,
          params: [1, 2],
        },
        { text: `SELECT n::text AS n FROM "${schema}".tx_ok ORDER BY n` },
      ]);
      assert.equal(results.length, 3);
      assert.deepEqual(results[1]?.rows, []);
      assert.equal(results[1]?.rowCount, 2);
      assert.deepEqual(results[2]?.rows, [{ n: "1" }, { n: "2" }]);
      assert.equal(results[2]?.rowCount, 2);
      await driver.query(`DROP TABLE "${schema}".tx_ok`);
    });

    await t.step("transaction() rolls back entirely when its last statement fails", async () => {
      await rejectsWithCode(
        driver.transaction([
          { text: `CREATE TABLE "${schema}".tx_gone (n integer)` },
          { text: `INSERT INTO "${schema}".tx_gone VALUES (1)` },
          { text: `UPDATE ${table} SET status = 'running' WHERE id = $1`, params: ["dup::1"] },
          { text: `SELECT 1/0` },
        ]),
        "22012",
      );
      const gone = await driver.query(`SELECT to_regclass($1)::text AS name`, [
        `"${schema}".tx_gone`,
      ]);
      assert.equal(gone.rows[0]?.name, null);
      assert.equal((await storage.get("dup::1"))?.status, "pending");
      // The driver is usable afterwards: nothing is left half-open.
      assert.deepEqual((await driver.query("SELECT 'ok'::text AS ok")).rows, [{ ok: "ok" }]);
    });

    await t.step("query() reports rows returned or affected", async () => {
      await storage.put(newInstance({ id: "count::1", workflow: "C" }));
      await storage.put(newInstance({ id: "count::2", workflow: "C" }));
      const select = await driver.query(`SELECT id FROM ${table} WHERE workflow = $1`, ["C"]);
      assert.equal(select.rowCount, 2);
      const update = await driver.query(
        `UPDATE ${table} SET status = 'running' WHERE workflow = $1`,
        [
          "C",
        ],
      );
      assert.deepEqual(update.rows, []);
      assert.equal(update.rowCount, 2);
      const none = await driver.query(`DELETE FROM ${table} WHERE id = $1`, ["nothing"]);
      assert.equal(none.rowCount, 0);
    });

    await t.step("strings, numbers and null parameters reach their casts", async () => {
      const { rows } = await driver.query(
        `SELECT $1::text AS s, ($2::integer + 1)::text AS i, ($3::bigint * 2)::text AS b,
           ($4::text IS NULL) AS n, $5::text::jsonb ->> 'k' AS j`,
        ["é\u{1F600}'\"", 41, 2 ** 40, null, JSON.stringify({ k: "v" })],
      );
      assert.deepEqual(rows, [{
        s: "é\u{1F600}'\"",
        i: "42",
        b: String(2 ** 41),
        n: true,
        j: "v",
      }]);
    });

    await t.step("state is stored as a jsonb object, not a JSON string", async () => {
      await storage.put(newInstance({ id: "json::1", workflow: "J", initial: { order_id: 7 } }));
      const typed = await driver.query(
        `SELECT jsonb_typeof(state) AS type FROM ${table} WHERE id = $1`,
        ["json::1"],
      );
      assert.equal(typed.rows[0]?.type, "object");
      const contained = await driver.query(
        `SELECT id FROM ${table} WHERE state @> $1::text::jsonb`,
        [JSON.stringify({ context: { initial: { order_id: 7 } } })],
      );
      assert.deepEqual(contained.rows, [{ id: "json::1" }]);
    });

    await t.step(
      "rows stored with microseconds by other programs page without repeats",
      async () => {
        // Two rows in the same millisecond: a cursor that lost its microseconds would loop.
        await driver.query(
          `INSERT INTO ${table} (id, workflow, workflow_version, status, state, inserted_at)
         VALUES ('us::b', 'Micro', 1, 'pending', '{}', '2026-01-01T00:00:00.123400Z'),
                ('us::a', 'Micro', 1, 'pending', '{}', '2026-01-01T00:00:00.123700Z')`,
        );
        const seen: string[] = [];
        let cursor: string | null = null;
        for (let pages = 0; pages < 5; pages++) {
          const page: Awaited<ReturnType<PgStorage["page"]>> = await storage.page(
            { workflow: "Micro" },
            { limit: 1, cursor },
          );
          seen.push(...page.items.map((i) => i.id));
          cursor = page.nextCursor;
          if (cursor === null) break;
        }
        assert.deepEqual(seen, ["us::b", "us::a"]);
        // Times beyond what toISOString() and PostgreSQL share reach the server intact too.
        assert.deepEqual(
          (await storage.query({ workflow: "Micro", insertedAfter: new Date(-8.64e15) }))
            .map((i) => i.id),
          ["us::b", "us::a"],
        );
        assert.equal(await storage.count({ insertedBefore: new Date(-62_167_219_200_000) }), 0);
        assert.equal(await storage.count({ updatedAfter: new Date(8.64e15) }), 0);
      },
    );

    await t.step(
      "migrations go up, down to 0 and up again",
      () => checkMigrationRoundTrip(driver, `${prefix}_migrations`),
    );
  } finally {
    await driver.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

/**
 * Migrates a fresh schema up through `driver`, stores an instance, goes down to 0 (the table is
 * gone: 42P01), and up again (empty), checking each step's report; drops the schema after.
 */
export async function checkMigrationRoundTrip(driver: SqlDriver, schema: string): Promise<void> {
  const ups = MIGRATIONS.map((m) => [m.version, "up"]);
  try {
    const up = await migrate(driver, { schema });
    assert.deepEqual(up.steps.map((s) => [s.version, s.direction]), ups);
    assert.deepEqual((await migrate(driver, { schema })).steps, []);
    const tenant = new PgStorage({ driver, schema });
    await tenant.put(newInstance({ id: "m::1", workflow: "W", initial: { n: 1n } }));
    assert.equal((await tenant.get("m::1"))?.context.initial.n, 1n);
    const down = await migrate(driver, { schema, to: 0 });
    assert.deepEqual(
      down.steps.map((s) => [s.version, s.direction]),
      MIGRATIONS.map((m) => [m.version, "down"]).reverse(),
    );
    assert.equal((await migrationStatus(driver, { schema })).version, 0);
    await assert.rejects(tenant.get("m::1"), (error: unknown) => {
      assert.ok(error instanceof DatabaseError);
      assert.equal(error.code, "42P01");
      return true;
    });
    const again = await migrate(driver, { schema });
    assert.deepEqual(again.steps.map((s) => [s.version, s.direction]), ups);
    const status = await migrationStatus(driver, { schema });
    assert.equal(status.version, MIGRATIONS.at(-1)!.version);
    assert.ok(status.applied.every((a) => a.checksumMatches));
    assert.equal(await tenant.get("m::1"), null);
  } finally {
    await driver.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}
