import assert from "node:assert/strict";
import { Client, neon, neonConfig, Pool } from "@neondatabase/serverless";
import {
  DatabaseError,
  migrate,
  newInstance,
  PgStorage,
  type SqlDriver,
  toDatabaseError,
} from "../mod.ts";
import { neonDriver, neonHttpDriver } from "../drivers/neon.ts";
import { checkDriverConformance } from "./support/conformance.ts";
import { checkMigrationRoundTrip } from "./support/driver_checks.ts";
import { type NeonHttpServer, startNeonHttpServer } from "../cli/neon_local/http_endpoint.ts";
import { withTestSchema } from "./support/test_db.ts";
import { startWsProxy } from "../cli/neon_local/ws_proxy.ts";
import { useLocalWsProxy } from "./support/neon_client.ts";

type Db = Awaited<ReturnType<typeof withTestSchema>>;

/** A Neon WebSocket Pool through a local proxy; everything is closed afterwards. */
async function withWs(
  prefix: string,
  body: (driver: SqlDriver, db: Db, proxyPort: number) => Promise<void>,
): Promise<void> {
  const db = await withTestSchema(prefix);
  const proxy = await startWsProxy();
  useLocalWsProxy(proxy.port);
  const pool = new Pool({ connectionString: db.url });
  try {
    await body(neonDriver(pool), db, proxy.port);
  } finally {
    await pool.end();
    await proxy.close();
    await db.drop();
  }
}

/** The Neon HTTP query function through a local SQL-over-HTTP endpoint. */
async function withHttp(
  prefix: string,
  body: (driver: SqlDriver, db: Db, server: NeonHttpServer) => Promise<void>,
): Promise<void> {
  const db = await withTestSchema(prefix);
  const server = await startNeonHttpServer();
  neonConfig.fetchEndpoint = server.url;
  try {
    await body(neonHttpDriver(neon(db.url)), db, server);
  } finally {
    await server.close();
    await db.drop();
  }
}

/** A port nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return (listener.addr as Deno.NetAddr).port;
}

/** Asserts that `promise` rejects with what the core turns into DatabaseError `code`. */
async function rejectsWithState(promise: Promise<unknown>, code: string): Promise<DatabaseError> {
  let caught: DatabaseError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    const wrapped = toDatabaseError(error);
    assert.ok(wrapped instanceof DatabaseError, `${error}`);
    assert.equal(wrapped.code, code, wrapped.message);
    caught = wrapped;
    return true;
  });
  return caught!;
}

Deno.test("PgStorage on a Neon WebSocket Pool honours the Storage contract", async (t) => {
  await withWs("neon_ws", (driver, db) => checkDriverConformance(t, driver, db.schema));
});

Deno.test("PgStorage on Neon's HTTP query function honours the Storage contract", async (t) => {
  await withHttp("neon_http", (driver, db) => checkDriverConformance(t, driver, db.schema));
});

