/**
 * `openStorage(url, options)` on node-postgres, postgres.js and Neon (HTTP and WebSocket, through
 * local endpoints): one call opens a working storage, `close()` ends what it opened (the test
 * sanitizers fail a test that leaves a socket or timer behind), and a failure closes it too.
 *
 * @module
 */
import assert from "node:assert/strict";
import { neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import {
  MigrationError,
  newInstance,
  type OpenedStorage,
  type OpenStorageOptions,
  PgStorage,
  type QueryEvent,
  type SqlDriver,
  ValidationError,
} from "../mod.ts";
import { splitOpenOptions } from "../src/open_storage.ts";
import { nodePostgresDriver, openStorage as openNodePostgres } from "../drivers/node_postgres.ts";
import { openStorage as openPostgresJs } from "../drivers/postgres_js.ts";
import { openStorage as openNeon } from "../drivers/neon.ts";
import { startNeonHttpServer } from "../cli/neon_local/http_endpoint.ts";
import { withTestSchema } from "./support/test_db.ts";
import { startWsProxy } from "../cli/neon_local/ws_proxy.ts";
import { useLocalWsProxy } from "./support/neon_client.ts";
import { recordingDriver } from "./support/recording_driver.ts";

type Open = (
  url: string,
  options?: OpenStorageOptions & { [clientOption: string]: unknown },
) => Promise<OpenedStorage>;

/** Each opener, and the client option that names its sessions (none over stateless HTTP). */
const OPENERS: [string, Open, ((name: string) => Record<string, unknown>) | null][] = [
  ["node-postgres", openNodePostgres, (name) => ({ application_name: name })],
  ["postgres.js", openPostgresJs, (name) => ({ connection: { application_name: name } })],
  ["neon-http", (url, options) => openNeon(url, { ...options, mode: "http" }), null],
  [
    "neon-ws",
    (url, options) => openNeon(url, { ...options, mode: "websocket" }),
    (name) => ({ application_name: name }),
  ],
];

/** Nothing listens here. */
const NOWHERE = "postgres://postgres@127.0.0.1:1/test";

type TestDb = Awaited<ReturnType<typeof withTestSchema>>;

/**
 * Runs `body` on a fresh test schema with the local Neon HTTP endpoint and WebSocket proxy up,
 * then stops them and drops the schema.
 */
async function withEndpoints(prefix: string, body: (db: TestDb) => Promise<void>): Promise<void> {
  const db = await withTestSchema(prefix.replace(/[^a-z_]/g, ""));
  const http = await startNeonHttpServer();
  neonConfig.fetchEndpoint = http.url;
  const proxy = await startWsProxy();
  useLocalWsProxy(proxy.port);
  try {
    await body(db);
  } finally {
    await proxy.close();
    await http.close();
    await db.drop();
  }
}

for (const [name, open, naming] of OPENERS) {
  Deno.test(`openStorage on ${name} opens, migrates, works and closes`, async () => {
    await withEndpoints(`open_${name}`, async (db) => {
      const events: QueryEvent[] = [];
      const applicationName = db.schema; // unique to this test
      const sessions = async () =>
        Number(
          (await db.pool.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
            [applicationName],
          )).rows[0].n,
        );
      const opened = await open(db.url, {
        schema: db.schema,
        migrate: true,
        onQuery: (e) => events.push(e),
        ...naming?.(applicationName),
      });
      try {
        assert.equal(opened.storage.schema, db.schema);
        const { revision } = await opened.storage.put(
          newInstance({ id: "order::1", workflow: "Shop.Order", initial: { n: 1 } }),
        );
        assert.equal(revision, 1);
        assert.deepEqual((await opened.storage.get("order::1"))?.context.initial, { n: 1 });
        assert.deepEqual(events.map((e) => e.operation), ["put", "get"], "hooks are passed on");
        const { rows } = await opened.driver.query(
          `SELECT count(*)::int AS n FROM ${db.schema}.heph_migrations`,
        );
        assert.ok(Number(rows[0]?.n) >= 1, "migrate: true migrated the schema");
        if (naming) assert.ok(await sessions() >= 1, "client options are passed on");
      } finally {
        await opened.close();
        await opened.close(); // twice is harmless
      }
      // close() ended the client: its sessions leave the server (asynchronously).
      for (let i = 0; i < 100 && await sessions() > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(await sessions(), 0, "close() ended every connection it opened");
    });
  });
}

Deno.test("openStorage closes what it opened when the migration fails", async (t) => {
  for (const [name, open] of OPENERS.filter(([n]) => n !== "neon-http" && n !== "neon-ws")) {
    await t.step(name, async () => {
      await assert.rejects(open(NOWHERE, { migrate: true }), MigrationError);
    });
  }
});

Deno.test("openStorage refuses bad arguments before opening anything", async (t) => {
  for (const [name, open] of OPENERS) {
    await t.step(name, async () => {
      await assert.rejects(
        open("", {}),
        (error: unknown) =>
          error instanceof ValidationError &&
          error.message === 'Invalid connection string: expected a non-empty string, got ""',
      );
      await assert.rejects(
        // @ts-expect-error migrate is a boolean
        open(NOWHERE, { migrate: "yes" }),
        (error: unknown) =>
          error instanceof ValidationError &&
          error.message === 'Invalid options: migrate must be a boolean, got "yes"',
      );
    });
  }
  await t.step("neon: an unknown mode", async () => {
    await assert.rejects(
      // @ts-expect-error no such mode
      openNeon(NOWHERE, { mode: "tcp" }),
      (error: unknown) =>
        error instanceof ValidationError &&
        error.message === 'Invalid options: mode must be "http" or "websocket", got "tcp"',
    );
  });
  await t.step("postgres.js: a client that transforms rows is refused, and ended", async () => {
    await assert.rejects(
      openPostgresJs(NOWHERE, { transform: { column: { from: (s: string) => s } } }),
      ValidationError,
    );
  });
});

for (const [name, open] of OPENERS) {
  Deno.test(`openStorage on ${name} gives the storage every PgStorage option`, async () => {
    await withEndpoints(`open_all_${name}`, async (db) => {
      const events: QueryEvent[] = [];
      const wrapped: string[] = [];
      const replica = recordingDriver(nodePostgresDriver(db.pool));
      const opened = await open(db.url, {
        schema: db.schema,
        migrate: true,
        distributed: true,
        readDriver: replica.driver,
        onQuery: (e) => events.push(e),
        wrapQuery: (info, run) => {
          wrapped.push(info.operation);
          return run();
        },
      });
      try {
        await opened.storage.put(newInstance({ id: "order::1", workflow: "Shop.Order" }));
        assert.equal((await opened.storage.get("order::1"))?.id, "order::1");
        assert.deepEqual(replica.sent.length, 1, "readDriver: the read went to the replica");
        assert.match(replica.sent[0] ?? "", /^SELECT/);
        const claimed = await opened.storage.claim({ owner: "worker-1", leaseMs: 60_000 });
        assert.deepEqual(claimed.map((i) => i.id), ["order::1"]);
        const claim = events.find((e) => e.operation === "claim");
        assert.ok(claim, "onQuery saw the claim");
        assert.doesNotMatch(claim.sql, /SKIP LOCKED/, "distributed: the claim is Citus' form");
        assert.deepEqual(wrapped, ["put", "get", "claim"], "wrapQuery ran around each statement");
        // The same claim on a storage that is not told `distributed` skips locked rows.
        const plain: QueryEvent[] = [];
        await new PgStorage({
          driver: opened.driver,
          schema: db.schema,
          onQuery: (e) => plain.push(e),
        })
          .claim({ owner: "worker-2", leaseMs: 60_000 });
        assert.match(plain.find((e) => e.operation === "claim")?.sql ?? "", /SKIP LOCKED/);
      } finally {
        await opened.close();
      }
    });
  });
}

/** A driver that refuses every statement. */
const REFUSING: SqlDriver = {
  query: () => Promise.reject(new Error("Not here")),
  transaction: () => Promise.reject(new Error("Not here")),
};

/** How many statements the one session of a `max: 1` pool has prepared. */
async function preparedOnItsSession(opened: OpenedStorage): Promise<number> {
  await opened.storage.put(newInstance({ id: "order::1", workflow: "Shop.Order" }));
  await opened.storage.get("order::1");
  const { rows } = await opened.driver.query(
    "SELECT count(*)::int AS n FROM pg_prepared_statements",
  );
  return Number(rows[0]?.n);
}

Deno.test("openStorage hands prepare to the driver, not to the pool", async (t) => {
  for (const [name, open] of OPENERS.filter(([n]) => n === "node-postgres" || n === "neon-ws")) {
    await t.step(name, async () => {
      await withEndpoints(`open_prepare_${name}`, async (db) => {
        for (const prepare of [undefined, true, false]) {
          const opened = await open(db.url, { schema: db.schema, migrate: true, max: 1, prepare });
          try {
            const prepared = await preparedOnItsSession(opened);
            if (prepare === false) assert.equal(prepared, 0, "prepare: false prepared nothing");
            else assert.ok(prepared >= 2, `prepare: ${prepare} prepared get and put`);
          } finally {
            await opened.close();
          }
        }
      });
    });
  }
});

Deno.test("openStorage passes no storage option to the client", async () => {
  const made: Record<string, unknown>[] = [];
  const Pool = pg.Pool;
  pg.Pool = class extends Pool {
    constructor(config?: pg.PoolConfig) {
      made.push({ ...config });
      super(config);
    }
  };
  try {
    const opened = await openNodePostgres(NOWHERE, {
      schema: "tenant_a",
      distributed: true,
      readDriver: REFUSING,
      onQuery: () => {},
      wrapQuery: (_info, run) => run(),
      prepare: false,
      max: 3,
    });
    await opened.close();
    assert.deepEqual(made, [{ max: 3, connectionString: NOWHERE }]);
  } finally {
    pg.Pool = Pool;
  }
  const { own, client } = splitOpenOptions(NOWHERE, {
    schema: "tenant_a",
    migrate: false,
    distributed: true,
    readDriver: REFUSING,
    onQuery: () => {},
    wrapQuery: (_info, run) => run(),
    max: 3,
  });
  assert.deepEqual(Object.keys(own).sort(), [
    "distributed",
    "migrate",
    "onQuery",
    "readDriver",
    "schema",
    "wrapQuery",
  ]);
  assert.deepEqual(client, { max: 3 });
});

Deno.test("openStorage refuses a bad storage or driver option, and closes the client", async (t) => {
  const refused = (message: string) => (error: unknown) =>
    error instanceof ValidationError && error.message === message;
  for (const [name, open] of OPENERS) {
    await t.step(name, async () => {
      await assert.rejects(
        // @ts-expect-error distributed is a boolean
        open(NOWHERE, { distributed: "yes" }),
        refused('Invalid options: distributed must be a boolean, got "yes"'),
      );
      await assert.rejects(
        // @ts-expect-error readDriver is a SqlDriver
        open(NOWHERE, { readDriver: "postgres://replica/app" }),
        refused('Invalid options: readDriver must be a SqlDriver, got "postgres://replica/app"'),
      );
      await assert.rejects(
        open(NOWHERE, { driver: REFUSING }),
        refused(
          "Invalid options: driver is not an openStorage option (it makes its own over the " +
            "connection string; pass yours to new PgStorage({ driver }))",
        ),
      );
    });
  }
  for (const [name, open] of OPENERS.filter(([n]) => n !== "postgres.js")) {
    await t.step(`${name}: prepare`, async () => {
      await assert.rejects(
        open(NOWHERE, { prepare: "no" }),
        refused('Invalid options: prepare must be a boolean, got "no"'),
      );
    });
  }
});
