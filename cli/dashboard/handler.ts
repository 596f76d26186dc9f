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
  DatabaseError,
  PgStorage,
  type Storage,
  ValidationError,
} from "../../mod.ts";
import { UsageError } from "../failure.ts";
import { corruptReason } from "../instances.ts";
import { printable } from "../printable.ts";
import { answer, NotFound, summaryCounter } from "./api.ts";
import { APP_JS } from "./client_bundle.ts";
import { FAVICON_SVG, PAGE_HTML } from "./page.ts";
import { APP_CSS } from "./style.ts";

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
      const body = await answer(storage, title, url, summary);
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
  let difference = a.length ^ b.length;
  a.forEach((byte, i) => difference |= byte ^ (b[i] ?? 0));
  return difference === 0;
}
