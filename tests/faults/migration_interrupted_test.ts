/**
 * A migration whose connection is killed: before each statement of its transaction in turn,
 * and while a DDL statement is running. The schema is never half-applied (it is exactly as
 * before), and the next migrate completes the work.
 *
 * @module
 */
import assert from "node:assert/strict";
import pg from "pg";
import {
  isConnectionError,
  migrate,
  MigrationError,
  MIGRATIONS,
  migrationStatus,
  PgStorage,
} from "../../mod.ts";
import { nodePostgresDriver, type NodePostgresPool } from "../../drivers/node_postgres.ts";
import { pause } from "../support/fault_load.ts";
import { withTestSchema } from "../support/test_db.ts";

const LATEST = MIGRATIONS.at(-1)!.version;

/**
 * Everything in a schema that a migration can change, with the schema's name taken out:
 * relations, columns, constraints, indexes, and the migration records.
 */
async function snapshot(pool: pg.Pool, schema: string): Promise<unknown> {
  const { rows: [exists] } = await pool.query(
    "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1",
    [schema],
  );
  if (exists.n === 0) return "no schema";
  const { rows } = await pool.query(
    `SELECT 'relation' AS kind, c.relname || ' ' || c.relkind::text AS what FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
     UNION ALL
     SELECT 'column', c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind = 'r'
     UNION ALL
     SELECT 'constraint', conname || ' ' || pg_get_constraintdef(k.oid) FROM pg_constraint k
       JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = $1
     UNION ALL
     SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = $1
     ORDER BY 1, 2`,
    [schema],
  );
  const records = await pool.query(
    `SELECT version, name, checksum FROM "${schema}".heph_migrations ORDER BY version`,
  ).then((result: pg.QueryResult) => result.rows, () => "no heph_migrations");
  const text = JSON.stringify({ rows, records });
  return JSON.parse(text.replaceAll(`"${schema}"`, "<schema>").replaceAll(schema, "<schema>"));
}

/**
 * A pool that calls `before(n, pid)` before a checked-out session sends its statement number
 * `n` (0 is the transaction's BEGIN); `pid` is the session's backend.
 */
function interceptingPool(
  pool: pg.Pool,
  before: (n: number, pid: number) => Promise<void>,
): NodePostgresPool {
  return {
    get idleCount() {
      return pool.idleCount;
    },
    query: (text: string, values?: unknown[]) => pool.query(text, values),
    async connect() {
      const session = await pool.connect();
      let sent = 0;
      return {
        async query(text: string, values?: unknown[]) {
          await before(sent++, session.processID);
          return await session.query(text, values);
        },
        release: (error?: Error | boolean) => session.release(error),
        on: (event: "error", listener: (error: Error) => void) => session.on(event, listener),
        removeListener: (event: "error", listener: (error: Error) => void) =>
          session.removeListener(event, listener),
      };
    },
  };
}

/** A driver whose transaction loses its connection just before statement `killBefore`. */
function killing(pool: pg.Pool, admin: pg.Pool, killBefore: number) {
  return nodePostgresDriver(interceptingPool(pool, async (n, pid) => {
    if (n === killBefore) await terminate(admin, pid);
  }));
}

/** Terminates a backend and waits until it is gone. */
async function terminate(admin: pg.Pool, pid: number): Promise<void> {
  await admin.query("SELECT pg_terminate_backend($1)", [pid]);
  for (let i = 0; i < 500; i++) {
    const { rows } = await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]);
    if (rows.length === 0) return;
    await pause(10);
  }
  throw new Error(`backend ${pid} did not exit`);
}

/** Asserts a MigrationError caused by a lost connection. */
function lostConnection(error: unknown): boolean {
  assert.ok(error instanceof MigrationError, String(error));
  assert.ok(isConnectionError(error.cause), `cause: ${error.cause}`);
  assert.match(error.message, /^Migration of schema \w+ failed: /);
  return true;
}

