/**
 * Section 5, scale: the same table grown to 10,000, 100,000 and (full run only) 1,000,000
 * instances of the 2 KB order state; at each size the latency of `get` by id, a `page` of
 * waiting instances (the first, and one from the middle through its cursor), `contextContains`,
 * `count` and `estimateCount`, and the table's size on disk.
 *
 * @module
 */

import pg from "pg";
import { migrate, PgStorage } from "../mod.ts";
import { encodeCursor } from "../src/cursor.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { type BenchSettings, int, ms, summarize, type Timings } from "./measure.ts";
import { MIXED_STATUS, seedRows, withIndexesRebuilt } from "./seed.ts";

/** The operations timed at each size, in table order. */
export const SCALE_OPERATIONS = [
  "get by id",
  "page, waiting, limit 100 (first)",
  "page, waiting, limit 100 (middle, by cursor)",
  "contextContains (1 match)",
  "count (status = waiting)",
  "count (all)",
  "estimateCount (all)",
] as const;

/** One table size. */
export interface ScalePoint {
  /** Instances in the table. */
  instances: number;
  /** Seconds the seeding took (insert, index rebuild, vacuum analyze). */
  seedSeconds: number;
  /** Latency per operation. */
  latency: Record<string, Timings>;
  /** The plan PostgreSQL chose per operation, in short (EXPLAIN of the statement sent). */
  plans: Record<string, string>;
  /** Sizes in bytes: heap, TOAST and maps, each index, totals. */
  disk: {
    heap: number;
    toast: number;
    indexes: Record<string, number>;
    indexTotal: number;
    total: number;
  };
  /** Average stored size of `state` (compressed), bytes. */
  avgState: number;
}

