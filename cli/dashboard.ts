/**
 * `dashboard`: a small read-only web dashboard of the stored instances — counts by
 * status, a filterable table with keyset paging, each instance with its history as a
 * timeline, and a "stuck" view (running or waiting and not updated for a while, or holding an
 * expired lease). It serves {@linkcode dashboardHandler} (`jsr:@heph/pg/dashboard`), which reads
 * only through the public Storage API, and adds what a host application would: the listening
 * address, the token's source, the Host check on loopback. It needs `--url`, `DATABASE_URL` or
 * `--embedded` (an existing embedded database: it never creates one).
 *
 * It listens on 127.0.0.1 (port 8787) unless `--host` is given; then a token is required
 * (`--token` or `HEPH_DASHBOARD_TOKEN`) and every request must carry it: open
 * `http://host:port/?token=…` once (it becomes an HttpOnly cookie), or send
 * `Authorization: Bearer …`. The page, its CSS and its script are served from memory
 * (cli/dashboard/page.ts, style.ts, and client_bundle.ts built from client/) under a strict
 * Content-Security-Policy; data comes as JSON and is put in the page as text only.
 *
 * @example
 * ```sh
 * deno run -A jsr:@heph/pg/cli dashboard --url postgres://postgres@127.0.0.1:5432/app   # http://127.0.0.1:8787/
 * deno run -A jsr:@heph/pg/cli dashboard --embedded --schema tenant_a --port 9000
 * deno run -A jsr:@heph/pg/cli dashboard --host 0.0.0.0 --token "$(openssl rand -hex 16)"
 * ```
 *
 * @module
 */

import { PgStorage } from "../mod.ts";
import { command, type Parsed } from "./command.ts";
import { chosenDatabase, DATABASE_OPTIONS, DATABASE_USAGE } from "./database.ts";
import { redact, UsageError } from "./failure.ts";
import { listenFailure, untilStopped } from "./serving.ts";
import { dashboardHandler, type DashboardOptions, TOKEN_PATTERN } from "./dashboard/handler.ts";
import { PROGRAM } from "./program.ts";

const DEFAULT_PORT = 8787;
const TOKEN_ENV = "HEPH_DASHBOARD_TOKEN";

const USAGE = `Usage: ${PROGRAM} dashboard [options]

Serves a read-only web dashboard of the workflow instances stored by @heph/pg.

Options:
${DATABASE_USAGE}
  --schema <name>    the schema to read (default: public)
  --port <n>         the port (default: ${DEFAULT_PORT}; 0 picks a free one)
  --host <address>   listen on this address instead of 127.0.0.1 (such as 0.0.0.0);
                     requires a token
  --token <token>    16 to 256 characters (A-Z a-z 0-9 . _ ~ + / = -) every request must carry:
                     open /?token=<token> once, or send "Authorization: Bearer <token>"
                     (default: the ${TOKEN_ENV} environment variable)
  -h, --help         print this help`;

interface Options {
  host: string;
  port: number;
  token?: string;
}

const OPTIONS = {
  ...DATABASE_OPTIONS,
  schema: { type: "string", default: "public" },
  port: { type: "string" },
  host: { type: "string" },
  token: { type: "string" },
} as const;

function checkOptions(values: Parsed<typeof OPTIONS>["values"]): Options {
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (values.port !== undefined && (!/^\d+$/.test(values.port) || port > 65535)) {
    throw new UsageError(
      `--port expects a port number (0 to 65535), got ${JSON.stringify(values.port)}`,
    );
  }
  if (values.host === "") throw new UsageError("--host expects an address such as 0.0.0.0");
  const token = values.token ?? (Deno.env.get(TOKEN_ENV) || undefined);
  if (token !== undefined && !TOKEN_PATTERN.test(token)) {
    throw new UsageError(
      "--token expects 16 to 256 characters of A-Z a-z 0-9 . _ ~ + / = - (try: openssl rand -hex 16)",
    );
  }
  if (values.host !== undefined && token === undefined) {
    throw new UsageError(
      `--host requires a token: pass --token <token> or set ${TOKEN_ENV} (try: openssl rand -hex 16)`,
    );
  }
  return { host: values.host ?? "127.0.0.1", port, token };
}

/**
 * Runs the command: serves until SIGINT or SIGTERM.
 *
 * @param args The command-line arguments.
 * @returns The exit code.
 */
export const main: (args: string[]) => Promise<number> = command({
  usage: USAGE,
  options: OPTIONS,
  run: async ({ values }, session) => {
    const { host, port, token } = checkOptions(values);
    const database = chosenDatabase(values);
    const url = "url" in database ? database.url : undefined;
    const { driver, close } = await session.open(database, { create: false });
    try {
      const storage = new PgStorage({ driver, schema: values.schema });
      await storage.count({}); // fail now, in one line, if the table is missing
      await serve(storage, {
        title: values.schema,
        token,
        host,
        port,
        loopbackOnly: values.host === undefined && token === undefined,
        redact: (message) => redact(message, url),
      });
    } finally {
      await close();
    }
  },
});

function serve(
  storage: PgStorage,
  options: DashboardOptions & { host: string; port: number },
): Promise<void> {
  return untilStopped(async (stopped) => {
    const stop = new AbortController();
    stopped.then(() => stop.abort());
    let server: Deno.HttpServer;
    try {
      server = Deno.serve({
        hostname: options.host,
        port: options.port,
        signal: stop.signal,
        onListen: ({ hostname, port }) => {
          const where = hostname.includes(":") ? `[${hostname}]` : hostname;
          const access = options.token === undefined ? "" : " (open it with ?token=<token>)";
          console.log(`dashboard of schema ${options.title} on http://${where}:${port}/${access}`);
          console.log("read-only; press Ctrl-C to stop");
        },
      }, dashboardHandler(storage, options));
    } catch (error) {
      throw listenFailure(`${options.host}:${options.port}`, error);
    }
    await server.finished;
  });
}
