/**
 * The migration runner: versioned, checksummed, safe to run from many processes at once.
 *
 * All work happens in one non-interactive transaction (so HTTP drivers can run it too) that
 * first takes a transaction-scoped advisory lock for the schema. Each migration is guarded by
 * a check of the migrations table inside the transaction, so a process that waited for the lock
 * skips what another one applied meanwhile.
 *
 * @module
 */

import type { SqlDriver, SqlStatement } from "./driver.ts";
import { MigrationError, toDatabaseError, ValidationError } from "./errors.ts";
import { DEFAULT_SCHEMA, quoteSchema } from "./schema.ts";
import { describe } from "./serializer.ts";
import { MIGRATIONS } from "../migrations/mod.ts";
import type { Migration } from "../migrations/migration.ts";

const TAG = "$heph_migration$";
const SQL_TAG = "$heph_sql$";
const DONE_SETTING = "heph.migrated";
/** The SQLSTATE the consistency check raises (a class of our own). */
const REFUSED = "HM001";

/**
 * Options of {@linkcode migrate}.
 *
 * @example
 * ```ts
 * import type { MigrateOptions } from "@heph/pg";
 *
 * const options: MigrateOptions = { schema: "tenant_a", to: 1 };
 * ```
 */
export interface MigrateOptions {
  /** The schema (created if missing); `"public"` by default. */
  schema?: string;
  /** The target version, up or down; the latest by default. `0` removes everything. */
  to?: number;
  /** Return the SQL that would run, and change nothing. */
  dryRun?: boolean;
  /** The migrations to run; this release's {@linkcode MIGRATIONS} by default. */
  migrations?: readonly Migration[];
  /**
   * Make `workflow_instances` a Citus distributed table, sharded by `id`, after migrating (a
   * no-op when it already is). Needs the `citus` extension in the database (the coordinator);
   * without it the call fails with a {@linkcode MigrationError} and changes nothing. Later
   * migrations then apply to the distributed table: Citus propagates their DDL to every shard.
   */
  distribute?: boolean;
}

/**
 * One migration applied or reverted by {@linkcode migrate}.
 *
 * @example
 * ```ts
 * import type { MigrationStep } from "@heph/pg";
 *
 * const step: MigrationStep = { version: 1, name: "create_workflow_instances", direction: "up" };
 * ```
 */
export interface MigrationStep {
  /** Its version. */
  version: number;
  /** Its name. */
  name: string;
  /** Applied (`up`) or reverted (`down`). */
  direction: "up" | "down";
}

/**
 * What {@linkcode migrate} did.
 *
 * @example
 * ```ts
 * import type { MigrateResult } from "@heph/pg";
 *
 * const result: MigrateResult = { schema: "public", version: 1, steps: [], sql: [] };
 * ```
 */
export interface MigrateResult {
  /** The schema. */
  schema: string;
  /** The schema version after the run (for a dry run: the version it would reach). */
  version: number;
  /** What this call applied or reverted, in order (for a dry run: what it would). */
  steps: MigrationStep[];
  /** For a dry run, the SQL it would run; otherwise empty. */
  sql: string[];
  /** True when this call made `workflow_instances` a distributed table (`distribute`). */
  distributed?: boolean;
}

/**
 * One row of {@linkcode MigrationStatus.applied}.
 *
 * @example
 * ```ts
 * import type { AppliedMigration } from "@heph/pg";
 *
 * const row: AppliedMigration = {
 *   version: 1, name: "create_workflow_instances", checksum: "ab…", appliedAt: new Date(), checksumMatches: true,
 * };
 * ```
 */
export interface AppliedMigration {
  /** Its version. */
  version: number;
  /** Its name. */
  name: string;
  /** The sha256 of its `up` SQL when it was applied. */
  checksum: string;
  /** When it was applied. */
  appliedAt: Date;
  /** False when this release's migration of that version differs (or is unknown). */
  checksumMatches: boolean;
}

/**
 * What {@linkcode migrationStatus} reports.
 *
 * @example
 * ```ts
 * import type { MigrationStatus } from "@heph/pg";
 *
 * const status: MigrationStatus = { schema: "public", version: 0, latest: 1, applied: [], pending: [] };
 * ```
 */
