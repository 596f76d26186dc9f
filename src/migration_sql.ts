/**
 * The SQL of a migration run: the one transaction {@linkcode migrate} sends (advisory lock,
 * bookkeeping, consistency check, each migration guarded by the migrations table), the Citus
 * distribution step, and the checks and checksums of the migrations themselves.
 *
 * @module
 */

import type { SqlStatement } from "./driver.ts";
import { MigrationError } from "./errors.ts";
import type { Migration } from "../migrations/migration.ts";
import { splitStatements } from "./split_statements.ts";

const TAG = "$heph_migration$";
const SQL_TAG = "$heph_sql$";
const DONE_SETTING = "heph.migrated";
/**
 * The SQLSTATE the consistency check and the distribution step raise (a class of our own):
 * their message is the whole story, no "Migration failed" prefix needed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { REFUSED } from "./migration_sql.ts";
 *
 * assert.equal(REFUSED, "HM001");
 * ```
 */
export const REFUSED = "HM001";

/**
 * What a run that distributed the table notes among its steps (in the last statement's `done`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DISTRIBUTED } from "./migration_sql.ts";
 *
 * assert.equal(DISTRIBUTED, "distributed");
 * ```
 */
export const DISTRIBUTED = "distributed";

/**
 * The one transaction that brings a schema to `target`: READ COMMITTED, the schema's advisory
 * lock, the schema and bookkeeping table, the consistency check against the known checksums,
 * each migration down then up guarded by the migrations table, and last a `SELECT` of what was
 * done (versions, `-` for down, space-separated, in the column `done`).
 *
 * @param quoted The schema, quoted.
 * @param schema The schema.
 * @param migrations The checked migrations.
 * @param checksums Their sha256, in the same order.
 * @param target The version to reach.
 * @returns The statements, for `driver.transaction`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { migrationTransaction } from "./migration_sql.ts";
 *
 * assert.equal(migrationTransaction('"public"', "public", [], [], 0).length, 6);
 * ```
 */
export function migrationTransaction(
  quoted: string,
  schema: string,
  migrations: readonly Migration[],
  checksums: string[],
  target: number,
): SqlStatement[] {
  const table = `${quoted}.heph_migrations`;
  const latest = migrations.at(-1)?.version ?? 0;
  const known = migrations.length === 0
    ? "SELECT NULL::integer, NULL::text WHERE false"
    : `VALUES ${migrations.map((m, i) => `(${m.version}, '${checksums[i]}')`).join(", ")}`;
  const guarded = (m: Migration, up: boolean, record: string) =>
    `DO ${TAG} BEGIN
  IF ${up ? "NOT " : ""}EXISTS (SELECT 1 FROM ${table} WHERE version = ${m.version}) THEN
    ${
      splitStatements(fillSchema(up ? m.up : m.down, quoted)).map((sql) =>
        `EXECUTE ${SQL_TAG}${sql}${SQL_TAG};`
      ).join("\n    ")
    }
    ${record}
    ${mark(up ? String(m.version) : `-${m.version}`)}
  END IF;
END ${TAG}`;
  const ups = migrations.flatMap((m, i) =>
    m.version <= target
      ? [guarded(
        m,
        true,
        `INSERT INTO ${table} (version, name, checksum) VALUES (${m.version}, '${m.name}', '${
          checksums[i]
        }');`,
      )]
      : []
  );
  const downs = migrations.filter((m) => m.version > target).reverse().map((m) =>
    guarded(m, false, `DELETE FROM ${table} WHERE version = ${m.version};`)
  );
  return [
    // READ COMMITTED whatever the server's default: each guard must see what a migrator that
    // held the lock before us committed.
    { text: "SET TRANSACTION ISOLATION LEVEL READ COMMITTED" },
    {
      text: `SELECT pg_advisory_xact_lock(hashtext('@heph/pg migrate'), hashtext($1))`,
      params: [schema],
    },
    { text: `CREATE SCHEMA IF NOT EXISTS ${quoted}` },
    { text: bookkeepingTable(table) },
    {
      text: `DO ${TAG} DECLARE bad record; BEGIN
  SELECT a.version, a.name INTO bad FROM ${table} a
    LEFT JOIN (${known}) AS k(version, checksum) ON k.version = a.version
   WHERE k.checksum IS DISTINCT FROM a.checksum ORDER BY a.version LIMIT 1;
  IF bad.version > ${latest} THEN
    RAISE EXCEPTION 'Schema % is at version %, newer than this release knows (${latest})', '${schema}', bad.version
      USING ERRCODE = '${REFUSED}';
  ELSIF bad.version IS NOT NULL THEN
    RAISE EXCEPTION 'Checksum mismatch for applied migration % (%) in schema ${schema}: it was changed after it was applied', bad.version, bad.name
      USING ERRCODE = '${REFUSED}';
  END IF;
END ${TAG}`,
    },
    ...downs.map((text) => ({ text })),
    ...ups.map((text) => ({ text })),
    { text: `SELECT coalesce(current_setting('${DONE_SETTING}', true), '') AS done` },
  ];
}

