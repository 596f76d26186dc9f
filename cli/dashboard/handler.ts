/**
 * The dashboard as a fetch handler (`jsr:@heph/pg/dashboard`): mount it in your own app, behind
 * your own authentication, or run it with the CLI's `dashboard` command, which serves this same
 * handler on loopback. It reads only through the Storage API and needs no Deno API, so it runs
 * wherever `Request` and `Response` do (Deno, Node and Bun servers, Hono, Workers).
 *
 * @example Mount it with Hono
 * ```ts ignore
 * import { Hono } from "npm:hono";
 * import { dashboardHandler } from "jsr:@heph/pg/dashboard";
 *
 * const dashboard = dashboardHandler(storage, { basePath: "/admin/workflows" });
 * const app = new Hono();
 * app.use("/admin/*", yourAuthMiddleware);
 * app.all("/admin/workflows/*", (c) => dashboard(c.req.raw));
 * app.all("/admin/workflows", (c) => dashboard(c.req.raw));
 * ```
 *
 * @module
 */

import {
  CorruptRecordError,
  type CountGroup,
  DatabaseError,
  INSTANCE_STATUSES,
  type InstanceFilter,
  type InstanceStatus,
  PgStorage,
  type Storage,
  ValidationError,
} from "../../mod.ts";
import { UsageError } from "../failure.ts";
import {
  buildFilter,
  corruptReason,
  corruptRows,
  detail,
  printable,
  summarize,
} from "../instances.ts";
import { typedText } from "../typed_text.ts";
import { APP_CSS, APP_JS, FAVICON_SVG, PAGE_HTML } from "./page.ts";

const COOKIE = "heph_dashboard_token";

/**
 * What a token may be: 16 to 256 characters of `A-Z a-z 0-9 . _ ~ + / = -` (so it fits a
 * cookie and a header as is).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TOKEN_PATTERN } from "@heph/pg/dashboard";
 *
 * assert.ok(TOKEN_PATTERN.test(crypto.randomUUID().replaceAll("-", "")));
 * ```
 */
export const TOKEN_PATTERN: RegExp = /^[A-Za-z0-9._~+\/=-]{16,256}$/;

/**
 * The headers every response of {@linkcode dashboardHandler} carries: a strict
 * Content-Security-Policy (no inline script or style, no framing) and their companions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SECURITY_HEADERS } from "@heph/pg/dashboard";
 *
 * assert.equal(SECURITY_HEADERS["x-frame-options"], "DENY");
 * ```
 */
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
  // Browsers ask for /favicon.ico on pages without a <link rel=icon> (a 401 or a text answer).
  "/favicon.ico": [FAVICON_SVG, "image/svg+xml"],
};

const DEFAULT_PAGE = 25;
const MAX_PAGE = 200;
/** At most this many instances are read per request when looking for expired leases. */
const LEASE_SCAN_BUDGET = 2_000;
const UNFINISHED: InstanceStatus[] = ["pending", "running", "waiting"];
/** The names a request to a loopback listener may be addressed to (its URL follows `Host`). */
const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

/**
 * Options of {@linkcode dashboardHandler}: all optional.
 *
 * @example
 * ```ts
 * import type { DashboardOptions } from "@heph/pg/dashboard";
 *
 * const options: DashboardOptions = { basePath: "/admin/workflows", title: "tenant_a" };
 * ```
 */
export interface DashboardOptions {
  /**
   * The name shown on the page; by default the PgStorage's schema, else `"storage"`.
   */
  title?: string;
  /**
   * Where the dashboard is mounted, such as `/admin/workflows`: requests under it are served,
   * with the prefix taken off (`/admin/workflows` itself redirects to `/admin/workflows/`). Leave
   * it out when your router already strips the prefix and the page is at `/`.
   */
  basePath?: string;
  /**
   * When set, every request must carry it: `?token=` once (traded for an HttpOnly,
   * SameSite=Strict cookie), or `Authorization: Bearer …`. Compared in constant time.
   */
  token?: string;
  /**
   * Refuse requests whose `Host` is not 127.0.0.1, localhost or [::1] (against DNS rebinding,
   * when listening on loopback without a token).
   */
  loopbackOnly?: boolean;
  /** Where an unexpected error is reported (one line); `console.error` by default. */
  onError?: (message: string) => void;
  /** Rewrites error messages before they are reported or answered (to take out secrets). */
  redact?: (message: string) => string;
}

