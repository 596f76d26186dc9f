/**
 * `deno task migrate`: brings a schema to the latest version (or to `--to`), shows what is
 * applied (`--status`), or prints the SQL it would run (`--dry-run`); with `--grant <role>`,
 * then gives that runtime role exactly what PgStorage needs (see `grantRuntimeAccess`).
 * Without `--url` or `DATABASE_URL` it works on the embedded PGlite database in `.heph/pglite` (see
 * cli/database.ts). Run with `--help` for the options. Exits with 0 on success, 1 when the work failed, 2 on a bad command line; a
 * failure is reported as one line on stderr.
 *
 * @example
 * ```sh
 * DATABASE_URL=postgres://postgres@127.0.0.1:5432/app deno task migrate
 * deno task migrate --url postgres://postgres@127.0.0.1:5432/app --schema tenant_a --to 0
 * deno task migrate --schema tenant_a --grant tenant_a_app
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type GrantResult,
  grantRuntimeAccess,
  migrate,
  type MigrateResult,
  type MigrationStatus,
  migrationStatus,
} from "../mod.ts";
import {
  chooseDatabase,
  DATABASE_OPTIONS,
  DATABASE_USAGE,
  type DatabaseChoice,
  openDatabase,
} from "./database.ts";
import { argsError, reportFailure, UsageError } from "./failure.ts";

const USAGE = `Usage: deno task migrate [options]

Brings a PostgreSQL schema to the latest version of the @heph/pg tables.

Options:
${DATABASE_USAGE}
  --schema <name>    the schema to migrate (default: public)
  --to <version>     the target version, up or down (default: the latest; 0 removes everything)
  --status           print the applied and pending migrations, change nothing
  --dry-run          print the SQL that would run, change nothing
  --grant <role>     after migrating, give this existing role exactly what the application
                     needs: USAGE on the schema, SELECT, INSERT, UPDATE, DELETE on its
                     workflow_instances table, nothing else (no DDL, no heph_migrations)
  -h, --help         print this help`;

interface Options {
  database: DatabaseChoice;
  schema: string;
  to?: number;
  status: boolean;
  dryRun: boolean;
  grant?: string;
}

/**
 * Runs the command.
 *
 * @param args The command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  let url: string | undefined;
  try {
    const options = parseOptions(args);
    if (options === "help") {
      console.log(USAGE);
      return 0;
    }
    if ("url" in options.database) url = options.database.url;
    await run(options);
    return 0;
  } catch (error) {
    return reportFailure(error, url);
  }
}

function parseOptions(args: string[]): Options | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        ...DATABASE_OPTIONS,
        schema: { type: "string", default: "public" },
        to: { type: "string" },
        status: { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        grant: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw argsError(error);
  }
  if (values.help) return "help";
  if (values.to !== undefined && !/^\d+$/.test(values.to)) {
    throw new UsageError(`--to expects a version number, got ${JSON.stringify(values.to)}`);
  }
  if (values.status && (values.to !== undefined || values["dry-run"])) {
    throw new UsageError("--status cannot be combined with --to or --dry-run");
  }
  if (values.grant !== undefined && values.status) {
    throw new UsageError("--grant cannot be combined with --status");
  }
  if (values.grant !== undefined && values.to === "0") {
    throw new UsageError("--grant needs the table: it cannot be combined with --to 0");
  }
  return {
    database: chooseDatabase({ url: values.url, dataDir: values["data-dir"] }),
    schema: values.schema,
    to: values.to === undefined ? undefined : Number(values.to),
    status: values.status,
    dryRun: values["dry-run"],
    grant: values.grant,
  };
}

async function run({ database, schema, to, status, dryRun, grant }: Options): Promise<void> {
  const { driver, close } = await openDatabase(database);
  try {
    // A bad role name is refused before anything runs (a dry run checks the names only).
    const grantSql = grant === undefined
      ? undefined
      : await grantRuntimeAccess(driver, { schema, role: grant, dryRun: true });
    if (status) printStatus(await migrationStatus(driver, { schema }));
    else if (dryRun) {
      printDryRun(await migrate(driver, { schema, to, dryRun: true }), grantSql);
    } else {
      printResult(await migrate(driver, { schema, to }));
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

if (import.meta.main) Deno.exit(await main(Deno.args));
