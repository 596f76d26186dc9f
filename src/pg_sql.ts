/**
 * The SQL PgStorage sends: every statement text, built once per schema (the filtered ones
 * take their conditions from `filter_sql.ts`). Each storage operation is exactly one of these
 * statements.
 *
 * @module
 */

import { namedStatement, whereClause } from "./sql_params.ts";

/** An expression's epoch milliseconds as text (numeric: exact, and `Infinity` when infinite). */
const ms = (expression: string) => `(extract(epoch FROM ${expression}) * 1000)::text`;

/**
 * The columns, in forms every driver returns alike: numbers, timestamps and `state` as text,
 * converted in the core. A driver would parse jsonb with `JSON.parse` (for many rows faster, as
 * bench/ measured), but V8's `JSON.parse` can misread escaped keys (a `"\""` key read as `"\\"`,
 * see `parse_json.ts`), so the decoder parses the text itself.
 */
const COLUMNS = `w.id, w.workflow, w.workflow_version::text AS workflow_version, w.status,
  w.state::text AS state,
  w.revision::text AS revision, ${ms("w.inserted_at")} AS inserted_at,
  ${ms("w.updated_at")} AS updated_at, w.lease_owner, ${
  ms("w.lease_expires_at")
} AS lease_expires_at`;

/** The statement's time, at the millisecond precision a Date holds. */
const NOW = `date_trunc('milliseconds', now())`;

/** Insertion order: the order of `query`, pages and claims (served by the keyset indexes). */
const ORDER = `w.inserted_at, w.id COLLATE "C"`;

/** An exact, session-independent form of the insertion time, for cursors. */
const POSITION = `to_char(w.inserted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  || CASE WHEN w.inserted_at < '0001-01-01 00:00:00+00' THEN ' BC' ELSE '' END`;

/** A lease that no longer stops anyone. */
const lapsed = (alias: string) =>
  `(${alias}.lease_expires_at IS NULL OR ${alias}.lease_expires_at <= now())`;

/**
 * The outcome of a conditional write `written` (a CTE returning `column`) on the row whose id is
 * placeholder `id`: what it wrote, and only when it wrote nothing, what stands in its way — the
 * row as it now is, read FOR SHARE so a concurrent writer's committed row is what gets reported.
 * The lateral subquery depends on the write's result, so the write runs first and a successful
 * one takes no extra lock.
 */
const outcome = (table: string, id: string, column: string, as: string) =>
  `SELECT w0.${as}, c.revision::text AS current, c.lease_owner AS holder,
    ${ms("c.lease_expires_at")} AS holder_expires, (c.lease_expires_at > now())::text AS holder_live
  FROM (SELECT (SELECT ${column} FROM written) AS ${as}) AS w0 LEFT JOIN LATERAL
    (SELECT revision, lease_owner, lease_expires_at FROM ${table}
      WHERE id = ${id} AND w0.${as} IS NULL FOR SHARE) AS c ON true`;

/**
 * The values of a put, by name: what {@linkcode PgStorage.put}'s statements ask for. `owner`
 * and `revision` (the expected one) only where the statement checks them.
 *
 * @example
 * ```ts
 * import type { PutParam } from "./pg_sql.ts";
 *
 * const checked: PutParam[] = ["revision", "owner"];
 * ```
 */
export type PutParam =
  | "id"
  | "workflow"
  | "workflowVersion"
  | "status"
  | "state"
  | "owner"
  | "revision";

/**
 * Every statement for one table.
 *
 * @param table The schema-qualified, quoted table name.
 * @param distributed The table is a Citus distributed table: claim and prune pick their rows
 *   without `FOR UPDATE SKIP LOCKED` (which Citus refuses in a query over many shards) and the
 *   write re-checks each row instead, so a claim racing another may come back short; the
 *   conditional inserts are single `INSERT … ON CONFLICT` statements (see `citusInsert`).
 * @returns The statements: fixed ones with named parameters, and the parts the filtered ones
 *   are built from (their conditions come from `compileFilter`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statements } from "./pg_sql.ts";
 *
 * const sql = statements('"public".workflow_instances');
 * assert.deepEqual(sql.get.params({ id: "order::1" }), ["order::1"]);
 * ```
 */