/** What both modes must do the same way; `driver` runs on a fresh schema `db.schema`. */
async function sharedBehaviour(t: Deno.TestContext, driver: SqlDriver, db: Db): Promise<void> {
  const table = `"${db.schema}".t`;
  await driver.query(`CREATE SCHEMA "${db.schema}"`);
  await driver.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);

  await t.step("values come back as the server's text forms", async () => {
    const { rows, rowCount } = await driver.query(
      `SELECT $1::text AS t, 42::bigint::text AS n, NULL::text AS nothing`,
      ["a'b\"c"],
    );
    assert.deepEqual(rows, [{ t: "a'b\"c", n: "42", nothing: null }]);
    assert.equal(rowCount, 1);
    const insert = await driver.query(`INSERT INTO ${table} VALUES (1, 'x'), (2, 'y')`);
    assert.equal(insert.rowCount, 2);
    assert.deepEqual(insert.rows, []);
    await driver.query(`DELETE FROM ${table}`);
  });

  await t.step("a unique violation is DatabaseError 23505", async () => {
    await driver.query(`INSERT INTO ${table} (id) VALUES ($1)`, [1]);
    const error = await rejectsWithState(
      driver.query(`INSERT INTO ${table} (id) VALUES ($1)`, [1]),
      "23505",
    );
    assert.match(error.detail ?? "", /Key \(id\)=\(1\) already exists/);
    assert.ok(error.cause, "the driver's error is the cause");
  });

  await t.step("a syntax error is DatabaseError 42601", async () => {
    await rejectsWithState(driver.query("SELEC 1"), "42601");
  });

  await t.step("PgStorage reports a missing table as DatabaseError 42P01", async () => {
    const storage = new PgStorage({ driver, schema: `${db.schema}_none` });
    await assert.rejects(storage.get("x"), (error: unknown) => {
      assert.ok(error instanceof DatabaseError);
      assert.equal(error.code, "42P01");
      return true;
    });
  });

  await t.step("a transaction returns one result per statement", async () => {
    const results = await driver.transaction([
      {
        text: `INSERT INTO ${table} (id, note) VALUES ($1, $2) RETURNING id::text`,
        params: [20, "a"],
      },
      { text: `UPDATE ${table} SET note = 'b' WHERE id >= 20` },
      { text: `SELECT note FROM ${table} WHERE id = $1`, params: [20] },
    ]);
    assert.equal(results.length, 3);
    assert.deepEqual(results[0]?.rows, [{ id: "20" }]);
    assert.equal(results[1]?.rowCount, 1);
    assert.deepEqual(results[2]?.rows, [{ note: "b" }]);
    assert.deepEqual(await driver.transaction([]), []);
  });

  await t.step("a transaction rolls back entirely when a statement fails", async () => {
    await rejectsWithState(
      driver.transaction([
        { text: `INSERT INTO ${table} (id) VALUES (10)` },
        { text: `UPDATE ${table} SET note = 'changed'` },
        { text: `INSERT INTO ${table} (id) VALUES (10)` },
        { text: `INSERT INTO ${table} (id) VALUES (11)` },
      ]),
      "23505",
    );
    const { rows } = await driver.query(
      `SELECT count(*) FILTER (WHERE id >= 10 AND id < 20)::text AS added,
              count(*) FILTER (WHERE note = 'changed')::text AS changed FROM ${table}`,
    );
    assert.deepEqual(rows, [{ added: "0", changed: "0" }]);
    await rejectsWithState(driver.transaction([{ text: "SELEC 1" }]), "42601");
    assert.equal((await driver.query("SELECT 1::text AS ok")).rows[0]?.ok, "1", "still usable");
  });

  await t.step(
    "migrations run up, down to 0 and up again",
    () => checkMigrationRoundTrip(driver, `${db.schema}_m`),
  );
}

Deno.test("Neon over a WebSocket: errors, transactions and migrations", async (t) => {
  await withWs("neon_ws_b", async (driver, db, proxyPort) => {
    await sharedBehaviour(t, driver, db);

    await t.step("an unreachable WebSocket proxy is DatabaseError 08001", async () => {
      useLocalWsProxy(closedPort());
      const pool = new Pool({ connectionString: db.url });
      try {
        const broken = neonDriver(pool);
        await rejectsWithState(broken.query("SELECT 1"), "08001");
        await rejectsWithState(broken.transaction([{ text: "SELECT 1" }]), "08001");
        await assert.rejects(new PgStorage({ driver: broken }).get("x"), (error: unknown) => {
          assert.ok(error instanceof DatabaseError);
          assert.equal(error.code, "08001");
          assert.match(error.message, /Cannot open the WebSocket to the database/);
          return true;
        });
      } finally {
        await pool.end();
        useLocalWsProxy(proxyPort);
      }
    });

    await t.step("a connection lost mid-statement is DatabaseError 08006", async () => {
      const proxy = await startWsProxy();
      useLocalWsProxy(proxy.port);
      const pool = new Pool({ connectionString: db.url });
      pool.on("error", () => {}); // the idle client that loses its socket
      try {
        const lost = neonDriver(pool);
        await lost.query("SELECT 1");
        const sleeping = lost.query("SELECT pg_sleep(5)");
        setTimeout(() => proxy.cut(), 200);
        await rejectsWithState(sleeping, "08006");
      } finally {
        await pool.end();
        await proxy.close();
        useLocalWsProxy(proxyPort);
      }
    });
  });
});

Deno.test("Neon over HTTP: errors, transactions and migrations", async (t) => {
  await withHttp("neon_http_b", async (driver, db, server) => {
    await sharedBehaviour(t, driver, db);

    await t.step("a statement is one request and a transaction is one request", async () => {
      const before = server.requests;
      await driver.query("SELECT 1");
      assert.equal(server.requests - before, 1);
      await driver.transaction([{ text: "SELECT 1" }, { text: "SELECT 2" }, { text: "SELECT 3" }]);
      assert.equal(server.requests - before, 2);
      await migrate(driver, { schema: `${db.schema}_once` });
      assert.equal(server.requests - before, 3, "a migration is one transaction: one request");
      await driver.query(`DROP SCHEMA "${db.schema}_once" CASCADE`);
    });

    await t.step("an unreachable HTTP endpoint is DatabaseError 08001", async () => {
      neonConfig.fetchEndpoint = `http://127.0.0.1:${closedPort()}/sql`;
      try {
        const broken = neonHttpDriver(neon(db.url));
        await rejectsWithState(broken.query("SELECT 1"), "08001");
        await rejectsWithState(broken.transaction([{ text: "SELECT 1" }]), "08001");
        await assert.rejects(new PgStorage({ driver: broken }).get("x"), (error: unknown) => {
          assert.ok(error instanceof DatabaseError);
          assert.equal(error.code, "08001");
          assert.equal((error.cause as Error).name, "NeonDbError");
          return true;
        });
      } finally {
        neonConfig.fetchEndpoint = server.url;
      }
    });
  });
});

