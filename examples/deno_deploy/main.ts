/**
 * A Deno Deploy app that keeps order workflows in PostgreSQL (Neon) with @heph/pg, over Neon's
 * HTTP driver: every storage operation is one HTTPS request, nothing to connect or close.
 *
 * - `POST /orders/:id` starts an order (optional JSON body: its initial data); 409 if it exists.
 * - `POST /orders/:id/advance` runs its next step (validate → reserve → charge → ship); 409 when
 *   another request advanced it first, or when it is already completed.
 * - `GET /orders/:id` shows the stored instance; 404 when there is none.
 *
 * Environment: `DATABASE_URL` (required), `PORT` (local runs; Deploy ignores it) and
 * `NEON_FETCH_ENDPOINT` (local development and tests only: an endpoint speaking Neon's
 * SQL-over-HTTP protocol in place of Neon's own, such as the CLI's `neon-local` serves in front of
 * a local PostgreSQL). Create the tables once first:
 * `deno run --allow-net --allow-env jsr:@heph/pg/cli migrate`.
 *
 * @module
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import {
  ConflictError,
  newInstance,
  PgStorage,
  SerializationError,
  type StoredInstance,
  ValidationError,
} from "@heph/pg";
import { neonHttpDriver } from "@heph/pg/neon";

const STEPS = ["validate", "reserve", "charge", "ship"];

const databaseUrl = Deno.env.get("DATABASE_URL");
if (!databaseUrl) throw new Error("Set DATABASE_URL to your Neon connection string");
const fetchEndpoint = Deno.env.get("NEON_FETCH_ENDPOINT");
if (fetchEndpoint) neonConfig.fetchEndpoint = fetchEndpoint;
else if (/^(localhost|[\d.]+|\[[\da-f:.]+\])$/i.test(new URL(databaseUrl).hostname)) {
  // Neon's driver would send SQL to https://api.<host>/sql, which a local server does not serve.
  throw new Error(
    "DATABASE_URL points at a local PostgreSQL, which speaks no HTTP: start " +
      "`deno run -A jsr:@heph/pg/cli neon-local --url <DATABASE_URL>` and set NEON_FETCH_ENDPOINT " +
      "to the endpoint it prints",
  );
}

const storage = new PgStorage({ driver: neonHttpDriver(neon(databaseUrl)) });

const order = new URLPattern({ pathname: "/orders/:id" });
const advance = new URLPattern({ pathname: "/orders/:id/advance" });

/** Answers one request. */
async function handler(request: Request): Promise<Response> {
  try {
    const start = order.exec(request.url);
    if (start && request.method === "POST") {
      return await startOrder(start.pathname.groups.id!, request);
    }
    if (start && request.method === "GET") return await showOrder(start.pathname.groups.id!);
    const next = advance.exec(request.url);
    if (next && request.method === "POST") return await advanceOrder(next.pathname.groups.id!);
    return json({ error: "not found" }, 404);
  } catch (error) {
    if (error instanceof ValidationError || error instanceof SerializationError) {
      return json({ error: error.message }, 400);
    }
    console.error(error);
    return json({ error: "internal error" }, 500);
  }
}

async function startOrder(orderId: string, request: Request): Promise<Response> {
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

async function advanceOrder(orderId: string): Promise<Response> {
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

async function showOrder(orderId: string): Promise<Response> {
  const instance: StoredInstance | null = await storage.get(`order::${orderId}`);
  return instance ? json(instance) : json({ error: `order::${orderId} not found` }, 404);
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

Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8000) }, handler);