export function statements(table: string, distributed = false) {
  // Row locks in a query over many shards are refused by Citus: there, the candidates are read
  // without a lock and the write re-checks each one (READ COMMITTED re-evaluates the condition
  // on a row another transaction changed meanwhile, so no row is taken twice).
  const skipLocked = distributed ? "" : "FOR UPDATE SKIP LOCKED";
  const values = (p: (name: PutParam) => string) =>
    `VALUES (${p("id")}, ${p("workflow")}, ${p("workflowVersion")}::integer, ${p("status")},
      ${p("state")}::text::jsonb, 1, ${NOW}, ${NOW})`;
  const insert = `INSERT INTO ${table} AS t
    (id, workflow, workflow_version, status, state, revision, inserted_at, updated_at)`;
  const replace = `ON CONFLICT (id) DO UPDATE SET workflow = EXCLUDED.workflow,
    status = EXCLUDED.status, state = EXCLUDED.state, revision = t.revision + 1,
    updated_at = EXCLUDED.updated_at`;
  /** Update only at the expected revision (and, as an owner, unless another holds a live lease). */
  const update = (asOwner: boolean) =>
    namedStatement<PutParam>((p) => {
      const set = `workflow = ${p("workflow")}, status = ${p("status")},
        state = ${p("state")}::text::jsonb, revision = revision + 1, updated_at = ${NOW}`;
      const at = `id = ${p("id")} AND revision = ${p("revision")}::bigint`;
      const lease = asOwner ? `AND ${leaseAllows("t", p("owner"))}` : "";
      return `WITH written AS (
      UPDATE ${table} AS t SET ${set} WHERE ${at} ${lease} RETURNING revision)
    ${outcome(table, p("id"), "revision::text", "revision")}`;
    });
  /** Prune's condition on the statuses (a JSON list) and the moment. */
  const finished = (p: (name: "statuses" | "before" | "limit") => string) =>
    `w.status IN (SELECT jsonb_array_elements_text(${p("statuses")}::text::jsonb))
        AND w.updated_at < ${p("before")}::text::timestamptz`;
  return Object.freeze({
    get: namedStatement<"id">((p) => `SELECT ${COLUMNS} FROM ${table} w WHERE w.id = ${p("id")}`),
    select: `SELECT ${COLUMNS} FROM ${table} w`,
    order: `ORDER BY ${ORDER}`,
    /** Newest first: the same keyset indexes, read backwards. */
    orderDesc: `ORDER BY w.inserted_at DESC, w.id COLLATE "C" DESC`,
    page: `SELECT ${COLUMNS}, ${POSITION} AS position FROM ${table} w`,
    after: (at: string, id: string) =>
      `(w.inserted_at, w.id COLLATE "C") > (${at}::text::timestamptz, ${id})`,
    before: (at: string, id: string) =>
      `(w.inserted_at, w.id COLLATE "C") < (${at}::text::timestamptz, ${id})`,
    count: `SELECT count(*)::text AS n FROM ${table} w`,
    /** Counts per workflow, version and status: append the filter's WHERE, then `groups`. */
    countGroups:
      `SELECT w.workflow, w.workflow_version::text AS workflow_version, w.status, count(*)::text AS n
    FROM ${table} w`,
    groups: `GROUP BY w.workflow, w.workflow_version, w.status
    ORDER BY w.workflow COLLATE "C", w.workflow_version, w.status COLLATE "C"`,
    /**
     * The planner's own row estimate (the last ANALYZE's rows per page times the pages now),
     * or, where the table has no statistics yet (never analyzed, or a Citus coordinator whose
     * shards hold the rows), an exact count: the subquery only runs in that case.
     */
    estimate: `SELECT CASE WHEN s.known THEN s.estimate::text END AS estimate,
      CASE WHEN NOT s.known THEN (SELECT count(*) FROM ${table})::text END AS exact
    FROM (SELECT c.reltuples >= 0 AND c.relpages > 0 AS known,
        round(c.reltuples / greatest(c.relpages, 1)
          * (pg_relation_size(c.oid) / current_setting('block_size')::bigint))::bigint AS estimate
      FROM pg_class c WHERE c.oid = '${table.replaceAll("'", "''")}'::regclass) AS s`,
    delete: namedStatement<"id">((p) => `DELETE FROM ${table} WHERE id = ${p("id")}`),
    upsert: namedStatement<PutParam>((p) =>
      `${insert} ${values(p)} ${replace} RETURNING revision::text AS revision`
    ),
    /** Upsert unless another owner holds a live lease. */
    upsertAsOwner: namedStatement<PutParam>((p) =>
      distributed
        ? citusUpsertAsOwner(`${insert} ${values(p)}`, p("owner"))
        : `WITH written AS (${insert} ${values(p)} ${replace} WHERE ${
          leaseAllows("t", p("owner"))
        } RETURNING revision)
    ${outcome(table, p("id"), "revision::text", "revision")}`
    ),
    /** Insert only if the id is free (expectedRevision 0). */
    insert: namedStatement<PutParam>((p) =>
      distributed
        ? citusInsert(`${insert} ${values(p)}`)
        : `WITH written AS (${insert} ${values(p)} ON CONFLICT (id) DO NOTHING RETURNING revision)
    ${outcome(table, p("id"), "revision::text", "revision")}`
    ),
    update: update(false),
    updateAsOwner: update(true),
    /**
     * Rows are written (and locked) in one canonical order, by id, whatever order the caller
     * gave: two bulk writes of overlapping ids then wait for each other instead of deadlocking.
     * The caller maps the returned revisions back to its own order.
     */
    putMany: namedStatement<"rows">((p) =>
      `${insert}
    SELECT r.id, r.workflow, r.workflow_version, r.status, r.state, 1, ${NOW}, ${NOW}
    FROM jsonb_to_recordset(${p("rows")}::text::jsonb)
      AS r(id varchar(255), workflow text, workflow_version integer, status text, state jsonb)
    ORDER BY r.id COLLATE "C"
    ${replace} RETURNING id, revision::text AS revision`
    ),
    /**
     * Claim: `conditions` are the compiled filter's, `owner`, `leaseMs` and `limit` its
     * placeholders for those values.
     */
    claim: (conditions: readonly string[], owner: string, leaseMs: string, limit: string) =>
      `WITH picked AS (
      SELECT w.id FROM ${table} w ${whereClause([...conditions, lapsed("w")])}
      ORDER BY ${ORDER} LIMIT ${limit}::integer ${skipLocked}
    ), claimed AS (
      UPDATE ${table} AS w SET lease_owner = ${owner},
        lease_expires_at = ${NOW} + ${leaseMs}::integer * interval '1 millisecond'
      FROM picked WHERE w.id = picked.id ${
        // Unlocked candidates may have been claimed, or changed to match no more, meanwhile.
        distributed ? `AND ${[...conditions, lapsed("w")].join(" AND ")}` : ""}
      RETURNING w.*
    ) SELECT ${COLUMNS} FROM claimed w ORDER BY ${ORDER}`,
    renew: namedStatement<"id" | "owner" | "leaseMs">((p) =>
      `WITH written AS (
      UPDATE ${table} SET lease_expires_at = ${NOW} + ${
        p("leaseMs")
      }::integer * interval '1 millisecond'
      WHERE id = ${p("id")} AND lease_owner = ${p("owner")} AND lease_expires_at > now()
      RETURNING lease_expires_at)
    ${outcome(table, p("id"), ms("lease_expires_at"), "expires_at")}`
    ),
    release: namedStatement<"id" | "owner">((p) =>
      `WITH written AS (
      UPDATE ${table} SET lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ${p("id")} AND lease_owner = ${p("owner")} AND lease_expires_at > now()
      RETURNING id)
    ${outcome(table, p("id"), "id", "released")}`
    ),
    /** Gives up the leases `owner` holds on the ids of a JSON list (a failed claim's). */
    releaseMany: namedStatement<"ids" | "owner">((p) =>
      `UPDATE ${table} SET lease_owner = NULL, lease_expires_at = NULL
      WHERE id IN (SELECT jsonb_array_elements_text(${p("ids")}::text::jsonb)) AND lease_owner = ${
        p("owner")
      }`
    ),
    /** Prune: statuses as a JSON list, the moment, the limit. */
    prune: namedStatement<"statuses" | "before" | "limit">((p) =>
      `WITH doomed AS (
      SELECT id FROM ${table} w WHERE ${finished(p)}
      ORDER BY updated_at, id COLLATE "C" LIMIT ${p("limit")}::integer ${skipLocked}
    ), deleted AS (DELETE FROM ${table} AS w USING doomed WHERE w.id = doomed.id ${
        distributed ? `AND ${finished(p)}` : ""
      } RETURNING 1)
    SELECT count(*)::text AS n FROM deleted`
    ),
  });
}

