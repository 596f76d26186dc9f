/**
 * Every driver that can reach a PostgreSQL server here, opened on one URL, for tests that
 * compare drivers with each other.
 *
 * @module
 */
import pg from "pg";
import postgres from "postgres";
import { neon, neonConfig, Pool as NeonPool } from "@neondatabase/serverless";
import type { SqlDriver } from "../../mod.ts";
import { nodePostgresDriver } from "../../drivers/node_postgres.ts";
import { neonDriver, neonHttpDriver } from "../../drivers/neon.ts";
import { postgresJsDriver } from "../../drivers/postgres_js.ts";
import { startNeonHttpServer } from "../../cli/neon_local/http_endpoint.ts";
import { startWsProxy } from "../../cli/neon_local/ws_proxy.ts";
import { useLocalWsProxy } from "./neon_client.ts";

/** A driver under a name, and how to close what it opened. */
export interface NamedDriver {
  name: string;
  driver: SqlDriver;
  close(): Promise<void>;
}

/** What {@linkcode openServerDrivers} opened: the drivers, and a close for all of it. */
export interface ServerDrivers {
  drivers: NamedDriver[];
  close(): Promise<void>;
}

/**
 * Opens node-postgres, Neon WebSocket (through a local proxy), Neon HTTP (through a local
 * endpoint, or `httpEndpoint` when given) and postgres.js on `url`. Clients are lazy: a bad URL
 * fails at the first query.
 */
export async function openServerDrivers(
  url: string,
  options: { httpEndpoint?: string } = {},
): Promise<ServerDrivers> {
  const proxy = await startWsProxy();
  useLocalWsProxy(proxy.port);
  const http = await startNeonHttpServer();
  neonConfig.fetchEndpoint = options.httpEndpoint ?? http.url;
  // Generous: two suite runs at once on a busy machine can take seconds to get a connection.
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 30_000 });
  pool.on("error", () => {});
  const neonPool = new NeonPool({ connectionString: url });
  neonPool.on("error", () => {});
  const sql = postgres(url, { max: 4, connect_timeout: 30, onnotice: () => {} });
  const drivers: NamedDriver[] = [
    { name: "node-postgres", driver: nodePostgresDriver(pool), close: () => pool.end() },
    { name: "neon-ws", driver: neonDriver(neonPool), close: () => neonPool.end() },
    { name: "neon-http", driver: neonHttpDriver(neon(url)), close: async () => {} },
    { name: "postgres.js", driver: postgresJsDriver(sql), close: () => sql.end() },
  ];
  return {
    drivers,
    async close() {
      await Promise.allSettled(drivers.map((d) => d.close()));
      await proxy.close();
      await http.close();
    },
  };
}