/**
 * The read-only dashboard as a fetch handler, to mount in your own app behind your own
 * authentication: the page, its assets and JSON endpoints (counts by status, a filterable table
 * with keyset paging, an instance's history, stuck instances and expired leases), read through
 * the Storage API only, so it works over any driver and any store.
 *
 * What it does on every response: answers only GET and HEAD (405 otherwise), sets a strict
 * Content-Security-Policy with no inline script and the headers in
 * {@linkcode SECURITY_HEADERS}, and renders every stored value as text. With `token` it
 * refuses requests without it; with `loopbackOnly` it checks the Host.
 *
 * What it leaves to the host application: who may see it (authentication and authorization,
 * unless you use `token`), TLS, which address it listens on, rate limiting, and logging of
 * requests. The data it shows is your workflows' context and history: mount it only where
 * whoever can reach it may read them.
 *
 * @param storage Where the instances are: a PgStorage on any driver, a MemoryStorage.
 * @param options A title, a base path, an optional token and Host check, error reporting.
 * @returns A handler for `Deno.serve`, Hono, a Worker's `fetch` or anything that maps a
 *   `Request` to a `Response`.
 *
 * @example With Deno.serve, behind your own check
 * ```ts ignore
 * import pg from "npm:pg";
 * import { PgStorage } from "jsr:@heph/pg";
 * import { nodePostgresDriver } from "jsr:@heph/pg/node-postgres";
 * import { dashboardHandler } from "jsr:@heph/pg/dashboard";
 *
 * const pool = new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") });
 * const dashboard = dashboardHandler(new PgStorage({ driver: nodePostgresDriver(pool) }), {
 *   basePath: "/admin/workflows",
 * });
 * Deno.serve((request) =>
 *   new URL(request.url).pathname.startsWith("/admin/workflows") && isAdmin(request)
 *     ? dashboard(request)
 *     : new Response("not found", { status: 404 })
 * );
 * ```
 */
