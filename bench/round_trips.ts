/**
 * Section 2, round trips: how many statements each storage operation sends, counted three
 * ways: PgStorage's `onQuery` events, a counting driver wrapper, and on the server by
 * `pg_stat_statements` (a throwaway cluster with the extension preloaded). The storage runs as
 * its own role, so the server-side count sees only its statements, not the bench's bookkeeping.
 *
 * @module
 */

import pg from "pg";
import {
  ConflictError,
  LeaseConflictError,
  migrate,
  PgStorage,
  type QueryEvent,
  type SqlDriver,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { startThrowawayCluster } from "../tests/support/test_db.ts";
import { openTargets } from "./connections.ts";
import { defined } from "./defined.ts";
import { orderInstance } from "./fixtures.ts";
import type { BenchSettings } from "./measure.ts";

/** One operation's statement counts. */
export interface RoundTripRow {
  /** The operation and its variant. */
  operation: string;
  /** The statements it should take. */
  expected: number;
  /** Per driver: `onQuery` events, driver calls, server executions (pg_stat_statements). */
  counts: Record<string, { onQuery: number; driver: number; server: number }>;
}

/** What the section found. */
export interface RoundTripResult {
  /** The drivers, in column order. */
  drivers: string[];
  /** One row per operation. */
  rows: RoundTripRow[];
  /** The server's version and the extension's. */
  server: string;
}

/** A driver that counts the statements it is given. */
function counting(inner: SqlDriver): { driver: SqlDriver; count: { n: number } } {
  const count = { n: 0 };
  return {
    count,
    driver: {
      query(text, params) {
        count.n++;
        return inner.query(text, params);
      },
      transaction(statements) {
        count.n += statements.length;
        return inner.transaction(statements);
      },
    },
  };
}

type Scenario = [
  name: string,
  expected: number,
  setup: (admin: PgStorage, tag: string) => Promise<unknown>,
  run: (app: PgStorage, tag: string, prepared: unknown) => Promise<unknown>,
];

const item = (id: string, status: "waiting" | "completed" | "running" = "running", order = 7) =>
  orderInstance(id, 3, status, order);

const none = () => Promise.resolve();

async function rejects(work: Promise<unknown>, type: new (...args: never[]) => Error) {
  try {
    await work;
  } catch (error) {
    if (error instanceof type) return;
    throw error;
  }
  throw new Error(`expected a ${type.name}`);
}

/** Every storage operation, with the variants that take a different statement. */
const SCENARIOS: Scenario[] = [
  ["get", 1, (s, t) => s.put(item(`${t}a`)), (s, t) => s.get(`${t}a`)],
  ["get (missing id)", 1, none, (s, t) => s.get(`${t}missing`)],
  ["put (upsert)", 1, none, (s, t) => s.put(item(`${t}a`))],
  [
    "put (expectedRevision 0: insert)",
    1,
    none,
    (s, t) => s.put(item(`${t}new`), { expectedRevision: 0 }),
  ],
  [
    "put (expectedRevision n: update)",
    1,
    (s, t) => s.put(item(`${t}b`)),
    (s, t, p) => s.put(item(`${t}b`), { expectedRevision: (p as { revision: number }).revision }),
  ],
  ["put (owner)", 1, none, (s, t) => s.put(item(`${t}a`), { owner: "w1" })],
  [
    "put (owner + expectedRevision)",
    1,
    (s, t) => s.put(item(`${t}c`)),
    (s, t, p) =>
      s.put(item(`${t}c`), { owner: "w1", expectedRevision: (p as { revision: number }).revision }),
  ],
  [
    "put (stale revision: ConflictError)",
    1,
    (s, t) => s.put(item(`${t}d`)),
    (s, t) => rejects(s.put(item(`${t}d`), { expectedRevision: 999 }), ConflictError),
  ],
  [
    "put (leased to another: LeaseConflictError)",
    1,
    async (s, t) => {
      await s.put(item(`${t}e`, "waiting", 99));
      await s.claim({
        owner: "w2",
        leaseMs: 60_000,
        contextContains: { initial: { order_id: 99 } },
      });
    },
    (s, t) => rejects(s.put(item(`${t}e`), { owner: "w1" }), LeaseConflictError),
  ],
  [
    "putMany (10 instances)",
    1,
    none,
    (s, t) => s.putMany(Array.from({ length: 10 }, (_, i) => item(`${t}many${i}`))),
  ],
  ["delete", 1, (s, t) => s.put(item(`${t}f`)), (s, t) => s.delete(`${t}f`)],
  ["query (status)", 1, none, (s) => s.query({ status: "waiting" })],
  [
    "query (contextContains)",
    1,
    none,
    (s) => s.query({ contextContains: { initial: { order_id: 7 } } }),
  ],
  ["page (first)", 1, none, (s) => s.page({}, { limit: 5 })],
  [
    "page (after a cursor)",
    1,
    (s) => s.page({}, { limit: 5 }),
    (s, _t, p) => s.page({}, { limit: 5, cursor: (p as { nextCursor: string }).nextCursor }),
  ],
  ["count", 1, none, (s) => s.count({ status: "waiting" })],
  [
    "claim (limit 5)",
    1,
    (s, t) =>
      s.putMany(Array.from({ length: 5 }, (_, i) => item(`${t}job${i}`, "waiting", 500 + i))),
    (s) => s.claim({ owner: "w3", leaseMs: 60_000, limit: 5, status: "waiting" }),
  ],
  [
    "renewLease",
    1,
    async (s, t) => {
      await s.put(item(`${t}g`, "waiting", 600));
      await s.claim({
        owner: "w4",
        leaseMs: 60_000,
        contextContains: { initial: { order_id: 600 } },
      });
    },
    (s, t) => s.renewLease(`${t}g`, { owner: "w4", leaseMs: 60_000 }),
  ],
  [
    "releaseLease",
    1,
    async (s, t) => {
      await s.put(item(`${t}h`, "waiting", 700));
      await s.claim({
        owner: "w5",
        leaseMs: 60_000,
        contextContains: { initial: { order_id: 700 } },
      });
    },
    (s, t) => s.releaseLease(`${t}h`, { owner: "w5" }),
  ],
  [
    "releaseLease (not held: LeaseConflictError)",
    1,
    none,
    (s, t) => rejects(s.releaseLease(`${t}a`, { owner: "nobody" }), LeaseConflictError),
  ],
  [
    "prune",
    1,
    (s, t) =>
      s.putMany(Array.from({ length: 5 }, (_, i) => item(`${t}done${i}`, "completed", 800 + i))),
    (s) => s.prune({ olderThan: new Date(Date.now() + 60_000), limit: 100 }),
  ],
  [
    "scan (25 rows, batchSize 10: 3 pages)",
    3,
    (s, t) =>
      s.putMany(
        Array.from({ length: 25 }, (_, i) => ({ ...item(`${t}scan${i}`), workflow: "Scan" })),
      ),
    async (s) => {
      let n = 0;
      for await (const _ of s.scan({ workflow: "Scan" }, { batchSize: 10 })) n++;
      if (n !== 25) throw new Error(`scan saw ${n} rows`);
    },
  ],
];

/**
 * Starts a cluster with `pg_stat_statements` preloaded, runs every scenario through every
 * driver as role `bench_app`, and counts.
 */
export async function measureRoundTrips(
  settings: BenchSettings,
  proxyReady: boolean,
): Promise<RoundTripResult> {
  settings.log("round trips: starting a throwaway cluster with pg_stat_statements preloaded");
  const cluster = await startThrowawayCluster();
  const pools: { end(): Promise<void> }[] = [];
  try {
    const setupClient = new pg.Client({ connectionString: cluster.url });
    await setupClient.connect();
    await setupClient.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    await setupClient.end();
    await cluster.stop();
    await cluster.start();
    const admin = new pg.Pool({ connectionString: cluster.url, max: 2 });
    pools.push(admin);
    await admin.query("CREATE EXTENSION pg_stat_statements");
    await admin.query("CREATE ROLE bench_app LOGIN SUPERUSER");
    const appUser =
      (await admin.query("SELECT oid::text FROM pg_roles WHERE rolname = 'bench_app'"))
        .rows[0].oid as string;
    const server = (await admin.query(
      "SELECT current_setting('server_version') AS v, extversion FROM pg_extension WHERE extname = 'pg_stat_statements'",
    )).rows[0];
    const schema = "bench_round_trips";
    const adminDriver = nodePostgresDriver(admin);
    await migrate(adminDriver, { schema });
    const adminStorage = new PgStorage({ driver: adminDriver, schema });
    const appUrl = new URL(cluster.url);
    appUrl.username = "bench_app";
    const targets = (await openTargets(appUrl.href, 2)).filter((t) =>
      proxyReady || !t.name.startsWith("Neon")
    );
    pools.push(...targets.map((t) => ({ end: () => t.close() })));

    const rows: RoundTripRow[] = SCENARIOS.map(([operation, expected]) => ({
      operation,
      expected,
      counts: {},
    }));
    for (const [d, target] of targets.entries()) {
      await admin.query(`TRUNCATE "${schema}".workflow_instances`);
      await adminStorage.putMany(
        Array.from({ length: 12 }, (_, i) => item(`base::${i}`, "waiting", 7)),
      );
      const events: QueryEvent[] = [];
      const wrapped = counting(target.driver);
      const app = new PgStorage({
        driver: wrapped.driver,
        schema,
        onQuery: (event) => events.push(event),
      });
      await app.count({}); // connect (postgres.js also fetches array types once) before counting
      for (const [s, [_operation, _expected, setup, run]] of SCENARIOS.entries()) {
        const tag = `d${d}s${s}::`;
        const prepared = await setup(adminStorage, tag);
        await admin.query("SELECT pg_stat_statements_reset($1::oid)", [appUser]);
        events.length = 0;
        wrapped.count.n = 0;
        await run(app, tag, prepared);
        const { rows: stats } = await admin.query(
          "SELECT coalesce(sum(calls), 0)::int AS calls FROM pg_stat_statements WHERE userid = $1::oid",
          [appUser],
        );
        defined(rows[s], `the row of scenario ${s}`).counts[target.name] = {
          onQuery: events.length,
          driver: wrapped.count.n,
          server: stats[0].calls,
        };
      }
      const off = rows.filter((r) => {
        const c = defined(r.counts[target.name], `${target.name}'s counts of ${r.operation}`);
        return c.onQuery !== r.expected || c.driver !== r.expected || c.server !== r.expected;
      });
      settings.log(
        `round trips: ${target.name}: ${SCENARIOS.length} operations, ` +
          (off.length === 0
            ? "every count as expected"
            : `unexpected counts: ${off.map((r) => r.operation).join(", ")}`),
      );
    }
    return {
      drivers: targets.map((t) => t.name),
      rows,
      server: `PostgreSQL ${server.v}, pg_stat_statements ${server.extversion}`,
    };
  } finally {
    for (const pool of pools.reverse()) await pool.end().catch(() => {});
    await cluster.destroy();
  }
}
