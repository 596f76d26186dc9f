/**
 * `deno task migrate`: brings a schema to the latest version (or to `--to`), shows what is
 * applied (`--status`), or prints the SQL it would run (`--dry-run`). Run with `--help` for
 * the options. Exits with 0 on success, 1 when the work failed, 2 on a bad command line; a
 * failure is reported as one line on stderr.
 *
 * @example
 * ```sh
 * DATABASE_URL=postgres://postgres@127.0.0.1:5432/app deno task migrate
 * deno task migrate --url postgres://postgres@127.0.0.1:5432/app --schema tenant_a --to 0
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import pg from "pg";
import { migrate, type MigrateResult, type MigrationStatus, migrationStatus } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { address, connectionFailure, parseDatabaseUrl, redact, UsageError } from "./failure.ts";

const CONNECT_TIMEOUT_MS = 10_000;

const USAGE = `Usage: deno task migrate [options]

Brings a PostgreSQL schema to the latest version of the @heph/pg tables.

Options:
  --url <url>        the database URL (default: the DATABASE_URL environment variable)
  --schema <name>    the schema to migrate (default: public)
  --to <version>     the target version, up or down (default: the latest; 0 removes everything)
  --status           print the applied and pending migrations, change nothing
  --dry-run          print the SQL that would run, change nothing
  -h, --help         print this help`;

interface Options {
  url: string;
  schema: string;
  to?: number;
  status: boolean;
  dryRun: boolean;
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
    url = options.url;
    await run(options);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      const hint = error.hint ? " (run with --help for usage)" : "";
      console.error(`error: ${redact(error.message, url)}${hint}`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${redact(message, url)}`);
    return 1;
  }
}

function parseOptions(args: string[]): Options | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: "string" },
        schema: { type: "string", default: "public" },
        to: { type: "string" },
        status: { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    // Node adds a long hint after the first sentence; the first one says it all.
    const message = String((error as Error).message).split(". ")[0];
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
  }
  if (values.help) return "help";
  if (values.to !== undefined && !/^\d+$/.test(values.to)) {
    throw new UsageError(`--to expects a version number, got ${JSON.stringify(values.to)}`);
  }
  if (values.status && (values.to !== undefined || values["dry-run"])) {
    throw new UsageError("--status cannot be combined with --to or --dry-run");
  }
  const url = values.url ?? Deno.env.get("DATABASE_URL");
  if (!url) throw new UsageError("no database: set DATABASE_URL or pass --url", false);
  return {
    url,
    schema: values.schema,
    to: values.to === undefined ? undefined : Number(values.to),
    status: values.status,
    dryRun: values["dry-run"],
  };
}

async function run({ url, schema, to, status, dryRun }: Options): Promise<void> {
  const where = address(parseDatabaseUrl(url));
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: 1,
  });
  // A client whose connection dies emits 'error'; the failing call reports it already.
  pool.on("error", () => {});
  try {
    const started = Date.now();
    try {
      (await pool.connect()).release();
    } catch (error) {
      const timedOut = Date.now() - started >= CONNECT_TIMEOUT_MS;
      throw new Error(connectionFailure(error, where, timedOut ? CONNECT_TIMEOUT_MS : undefined));
    }
    const driver = nodePostgresDriver(pool);
    if (status) printStatus(await migrationStatus(driver, { schema }));
    else if (dryRun) printDryRun(await migrate(driver, { schema, to, dryRun: true }));
    else printResult(await migrate(driver, { schema, to }));
  } finally {
    await pool.end();
  }
}

function printResult({ schema, version, steps }: MigrateResult): void {
  for (const { direction, version, name } of steps) {
    console.log(`${direction === "up" ? "applied" : "reverted"} ${version} ${name}`);
  }
  console.log(`schema ${schema} is ${steps.length ? "" : "already "}at version ${version}`);
}

function printDryRun({ schema, version, steps, sql }: MigrateResult): void {
  steps.forEach(({ direction, version, name }, i) => {
    console.log(`-- ${direction} ${version} ${name}\n${sql[i]}\n`);
  });
  console.log(
    steps.length
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