/** Grows one table through the sizes and measures at each. */
export async function measureScale(settings: BenchSettings): Promise<ScalePoint[]> {
  const sizes = settings.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const reps = settings.quick ? 25 : 100;
  const schema = `bench_scale_${crypto.randomUUID().slice(0, 8)}`;
  const table = `"${schema}".workflow_instances`;
  const pool = new pg.Pool({ connectionString: settings.url, max: 4 });
  const driver = nodePostgresDriver(pool);
  let last = { text: "", params: [] as unknown[] };
  const storage = new PgStorage({
    driver: {
      query(text, params) {
        last = { text, params: [...(params ?? [])] };
        return driver.query(text, params);
      },
      transaction: (statements) => driver.transaction(statements),
    },
    schema,
  });
  const points: ScalePoint[] = [];
  try {
    await migrate(driver, { schema });
    let seeded = 0;
    for (const instances of sizes) {
      settings.log(`scale: seeding rows ${int(seeded + 1)}..${int(instances)}`);
      const started = performance.now();
      await withIndexesRebuilt(pool, schema, async () => {
        await seedRows(pool, table, {
          from: seeded + 1,
          to: instances,
          prefix: "scale::",
          status: MIXED_STATUS,
        });
      });
      seeded = instances;
      const seedSeconds = (performance.now() - started) / 1000;
      settings.log(`scale: ${int(instances)} instances seeded in ${seedSeconds.toFixed(1)} s`);

      // A cursor in the middle of the waiting rows (every 50th row is waiting: g = 50 k).
      const waiting = Math.floor(instances / 50);
      const half = Math.floor(waiting / 2);
      const middle = 50 * half;
      const { rows: [position] } = await pool.query(
        `SELECT id, to_char(inserted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
         FROM ${table} WHERE id = $1`,
        [`scale::${middle}`],
      );
      const cursor = encodeCursor({ insertedAt: position.at, id: position.id });
      const random = () => 1 + Math.floor(Math.random() * instances);
      const checks: [string, () => Promise<number>, (n: number) => boolean][] = [
        [
          SCALE_OPERATIONS[0],
          async () => (await storage.get(`scale::${random()}`)) ? 1 : 0,
          (n) => n === 1,
        ],
        [
          SCALE_OPERATIONS[1],
          async () => (await storage.page({ status: "waiting" }, { limit: 100 })).items.length,
          (n) => n === 100,
        ],
        [
          SCALE_OPERATIONS[2],
          async () =>
            (await storage.page({ status: "waiting" }, { limit: 100, cursor })).items.length,
          (n) => n === Math.min(100, waiting - half),
        ],
        [
          SCALE_OPERATIONS[3],
          async () =>
            (await storage.query({ contextContains: { initial: { order_id: random() } } })).length,
          (n) => n === 1,
        ],
        [SCALE_OPERATIONS[4], () => storage.count({ status: "waiting" }), (n) => n === waiting],
        [SCALE_OPERATIONS[5], () => storage.count({}), (n) => n === instances],
        [
          SCALE_OPERATIONS[6],
          async () => {
            const estimate = await storage.estimateCount();
            if (!estimate.estimated) throw new Error("scale: the table has no statistics");
            return estimate.count;
          },
          (n) => Math.abs(n - instances) <= instances * 0.05,
        ],
      ];
      const latency: Record<string, Timings> = {};
      const plans: Record<string, string> = {};
      for (const [name, run, ok] of checks) {
        for (let i = 0; i < 3; i++) await run(); // warm the caches
        const samples: number[] = [];
        for (let i = 0; i < reps; i++) {
          const start = performance.now();
          const n = await run();
          samples.push(performance.now() - start);
          if (!ok(n)) throw new Error(`scale: ${name} at ${instances} returned ${n}`);
        }
        latency[name] = summarize(samples);
        const { rows: [explained] } = await pool.query(
          `EXPLAIN (FORMAT JSON) ${last.text}`,
          last.params,
        );
        plans[name] = summarizePlan(explained["QUERY PLAN"][0].Plan);
        settings.log(`scale: ${int(instances)}: ${name}: ${ms(latency[name].median)} ms`);
      }
      const { rows: [sizes] } = await pool.query(
        `SELECT pg_relation_size($1::regclass)::text AS heap,
           (pg_table_size($1::regclass) - pg_relation_size($1::regclass))::text AS toast,
           pg_indexes_size($1::regclass)::text AS indexes,
           pg_total_relation_size($1::regclass)::text AS total`,
        [table],
      );
      const { rows: indexRows } = await pool.query(
        `SELECT c.relname AS name, pg_relation_size(c.oid)::text AS bytes
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = $1::regclass ORDER BY c.relname`,
        [table],
      );
      const { rows: [avg] } = await pool.query(
        `SELECT avg(pg_column_size(state))::float8 AS avg FROM (SELECT state FROM ${table} LIMIT 10000) s`,
      );
      points.push({
        instances,
        seedSeconds,
        latency,
        plans,
        disk: {
          heap: Number(sizes.heap),
          toast: Number(sizes.toast),
          indexes: Object.fromEntries(
            indexRows.map((
              r: { name: string; bytes: string },
            ) => [r.name.replace(/^workflow_instances_/, ""), Number(r.bytes)]),
          ),
          indexTotal: Number(sizes.indexes),
          total: Number(sizes.total),
        },
        avgState: Number(avg.avg ?? 0),
      });
    }
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await pool.end();
  }
  return points;
}

/** A plan node of `EXPLAIN (FORMAT JSON)`, the fields read here. */
interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Workers Planned"?: number;
  "Plan Rows"?: number;
  "Parent Relationship"?: string;
  Plans?: PlanNode[];
}

/**
 * A plan in one line: node types from the top, the index each uses, the parallel workers
 * planned, and the row estimate of the scan at the bottom; such as
 * `Limit › Index Scan (status_order_idx)`.
 */
export function summarizePlan(plan: PlanNode): string {
  const nodes: string[] = [];
  let node: PlanNode | undefined = plan;
  let estimate = 0;
  while (node) {
    const index = node["Index Name"]?.replace(/^workflow_instances_/, "");
    const workers = node["Workers Planned"] ? `, ${node["Workers Planned"]} workers` : "";
    nodes.push(
      `${node["Node Type"]}${
        index ? ` (${index}${workers})` : workers ? ` (${workers.slice(2)})` : ""
      }`,
    );
    estimate = node["Plan Rows"] ?? estimate;
    // Follow the plan itself, not an InitPlan or SubPlan (which may never run).
    node = node.Plans?.find((p) => !/^(InitPlan|SubPlan)$/.test(p["Parent Relationship"] ?? "")) ??
      node.Plans?.[0];
  }
  return `${nodes.join(" › ")}; est. ${int(estimate)} rows`;
}
