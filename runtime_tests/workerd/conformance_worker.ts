/**
 * A Cloudflare Worker that runs the Storage conformance suite inside workerd, on PgStorage over
 * Neon's HTTP query function, over a Neon WebSocket Pool, or over node-postgres through a
 * Hyperdrive binding. `run.ts` bundles it, runs it in Miniflare and calls
 * `GET /conformance?driver=http|ws|hyperdrive`, which runs the whole suite within that one
 * request (each case on a fresh schema) and answers with the report as JSON.
 *
 * The Pool and the Client are created, used and ended within the request, as Neon and
 * Cloudflare advise (`ctx.waitUntil(pool.end())`). Bindings point Neon at the local stand-ins
 * for its proxies; Miniflare's Hyperdrive connects straight to the database (TCP through
 * `cloudflare:sockets`, which node-postgres uses on Workers).
 *
 * @module
 */
import { neon, neonConfig, Pool } from "@neondatabase/serverless";
import { Client } from "pg";
import { neonDriver, neonHttpDriver } from "../../drivers/neon.ts";
import { nodePostgresDriver } from "../../drivers/node_postgres.ts";
import type { SqlDriver } from "../../mod.ts";
import { freshSchemaStorage, storageConformance } from "../../testing/storage_conformance.ts";

/** The bindings `run.ts` gives the worker. */
interface Env {
  /** The test database. */
  DATABASE_URL: string;
  /** The local SQL-over-HTTP endpoint, `http://127.0.0.1:PORT/sql`. */
  NEON_FETCH_ENDPOINT: string;
  /** The local WebSocket proxy, `127.0.0.1:PORT`. */
  NEON_WS_PROXY: string;
  /** Miniflare's Hyperdrive, onto the test database. */
  HYPERDRIVE: { connectionString: string };
}

/** What workerd passes as the third argument of `fetch`. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** One case's outcome as JSON: the error as text. */
export interface CaseOutcome {
  name: string;
  ok: boolean;
  error?: string;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/conformance") return new Response("Not found", { status: 404 });
    neonConfig.fetchEndpoint = env.NEON_FETCH_ENDPOINT;
    neonConfig.wsProxy = (host, port) => `${env.NEON_WS_PROXY}/v1?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;

    const which = url.searchParams.get("driver");
    let driver: SqlDriver;
    let end: (() => Promise<void>) | undefined;
    if (which === "http") {
      driver = neonHttpDriver(neon(env.DATABASE_URL));
    } else if (which === "ws") {
      const pool = new Pool({ connectionString: env.DATABASE_URL });
      driver = neonDriver(pool);
      end = () => pool.end();
    } else if (which === "hyperdrive") {
      const client = new Client({ connectionString: env.HYPERDRIVE.connectionString });
      await client.connect();
      driver = nodePostgresDriver(client);
      end = () => client.end();
    } else {
      return new Response("Expected ?driver=http|ws|hyperdrive", { status: 400 });
    }
    try {
      const report = await storageConformance(
        `workerd ${which}`,
        freshSchemaStorage(driver, "heph_rt_workerd"),
      );
      const results: CaseOutcome[] = report.results.map(({ name, ok, error }) =>
        ok ? { name, ok } : { name, ok, error: describe(error) }
      );
      return Response.json({ passed: report.passed, failed: report.failed, results });
    } finally {
      if (end) ctx.waitUntil(end());
    }
  },
};

function describe(error: unknown): string {
  if (error instanceof Error) {
    return `${error.stack ?? error}${error.cause ? `\ncause: ${describe(error.cause)}` : ""}`;
  }
  return String(error);
}
