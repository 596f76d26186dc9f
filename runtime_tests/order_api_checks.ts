/**
 * Checks of the order API that the Deno Deploy and Cloudflare Worker examples share
 * (`examples/deno_deploy/main.ts`, `examples/cloudflare_worker/src/worker.ts`): start, advance
 * through validate → reserve → charge → ship, inspect, and the 400/404/409 answers, including
 * concurrent advances resolved by `expectedRevision`. Used by `runtime_tests/deno/run.ts` (over
 * `fetch` to the running app) and `runtime_tests/workerd/run.ts` (through Miniflare).
 *
 * The examples use the `public` schema: each run gives them a database of its own
 * (`exampleDatabase`), dropped afterwards, so other runs on the same server never interfere.
 *
 * @module
 */
import pg from "pg";
import { migrate } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";

/**
 * Sends a request to the app: a path such as `/orders/1`, a method and maybe a body. (A
 * structural response type, so Miniflare's `dispatchFetch` fits as well as `fetch`.)
 */
export type AppFetch = (
  path: string,
  init: { method: string; body?: string },
) => Promise<{ status: number; text(): Promise<string> }>;

/** One check's outcome. */
export interface CheckResult {
  /** What was checked. */
  name: string;
  /** Whether it held. */
  ok: boolean;
  /** Why not; or, for some that held, what was seen. */
  detail?: string;
}

const STEPS = ["validate", "reserve", "charge", "ship"];

/** A fresh order id for a run, such as `rt-deno-k3j9x2`. */
export function orderIdPrefix(runtime: string): string {
  return `rt-${runtime}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Runs the checks. `withList` adds the Worker's `GET /orders?status=` (its WebSocket Pool route).
 *
 * @returns One result per check, in order; a check that throws fails with the error as detail.
 */
export async function checkOrderApi(
  app: AppFetch,
  prefix: string,
  options: { withList?: boolean } = {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const a = `${prefix}-a`;
  const b = `${prefix}-b`;
  const check = async (name: string, body: () => Promise<string | void>) => {
    try {
      const detail = await body();
      results.push(detail ? { name, ok: true, detail } : { name, ok: true });
    } catch (error) {
      results.push({
        name,
        ok: false,
        detail: error instanceof Error ? error.message : `${error}`,
      });
    }
  };
  const call = async (method: string, path: string, body?: string) => {
    const response = await app(path, { method, body });
    const text = await response.text();
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${path}: ${response.status}, not JSON: ${text.slice(0, 200)}`);
    }
    return { status: response.status, json };
  };
  const expect = (what: string, actual: unknown, expected: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      throw new Error(
        `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
      );
    }
  };

  await check("POST /orders/:id starts an order at revision 1 (201)", async () => {
    const { status, json } = await call("POST", `/orders/${a}`, JSON.stringify({ items: 2 }));
    expect("answer", [status, json], [201, { id: `order::${a}`, status: "pending", revision: 1 }]);
  });
  await check("POST /orders/:id again is a conflict (409)", async () => {
    expect("status", (await call("POST", `/orders/${a}`)).status, 409);
  });
  await check("POST /orders/:id with a body that is not an object is refused (400)", async () => {
    expect("status", (await call("POST", `/orders/${prefix}-bad`, "[1]")).status, 400);
  });
  await check("GET /orders/:id shows the stored instance", async () => {
    const { status, json } = await call("GET", `/orders/${a}`);
    expect("status", status, 200);
    expect("fields", [json.id, json.status, json.revision, json.currentStep], [
      `order::${a}`,
      "pending",
      1,
      null,
    ]);
    expect("initial", json.context, { initial: { items: 2, order_id: a }, steps: {} });
  });
  await check("GET and advance of an unknown order are 404", async () => {
    expect("GET", (await call("GET", `/orders/${prefix}-none`)).status, 404);
    expect("advance", (await call("POST", `/orders/${prefix}-none/advance`)).status, 404);
  });
  await check("POST /orders/:id/advance runs validate, reserve, charge, ship in turn", async () => {
    for (const [i, step] of STEPS.entries()) {
      const { status, json } = await call("POST", `/orders/${a}/advance`);
      const state = i === STEPS.length - 1 ? "completed" : "running";
      expect(`advance ${i + 1}`, [status, json], [200, {
        id: `order::${a}`,
        step,
        status: state,
        revision: i + 2,
      }]);
    }
  });
  await check("advancing a completed order is a conflict (409)", async () => {
    expect("status", (await call("POST", `/orders/${a}/advance`)).status, 409);
  });
  await check("GET /orders/:id shows the completed order with its history", async () => {
    const { json } = await call("GET", `/orders/${a}`);
    expect("fields", [json.status, json.revision, json.currentStep], ["completed", 5, null]);
    expect("completedSteps", [...(json.completedSteps as string[])].sort(), [...STEPS].sort());
    const history = json.executionHistory as { stepRef: string; event: string }[];
    expect(
      "history",
      history.map((h) => `${h.stepRef} ${h.event}`),
      STEPS.map((s) => `${s} completed`),
    );
  });
  await check("concurrent advances: each is stored once or refused with 409", async () => {
    expect("start", (await call("POST", `/orders/${b}`)).status, 201);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => call("POST", `/orders/${b}/advance`)),
    );
    const statuses = answers.map((answer) => answer.status);
    if (statuses.some((s) => s !== 200 && s !== 409)) throw new Error(`statuses ${statuses}`);
    const won = statuses.filter((s) => s === 200).length;
    if (won === 0) throw new Error("no advance won");
    const { json } = await call("GET", `/orders/${b}`);
    expect("revision", json.revision, 1 + won);
    expect("completed steps", (json.completedSteps as string[]).length, won);
    return `${won} stored, ${statuses.length - won} refused`;
  });
  await check("an unknown route is 404", async () => {
    expect("status", (await call("GET", "/nowhere")).status, 404);
  });
  if (options.withList) {
    await check("GET /orders?status= lists orders over a WebSocket Pool", async () => {
      const { status, json } = await call("GET", "/orders?status=completed");
      expect("status", status, 200);
      const rows = json as unknown as { id: string; currentStep: unknown; revision: number }[];
      expect("row", rows.filter((row) => row.id === `order::${a}`), [
        { id: `order::${a}`, currentStep: null, revision: 5 },
      ]);
      expect("unknown status", (await call("GET", "/orders?status=lost")).status, 400);
    });
  }
  return results;
}

/**
 * A database of the run's own on the test server, migrated: the examples use the `public`
 * schema, which other runs (and other branches) on the same server may hold at another version.
 *
 * @param databaseUrl The test database's URL (a role that may create databases).
 * @returns Its URL, and a function that drops it.
 */
export async function exampleDatabase(
  databaseUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `heph_examples_${crypto.randomUUID().slice(0, 8)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.href, max: 1 });
  try {
    await migrate(nodePostgresDriver(pool));
  } finally {
    await pool.end();
  }
  return { url: url.href, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
