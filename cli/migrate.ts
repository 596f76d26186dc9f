/**
 * `migrate`: brings a schema to the latest version (or to `--to`), shows what is applied
 * (`--status`), prints the SQL it would run (`--dry-run`), or prints, without a database, the
 * whole script that would create the schema from nothing (`--sql`, for psql, Flyway, Atlas…);
 * with `--grant <role>`, then gives that runtime role exactly what PgStorage needs (see
 * `grantRuntimeAccess`). Needs `--url`, `DATABASE_URL` or `--embedded` (see cli/database.ts).
 * Run with `--help` for the options. Exits with 0 on success, 1 when the work failed, 2 on a
 * bad command line; a failure is reported as one line on stderr.
 *
 * @example
 * ```sh
 * DATABASE_URL=postgres://postgres@127.0.0.1:5432/app deno run -A jsr:@heph/pg/cli migrate
 * deno run -A jsr:@heph/pg/cli migrate --url postgres://postgres@127.0.0.1:5432/app --schema tenant_a --to 0
 * deno run -A jsr:@heph/pg/cli migrate --sql --schema tenant_a > heph.sql
 * ```
 *
 * @module
 */

import {
  type GrantResult,
  grantRuntimeAccess,
  migrate,
  type MigrateResult,
  MIGRATIONS,
  type MigrationStatus,
  migrationStatus,
} from "../mod.ts";
import { migrationScript } from "../src/migrate.ts";
import { command, type Parsed, type Session } from "./command.ts";
import {
  chosenDatabase,
  DATABASE_OPTIONS,
  DATABASE_USAGE,
  type DatabaseChoice,
} from "./database.ts";
import { UsageError } from "./failure.ts";
import { PROGRAM } from "./program.ts";

const LATEST = MIGRATIONS.at(-1)?.version ?? 0;

const USAGE = `Usage: ${PROGRAM} migrate [options]

Brings a PostgreSQL schema to the latest version of the @heph/pg tables.

Options:
${DATABASE_USAGE}
  --schema <name>    the schema to migrate (default: public)
  --to <version>     the target version, up or down (default: the latest; 0 removes everything)
  --status           print the applied and pending migrations, change nothing
  --dry-run          print the SQL that would run, change nothing
  --sql              print, without a database, the whole SQL script that migrates an empty
                     database to --to (bookkeeping included), for psql, Flyway, Atlas…;
                     once applied, the schema reads as up to date here
  --from <version>   the version the database is at, for an upgrade script (default: 0)
  --grant <role>     after migrating, give this existing role exactly what the application
                     needs: USAGE on the schema, SELECT, INSERT, UPDATE, DELETE on its
                     workflow_instances table, nothing else (no DDL, no heph_migrations)
  --distribute       after migrating, make workflow_instances a Citus distributed table on id
                     (once; refused without the citus extension); then use
                     new PgStorage({ driver, distributed: true })
  -h, --help         print this help`;

interface Options {
  database?: DatabaseChoice;
  schema: string;
  to?: number;
  from?: number;
  status: boolean;
  dryRun: boolean;
  sql: boolean;
  grant?: string;
  distribute: boolean;
}

const OPTIONS = {
  ...DATABASE_OPTIONS,
  schema: { type: "string", default: "public" },
  to: { type: "string" },
  from: { type: "string" },
  status: { type: "boolean", default: false },
  "dry-run": { type: "boolean", default: false },
  sql: { type: "boolean", default: false },
  grant: { type: "string" },
  distribute: { type: "boolean", default: false },
} as const;

/**
 * Runs the command.
 *
 * @param args The command-line arguments.
 * @returns The exit code.
 */
export const main: (args: string[]) => Promise<number> = command({
  usage: USAGE,
  options: OPTIONS,
  run: async ({ values }, session) => {
    const options = checkOptions(values);
    if (options.sql) {
      console.log(
        await migrationScript({ schema: options.schema, from: options.from, to: options.to }),
      );
      return;
    }
    await run(options, session);
  },
});

