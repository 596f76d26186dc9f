/**
 * The dashboard's reads at 1,000,000 instances (a one-off measurement, not part of
 * `deno task bench`): seeds a fresh schema with one `INSERT … SELECT generate_series` (five
 * workflows, two versions, the bench's mixed statuses, a 256-byte state), then times each
 * endpoint of `dashboardHandler` in process over node-postgres: the summary (one grouped count),
 * the list's first page oldest and newest first with its exact total, a page filtered by status,
 * by id prefix and by workflow and version, and `estimateCount`. Drops the schema at the end.
 *
 * ```sh
 * deno run -A bench/dashboard_scale.ts [rows]
 * ```
 *
 * @module
 */

import pg from "pg";
import { migrate, PgStorage } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { dashboardHandler } from "../cli/dashboard/handler.ts";
import { median } from "./measure.ts";
import { MIXED_STATUS, ROW_TIME, templateState, withIndexesRebuilt } from "./seed.ts";

const rows = Number(Deno.args[0] ?? 1_000_000);
const url = Deno.env.get("DATABASE_URL") ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `dash_scale_${crypto.randomUUID().slice(0, 8)}`;
const pool = new pg.Pool({ connectionString: url, max: 2 });
const table = `"${schema}".workflow_instances`;

try {
  await pool.query(`CREATE SCHEMA "${schema}"`);
  const driver = nodePostgresDriver(pool);
  await migrate(driver, { schema });
  const started = performance.now();
  await withIndexesRebuilt(pool, schema, async () => {
    for (let from = 1; from <= rows; from += 250_000) {
      await pool.query(
        `WITH t AS (SELECT $1::text::jsonb AS doc)
        INSERT INTO ${table} (id, workflow, workflow_version, status, state, revision,
          inserted_at, updated_at)
        SELECT 'order-' || g, 'Shop.Workflow' || (g % 5), 1 + g % 2, ${MIXED_STATUS},
          jsonb_set(t.doc, '{context,initial,order_id}', to_jsonb(g)), 1, ${ROW_TIME}, ${ROW_TIME}
        FROM t, generate_series($2::integer, $3::integer) AS g`,
        [templateState(256), from, Math.min(rows, from + 249_999)],
      );
    }
  });
  console.log(`seeded ${rows} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const storage = new PgStorage({ driver, schema });
  const handler = dashboardHandler(storage, { onError: console.error });
  const time = async (label: string, work: () => Promise<unknown>) => {
    const runs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      await work();
      runs.push(performance.now() - t0);
    }
    runs.shift(); // the first warms the cache
    console.log(
      `${label.padEnd(58)} median ${median(runs).toFixed(1).padStart(7)} ms  max ${
        Math.max(...runs).toFixed(1).padStart(7)
      } ms`,
    );
  };
  const get = (path: string) => async () => {
    const response = await handler(new Request(`http://127.0.0.1${path}`));
    if (!response.ok) throw new Error(`${path}: ${await response.text()}`);
    await response.json();
  };
  await time("GET /api/summary (countGroups, all rows)", get("/api/summary"));
  await time("GET /api/instances (first page + exact total)", get("/api/instances"));
  await time("GET /api/instances?order=desc", get("/api/instances?order=desc"));
  await time("GET /api/instances?status=failed", get("/api/instances?status=failed"));
  await time("GET /api/instances?idPrefix=order-12345", get("/api/instances?idPrefix=order-12345"));
  await time(
    "GET /api/instances?workflow=Shop.Workflow3&version=2",
    get("/api/instances?workflow=Shop.Workflow3&version=2"),
  );
  await time("storage.countGroups({})", () => storage.countGroups({}));
  await time(
    "storage.countGroups({ statusIn: running, waiting })",
    () => storage.countGroups({ statusIn: ["running", "waiting"] }),
  );
  await time("storage.count({}) (exact)", () => storage.count({}));
  await time("storage.estimateCount()", () => storage.estimateCount());
  await time(
    "storage.page({}, { limit: 25, order: desc })",
    () => storage.page({}, { limit: 25, order: "desc" }),
  );
  const plan = async (sql: string) =>
    (await pool.query(`EXPLAIN ${sql}`)).rows.map((r: { "QUERY PLAN": string }) => r["QUERY PLAN"])
      .join("\n");
  console.log(
    await plan(
      `SELECT id FROM ${table} w ORDER BY w.inserted_at DESC, w.id COLLATE "C" DESC LIMIT 26`,
    ),
  );
  console.log(await plan(`SELECT id FROM ${table} w WHERE w.id LIKE 'order-12345%' LIMIT 26`));
} finally {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
}