Deno.test("a migration interrupted by a lost connection changes nothing; the next migrate completes it", async (t) => {
  const db = await withTestSchema("fault_migrate");
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on("error", () => {});
  const driver = nodePostgresDriver(pool);
  try {
    // The reference: what a complete migration leaves, and what version 1 alone leaves.
    const reference = `${db.schema}_ref`;
    await migrate(driver, { schema: reference });
    const complete = await snapshot(pool, reference);
    await migrate(driver, { schema: reference, to: 1 });
    const version1 = await snapshot(pool, reference);
    await pool.query(`DROP SCHEMA "${reference}" CASCADE`);
    // How many statements migrate's transaction sends, BEGIN and COMMIT included.
    let transactionLength = 0;
    const counting = interceptingPool(pool, (n) => {
      transactionLength = n + 1;
      return Promise.resolve();
    });
    await migrate(nodePostgresDriver(counting), { schema: reference });
    await pool.query(`DROP SCHEMA "${reference}" CASCADE`);
    assert.ok(transactionLength >= 4 + LATEST, `${transactionLength} statements`);

    await t.step("from nothing, killed before each statement of the transaction", async () => {
      for (let k = 0; k < transactionLength; k++) {
        const schema = `${db.schema}_k${k}`;
        try {
          await assert.rejects(
            migrate(killing(pool, db.pool, k), { schema }),
            lostConnection,
            `kill before ${k}`,
          );
          assert.equal(await snapshot(pool, schema), "no schema", `kill before ${k}`);
          const { steps } = await migrate(driver, { schema });
          assert.equal(steps.length, LATEST);
          assert.deepEqual(await snapshot(pool, schema), complete);
        } finally {
          await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        }
      }
      // Past the COMMIT nothing is killed: the same wrapper migrates normally.
      const schema = `${db.schema}_done`;
      const late = killing(pool, db.pool, transactionLength);
      assert.equal((await migrate(late, { schema })).version, LATEST);
      assert.deepEqual(await snapshot(pool, schema), complete);
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    });

    await t.step("from version 1 holding rows, killed before each statement of 1 → 2", async () => {
      const schema = db.schema;
      await migrate(driver, { schema, to: 1 });
      await pool.query(
        `INSERT INTO "${schema}".workflow_instances (id, workflow, workflow_version, status, state)
         SELECT 'v1::' || i, 'W', 1, 'waiting', jsonb_build_object('context',
           jsonb_build_object('initial', jsonb_build_object('i', i))) FROM generate_series(1, 50) i`,
      );
      assert.deepEqual(await snapshot(pool, schema), version1);
      for (let k = 0; k < transactionLength; k++) {
        await assert.rejects(
          migrate(killing(pool, db.pool, k), { schema }),
          lostConnection,
          `kill before ${k}`,
        );
        assert.deepEqual(await snapshot(pool, schema), version1, `kill before ${k}`);
        const { rows } = await pool.query(
          `SELECT count(*)::int AS n FROM "${schema}".workflow_instances`,
        );
        assert.equal(rows[0].n, 50);
      }
      assert.equal((await migrationStatus(driver, { schema })).version, 1);
    });

    await t.step("killed while its ALTER TABLE waits for a lock: nothing changes", async () => {
      const schema = db.schema;
      // A reader's open transaction keeps the table locked against ALTER TABLE.
      const reader = new pg.Client({ connectionString: db.url });
      await reader.connect();
      try {
        await reader.query("BEGIN");
        await reader.query(`SELECT count(*) FROM "${schema}".workflow_instances`);
        const application = `${schema}_migrator`;
        const migrator = new pg.Pool({ connectionString: db.url, application_name: application });
        migrator.on("error", () => {});
        try {
          // The rejection is expected while we still wait for the backend to exit: listen now.
          const rejected = assert.rejects(
            migrate(nodePostgresDriver(migrator), { schema }),
            lostConnection,
          );
          const pid = await waitForLockWait(db.pool, application);
          await terminate(db.pool, pid);
          await rejected;
        } finally {
          await migrator.end();
        }
        await reader.query("COMMIT");
      } finally {
        await reader.end();
      }
      assert.deepEqual(await snapshot(pool, schema), version1);
    });

    await t.step(
      "the next migrate completes the interrupted one; the rows are intact",
      async () => {
        const schema = db.schema;
        const { steps, version } = await migrate(driver, { schema });
        assert.deepEqual(
          steps.map((s) => s.version),
          MIGRATIONS.filter((m) => m.version > 1).map((m) => m.version),
        );
        assert.equal(version, LATEST);
        assert.deepEqual(await snapshot(pool, schema), complete);
        const storage = new PgStorage({ driver, schema });
        assert.equal(await storage.count({ status: "waiting" }), 50);
        assert.deepEqual((await storage.get("v1::7"))!.context.initial, { i: 7 });
      },
    );
  } finally {
    await pool.end();
    await db.drop();
  }
});

/** Waits until the backend of `application` waits for a lock; returns its pid. */
async function waitForLockWait(admin: pg.Pool, application: string): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await admin.query(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
      [application],
    );
    if (rows.length > 0) return rows[0].pid;
    await pause(10);
  }
  throw new Error("the migration never waited for the lock");
}
