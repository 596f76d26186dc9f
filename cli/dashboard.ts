/**
 * `deno task dashboard`: a small read-only web dashboard of the stored instances — counts by
 * status, a filterable table with keyset paging, each instance with its history as a
 * timeline, and a "stuck" view (running or waiting and not updated for a while, or holding an
 * expired lease). It reads only through the public Storage API.
 *
 * It listens on 127.0.0.1 (port 8787) unless `--host` is given; then a token is required
 * (`--token` or `HEPH_DASHBOARD_TOKEN`) and every request must carry it: open
 * `http://host:port/?token=…` once (it becomes an HttpOnly cookie), or send
 * `Authorization: Bearer …`. The page, its CSS and its script are served from memory
 * (cli/dashboard/page.ts) under a strict Content-Security-Policy; data comes as JSON and is put
 * in the page as text only.
 *
 * @example
 * ```sh
 * deno task dashboard                                   # http://127.0.0.1:8787/
 * deno task dashboard --url postgres://postgres@127.0.0.1:5432/app --schema tenant_a --port 9000
 * deno task dashboard --host 0.0.0.0 --token "$(openssl rand -hex 16)"
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  CorruptRecordError,
  DatabaseError,
  INSTANCE_STATUSES,
  type InstanceFilter,
  type InstanceStatus,
  PgStorage,
  type Storage,
  ValidationError,
} from "../mod.ts";
import { chooseDatabase, DATABASE_OPTIONS, DATABASE_USAGE, openDatabase } from "./database.ts";
import { argsError, redact, reportFailure, UsageError } from "./failure.ts";
import {
  buildFilter,
  corruptReason,
  corruptRows,
  detail,
  printable,
  summarize,
} from "./instances.ts";
import { APP_CSS, APP_JS, FAVICON_SVG, PAGE_HTML } from "./dashboard/page.ts";

const DEFAULT_PORT = 8787;
const TOKEN_ENV = "HEPH_DASHBOARD_TOKEN";
const TOKEN_PATTERN = /^[A-Za-z0-9._~+\/=-]{16,256}$/;
const COOKIE = "heph_dashboard_token";

const USAGE = `Usage: deno task dashboard [options]

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

/** The headers every response carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy": [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
});

const ASSETS: Record<string, [string, string]> = {
  "/": [PAGE_HTML, "text/html; charset=utf-8"],
  "/app.js": [APP_JS, "text/javascript; charset=utf-8"],
  "/app.css": [APP_CSS, "text/css; charset=utf-8"],
  "/favicon.svg": [FAVICON_SVG, "image/svg+xml"],
};

const DEFAULT_PAGE = 25;
const MAX_PAGE = 200;
/** At most this many instances are read per request when looking for expired leases. */
const LEASE_SCAN_BUDGET = 2_000;
const UNFINISHED: InstanceStatus[] = ["pending", "running", "waiting"];
/** The names a request to a loopback listener may be addressed to (its URL follows `Host`). */
const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

/** What {@linkcode dashboardHandler} needs. */
export interface DashboardOptions {
  /** Where the instances are: any Storage (PgStorage on any driver, MemoryStorage). */
  storage: Storage;
  /** The schema's name, shown on the page. */
  schema: string;
  /** When set, every request must carry it (query `token`, cookie, or bearer header). */
  token?: string;
  /**
   * Refuse requests whose `Host` is not 127.0.0.1, localhost or [::1] (against DNS rebinding
   * when listening on loopback without a token).
   */
  loopbackOnly?: boolean;
  /** Where an unexpected error is reported (one line); stderr by default. */
  onError?: (message: string) => void;
  /** Takes passwords out of error messages. */
  redact?: (message: string) => string;
}

/**
 * The dashboard as a fetch handler: the page, its assets and the JSON endpoints, read-only.
 *
 * @param options The store, the schema's name, and the access rules.
 * @returns The handler for `Deno.serve` (or any server taking `Request` → `Response`).
 */
