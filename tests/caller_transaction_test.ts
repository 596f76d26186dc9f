/**
 * Storage operations inside the caller's own transaction, on every driver that can hold one:
 * a rollback leaves neither the business row nor the instance, a commit keeps both. (Neon's
 * HTTP mode has no interactive transaction; deno-postgres is checked in its own test file.)
 *
 * @module
 */
import postgres from "postgres";
import { Client as NeonClient } from "@neondatabase/serverless";
import { PGlite } from "@electric-sql/pglite";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { postgresJsDriver } from "../drivers/postgres_js.ts";
import { neonDriver } from "../drivers/neon.ts";
import { pgliteDriver } from "../drivers/pglite.ts";
import { checkCallerTransaction, Rollback } from "./support/caller_transaction.ts";
import { withTestSchema } from "./support/test_db.ts";
import { startWsProxy } from "../cli/neon_local/ws_proxy.ts";
import { useLocalWsProxy } from "./support/neon_client.ts";

Deno.test("node-postgres: a checked-out client after BEGIN shares the caller's transaction", async () => {
  const db = await withTestSchema("caller_tx_pg");
  try {
    await checkCallerTransaction(nodePostgresDriver(db.pool), db.schema, async (outcome, work) => {
      const client = await db.pool.connect();
      try {
        await client.query("BEGIN");
        await work(nodePostgresDriver(client), (sql) => client.query(sql));
        await client.query(outcome === "commit" ? "COMMIT" : "ROLLBACK");
      } finally {
        client.release();
      }
    });
  } finally {
    await db.drop();
  }
});

Deno.test("postgres.js: postgresJsDriver(tx) inside sql.begin shares the caller's transaction", async () => {
  const db = await withTestSchema("caller_tx_pgjs");
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  try {
    await checkCallerTransaction(postgresJsDriver(sql), db.schema, async (outcome, work) => {
      await sql.begin(async (tx) => {
        await work(postgresJsDriver(tx), (text) => tx.unsafe(text));
        if (outcome === "rollback") throw new Rollback();
      }).catch((error) => {
        if (!(error instanceof Rollback)) throw error;
      });
    });
  } finally {
    await sql.end();
    await db.drop();
  }
});

Deno.test("Neon WebSocket: a Client after BEGIN shares the caller's transaction", async () => {
  const db = await withTestSchema("caller_tx_neon");
  const proxy = await startWsProxy();
  useLocalWsProxy(proxy.port);
  try {
    await checkCallerTransaction(nodePostgresDriver(db.pool), db.schema, async (outcome, work) => {
      const client = new NeonClient(db.url);
      await client.connect();
      try {
        await client.query("BEGIN");
        await work(neonDriver(client), (sql) => client.query(sql));
        await client.query(outcome === "commit" ? "COMMIT" : "ROLLBACK");
      } finally {
        await client.end();
      }
    });
  } finally {
    await proxy.close();
    await db.drop();
  }
});

Deno.test("PGlite: pgliteDriver(tx) inside db.transaction shares the caller's transaction", async () => {
  const db = new PGlite();
  try {
    await checkCallerTransaction(pgliteDriver(db), "caller_tx", async (outcome, work) => {
      await db.transaction(async (tx) => {
        await work(pgliteDriver(tx), (sql) => tx.query(sql));
        if (outcome === "rollback") throw new Rollback();
      }).catch((error) => {
        if (!(error instanceof Rollback)) throw error;
      });
    });
  } finally {
    await db.close();
  }
});
