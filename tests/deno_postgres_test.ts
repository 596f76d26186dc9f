/**
 * PgStorage on deno-postgres (jsr:@db/postgres). JSR is unreachable where CI runs, so the tests
 * load deno-postgres from a local copy named by `HEPH_DENO_POSTGRES_MODULE` and are ignored
 * without it. deno-postgres imports `@std/*` by bare name, so the run needs an import map that
 * maps those to a local copy of denoland/std besides the project's own imports. For example:
 *
 * ```sh
 * # deno-postgres 0.19.5 into /tmp/deno_postgres, denoland/std into /tmp/std, and
 * # /tmp/heph_deno_postgres/import_map.json = deno.json's "imports" plus
 * #   "@std/bytes/copy": "file:///tmp/std/bytes/copy.ts",
 * #   "@std/crypto/crypto": "file:///tmp/std/crypto/crypto.ts",
 * #   "@std/encoding/hex": "file:///tmp/std/encoding/hex.ts",
 * #   "@std/encoding/base64": "file:///tmp/std/encoding/base64.ts",
 * #   "@std/fmt/colors": "file:///tmp/std/fmt/colors.ts",
 * #   "@std/path": "file:///tmp/std/path/mod.ts",
 * #   "@std/internal/os": "file:///tmp/std/internal/os.ts"
 * HEPH_DENO_POSTGRES_MODULE=file:///tmp/deno_postgres/mod.ts deno test --no-config \
 *   --import-map /tmp/heph_deno_postgres/import_map.json \
 *   --allow-net --allow-env --allow-read --allow-write --allow-run --allow-sys \
 *   tests/deno_postgres_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DatabaseError,
  migrate,
  MigrationError,
  PgStorage,
  type SqlDriver,
  toDatabaseError,
} from "../mod.ts";
import {
  type DenoPostgresClient,
  denoPostgresDriver,
  type DenoPostgresPool,
} from "../drivers/deno_postgres.ts";
import { checkDriverConformance } from "./support/conformance.ts";
import { checkMigrationRoundTrip } from "./support/driver_checks.ts";
import { checkCallerTransaction } from "./support/caller_transaction.ts";
import { withTestSchema } from "./support/test_db.ts";

/** The parts of deno-postgres' module these tests use. */
interface DenoPostgresModule {
  Pool: new (url: string, size: number, lazy?: boolean) => DenoPostgresPool & {
    end(): Promise<void>;
  };
  Client: new (url: string) => DenoPostgresClient & {
    connect(): Promise<void>;
    end(): Promise<void>;
    createTransaction(name: string): DenoPostgresClient & {
      begin(): Promise<void>;
      commit(): Promise<void>;
      rollback(): Promise<void>;
    };
  };
}

const modulePath = Deno.env.get("HEPH_DENO_POSTGRES_MODULE");

Deno.test("denoPostgresDriver over a stand-in pool releases every client it checks out", async () => {
  const log: string[] = [];
  const failing = new Set(["BAD", "ROLLBACK"]);
  const pool: DenoPostgresPool = {
    connect: () =>
      Promise.resolve({
        queryObject({ text, args }) {
          log.push(args?.length ? `${text} ${JSON.stringify(args)}` : text);
          if (!failing.has(text)) return Promise.resolve({ rows: [{ text }], rowCount: NaN });
          const error = Object.assign(new Error(`${text} failed`), {
            name: "PostgresError",
            fields: { code: "42601", detail: "near BAD" },
          });
          return Promise.reject(error);
        },
        release: () => void log.push("release"),
        end: () => Promise.resolve(void log.push("end")),
      }),
  };
  const driver = denoPostgresDriver(pool);
  assert.deepEqual(await driver.query("SELECT $1", [1]), {
    rows: [{ text: "SELECT $1" }],
    rowCount: 1,
  });
  assert.deepEqual(log.splice(0), ["SELECT $1 [1]", "release"]);
  const error = await driver.query("BAD").catch((e) => e);
  assert.equal(toDatabaseError(error).code, "42601");
  assert.equal((toDatabaseError(error) as DatabaseError).detail, "near BAD");
  assert.deepEqual(log.splice(0), ["BAD", "release"]);
  await assert.rejects(driver.transaction([{ text: "A" }, { text: "BAD" }, { text: "C" }]));
  assert.deepEqual(log.splice(0), ["BEGIN", "A", "BAD", "ROLLBACK", "end", "release"]);
  failing.delete("ROLLBACK");
  await assert.rejects(driver.transaction([{ text: "BAD" }]));
  assert.deepEqual(log.splice(0), ["BEGIN", "BAD", "ROLLBACK", "release"]);
  assert.equal((await driver.transaction([{ text: "A", params: ["x"] }])).length, 1);
  assert.deepEqual(log.splice(0), ["BEGIN", 'A ["x"]', "COMMIT", "release"]);
});