/**
 * Citus plans a CTE holding an INSERT as several tasks (the insert, then what reads its result),
 * never as one router query; a plain `INSERT … ON CONFLICT … RETURNING` on one id is one task.
 * So on a distributed table the conditional inserts are that one statement, and a refused one
 * still returns the row: its conflict branch rewrites the row unchanged (one dead row version,
 * only when refused). RETURNING then tells written from refused using the new row alone, since
 * Citus allows no function such as `now()` there.
 */

/** Insert only if the id is free: a freshly inserted row version has no xmax. */
function citusInsert(insertValues: string): string {
  return `${insertValues} ON CONFLICT (id) DO UPDATE SET revision = t.revision
    RETURNING CASE WHEN t.xmax = '0'::xid THEN t.revision::text END AS revision,
      t.revision::text AS current`;
}

/**
 * Upsert unless another owner (placeholder `owner`) holds a lease live at the statement's time,
 * taken as the later of its `now()` (as inserted, `EXCLUDED.updated_at`) and the row's last
 * write. A write stores that time as `updated_at`, so the test on the new row gives the same
 * answer: refused exactly when the lease outlives the row's `updated_at`.
 */
function citusUpsertAsOwner(insertValues: string, owner: string): string {
  const at = "GREATEST(EXCLUDED.updated_at, t.updated_at)";
  const allowed = leaseAllows("t", owner, at);
  const pick = (column: string, written: string) =>
    `${column} = CASE WHEN ${allowed} THEN ${written} ELSE t.${column} END`;
  const written = leaseAllows("t", owner, "t.updated_at");
  return `${insertValues} ON CONFLICT (id) DO UPDATE SET ${pick("workflow", "EXCLUDED.workflow")},
    ${pick("status", "EXCLUDED.status")}, ${pick("state", "EXCLUDED.state")},
    ${pick("revision", "t.revision + 1")}, ${pick("updated_at", at)}
    RETURNING CASE WHEN ${written} THEN t.revision::text END AS revision,
      t.revision::text AS current, t.lease_owner AS holder,
      (extract(epoch FROM (t.lease_expires_at - '1970-01-01 00:00:00+00'::timestamptz)) * 1000)::text
        AS holder_expires, (NOT ${written})::text AS holder_live`;
}

/**
 * The lease on row `alias` lets `owner` write: it is free, the owner's own, or expired at
 * `at` (the statement's time).
 */
function leaseAllows(alias: string, owner: string, at = "now()"): string {
  return `(${alias}.lease_owner IS NULL OR ${alias}.lease_owner = ${owner} OR ${alias}.lease_expires_at <= ${at})`;
}

/**
 * The statements of one table, as {@linkcode statements} builds them.
 *
 * @example
 * ```ts
 * import { type Statements, statements } from "./pg_sql.ts";
 *
 * const sql: Statements = statements('"tenant_a".workflow_instances');
 * ```
 */
export type Statements = ReturnType<typeof statements>;
