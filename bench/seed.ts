/**
 * Fast seeding for the large tables: one `INSERT … SELECT … generate_series` that stamps a
 * real encoded instance (a template PgStorage can decode) with each row's own id, order id,
 * customer, status and insertion time. Big ranges go in with the secondary indexes dropped and
 * rebuilt afterwards, as a bulk load would; then `VACUUM ANALYZE`, as autovacuum would.
 *
 * @module
 */

import type pg from "pg";
import { encodeInstance } from "../mod.ts";
import { itemsFor, orderInstance } from "./fixtures.ts";

/**
 * Row g's status: 2% waiting (every 50th row), 1% each running, failed and pending, the rest
 * completed. (A status holding a large share of the table is read faster by a sequential
 * scan, and the planner knows it; live statuses are the small shares.)
 */
export const MIXED_STATUS = `CASE g % 100 WHEN 0 THEN 'waiting' WHEN 50 THEN 'waiting'
  WHEN 1 THEN 'running' WHEN 2 THEN 'failed' WHEN 3 THEN 'pending' ELSE 'completed' END`;

/** The encoded state of the 2 KB order instance: the template of every seeded row. */
export function templateState(bytes = 2 * 1024): string {
  return encodeInstance(orderInstance("template", itemsFor(bytes), "running")).state;
}

/** Row g's insertion (and update) time: 10 ms apart from 2025-01-01. */
export const ROW_TIME = `timestamptz '2025-01-01 00:00:00+00' + g * interval '10 milliseconds'`;

/**
 * Inserts rows `from`..`to` (ids `${prefix}${g}`) in one statement.
 *
 * @param status A SQL expression of `g`, such as {@linkcode MIXED_STATUS} or `'waiting'`.
 */
export async function seedRows(
  pool: pg.Pool,
  table: string,
  range: { from: number; to: number; prefix: string; status: string; state?: string },
): Promise<void> {
  await pool.query(
    `WITH t AS (SELECT $1::text::jsonb AS doc)
    INSERT INTO ${table} (id, workflow, workflow_version, status, state, revision, inserted_at, updated_at)
    SELECT $2 || g, 'Shop.OrderWorkflow', 3, ${range.status},
      jsonb_set(jsonb_set(t.doc, '{context,initial,order_id}', to_jsonb(g)),
        '{context,initial,customer,id}', to_jsonb('cus_' || (g % 10000))),
      1, ${ROW_TIME}, ${ROW_TIME}
    FROM t, generate_series($3::integer, $4::integer) AS g`,
    [range.state ?? templateState(), range.prefix, range.from, range.to],
  );
}

/**
 * Runs `load` with the table's secondary indexes dropped, then rebuilds them (with generous
 * maintenance memory, in one session) and vacuums and analyzes the table.
 */
export async function withIndexesRebuilt(
  pool: pg.Pool,
  schema: string,
  load: () => Promise<void>,
): Promise<void> {
  const { rows } = await pool.query(
    `SELECT indexname, indexdef FROM pg_indexes
     WHERE schemaname = $1 AND tablename = 'workflow_instances' AND indexname NOT LIKE '%_pkey'`,
    [schema],
  );
  for (const { indexname } of rows) await pool.query(`DROP INDEX "${schema}"."${indexname}"`);
  await load();
  const client = await pool.connect();
  try {
    await client.query("SET maintenance_work_mem = '1GB'");
    for (const { indexdef } of rows) await client.query(indexdef);
  } finally {
    client.release();
  }
  await pool.query(`VACUUM ANALYZE "${schema}".workflow_instances`);
}