export interface MigrationStatus {
  /** The schema. */
  schema: string;
  /** The highest applied version, 0 when none. */
  version: number;
  /** The latest version this release knows. */
  latest: number;
  /** Applied migrations, by version. */
  applied: AppliedMigration[];
  /** Known migrations not applied yet. */
  pending: { version: number; name: string }[];
}

/**
 * Brings a schema to a version (the latest by default), up or down, in one transaction.
 * Any number of processes may call it at once: each migration is applied exactly once.
 *
 * @param driver The driver.
 * @param options The schema, the target version, dry run.
 * @returns What was applied or reverted.
 * @throws {MigrationError} When an applied migration's checksum no longer matches, the database
 *   is at a version this release does not know, or a migration fails (nothing is changed then).
 * @throws {ValidationError} On a bad schema name or target version.
 *
 * @example
 * ```ts ignore
 * import pg from "npm:pg";
 * import { migrate } from "@heph/pg";
 * import { nodePostgresDriver } from "@heph/pg/node-postgres";
 *
 * const driver = nodePostgresDriver(new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") }));
 * const { steps } = await migrate(driver, { schema: "tenant_a" });
 * for (const step of steps) console.log(`${step.direction} ${step.version} ${step.name}`);
 * ```
 */
export async function migrate(
  driver: SqlDriver,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const { schema, quoted, migrations, target } = plan(options);
  const distribute = options.distribute ?? false;
  if (typeof distribute !== "boolean") {
    throw new ValidationError(
      `Invalid distribute: expected a boolean, got ${describe(distribute)}`,
    );
  }
  if (distribute && target < DISTRIBUTABLE_FROM) {
    throw new ValidationError(
      `Invalid options: distribute needs target version ${DISTRIBUTABLE_FROM} or later, got ${target} (migration 2 alters the table in ways Citus cannot apply to a distributed table)`,
    );
  }
  const checksums = await Promise.all(migrations.map((m) => sha256(m.up)));
  if (options.dryRun) {
    const status = await migrationStatus(driver, { schema, migrations });
    assertConsistent(status);
    const steps = plannedSteps(migrations, new Set(status.applied.map((a) => a.version)), target);
    const sql = steps.map((step) => {
      const migration = migrations.find((m) => m.version === step.version)!;
      return fill(step.direction === "up" ? migration.up : migration.down, quoted).trim();
    });
    if (distribute) sql.push(distribution(quoted, schema));
    return { schema, version: target, steps, sql };
  }
  const statements = migrationTransaction(quoted, schema, migrations, checksums, target);
  if (distribute) statements.splice(-1, 0, { text: distribution(quoted, schema) });
  let results;
  try {
    results = await driver.transaction(statements);
  } catch (error) {
    const cause = toDatabaseError(error);
    const message = cause.code === REFUSED
      ? cause.message
      : `Migration of schema ${schema} failed: ${cause.message}`;
    throw new MigrationError(message, { cause });
  }
  const entries = String(results.at(-1)?.rows[0]?.done ?? "").trim().split(" ");
  const distributed = entries.includes(DISTRIBUTED);
  const done = entries.filter((entry) => entry !== DISTRIBUTED && entry !== "");
  const steps = done.map((entry): MigrationStep => {
    const version = Math.abs(Number(entry));
    const name = migrations.find((m) => m.version === version)?.name ?? "";
    return { version, name, direction: entry.startsWith("-") ? "down" : "up" };
  });
  return distribute
    ? { schema, version: target, steps, sql: [], distributed }
    : { schema, version: target, steps, sql: [] };
}

/**
 * Reports which migrations a schema has, and which are pending.
 *
 * @param driver The driver.
 * @param options The schema (`"public"` by default).
 * @returns The applied and pending migrations.
 *
 * @example
 * ```ts ignore
 * import { migrationStatus, type SqlDriver } from "@heph/pg";
 *
 * declare const driver: SqlDriver;
 * const status = await migrationStatus(driver, { schema: "tenant_a" });
 * console.log(`at ${status.version} of ${status.latest}`);
 * ```
 */
