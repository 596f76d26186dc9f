/**
 * What PgStorage's operations cost on Citus, next to one PostgreSQL: starts its own coordinator
 * and two workers (Citus's default 32 shards), loads 10,000 instances into a distributed table
 * and into a plain one on the local PostgreSQL, and prints each operation's median latency with
 * the number of tasks Citus's `EXPLAIN` shows; then 8 workers drain 2,000 instances on each.
 * Needs Citus installed in the local PostgreSQL (see the README's Development section).
 *
 * Usage: `deno run -A bench/citus.ts` (a few minutes). Prints a Markdown table; writes nothing.
 *
 * @module
 */

import pg from "pg";
import { migrate, newInstance, PgStorage, type SqlDriver } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { citusInstalled, startCitusCluster } from "../tests/support/citus_cluster.ts";
import { testDatabaseUrl } from "../tests/support/test_db.ts";
import { median } from "./measure.ts";

const RUNS = 15;
const SCHEMA = `bench_citus_${Math.random().toString(36).slice(2, 8)}`;

/** One store under measurement: its storage, and the last statement it sent. */
async function open(url: string, distributed: boolean) {
  const pool = new pg.Pool({ connectionString: url, max: 12 });
  const inner = nodePostgresDriver(pool);
  const seen: { last?: { text: string; params: unknown[] } } = {};
  const driver: SqlDriver = {
    query(text, params = []) {
      seen.last = { text, params: [...params] };
      return inner.query(text, params);
    },
    transaction: (statements) => inner.transaction(statements),
  };
  await migrate(inner, { schema: SCHEMA, distribute: distributed });
  const storage = new PgStorage({ driver, schema: SCHEMA, distributed });
  for (let i = 0; i < 10_000; i += 1000) {
    await storage.putMany(Array.from({ length: 1000 }, (_, j) => {
      const instance = newInstance({ id: `i::${i + j}`, workflow: "W", initial: { n: i + j } });
      instance.status = (i + j) % 10 === 0 ? "waiting" : "completed";
      return instance;
    }));
  }
  /** Tasks per distributed (sub)plan of the last statement, as "32+32+1". */
  const tasks = async () => {
    const { text, params } = seen.last!;
    const plan = (await pool.query(`EXPLAIN ${text}`, params)).rows
      .map((row: Record<string, string>) => row["QUERY PLAN"]).join("\n");
    return [...plan.matchAll(/Task Count: (\d+)/g)].map((m) => m[1]).join("+");
  };
  return {
    storage,
    tasks,
    async close() {
      await pool.query(`DROP SCHEMA "${SCHEMA}" CASCADE`);
      await pool.end();
    },
  };
}

type Store = Awaited<ReturnType<typeof open>>;

const OPERATIONS: [string, (s: PgStorage) => Promise<unknown>][] = [
  ["get", (s) => s.get("i::5")],
  ["put", (s) => s.put(newInstance({ id: "i::5", workflow: "W" }))],
  ["put with an owner", (s) => s.put(newInstance({ id: "i::6", workflow: "W" }), { owner: "x" })],
  ["query (1,000 rows of a status)", (s) => s.query({ status: "waiting" })],
  ["query by contextContains (1 row)", (s) => s.query({ contextContains: { initial: { n: 77 } } })],
  ["page of 100", (s) => s.page({}, { limit: 100 })],
  ["count", (s) => s.count({})],
  ["claim 10", (s) => s.claim({ owner: "w", leaseMs: 1, limit: 10, status: "waiting" })],
  ["prune (nothing due)", (s) => s.prune({ olderThan: new Date(0), limit: 1000 })],
  [
    "putMany of 100",
    (s) =>
      s.putMany(
        Array.from({ length: 100 }, (_, j) => newInstance({ id: `m::${j}`, workflow: "W" })),
      ),
  ],
];

async function medianTime(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return median(times);
}

/** 8 workers claim 10 at a time, complete and release, until nothing waits. */
async function drain(storage: PgStorage, n: number) {
  const ids = Array.from({ length: n }, (_, i) => `job::${i}`);
  for (let i = 0; i < n; i += 500) {
    await storage.putMany(
      ids.slice(i, i + 500).map((id) => {
        const instance = newInstance({ id, workflow: "Drain" });
        instance.status = "waiting";
        return instance;
      }),
    );
  }
  let claims = 0, empty = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    const owner = `worker-${w}`;
    for (;;) {
      const batch = await storage.claim({
        owner,
        leaseMs: 60_000,
        limit: 10,
        workflow: "Drain",
        status: "waiting",
      });
      claims++;
      if (batch.length === 0) {
        empty++;
        if (await storage.count({ workflow: "Drain", status: "waiting" }) === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      for (const instance of batch) {
        instance.status = "completed";
        await storage.put(instance, { owner, expectedRevision: instance.revision });
        await storage.releaseLease(instance.id, { owner });
      }
    }
  }));
  return { ms: performance.now() - started, claims, empty };
}

if (!await citusInstalled()) {
  console.log("Citus is not installed in the local PostgreSQL: nothing to measure");
  Deno.exit(0);
}
const cluster = await startCitusCluster({ shardCount: 32 });
let plain: Store | undefined, citus: Store | undefined;
try {
  plain = await open(await testDatabaseUrl(), false);
  citus = await open(cluster.url, true);
  console.log("| operation | single PostgreSQL, ms | Citus 32 shards, ms | Citus tasks |");
  console.log("| --- | --: | --: | --- |");
  for (const [name, run] of OPERATIONS) {
    const one = await medianTime(() => run(plain!.storage));
    const many = await medianTime(() => run(citus!.storage));
    console.log(`| ${name} | ${one.toFixed(1)} | ${many.toFixed(1)} | ${await citus.tasks()} |`);
  }
  for (const [name, store] of [["single PostgreSQL", plain], ["Citus", citus]] as const) {
    const { ms, claims, empty } = await drain(store.storage, 2000);
    console.log(
      `8 workers drain 2,000 on ${name}: ${
        (ms / 1000).toFixed(1)
      } s, ${claims} claims, ${empty} empty`,
    );
  }
} finally {
  await plain?.close();
  await citus?.close();
  await cluster.destroy();
}