export function dashboardHandler(
  storage: Storage,
  options: DashboardOptions = {},
): (request: Request) => Promise<Response> {
  const { token, loopbackOnly = false } = options;
  if (token !== undefined && !TOKEN_PATTERN.test(token)) {
    throw new TypeError(
      "Invalid token: expected 16 to 256 characters of A-Z a-z 0-9 . _ ~ + / = -",
    );
  }
  const title = options.title ??
    (storage instanceof PgStorage ? storage.schema : "storage");
  const base = normalizeBasePath(options.basePath);
  const onError = options.onError ?? ((message) => console.error(message));
  const clean = options.redact ?? ((message) => message);
  const summary = summaryCounter(storage);
  return async (request) => {
    const url = new URL(request.url);
    if (loopbackOnly && !LOOPBACK_NAMES.includes(url.hostname)) {
      return text(403, "refused: address the dashboard as 127.0.0.1 or localhost");
    }
    if (base !== "") {
      if (url.pathname === base) {
        return new Response(null, {
          status: 308,
          headers: { ...SECURITY_HEADERS, location: `${base}/${url.search}` },
        });
      }
      if (!url.pathname.startsWith(`${base}/`)) return text(404, "not found");
      url.pathname = url.pathname.slice(base.length);
    }
    if (token !== undefined) {
      const given = url.searchParams.get("token");
      if (given !== null && await sameSecret(given, token)) {
        if (request.method === "GET" && !url.pathname.startsWith("/api/")) {
          // Trade the token in the address for a cookie, and drop it from the address bar.
          url.searchParams.delete("token");
          const location = base + (url.pathname in ASSETS ? url.pathname + url.search : "/");
          return new Response(null, {
            status: 303,
            headers: {
              ...SECURITY_HEADERS,
              location,
              "set-cookie": `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=${base}/`,
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
      const body = await api(storage, title, url, summary);
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

/** What /api/summary answers besides the title and the time. */
interface Summary {
  counts: Record<InstanceStatus, number>;
  total: number;
  groups: CountGroup[];
  /** When the counts were read (ISO). */
  countedAt: string;
  /** How long the grouped count took, in milliseconds. */
  tookMs: number;
  /** Whether these counts were read for an earlier request (a slow count is reused). */
  cached: boolean;
}

/** A grouped count slower than this is reused, not repeated on every refresh. */
const SLOW_SUMMARY_MS = 200;

/**
 * The summary from one grouped count ({@linkcode Storage.countGroups}). On a large table that
 * count reads every row (about a second at 1,000,000 rows), so when it took longer than
 * {@linkcode SLOW_SUMMARY_MS} its result is reused for 30 times as long (at least 30 s), and
 * concurrent requests share one count; the answer says when it was counted.
 */
function summaryCounter(storage: Storage): () => Promise<Summary> {
  let last: { summary: Summary; until: number } | undefined;
  let running: Promise<Summary> | undefined;
  const count = async (): Promise<Summary> => {
    const started = Date.now();
    const groups = await storage.countGroups({});
    const tookMs = Date.now() - started;
    const counts = {} as Record<InstanceStatus, number>;
    for (const status of INSTANCE_STATUSES) counts[status] = 0;
    for (const group of groups) counts[group.status] += group.count;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const summary = {
      counts,
      total,
      groups,
      countedAt: new Date(started).toISOString(),
      tookMs,
      cached: false,
    };
    last = tookMs > SLOW_SUMMARY_MS
      ? { summary, until: Date.now() + Math.max(30_000, 30 * tookMs) }
      : undefined;
    return summary;
  };
  return () => {
    if (last !== undefined && Date.now() < last.until) {
      return Promise.resolve({ ...last.summary, cached: true });
    }
    running ??= count().finally(() => running = undefined);
    return running;
  };
}

/** `"/admin/x/"` → `"/admin/x"`; nothing → `""`. */
function normalizeBasePath(path: string | undefined): string {
  if (path === undefined || path === "" || path === "/") return "";
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%\/-]*$/.test(path) || path.includes("//")) {
    throw new TypeError(
      `Invalid basePath: ${JSON.stringify(path)}, expected a path such as /admin`,
    );
  }
  return path.replace(/\/+$/, "");
}

class NotFound extends Error {}

/** The JSON endpoints; null for a missing instance. */
async function api(
  storage: Storage,
  schema: string,
  url: URL,
  summary: () => Promise<Summary>,
): Promise<unknown> {
  const q = url.searchParams;
  const now = Date.now();
  const at = new Date(now).toISOString();
  const limit = pageSize(q.get("limit"));
  const cursor = q.get("cursor") || null;
  const order = q.get("order") || "asc";
  if (order !== "asc" && order !== "desc") {
    throw new UsageError(`order expects asc or desc, got ${JSON.stringify(order)}`);
  }
  const listPage = async (filter: InstanceFilter) => {
    const page = await storage.page(filter, { limit, cursor, skipCorrupt: true, order });
    return {
      now: at,
      items: page.items.map((i) => summarize(i, now)),
      corrupt: corruptRows(page),
      nextCursor: page.nextCursor,
      total: await storage.count(filter),
    };
  };
  switch (url.pathname) {
    case "/api/summary":
      return { schema, now: at, ...await summary() };
    case "/api/instances":
      return await listPage(listFilter(q, now));
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
      return instance && {
        now: at,
        ...detail(instance, now),
        // The same values as text that keeps their types (Date, BigInt, Set, Map, bytes).
        typed: {
          initial: typedText(instance.context.initial),
          steps: typedText(instance.context.steps),
          stepConfigs: typedText(instance.stepConfigs),
          runtimeMetadata: typedText(instance.runtimeMetadata),
          telemetryMetadata: typedText(instance.telemetryMetadata),
          history: instance.executionHistory.map((entry) =>
            entry.contextUpdates === null ? null : typedText(entry.contextUpdates)
          ),
        },
      };
    }
    default:
      throw new NotFound(`no such endpoint: ${url.pathname}`);
  }
}

/** The URL's query parameters that select instances, listed for the page and the tests. */
const FILTER_PARAMS = [
  "id",
  "idPrefix",
  "status",
  "workflow",
  "version",
  "family",
  "since",
  "idle",
  "updatedAfter",
  "updatedBefore",
  "insertedAfter",
  "insertedBefore",
  "context",
] as const;

/**
 * The list's filter from the URL: `status` (comma-separated), `workflow` (exact), `family`
 * (prefix), `version`, `id`, `idPrefix`, `since` / `idle` (durations), `updatedAfter`,
 * `updatedBefore`, `insertedAfter`, `insertedBefore` (ISO times) and `context` (a JSON document,
 * as `inspect --context`), all combined.
 */
function listFilter(q: URLSearchParams, now: number): InstanceFilter {
  for (const key of q.keys()) {
    if (
      !(FILTER_PARAMS as readonly string[]).includes(key) && key !== "limit" && key !== "cursor" &&
      key !== "order"
    ) {
      throw new UsageError(`unknown parameter: ${JSON.stringify(key)}`);
    }
  }
  const word = (name: string) => q.get(name) || undefined;
  const filter = buildFilter(
    {
      status: word("status"),
      workflow: word("workflow"),
      family: word("family"),
      since: word("since"),
      idle: word("idle"),
      context: word("context"),
    },
    now,
    (name) => name,
  );
  const id = word("id");
  if (id !== undefined) filter.id = id;
  const idPrefix = word("idPrefix");
  if (idPrefix !== undefined) filter.idPrefix = idPrefix;
  const version = word("version");
  if (version !== undefined) {
    if (!/^\d{1,9}$/.test(version)) {
      throw new UsageError(`version expects a whole number, got ${JSON.stringify(version)}`);
    }
    filter.workflowVersion = Number(version);
  }
  for (const key of ["updatedAfter", "updatedBefore", "insertedAfter", "insertedBefore"] as const) {
    const value = word(key);
    if (value === undefined) continue;
    const time = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value)
      ? Date.parse(value)
      : NaN;
    if (Number.isNaN(time)) {
      throw new UsageError(
        `${key} expects an ISO time such as 2026-01-31T12:00:00Z, got ${JSON.stringify(value)}`,
      );
    }
    // A later key of the same bound (since/idle) is narrowed, never widened.
    const bound = new Date(time);
    const current = filter[key];
    filter[key] = current === undefined
      ? bound
      : key.endsWith("After")
      ? (current > bound ? current : bound)
      : (current < bound ? current : bound);
  }
  return filter;
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