export async function migrationStatus(
  driver: SqlDriver,
  options: { schema?: string; migrations?: readonly Migration[] } = {},
): Promise<MigrationStatus> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const quoted = quoteSchema(schema);
  const migrations = checkMigrations(options.migrations ?? MIGRATIONS);
  const rows = await run(async () => {
    const exists = await driver.query(`SELECT to_regclass($1)::text AS name`, [
      `${quoted}.heph_migrations`,
    ]);
    if (exists.rows[0]?.name == null) return [];
    const result = await driver.query(
      `SELECT version::text AS version, name, checksum,
              (extract(epoch FROM applied_at) * 1000)::bigint::text AS applied_at
         FROM ${quoted}.heph_migrations ORDER BY version`,
    );
    return result.rows;
  });
  const checksums = new Map(
    await Promise.all(migrations.map(async (m) => [m.version, await sha256(m.up)] as const)),
  );
  const applied = rows.map((row): AppliedMigration => ({
    version: Number(row.version),
    name: String(row.name),
    checksum: String(row.checksum),
    appliedAt: new Date(Number(row.applied_at)),
    checksumMatches: checksums.get(Number(row.version)) === row.checksum,
  }));
  const done = new Set(applied.map((a) => a.version));
  return {
    schema,
    version: Math.max(0, ...done),
    latest: migrations.at(-1)?.version ?? 0,
    applied,
    pending: migrations.filter((m) => !done.has(m.version)).map(({ version, name }) => ({
      version,
      name,
    })),
  };
}

async function run<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toDatabaseError(error);
  }
}

function assertConsistent(status: MigrationStatus): void {
  const changed = status.applied.find((a) => !a.checksumMatches);
  if (changed) {
    throw new MigrationError(
      changed.version > status.latest
        ? `Schema ${status.schema} is at version ${changed.version}, newer than this release knows (${status.latest})`
        : `Checksum mismatch for applied migration ${changed.version} (${changed.name}) in schema ${status.schema}: it was changed after it was applied`,
    );
  }
}

function plannedSteps(
  migrations: readonly Migration[],
  applied: Set<number>,
  target: number,
): MigrationStep[] {
  const up = migrations.filter((m) => m.version <= target && !applied.has(m.version));
  const down = migrations.filter((m) => m.version > target && applied.has(m.version)).reverse();
  return [
    ...up.map(({ version, name }) => ({ version, name, direction: "up" as const })),
    ...down.map(({ version, name }) => ({ version, name, direction: "down" as const })),
  ];
}

function migrationTransaction(
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
      splitStatements(fill(up ? m.up : m.down, quoted)).map((sql) =>
        `EXECUTE ${SQL_TAG}${sql}${SQL_TAG};`
      ).join("\n    ")
    }
    ${record}
    ${mark(up ? String(m.version) : `-${m.version}`)}
  END IF;
END ${TAG}`;
  const steps = migrations.map((m, i) =>
    m.version <= target
      ? guarded(
        m,
        true,
        `INSERT INTO ${table} (version, name, checksum) VALUES (${m.version}, '${m.name}', '${
          checksums[i]
        }');`,
      )
      : guarded(m, false, `DELETE FROM ${table} WHERE version = ${m.version};`)
  );
  const downs = steps.filter((_, i) => migrations[i].version > target).reverse();
  const ups = steps.filter((_, i) => migrations[i].version <= target);
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

/** The table recording each applied migration with the sha256 of its `up` SQL. */
function bookkeepingTable(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;
}

/**
 * The whole SQL script that {@linkcode migrate} would run on an empty database (or on one at
 * version `from`), bookkeeping included, for teams who apply migrations with their own tool (psql, Flyway, Atlas…). Applied
 * as one transaction, it leaves a schema that {@linkcode migrationStatus} reports up to date
 * (same `heph_migrations` rows and checksums), so `migrate` can take over later.
 *
 * @param options The schema (`"public"` by default), the version the database is at (`from`,
 *   0), and the target version (`to`, the latest).
 * @returns The script: `BEGIN;` … `COMMIT;`.
 * @throws {ValidationError} On a bad schema name or target version.
 *
 * @example
 * ```ts ignore
 * const sql = await migrationScript({ schema: "tenant_a" });
 * ```
 */
