/**
 * `openStorage(url, options)` on node-postgres, postgres.js and Neon (HTTP and WebSocket, through
 * local endpoints): one call opens a working storage, `close()` ends what it opened (the test
 * sanitizers fail a test that leaves a socket or timer behind), and a failure closes it too.
 *
 * @module
 */
import assert from "node:assert/strict";
import { neonConfig } from "@neondatabase/serverless";
import {
  MigrationError,
  newInstance,
  type OpenedStorage,
  type OpenStorageOptions,
  type QueryEvent,
  ValidationError,
} from "../mod.ts";
import { openStorage as openNodePostgres } from "../drivers/node_postgres.ts";
import { openStorage as openPostgresJs } from "../drivers/postgres_js.ts";
import { openStorage as openNeon } from "../drivers/neon.ts";
import { startNeonHttpServer } from "../cli/neon_local/http_endpoint.ts";
import { withTestSchema } from "./support/test_db.ts";
import { startWsProxy } from "../cli/neon_local/ws_proxy.ts";
import { useLocalWsProxy } from "./support/neon_client.ts";

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

for (const [name, open, naming] of OPENERS) {
  Deno.test(`openStorage on ${name} opens, migrates, works and closes`, async () => {
    const db = await withTestSchema(`open_${name.replace(/[^a-z]/g, "")}`);
    const http = await startNeonHttpServer();
    neonConfig.fetchEndpoint = http.url;
    const proxy = await startWsProxy();
    useLocalWsProxy(proxy.port);
    try {
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
    } finally {
      await proxy.close();
      await http.close();
      await db.drop();
    }
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