Deno.test("denoPostgresDriver lifts fields.code and fields.detail, from a frozen error too", async () => {
  const frozen = Object.freeze(Object.assign(new Error("syntax error"), {
    name: "PostgresError",
    fields: Object.freeze({ code: "42601", detail: "near BAD" }),
  }));
  const pool: DenoPostgresPool = {
    connect: () =>
      Promise.resolve({
        queryObject: () => Promise.reject(frozen),
        release: () => {},
        end: () => Promise.resolve(),
      }),
  };
  const error = await denoPostgresDriver(pool).query("BAD").catch((e) => e);
  const wrapped = toDatabaseError(error) as DatabaseError;
  assert.equal(wrapped.code, "42601");
  assert.equal(wrapped.detail, "near BAD");
  assert.equal(wrapped.message, "syntax error");
  assert.equal(wrapped.cause, frozen);
});

if (!modulePath) {
  Deno.test({
    name:
      "deno-postgres conformance (set HEPH_DENO_POSTGRES_MODULE to a local copy of jsr:@db/postgres; JSR is unreachable here)",
    ignore: true,
    fn() {},
  });
} else {
  const load = () => import(modulePath) as Promise<DenoPostgresModule>;

  Deno.test("PgStorage on a deno-postgres Pool honours the Storage contract", async (t) => {
    const { Pool } = await load();
    const db = await withTestSchema("denopg_pool");
    const pool = new Pool(db.url, 4, true);
    try {
      await checkDriverConformance(t, denoPostgresDriver(pool), db.schema);
    } finally {
      await pool.end();
      await db.drop();
    }
  });

  Deno.test("PgStorage on a single deno-postgres Client honours the Storage contract", async (t) => {
    const { Client } = await load();
    const db = await withTestSchema("denopg_client");
    const client = new Client(db.url);
    await client.connect();
    try {
      await checkDriverConformance(t, denoPostgresDriver(client), db.schema);
    } finally {
      await client.end();
      await db.drop();
    }
  });

  Deno.test("deno-postgres: a begun Transaction shares the caller's transaction", async () => {
    const { Client, Pool } = await load();
    const db = await withTestSchema("caller_tx_denopg");
    const pool = new Pool(db.url, 2, true);
    try {
      await checkCallerTransaction(denoPostgresDriver(pool), db.schema, async (outcome, work) => {
        const client = new Client(db.url);
        await client.connect();
        try {
          const transaction = client.createTransaction("business");
          await transaction.begin();
          await work(denoPostgresDriver(transaction), (text) => transaction.queryObject({ text }));
          await (outcome === "commit" ? transaction.commit() : transaction.rollback());
        } finally {
          await client.end();
        }
      });
    } finally {
      await pool.end();
      await db.drop();
    }
  });

  Deno.test("denoPostgresDriver", async (t) => {
    const { Client, Pool } = await load();
    const db = await withTestSchema("denopg");
    const pool = new Pool(db.url, 4, true);
    const driver = denoPostgresDriver(pool);
    const schema = `"${db.schema}"`;
    const rejectsWith = async (promise: Promise<unknown>, code: string) => {
      const error = await promise.then(() => assert.fail(`expected SQLSTATE ${code}`), (e) => e);
      const wrapped = toDatabaseError(error);
      assert.ok(wrapped instanceof DatabaseError, String(error));
      assert.equal(wrapped.code, code);
      assert.equal(wrapped.cause, error, "the driver's error is the cause");
      return wrapped;
    };
    try {
      await t.step("rows come back keyed by column, in the text forms selected", async () => {
        const result = await driver.query(
          "SELECT $1::text AS a, $2::integer::text AS b, NULL::text AS c, $3::text::jsonb::text AS j",
          ["x", 42, JSON.stringify([1, { k: "v" }])],
        );
        assert.deepEqual(result, {
          rows: [{ a: "x", b: "42", c: null, j: '[1, {"k": "v"}]' }],
          rowCount: 1,
        });
        const ddl = await driver.query(`CREATE SCHEMA ${schema}`);
        assert.deepEqual(ddl, { rows: [], rowCount: 0 });
      });

      await t.step(
        "a unique violation is DatabaseError 23505 with the server's detail",
        async () => {
          await driver.query(`CREATE TABLE ${schema}.u (id integer PRIMARY KEY)`);
          const insert = () => driver.query(`INSERT INTO ${schema}.u VALUES ($1::integer)`, [1]);
          assert.equal((await insert()).rowCount, 1);
          const error = await rejectsWith(insert(), "23505");
          assert.match(error.detail ?? "", /already exists/);
          assert.equal((error.cause as Error).name, "PostgresError");
        },
      );

      await t.step(
        "a syntax error is DatabaseError 42601, with or without parameters",
        async () => {
          await rejectsWith(driver.query("SELEC 1"), "42601");
          await rejectsWith(driver.query("SELEC $1::text", ["a"]), "42601");
          const storage = new PgStorage({ driver, schema: db.schema });
          await assert.rejects(storage.get("x"), (error: unknown) => {
            assert.ok(error instanceof DatabaseError);
            assert.equal(error.code, "42P01");
            return true;
          });
        },
      );

      await t.step(
        "migrations go up, down and up again",
        () => checkMigrationRoundTrip(driver, `${db.schema}_m`),
      );

      await t.step(
        "a failed transaction rolls back everything and keeps the SQLSTATE",
        async () => {
          await rejectsWith(
            driver.transaction([
              { text: `CREATE TABLE ${schema}.tx (id integer PRIMARY KEY)` },
              { text: `INSERT INTO ${schema}.tx VALUES ($1::integer)`, params: [1] },
              { text: `INSERT INTO ${schema}.tx VALUES ($1::integer)`, params: [1] },
            ]),
            "23505",
          );
          const { rows } = await driver.query("SELECT to_regclass($1)::text AS t", [
            `${schema}.tx`,
          ]);
          assert.deepEqual(rows, [{ t: null }]);
          const results = await driver.transaction([
            { text: `CREATE TABLE ${schema}.tx (id integer PRIMARY KEY)` },
            { text: `INSERT INTO ${schema}.tx VALUES ($1::integer), (2)`, params: [1] },
            { text: `SELECT count(*)::text AS n FROM ${schema}.tx` },
          ]);
          assert.deepEqual(results.map((r) => r.rowCount), [0, 2, 1]);
          assert.deepEqual(results[2]?.rows, [{ n: "2" }]);
        },
      );

      await t.step(
        "a pool of one stays usable after failed statements and transactions",
        async () => {
          const one = new Pool(db.url, 1, true);
          try {
            const small = denoPostgresDriver(one);
            await rejectsWith(small.query("SELEC 1"), "42601");
            await rejectsWith(
              small.transaction([{ text: "SELECT 1" }, { text: "SELEC 1" }]),
              "42601",
            );
            const { rows } = await small.query(
              "SELECT current_setting('transaction_isolation') AS i, now() = statement_timestamp() AS fresh",
            );
            assert.deepEqual(
              rows,
              [{ i: "read committed", fresh: true }],
              "no transaction left open",
            );
          } finally {
            await one.end();
          }
        },
      );

      await t.step("a single Client never lets a statement slip into a transaction", async () => {
        const client = new Client(db.url);
        await client.connect();
        try {
          const single: SqlDriver = denoPostgresDriver(client);
          await single.query(`CREATE TABLE ${schema}.q (id integer PRIMARY KEY)`);
          const failing = single.transaction([
            { text: `INSERT INTO ${schema}.q VALUES (1)` },
            { text: `SELECT pg_sleep(0.05)` },
            { text: `INSERT INTO ${schema}.q VALUES (1)` },
          ]);
          const outside = single.query(`INSERT INTO ${schema}.q VALUES (2)`);
          await rejectsWith(failing, "23505");
          await outside;
          const { rows } = await single.query(`SELECT id FROM ${schema}.q ORDER BY id`);
          assert.deepEqual(rows, [{ id: 2 }], "the outside insert was not rolled back");
        } finally {
          await client.end();
        }
      });

      await t.step(
        "migrate() wraps a failure in MigrationError over the DatabaseError",
        async () => {
          const refusing = denoPostgresDriver({
            queryObject: () =>
              Promise.reject(Object.assign(new Error("boom"), { fields: { code: "57P01" } })),
          });
          await assert.rejects(
            migrate(refusing, { schema: `${db.schema}_x` }),
            (error: unknown) => {
              assert.ok(error instanceof MigrationError);
              assert.equal((error.cause as DatabaseError).code, "57P01");
              return true;
            },
          );
        },
      );

      await t.step("a refused connection is DatabaseError 08001", async () => {
        const nowhere = new Client("postgres://postgres@127.0.0.1:1/test");
        try {
          await rejectsWith(denoPostgresDriver(nowhere).query("SELECT 1"), "08001");
        } finally {
          await nowhere.end();
        }
      });
    } finally {
      await pool.end();
      await db.drop();
    }
  });
}