export async function migrationScript(
  options: { schema?: string; from?: number; to?: number; migrations?: readonly Migration[] } = {},
): Promise<string> {
  const { schema, quoted, migrations, target } = plan(options);
  const from = options.from ?? 0;
  if (!Number.isInteger(from) || from < 0 || from > target) {
    throw new ValidationError(
      `Invalid starting version: ${describe(from)}, expected 0 to ${target}`,
    );
  }
  const table = `${quoted}.heph_migrations`;
  const lines = [
    `-- @heph/pg: schema ${schema} from ${
      from === 0 ? "nothing" : `version ${from}`
    } to version ${target}, as migrate() would run it.`,
    "-- Apply in one transaction (psql -v ON_ERROR_STOP=1 -f <file>); later upgrades: migrate().",
    "BEGIN;",
    `CREATE SCHEMA IF NOT EXISTS ${quoted};`,
    `${bookkeepingTable(table)};`,
  ];
  for (const m of migrations.filter((m) => m.version > from && m.version <= target)) {
    const body = fill(m.up, quoted).trim();
    lines.push(
      "",
      `-- up ${m.version} ${m.name}`,
      body.endsWith(";") ? body : `${body};`,
      `INSERT INTO ${table} (version, name, checksum) VALUES (${m.version}, '${m.name}', '${await sha256(
        m.up,
      )}');`,
    );
  }
  lines.push("", "COMMIT;");
  return lines.join("\n");
}

/** The schema, its quoted name, the checked migrations and the validated target version. */
function plan(
  options: { schema?: string; to?: number; migrations?: readonly Migration[] },
): { schema: string; quoted: string; migrations: readonly Migration[]; target: number } {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const quoted = quoteSchema(schema);
  const migrations = checkMigrations(options.migrations ?? MIGRATIONS);
  const latest = migrations.at(-1)?.version ?? 0;
  const target = options.to ?? latest;
  if (!Number.isInteger(target) || target < 0 || target > latest) {
    throw new ValidationError(
      `Invalid target version: ${describe(target)}, expected 0 to ${latest}`,
    );
  }
  return { schema, quoted, migrations, target };
}

/** The first version a table may be distributed at: every later migration suits Citus. */
const DISTRIBUTABLE_FROM = 2;

/** What a run that distributed the table notes among its steps. */
const DISTRIBUTED = "distributed";

/**
 * The statement that makes `workflow_instances` a distributed table on `id`, once: after the
 * migrations, under the same advisory lock and in the same transaction, so concurrent calls
 * distribute it exactly once. Refuses without Citus, and a table Citus already manages
 * otherwise (another column, or a reference table).
 */
function distribution(quoted: string, schema: string): string {
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
 * Splits SQL into its statements, at semicolons outside quotes, dollar quotes and comments.
 * Each runs as an EXECUTE of its own: Citus forwards the text of a DDL statement on a
 * distributed table to its workers, and refuses a text holding several commands.
 *
 * @param sql One migration's SQL.
 * @returns Its statements, trimmed, without the semicolons between them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitStatements } from "./migrate.ts";
 *
 * const statements = splitStatements("CREATE INDEX a ON t (x); DO $$ BEGIN PERFORM 1; END $$;");
 * assert.equal(statements.length, 2);
 * ```
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const skipTo = (end: string, from: number) => {
    const at = sql.indexOf(end, from);
    return at === -1 ? sql.length : at + end.length;
  };
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      // A doubled quote continues the string; E'…' strings also escape with a backslash.
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? "") &&
        !/[\w$]/.test(sql[i - 2] ?? "");
      for (i++; i < sql.length; i++) {
        if (escapes && sql[i] === "\\") i++;
        else if (sql[i] === c && sql[i + 1] === c) i++;
        else if (sql[i] === c) break;
      }
      i++;
    } else if (c === "-" && sql[i + 1] === "-") i = skipTo("\n", i);
    else if (c === "/" && sql[i + 1] === "*") i = skipTo("*/", i + 2);
    else if (c === "$" && !/[\w$]/.test(sql[i - 1] ?? "")) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))?.[0];
      i = tag ? skipTo(tag, i + tag.length) : i + 1;
    } else if (c === ";") {
      statements.push(sql.slice(start, i));
      start = ++i;
    } else i++;
  }
  statements.push(sql.slice(start));
  return statements.map((text) => text.trim()).filter((text) => text !== "");
}

function fill(sql: string, quoted: string): string {
  return sql.replaceAll("{schema}", quoted);
}

function checkMigrations(migrations: readonly Migration[]): readonly Migration[] {
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

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
