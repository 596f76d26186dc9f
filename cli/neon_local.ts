/**
 * `neon-local`: for development, serves on 127.0.0.1 stand-ins for Neon's SQL-over-HTTP
 * endpoint and WebSocket proxy in front of any PostgreSQL, so code written for
 * `@neondatabase/serverless` (`neon()` over HTTP, `Pool` over WebSockets) — such as the Deno
 * Deploy and Cloudflare Workers examples — runs on a laptop against a local database. It prints
 * the `neonConfig` settings and environment variables to use. Serves only the server that
 * `--url` (or `DATABASE_URL`) names; no TLS, no authentication of its own.
 *
 * @example
 * ```sh
 * deno run -A jsr:@heph/pg/cli neon-local --url postgres://postgres@127.0.0.1:5432/app
 * ```
 *
 * @module
 */

import { command } from "./command.ts";
import { chooseDatabase } from "./database.ts";
import { redact, UsageError } from "./failure.ts";
import { startNeonHttpServer } from "./neon_local/http_endpoint.ts";
import { startWsProxy } from "./neon_local/ws_proxy.ts";
import { PROGRAM } from "./program.ts";
import { listenFailure, untilStopped } from "./serving.ts";

const DEFAULT_HTTP_PORT = 4444;
const DEFAULT_WS_PORT = 4445;

const USAGE = `Usage: ${PROGRAM} neon-local [options]

For development: serves on 127.0.0.1 Neon's SQL-over-HTTP endpoint and WebSocket proxy in
front of a PostgreSQL, so code using @neondatabase/serverless (neon(), Pool) runs against it.
Serves only that server; no TLS, no authentication of its own.

Options:
  --url <url>        the PostgreSQL (default: the DATABASE_URL environment variable)
  --http-port <n>    the HTTP endpoint's port (default: ${DEFAULT_HTTP_PORT}; 0 picks a free one)
  --ws-port <n>      the WebSocket proxy's port (default: ${DEFAULT_WS_PORT}; 0 picks a free one)
  -h, --help         print this help`;

/**
 * Runs the command: serves until SIGINT or SIGTERM.
 *
 * @param args The command-line arguments.
 * @returns The exit code.
 */
export const main: (args: string[]) => Promise<number> = command({
  usage: USAGE,
  options: {
    url: { type: "string" },
    "http-port": { type: "string" },
    "ws-port": { type: "string" },
  },
  run: async ({ values }, session) => {
    const httpPort = port(values["http-port"], DEFAULT_HTTP_PORT, "--http-port");
    const wsPort = port(values["ws-port"], DEFAULT_WS_PORT, "--ws-port");
    if (values.url === undefined && !Deno.env.get("DATABASE_URL")) {
      throw new UsageError("no database: pass --url <url> or set DATABASE_URL", false);
    }
    const database = chooseDatabase({ url: values.url });
    if (!("url" in database)) throw new Error("Internal error: no database URL");
    const url = database.url;
    // Fail now, in one line, when the server cannot be reached.
    await (await session.open(database, { create: false })).close();
    const target = new URL(url);
    const only = `${target.hostname}:${target.port || "5432"}`;
    await serve(url, only, httpPort, wsPort);
  },
});

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(
      `${name} expects a port number (0 to 65535), got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

async function serve(url: string, only: string, httpPort: number, wsPort: number): Promise<void> {
  const listen = async <T>(what: string, port: number, start: () => Promise<T>) => {
    try {
      return await start();
    } catch (error) {
      throw listenFailure(`127.0.0.1:${port} (${what})`, error);
    }
  };
  const http = await listen(
    "HTTP endpoint",
    httpPort,
    () => startNeonHttpServer({ port: httpPort, only }),
  );
  const proxy = await listen("WebSocket proxy", wsPort, () => startWsProxy({ port: wsPort, only }))
    .catch(async (error) => {
      await http.close();
      throw error;
    });
  const wsProxy = `127.0.0.1:${proxy.port}`;
  console.log(`Neon HTTP endpoint  ${http.url}  ->  PostgreSQL at ${only}
WebSocket proxy     ws://${wsProxy}/v1  ->  PostgreSQL at ${only}

In code, before the first query:
  import { neonConfig } from "@neondatabase/serverless";
  neonConfig.fetchEndpoint = "${http.url}";
  neonConfig.wsProxy = (host, port) => \`${wsProxy}/v1?address=\${host}:\${port}\`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;

For the Deno Deploy and Cloudflare Workers examples (environment or .dev.vars):
  DATABASE_URL=${redact(url, url).replace(/:\*\*\*\*@/, ":<password>@")}
  NEON_FETCH_ENDPOINT=${http.url}
  NEON_WS_PROXY=${wsProxy}

For development only. Press Ctrl-C to stop.`);
  await untilStopped((stopped) => stopped);
  await Promise.all([http.close(), proxy.close()]);
}