Deno.test("neonDriver over a single Neon Client runs statements, transactions and migrations", async () => {
  const db = await withTestSchema("neon_client");
  const proxy = await startWsProxy();
  useLocalWsProxy(proxy.port);
  const client = new Client(db.url);
  await client.connect();
  try {
    const driver = neonDriver(client);
    await migrate(driver, { schema: db.schema });
    const storage = new PgStorage({ driver, schema: db.schema });
    // Concurrent calls on one Client are queued around the transaction.
    await Promise.all([
      storage.put(newInstance({ id: "client::1", workflow: "W" })),
      migrate(driver, { schema: db.schema }),
      storage.put(newInstance({ id: "client::2", workflow: "W" })),
    ]);
    assert.deepEqual((await storage.query({})).map((i) => i.id).sort(), ["client::1", "client::2"]);
  } finally {
    await client.end();
    await proxy.close();
    await db.drop();
  }
});

Deno.test("the local Neon HTTP endpoint speaks the format neon() expects", async (t) => {
  const db = await withTestSchema("neon_format");
  const server = await startNeonHttpServer();
  neonConfig.fetchEndpoint = server.url;
  const sql = neon(db.url);
  try {
    await t.step("neon() parses the raw text by dataTypeID", async () => {
      const rows = await sql.query(
        `SELECT 1::int4 AS i, 9007199254740993::int8 AS big, true AS b, '{"a":[1]}'::jsonb AS j,
                NULL::text AS n, $1::text AS p, $2::int AS q, $3::jsonb AS r`,
        ["x", 2, { y: [1, "z"] }],
      );
      assert.deepEqual(rows, [{
        i: 1,
        big: "9007199254740993",
        b: true,
        j: { a: [1] },
        n: null,
        p: "x",
        q: 2,
        r: { y: [1, "z"] },
      }]);
    });

    await t.step("full results carry fields, command and rowCount", async () => {
      await sql.query(`CREATE SCHEMA "${db.schema}"`);
      const created = await sql.query(`CREATE TABLE "${db.schema}".f (id int)`, [], {
        fullResults: true,
      });
      assert.equal(created.command, "CREATE");
      assert.equal(created.rowCount, null);
      const inserted = await sql.query(
        `INSERT INTO "${db.schema}".f VALUES (1), (2) RETURNING id`,
        [],
        { fullResults: true },
      );
      assert.equal(inserted.command, "INSERT");
      assert.equal(inserted.rowCount, 2);
      assert.deepEqual(inserted.rows, [{ id: 1 }, { id: 2 }]);
      assert.equal(inserted.fields[0]?.name, "id");
      assert.equal(inserted.fields[0]?.dataTypeID, 23);
      assert.deepEqual(await sql.query("SELECT 1 AS a, 'x' AS b", [], { arrayMode: true }), [
        [1, "x"],
      ]);
    });

    await t.step(
      "batch options set the transaction's isolation, read-only and deferrable",
      async () => {
        const [isolation, modes] = await sql.transaction([
          sql.query("SHOW transaction_isolation"),
          sql.query(
            `SELECT current_setting('transaction_read_only') AS ro,
                  current_setting('transaction_deferrable') AS d`,
          ),
        ], { isolationLevel: "Serializable", readOnly: true, deferrable: true });
        assert.deepEqual(isolation, [{ transaction_isolation: "serializable" }]);
        assert.deepEqual(modes, [{ ro: "on", d: "on" }]);
        await assert.rejects(
          sql.transaction([sql.query(`INSERT INTO "${db.schema}".f VALUES (3)`)], {
            readOnly: true,
          }),
          (error: unknown) => (error as { code?: string }).code === "25006",
        );
      },
    );

    await t.step("errors carry the server's fields", async () => {
      await assert.rejects(sql.query("SELECT 1/0"), (error: unknown) => {
        const e = error as Record<string, unknown>;
        assert.equal(e.name, "NeonDbError");
        assert.equal(e.code, "22012");
        assert.equal(e.message, "division by zero");
        assert.equal(e.severity, "ERROR");
        assert.equal(typeof e.routine, "string");
        return true;
      });
      await assert.rejects(sql.query("SELECT 1; SELECT 2"), (error: unknown) => {
        assert.equal((error as { code?: string }).code, "42601", "one statement per query");
        return true;
      });
    });
  } finally {
    await server.close();
    await db.drop();
  }
});
