/**
 * "The database" of the commands in cli/: the PostgreSQL server that `--url` or `DATABASE_URL`
 * names, or, when asked with `--embedded`, PGlite (PostgreSQL in WebAssembly) persisted in a
 * local directory. A command never picks a database nobody named: without either it refuses
 * (`demo` alone defaults to the embedded one, so it runs with no setup).
 *
 * @example
 * ```ts ignore
 * import { chooseDatabase, openDatabase } from "./database.ts";
 *
 * const db = await openDatabase(chooseDatabase({ url: "postgres://localhost/app" }), { create: false });
 * try {
 *   await db.driver.query("SELECT 1");
 * } finally {
 *   await db.close();
 * }
 * ```
 *
 * @module
 */

import type { SqlDriver } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { pgliteDriver } from "../drivers/pglite.ts";
import { address, connectionFailure, parseDatabaseUrl, UsageError } from "./failure.ts";

/** Where the embedded PGlite keeps its data when `--data-dir` is not given. */
export const DEFAULT_DATA_DIR = ".heph/pglite";

const CONNECT_TIMEOUT_MS = 10_000;

/** The `parseArgs` options every command that opens the database accepts. */
export const DATABASE_OPTIONS = {
  url: { type: "string" },
  embedded: { type: "boolean", default: false },
  "data-dir": { type: "string" },
} as const;

/** The lines of `--help` describing {@linkcode DATABASE_OPTIONS}. */
export const DATABASE_USAGE =
  `  --url <url>        a PostgreSQL URL (default: the DATABASE_URL environment variable)
  --embedded         use an embedded PGlite database in a local directory instead of a server
  --data-dir <dir>   the embedded database's directory (default: ${DEFAULT_DATA_DIR})`;

/** Which database to open: a server, or an embedded PGlite directory. */
export type DatabaseChoice =
  | { url: string }
  | { dataDir: string; hint: string };

/** An open database: a driver for the core, and how to let go of it. */
export interface Database {
  /** The driver to pass to `migrate` and `PgStorage`. */
  readonly driver: SqlDriver;
  /** Closes the pool or the PGlite instance. */
  close(): Promise<void>;
}

/**
 * Picks the database from the command line and the environment: `--url`, else `--embedded`
 * (PGlite in `--data-dir` or {@linkcode DEFAULT_DATA_DIR}), else `DATABASE_URL`. With none of
 * them, a usage error naming both ways, unless `embeddedByDefault` (the demo).
 *
 * @param options The `--url`, `--embedded` and `--data-dir` values, if given.
 * @param embeddedByDefault Use the embedded database when nothing names one (`--data-dir`
 *   then implies `--embedded`).
 * @returns The choice; a URL is checked to be a PostgreSQL URL.
 * @throws {UsageError} When they contradict each other, the URL is malformed, or nothing names
 *   a database.
 */
export function chooseDatabase(
  options: { url?: string; embedded?: boolean; dataDir?: string },
  embeddedByDefault = false,
): DatabaseChoice {
  const embedded = options.embedded ||
    (embeddedByDefault && options.dataDir !== undefined);
  if (options.url !== undefined && (embedded || options.dataDir !== undefined)) {
    throw new UsageError(
      `--url and ${options.embedded ? "--embedded" : "--data-dir"} cannot be combined`,
    );
  }
  if (options.dataDir !== undefined && !embedded) {
    throw new UsageError("--data-dir applies to the embedded database: add --embedded");
  }
  if (options.dataDir === "") throw new UsageError("--data-dir expects a directory");
  const fromEnv = Deno.env.get("DATABASE_URL") || undefined;
  const url = options.url ?? (embedded ? undefined : fromEnv);
  if (url !== undefined) {
    parseDatabaseUrl(url);
    return { url };
  }
  if (!embedded && !embeddedByDefault) {
    throw new UsageError(
      "no database: pass --url <url> or set DATABASE_URL (or --embedded for a local PGlite database)",
      false,
    );
  }
  const flag = options.embedded ? "--embedded" : "--data-dir given";
  const hint = fromEnv !== undefined
    ? `${flag}: DATABASE_URL not used`
    : options.embedded
    ? flag
    : "set DATABASE_URL to use a server";
  return { dataDir: options.dataDir ?? DEFAULT_DATA_DIR, hint };
}

/**
 * {@linkcode chooseDatabase} from a command's parsed {@linkcode DATABASE_OPTIONS}.
 *
 * @param values The parsed `--url`, `--embedded` and `--data-dir`.
 * @param embeddedByDefault As in {@linkcode chooseDatabase}.
 * @returns The choice.
 * @throws {UsageError} As {@linkcode chooseDatabase}.
 */
export function chosenDatabase(
  values: { url?: string; embedded?: boolean; "data-dir"?: string },
  embeddedByDefault = false,
): DatabaseChoice {
  return chooseDatabase(
    { url: values.url, embedded: values.embedded, dataDir: values["data-dir"] },
    embeddedByDefault,
  );
}

/**
 * Opens the chosen database. For a server, checks the connection so a failure is one clear
 * line. For PGlite, says which directory in one line on stderr, and creates the database there
 * only when `create` is true: read-only commands never create one.
 *
 * @param choice From {@linkcode chooseDatabase}.
 * @param options `create`: whether an embedded database may be created.
 * @returns The driver and a close function.
 * @throws {Error} With a one-line message when the database cannot be opened.
 */
export async function openDatabase(
  choice: DatabaseChoice,
  options: { create: boolean },
): Promise<Database> {
  return "url" in choice
    ? await openServer(choice.url)
    : await openEmbedded(choice, options.create);
}

async function openServer(url: string): Promise<Database> {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: 1,
  });
  // A client whose connection dies emits 'error'; the failing call reports it already.
  pool.on("error", () => {});
  const started = Date.now();
  try {
    (await pool.connect()).release();
  } catch (error) {
    await pool.end();
    const timedOut = Date.now() - started >= CONNECT_TIMEOUT_MS;
    const where = address(parseDatabaseUrl(url));
    throw new Error(connectionFailure(error, where, timedOut ? CONNECT_TIMEOUT_MS : undefined));
  }
  return { driver: nodePostgresDriver(pool), close: () => pool.end() };
}

async function openEmbedded(
  { dataDir, hint }: { dataDir: string; hint: string },
  create: boolean,
): Promise<Database> {
  if (!create && !await isFile(`${dataDir}/PG_VERSION`)) {
    throw new Error(
      `no embedded database at ${dataDir}: create it with migrate --embedded${
        dataDir === DEFAULT_DATA_DIR ? "" : ` --data-dir ${dataDir}`
      }, or pass --url`,
    );
  }
  console.error(`using embedded PGlite at ${dataDir} (${hint})`);
  try {
    const { PGlite } = await import("@electric-sql/pglite");
    await Deno.mkdir(dataDir, { recursive: true });
    const db = new PGlite(dataDir);
    await db.waitReady;
    return { driver: pgliteDriver(db), close: () => db.close() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot open the embedded database at ${dataDir}: ${reason}`);
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
