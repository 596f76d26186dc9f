/**
 * A Cloudflare Worker that keeps order workflows in PostgreSQL (Neon) with @heph/pg.
 *
 * Storage operations go over Neon's HTTP driver: each is one stateless HTTPS request, nothing
 * to connect or close, nothing shared between requests.
 *
 * - `POST /orders/:id` starts an order (optional JSON body: its initial data); 409 if it exists.
 * - `POST /orders/:id/advance` runs its next step (validate → reserve → charge → ship); 409 when
 *   another request advanced it first, or when it is already completed.
 * - `GET /orders/:id` shows the stored instance; 404 when there is none.
 * - `GET /orders?status=running` lists orders by status, over a Neon WebSocket `Pool` instead,
 *   to show how: on Workers a Pool is created, used and ended within one request.
 *
 * Bindings: `DATABASE_URL` (a secret: `wrangler secret put DATABASE_URL`). `NEON_FETCH_ENDPOINT`
 * and `NEON_WS_PROXY` are for local development and tests only: stand-ins for Neon's HTTP
 * endpoint and WebSocket proxy in front of a plain PostgreSQL.
 *
 * @module
 */
import { neon, neonConfig, Pool } from "@neondatabase/serverless";
import {
  ConflictError,
  INSTANCE_STATUSES,
  type InstanceStatus,
  newInstance,
  PgStorage,
  SerializationError,
  type StoredInstance,
  ValidationError,
} from "@heph/pg";
import { neonDriver, neonHttpDriver } from "@heph/pg/neon";

/** The worker's bindings (see wrangler.toml). */
export interface Env {
  /** The Neon connection string. */
  DATABASE_URL: string;
  /** Local development and tests only: a SQL-over-HTTP endpoint to use instead of Neon's. */
  NEON_FETCH_ENDPOINT?: string;
  /** Local development and tests only: `host:port` of a WebSocket-to-TCP proxy, plain ws://. */
  NEON_WS_PROXY?: string;
}

/** What Workers pass as `fetch`'s third argument (`ExecutionContext` in @cloudflare/workers-types). */
export interface Context {
  waitUntil(promise: Promise<unknown>): void;
}

const STEPS = ["validate", "reserve", "charge", "ship"];

const order = new URLPattern({ pathname: "/orders/:id" });
const advance = new URLPattern({ pathname: "/orders/:id/advance" });

export default {
  async fetch(request: Request, env: Env, ctx: Context): Promise<Response> {
    if (env.NEON_FETCH_ENDPOINT) neonConfig.fetchEndpoint = env.NEON_FETCH_ENDPOINT;
    if (env.NEON_WS_PROXY) {
      neonConfig.wsProxy = (host, port) => `${env.NEON_WS_PROXY}/v1?address=${host}:${port}`;
      neonConfig.useSecureWebSocket = false;
      neonConfig.pipelineTLS = false;
      neonConfig.pipelineConnect = false;
    }
    const storage = new PgStorage({ driver: neonHttpDriver(neon(env.DATABASE_URL)) });
    try {
      const url = new URL(request.url);
      if (url.pathname === "/orders" && request.method === "GET") {
        return await listOrders(env, ctx, url.searchParams.get("status") ?? "running");
      }
      const one = order.exec(url);
      if (one && request.method === "POST") {
        return await startOrder(storage, one.pathname.groups.id!, request);
      }
      if (one && request.method === "GET") return await showOrder(storage, one.pathname.groups.id!);
      const next = advance.exec(url);
      if (next && request.method === "POST") {
        return await advanceOrder(storage, next.pathname.groups.id!);
      }
      return json({ error: "not found" }, 404);
    } catch (error) {
      if (error instanceof ValidationError || error instanceof SerializationError) {
        return json({ error: error.message }, 400);
      }
      console.error(error);
      return json({ error: "internal error" }, 500);
    }
  },
};

async function startOrder(storage: PgStorage, orderId: string, request: Request) {
  const body = await request.text();
  let initial: unknown = {};
  try {
    if (body !== "") initial = JSON.parse(body);
  } catch {
    initial = null;
  }
  if (typeof initial !== "object" || initial === null || Array.isArray(initial)) {
    return json({ error: "the body must be a JSON object" }, 400);
  }
  const instance = newInstance({
    id: `order::${orderId}`,
    workflow: "Shop.OrderWorkflow",
    initial: { ...initial, order_id: orderId },
  });
  try {
    // expectedRevision 0: insert only if no order has this id yet.
    const { revision } = await storage.put(instance, { expectedRevision: 0 });
    return json({ id: instance.id, status: instance.status, revision }, 201);
  } catch (error) {
    if (error instanceof ConflictError) return json({ error: `${instance.id} exists` }, 409);
    throw error;
  }
}

async function advanceOrder(storage: PgStorage, orderId: string): Promise<Response> {
  const instance = await storage.get(`order::${orderId}`);
  if (!instance) return json({ error: `order::${orderId} not found` }, 404);
  const step = STEPS.find((s) => !instance.completedSteps.has(s));
  if (!step) return json({ error: `${instance.id} is already completed` }, 409);

  const now = new Date();
  const result = { done_at: now };
  instance.context.steps[step] = result;
  instance.completedSteps.add(step);
  instance.executionHistory.push({
    stepRef: step,
    event: "completed",
    timestamp: now,
    contextUpdates: result,
  });
  instance.currentStep = STEPS[STEPS.indexOf(step) + 1] ?? null;
  instance.status = instance.currentStep ? "running" : "completed";
  try {
    // Only if nobody stored it since we read it: one statement checks and writes.
    const { revision } = await storage.put(instance, { expectedRevision: instance.revision });
    return json({ id: instance.id, step, status: instance.status, revision });
  } catch (error) {
    if (error instanceof ConflictError) {
      return json({ error: `${instance.id} changed meanwhile: retry` }, 409);
    }
    throw error;
  }
}

async function showOrder(storage: PgStorage, orderId: string): Promise<Response> {
  const instance: StoredInstance | null = await storage.get(`order::${orderId}`);
  return instance ? json(instance) : json({ error: `order::${orderId} not found` }, 404);
}

/** The same storage over a WebSocket Pool: created, used and ended within this request. */
async function listOrders(env: Env, ctx: Context, status: string): Promise<Response> {
  if (!(INSTANCE_STATUSES as readonly string[]).includes(status)) {
    return json({ error: `unknown status ${status}` }, 400);
  }
  const pool = new Pool({ connectionString: env.DATABASE_URL });
  try {
    const storage = new PgStorage({ driver: neonDriver(pool) });
    const found = await storage.query({
      workflow: "Shop.OrderWorkflow",
      status: status as InstanceStatus,
    });
    return json(found.map(({ id, currentStep, revision }) => ({ id, currentStep, revision })));
  } finally {
    ctx.waitUntil(pool.end()); // a Pool must not outlive the request that made it
  }
}

/** JSON with Sets as arrays and BigInts as strings (Dates become ISO strings on their own). */
function json(data: unknown, status = 200): Response {
  const body = JSON.stringify(
    data,
    (_key, value) =>
      value instanceof Set ? [...value] : typeof value === "bigint" ? String(value) : value,
  );
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}