function checkOptions(values: Parsed<typeof OPTIONS>["values"]): Options {
  if (values.to !== undefined && (!/^\d+$/.test(values.to) || Number(values.to) > LATEST)) {
    throw new UsageError(
      `--to expects a version number from 0 to ${LATEST}, got ${JSON.stringify(values.to)}`,
    );
  }
  if (values.from !== undefined && !values.sql) {
    throw new UsageError("--from applies to --sql");
  }
  if (
    values.from !== undefined &&
    (!/^\d+$/.test(values.from) || Number(values.from) > Number(values.to ?? LATEST))
  ) {
    throw new UsageError(
      `--from expects a version number from 0 to ${values.to ?? LATEST}, got ${
        JSON.stringify(values.from)
      }`,
    );
  }
  if (values.sql) {
    const other = ["status", "dry-run", "grant", "distribute", "url", "embedded", "data-dir"]
      .find((name) =>
        ![undefined, false].includes((values as Record<string, unknown>)[name] as undefined)
      );
    if (other) {
      throw new UsageError(`--sql needs no database: it cannot be combined with --${other}`);
    }
  }
  if (values.status && (values.to !== undefined || values["dry-run"])) {
    throw new UsageError("--status cannot be combined with --to or --dry-run");
  }
  if (values.distribute && (values.status || values["dry-run"])) {
    throw new UsageError("--distribute cannot be combined with --status or --dry-run");
  }
  if (values.grant !== undefined && values.status) {
    throw new UsageError("--grant cannot be combined with --status");
  }
  if (values.grant !== undefined && values.to === "0") {
    throw new UsageError("--grant needs the table: it cannot be combined with --to 0");
  }
  return {
    database: values.sql ? undefined : chosenDatabase(values),
    schema: values.schema,
    to: values.to === undefined ? undefined : Number(values.to),
    from: values.from === undefined ? undefined : Number(values.from),
    status: values.status,
    dryRun: values["dry-run"],
    sql: values.sql,
    grant: values.grant,
    distribute: values.distribute,
  };
}

async function run(
  { database, schema, to, status, dryRun, grant, distribute }: Options,
  session: Session,
): Promise<void> {
  if (database === undefined) throw new Error("Internal error: no database chosen");
  // --status and --dry-run only read: they never create an embedded database.
  const { driver, close } = await session.open(database, { create: !status && !dryRun });
  try {
    // A bad role name is refused before anything runs (a dry run checks the names only).
    const grantSql = grant === undefined
      ? undefined
      : await grantRuntimeAccess(driver, { schema, role: grant, dryRun: true });
    if (status) printStatus(await migrationStatus(driver, { schema }));
    else if (dryRun) {
      printDryRun(await migrate(driver, { schema, to, dryRun: true }), grantSql);
    } else {
      const result = await migrate(driver, { schema, to, distribute });
      printResult(result);
      if (result.distributed) console.log(`distributed ${schema}.workflow_instances on id`);
      if (grant !== undefined) {
        printGrant(await grantRuntimeAccess(driver, { schema, role: grant }));
      }
    }
  } finally {
    await close();
  }
}

function printGrant({ schema, role }: GrantResult): void {
  console.log(
    `granted role ${role} USAGE on schema ${schema} and SELECT, INSERT, UPDATE, DELETE on ${schema}.workflow_instances, nothing else`,
  );
}

function printResult({ schema, version, steps }: MigrateResult): void {
  for (const { direction, version, name } of steps) {
    console.log(`${direction === "up" ? "applied" : "reverted"} ${version} ${name}`);
  }
  console.log(`schema ${schema} is ${steps.length ? "" : "already "}at version ${version}`);
}

function printDryRun({ schema, version, steps, sql }: MigrateResult, grant?: GrantResult): void {
  steps.forEach(({ direction, version, name }, i) => {
    console.log(`-- ${direction} ${version} ${name}\n${sql[i]}\n`);
  });
  if (grant) {
    console.log(`-- grant runtime access to role ${grant.role}\nBEGIN;`);
    for (const statement of grant.sql) console.log(`${statement};`);
    console.log("COMMIT;\n");
  }
  console.log(
    steps.length || grant
      ? `-- dry run: schema ${schema} would be at version ${version}; nothing was changed`
      : `-- dry run: schema ${schema} is already at version ${version}; nothing to run`,
  );
}

function printStatus({ schema, version, latest, applied, pending }: MigrationStatus): void {
  console.log(`schema ${schema} is at version ${version} of ${latest}`);
  for (const m of applied) {
    const changed = m.checksumMatches ? "" : "  CHANGED";
    console.log(`  applied  ${m.version} ${m.name}  ${m.appliedAt.toISOString()}${changed}`);
  }
  for (const m of pending) console.log(`  pending  ${m.version} ${m.name}`);
}