/**
 * The table recording each applied migration with the sha256 of its `up` SQL.
 *
 * @param table The table, schema-qualified and quoted.
 * @returns Its `CREATE TABLE IF NOT EXISTS` statement.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bookkeepingTable } from "./migration_sql.ts";
 *
 * assert.ok(bookkeepingTable('"public".heph_migrations').startsWith("CREATE TABLE IF NOT EXISTS"));
 * ```
 */
export function bookkeepingTable(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;
}

/**
 * The statement that makes `workflow_instances` a distributed table on `id`, once: after the
 * migrations, under the same advisory lock and in the same transaction, so concurrent calls
 * distribute it exactly once. Refuses without Citus, and a table Citus already manages
 * otherwise (another column, or a reference table).
 *
 * @param quoted The schema, quoted.
 * @param schema The schema.
 * @returns A `DO` block.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { distributionStatement } from "./migration_sql.ts";
 *
 * assert.ok(distributionStatement('"public"', "public").includes("create_distributed_table"));
 * ```
 */
export function distributionStatement(quoted: string, schema: string): string {
  const table = `${quoted}.workflow_instances`;
  const literal = `'${table.replaceAll("'", "''")}'`;
  const refuse = (why: string, args = "") =>
    `RAISE EXCEPTION 'Cannot distribute ${table} of schema ${schema}: ${why}'${args} USING ERRCODE = '${REFUSED}'`;
  return `DO ${TAG} DECLARE managed record; BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    ${refuse("the citus extension is not installed in this database (CREATE EXTENSION citus)")};
  END IF;
  EXECUTE 'SELECT citus_table_type AS kind, distribution_column AS key FROM citus_tables
    WHERE table_name = ${literal.replaceAll("'", "''")}::regclass' INTO managed;
  IF managed.kind IS NULL THEN
    PERFORM create_distributed_table(${literal}, 'id');
    ${mark(DISTRIBUTED)}
  ELSIF managed.kind <> 'distributed' OR managed.key <> 'id' THEN
    ${
    refuse(
      "Citus already manages it as a % table (distribution column %), not distributed by id",
      ", managed.kind, managed.key",
    )
  };
  END IF;
END ${TAG}`;
}

function mark(entry: string): string {
  return `PERFORM set_config('${DONE_SETTING}', coalesce(current_setting('${DONE_SETTING}', true), '') || ' ${entry}', true);`;
}

/**
 * Puts the quoted schema where a migration's SQL says `{schema}`.
 *
 * @param sql A migration's SQL.
 * @param quoted The schema, quoted.
 * @returns The SQL for that schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fillSchema } from "./migration_sql.ts";
 *
 * assert.equal(fillSchema("DROP TABLE {schema}.t", '"tenant_a"'), 'DROP TABLE "tenant_a".t');
 * ```
 */
export function fillSchema(sql: string, quoted: string): string {
  return sql.replaceAll("{schema}", quoted);
}

/**
 * Checks a list of migrations: versions 1, 2, 3… in order, snake_case names, and no SQL that
 * holds the dollar-quote tags the transaction wraps it in.
 *
 * @param migrations The migrations.
 * @returns The same list.
 * @throws {MigrationError} Naming the first migration that breaks a rule.
 *
 * @example
 * ```ts
 * import { checkMigrations } from "./migration_sql.ts";
 *
 * checkMigrations([{ version: 1, name: "create_t", up: "CREATE TABLE t ()", down: "DROP TABLE t" }]);
 * ```
 */
export function checkMigrations(migrations: readonly Migration[]): readonly Migration[] {
  migrations.forEach((m, i) => {
    const problem = m.version !== i + 1
      ? `has version ${m.version}, expected ${i + 1}`
      : !/^[a-z0-9_]+$/.test(m.name)
      ? "has a name that is not snake_case"
      : [m.up, m.down].some((sql) => sql.includes(SQL_TAG) || sql.includes(TAG))
      ? "contains a reserved dollar-quote tag"
      : undefined;
    if (problem) throw new MigrationError(`Migration ${i + 1} (${m.name}) ${problem}`);
  });
  return migrations;
}

/**
 * The sha256 of a text, in lowercase hex: a migration's checksum.
 *
 * @param text The text (a migration's `up` SQL).
 * @returns 64 hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256 } from "./migration_sql.ts";
 *
 * assert.equal((await sha256("")).slice(0, 8), "e3b0c442");
 * ```
 */
export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