export function dashboardHandler(
  options: DashboardOptions,
): (request: Request) => Promise<Response> {
  const { storage, schema, token, loopbackOnly = false } = options;
  const onError = options.onError ?? ((message) => console.error(message));
  const clean = options.redact ?? ((message) => message);
  return async (request) => {
    const url = new URL(request.url);
    if (loopbackOnly && !LOOPBACK_NAMES.includes(url.hostname)) {
      return text(403, "refused: address the dashboard as 127.0.0.1 or localhost");
    }
    if (token !== undefined) {
      const given = url.searchParams.get("token");
      if (given !== null && await sameSecret(given, token)) {
        if (request.method === "GET" && !url.pathname.startsWith("/api/")) {
          // Trade the token in the address for a cookie, and drop it from the address bar.
          url.searchParams.delete("token");
          const location = url.pathname in ASSETS ? url.pathname + url.search : "/";
          return new Response(null, {
            status: 303,
            headers: {
              ...SECURITY_HEADERS,
              location,
              "set-cookie": `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
            },
          });
        }
      } else if (!await carriesToken(request, token)) {
        return text(
          401,
          "unauthorized: open the dashboard with ?token=<token> or send Authorization: Bearer <token>",
          { "www-authenticate": 'Bearer realm="heph dashboard"' },
        );
      }
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "read-only: only GET is served", { allow: "GET, HEAD" });
    }
    const asset = ASSETS[url.pathname];
    if (asset) return respond(200, asset[0], asset[1], request.method === "HEAD");
    if (!url.pathname.startsWith("/api/")) return text(404, "not found");
    try {
      const body = await api(storage, schema, url);
      return body === null
        ? json(404, { error: `no instance with id ${JSON.stringify(url.searchParams.get("id"))}` })
        : json(200, body);
    } catch (error) {
      if (error instanceof UsageError || error instanceof ValidationError) {
        return json(400, { error: error.message });
      }
      if (error instanceof NotFound) return json(404, { error: error.message });
      if (error instanceof CorruptRecordError) {
        return json(422, {
          error: `instance ${JSON.stringify(error.id)} cannot be read: ${corruptReason(error)}`,
        });
      }
      const message = clean(error instanceof Error ? error.message : String(error));
      onError(`error: ${url.pathname}: ${printable(message)}`); // stored ids reach messages
      return error instanceof DatabaseError
        ? json(503, { error: `the database failed: ${message}` })
        : json(500, { error: "internal error (see the dashboard's log)" });
    }
  };
}

class NotFound extends Error {}

/** The JSON endpoints; null for a missing instance. */
async function api(storage: Storage, schema: string, url: URL): Promise<unknown> {
  const q = url.searchParams;
  const now = Date.now();
  const at = new Date(now).toISOString();
  const limit = pageSize(q.get("limit"));
  const cursor = q.get("cursor") || null;
  const listPage = async (filter: InstanceFilter) => {
    const page = await storage.page(filter, { limit, cursor, skipCorrupt: true });
    return {
      now: at,
      items: page.items.map((i) => summarize(i, now)),
      corrupt: corruptRows(page),
      nextCursor: page.nextCursor,
      total: await storage.count(filter),
    };
  };
  switch (url.pathname) {
    case "/api/summary": {
      const counts = {} as Record<InstanceStatus, number>;
      for (const status of INSTANCE_STATUSES) counts[status] = await storage.count({ status });
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      return { schema, now: at, counts, total };
    }
    case "/api/instances": {
      const filter = buildFilter(
        {
          status: q.get("status") ?? undefined,
          workflow: q.get("workflow") ?? undefined,
          family: q.get("family") ?? undefined,
          since: q.get("since") ?? undefined,
          idle: q.get("idle") ?? undefined,
        },
        now,
        (name) => name,
      );
      return await listPage(filter);
    }
    case "/api/stuck": {
      const filter = buildFilter(
        { status: "running,waiting", idle: q.get("idle") || "15m" },
        now,
        (name) => name,
      );
      return await listPage(filter);
    }
    case "/api/expired-leases": {
      // No filter selects leases, so pages of unfinished instances are read until `limit`
      // expired ones are found or the budget is spent; the cursor resumes the walk.
      const items = [];
      const corrupt = [];
      let scanned = 0;
      let next = cursor;
      do {
        const page = await storage.page({ statusIn: UNFINISHED }, {
          limit: 200,
          cursor: next,
          skipCorrupt: true,
        });
        scanned += page.items.length + (page.corrupt?.length ?? 0);
        corrupt.push(...corruptRows(page));
        for (const instance of page.items) {
          if (instance.lease && instance.lease.expiresAt.getTime() <= now) {
            items.push(summarize(instance, now));
          }
        }
        next = page.nextCursor;
      } while (next !== null && items.length < limit && scanned < LEASE_SCAN_BUDGET);
      return { now: at, items, corrupt, nextCursor: next, scanned };
    }
    case "/api/instance": {
      const id = q.get("id");
      if (id === null) throw new UsageError("id is required");
      const instance = await storage.get(id);
      return instance && { now: at, ...detail(instance, now) };
    }
    default:
      throw new NotFound(`no such endpoint: ${url.pathname}`);
  }
}

function pageSize(value: string | null): number {
  if (value === null || value === "") return DEFAULT_PAGE;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_PAGE) {
    throw new UsageError(
      `limit expects a number from 1 to ${MAX_PAGE}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function respond(
  status: number,
  body: string | null,
  type: string,
  head = false,
  extra: Record<string, string> = {},
): Response {
  return new Response(head ? null : body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": type, ...extra },
  });
}

const text = (status: number, message: string, extra: Record<string, string> = {}) =>
  respond(status, `${message}\n`, "text/plain; charset=utf-8", false, extra);

const json = (status: number, body: unknown) =>
  respond(status, JSON.stringify(body), "application/json; charset=utf-8");

async function carriesToken(request: Request, token: string): Promise<boolean> {
  const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (bearer !== undefined && await sameSecret(bearer, token)) return true;
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === COOKIE && await sameSecret(value.join("="), token)) return true;
  }
  return false;
}

/** Compares two secrets in time independent of where they differ (by their SHA-256). */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const digest = async (s: string) =>
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

interface Options {
  host: string;
  port: number;
  token?: string;
}

function parseOptions(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        ...DATABASE_OPTIONS,
        schema: { type: "string", default: "public" },
        port: { type: "string" },
        host: { type: "string" },
        token: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    throw argsError(error);
  }
}

function checkOptions(values: ReturnType<typeof parseOptions>): Options {
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
export async function main(args: string[]): Promise<number> {
  let url: string | undefined;
  try {
    const values = parseOptions(args);
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const { host, port, token } = checkOptions(values);
    const database = chooseDatabase({ url: values.url, dataDir: values["data-dir"] });
    if ("url" in database) url = database.url;
    const { driver, close } = await openDatabase(database);
    try {
      const storage = new PgStorage({ driver, schema: values.schema });
      await storage.count({}); // fail now, in one line, if the table is missing
      await serve({
        storage,
        schema: values.schema,
        token,
        host,
        port,
        loopbackOnly: values.host === undefined && token === undefined,
        redact: (message) => redact(message, url),
      });
    } finally {
      await close();
    }
    return 0;
  } catch (error) {
    return reportFailure(error, url);
  }
}

async function serve(
  options: DashboardOptions & { host: string; port: number },
): Promise<void> {
  const stop = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => stop.abort();
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: options.host,
      port: options.port,
      signal: stop.signal,
      onListen: ({ hostname, port }) => {
        const where = hostname.includes(":") ? `[${hostname}]` : hostname;
        const access = options.token === undefined ? "" : " (open it with ?token=<token>)";
        console.log(`dashboard of schema ${options.schema} on http://${where}:${port}/${access}`);
        console.log("read-only; press Ctrl-C to stop");
      },
    }, dashboardHandler(options));
  } catch (error) {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    const reason = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new Error(`cannot listen on ${options.host}:${options.port}: ${reason}`);
  }
  await server.finished;
  for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
