/**
 * "The database" of the commands in cli/: a PostgreSQL server when `--url` or `DATABASE_URL`
 * names one, else PGlite (PostgreSQL in WebAssembly) persisted in a local directory, so the
 * commands work with no setup at all.
 *
 * @example
 * ```ts ignore
 * import { chooseDatabase, openDatabase } from "./database.ts";
 *
 * const db = await openDatabase(chooseDatabase({ url: undefined, dataDir: undefined }));
 * try {
 *   await db.driver.query("SELECT 1");
 * } finally {
 *   await db.close();
 * }
 * ```
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
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
  "data-dir": { type: "string" },
} as const;

/** The lines of `--help` describing {@linkcode DATABASE_OPTIONS}. */
export const DATABASE_USAGE =
  `  --url <url>        a PostgreSQL URL (default: the DATABASE_URL environment variable;
                     without either, an embedded PGlite database is used)
  --data-dir <dir>   the embedded PGlite's directory (default: ${DEFAULT_DATA_DIR})`;

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
 * Picks the database from the command line and the environment: `--url`, else `--data-dir`
 * (an explicit choice of PGlite), else `DATABASE_URL`, else PGlite in {@linkcode DEFAULT_DATA_DIR}.
 *
 * @param options The `--url` and `--data-dir` values, if given.
 * @returns The choice; a URL is checked to be a PostgreSQL URL.
 * @throws {UsageError} When both are given, or the URL is malformed.
 */
export function chooseDatabase(
  options: { url?: string; dataDir?: string },
): DatabaseChoice {
  if (options.url !== undefined && options.dataDir !== undefined) {
    throw new UsageError("--url and --data-dir cannot be combined");
  }
  if (options.dataDir === "") throw new UsageError("--data-dir expects a directory");
  const fromEnv = Deno.env.get("DATABASE_URL") || undefined;
  const url = options.url ?? (options.dataDir === undefined ? fromEnv : undefined);
  if (url !== undefined) {
    parseDatabaseUrl(url);
    return { url };
  }
  const hint = fromEnv === undefined
    ? "set DATABASE_URL to use a server"
    : "--data-dir given: DATABASE_URL not used";
  return { dataDir: options.dataDir ?? DEFAULT_DATA_DIR, hint };
}

/**
 * Opens the chosen database. For PGlite, creates the directory and says so in one line on
 * stderr; for a server, checks the connection so a failure is one clear line.
 *
 * @param choice From {@linkcode chooseDatabase}.
 * @returns The driver and a close function.
 * @throws {Error} With a one-line message when the database cannot be opened.
 */
export async function openDatabase(choice: DatabaseChoice): Promise<Database> {
  return "url" in choice ? await openServer(choice.url) : await openEmbedded(choice);
}

async function openServer(url: string): Promise<Database> {
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

async function openEmbedded({ dataDir, hint }: { dataDir: string; hint: string }) {
  console.error(`using embedded PGlite at ${dataDir} (${hint})`);
  let db: PGlite;
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    db = new PGlite(dataDir);
    await db.waitReady;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot open the embedded database at ${dataDir}: ${reason}`);
  }
  return { driver: pgliteDriver(db), close: () => db.close() };
}
