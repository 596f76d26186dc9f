/**
 * The clients the bench measures through: node-postgres, postgres.js and Neon's WebSocket
 * `Pool` (through the local WebSocket proxy, run in a worker thread), each with its raw call
 * and the {@linkcode SqlDriver} PgStorage uses on the same client.
 *
 * @module
 */

import pg from "pg";
import postgres from "postgres";
import { neonConfig, Pool as NeonPool } from "@neondatabase/serverless";
import type { SqlDriver } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { postgresJsDriver } from "../drivers/postgres_js.ts";
import { neonDriver } from "../drivers/neon.ts";
import { useLocalWsProxy } from "../tests/support/neon_client.ts";
import { NoDelayWebSocket } from "./ws_nodelay.ts";

/** One client: its raw call, PgStorage's driver over the same client, and how to close it. */
export interface Target {
  /** "node-postgres", "postgres.js" or "Neon (WebSocket)". */
  name: string;
  /** The client library's version. */
  version: string;
  /** PgStorage's driver over this client. */
  driver: SqlDriver;
  /** The client's own call for one statement, results as the client returns them. */
  raw(text: string, params: unknown[]): Promise<unknown>;
  /** How many rows a raw result holds. */
  rowsOf(result: unknown): number;
  /** The rows of a raw result. */
  rows(result: unknown): Record<string, unknown>[];
  /**
   * A value as a hand-written `$n::jsonb` parameter: `JSON.stringify`-ed for node-postgres and
   * Neon; as it is for postgres.js, which stringifies it itself for a jsonb parameter (and would
   * store a string given as a JSON string).
   */
  json(value: unknown): unknown;
  /** Closes the client. */
  close(): Promise<void>;
}

/** The versions resolved in deno.lock, by npm package name. */
export async function lockedVersions(): Promise<Record<string, string>> {
  const lock = JSON.parse(await Deno.readTextFile(new URL("../deno.lock", import.meta.url)));
  const versions: Record<string, string> = {};
  for (const [specifier, version] of Object.entries(lock.specifiers ?? {})) {
    const name = /^npm:(@?[^@]+)@/.exec(specifier)?.[1];
    if (name) versions[name] = String(version);
  }
  return versions;
}

/** The WebSocket proxy, running in a worker thread. */
export interface ProxyWorker {
  /** The port Neon's WebSocket mode was pointed at, on 127.0.0.1. */
  port: number;
  /** Which sockets: the bench's TCP_NODELAY ones, or Deno's own WebSocket and the test proxy. */
  sockets: "TCP_NODELAY" | "Deno WebSocket";
  /** Closes the proxy and ends the worker. */
  close(): Promise<void>;
}

/**
 * Starts the WebSocket proxies in a worker and points Neon's WebSocket mode at one: by default
 * the bench's own, with its TCP_NODELAY client socket (bench/ws_nodelay.ts explains why) and
 * `coalesceWrites` off; with `denoWebSocket`, the test suite's proxy, Deno's built-in
 * `WebSocket` and Neon's defaults.
 */
export async function startProxyWorker(denoWebSocket = false): Promise<ProxyWorker> {
  const worker = new Worker(new URL("./ws_proxy_worker.ts", import.meta.url), { type: "module" });
  const ports = await new Promise<{ port: number; denoPort: number }>((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(`proxy worker: ${event.message}`));
  });
  const port = denoWebSocket ? ports.denoPort : ports.port;
  useLocalWsProxy(port);
  neonConfig.webSocketConstructor = denoWebSocket
    ? undefined
    : NoDelayWebSocket as unknown as typeof WebSocket;
  // Neon batches the writes of one tick with setTimeout(0), which costs ~2 ms per statement
  // in Deno; with TCP_NODELAY each write goes out at once instead (bench/ANALYSIS.md).
  neonConfig.coalesceWrites = denoWebSocket;
  return {
    port,
    sockets: denoWebSocket ? "Deno WebSocket" : "TCP_NODELAY",
    async close() {
      const closed = new Promise<void>((resolve) => (worker.onmessage = () => resolve()));
      worker.postMessage("close");
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
      worker.terminate();
    },
  };
}

/** Opens the three clients on `url` (Neon's through the proxy `startProxyWorker` set up). */
export async function openTargets(url: string, max = 10): Promise<Target[]> {
  const versions = await lockedVersions();
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on("error", () => {});
  const sql = postgres(url, { max, onnotice: () => {} });
  const neonPool = new NeonPool({ connectionString: url, max });
  neonPool.on("error", () => {});
  const pgRows = (result: unknown) => (result as { rows: unknown[] }).rows.length;
  const pgRowList = (result: unknown) => (result as { rows: Record<string, unknown>[] }).rows;
  return [
    {
      name: "node-postgres",
      version: versions["pg"] ?? "?",
      driver: nodePostgresDriver(pool),
      raw: (text, params) => pool.query(text, params),
      rowsOf: pgRows,
      rows: pgRowList,
      json: JSON.stringify,
      close: () => pool.end(),
    },
    {
      name: "postgres.js",
      version: versions["postgres"] ?? "?",
      driver: postgresJsDriver(sql),
      raw: (text, params) => sql.unsafe(text, params as never[]),
      rowsOf: (result) => (result as unknown[]).length,
      rows: (result) => result as Record<string, unknown>[],
      json: (value) => value,
      close: () => sql.end(),
    },
    {
      name: "Neon (WebSocket)",
      version: versions["@neondatabase/serverless"] ?? "?",
      driver: neonDriver(neonPool),
      raw: (text, params) => neonPool.query(text, params),
      rowsOf: pgRows,
      rows: pgRowList,
      json: JSON.stringify,
      close: () => neonPool.end(),
    },
  ];
}
