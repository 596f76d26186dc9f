/**
 * Test-database harness: finds (or starts) a PostgreSQL server for the test suite and hands out
 * isolated, throwaway schemas on it.
 *
 * @module
 */
import pg from "pg";

let databaseUrl: Promise<string> | undefined;

/**
 * Returns a connection URL for a PostgreSQL server to test against, memoized for the process.
 *
 * Tries, in order: the `TEST_DATABASE_URL` / `DATABASE_URL` environment variables; a server at
 * 127.0.0.1:5432 (database `test`, else `postgres`); a throwaway cluster started with
 * `initdb`/`pg_ctl`, which is stopped and deleted when the process exits.
 * (`HEPH_TEST_FORCE_TEMP_CLUSTER=1` skips straight to the throwaway cluster.)
 */
export async function testDatabaseUrl(): Promise<string> {
  databaseUrl ??= findDatabase();
  return await databaseUrl;
}

/**
 * Creates a pool on the test database plus a unique schema name `${prefix}_<8 hex>` for one test.
 * The schema is not created here (the code under test does that); `drop()` drops it (cascade)
 * and closes the pool.
 */
export async function withTestSchema(
  prefix: string,
): Promise<{ url: string; schema: string; pool: pg.Pool; drop(): Promise<void> }> {
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(4)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const schema = `${prefix.toLowerCase()}_${hex}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema) || schema.length > 63) {
    throw new Error(`withTestSchema: invalid schema prefix ${JSON.stringify(prefix)}`);
  }
  const url = await testDatabaseUrl();
  const pool = new pg.Pool({ connectionString: url });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    try {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await pool.end();
    }
  };
  return { url, schema, pool, drop };
}

async function findDatabase(): Promise<string> {
  if (Deno.env.get("HEPH_TEST_FORCE_TEMP_CLUSTER") !== "1") {
    const fromEnv = Deno.env.get("TEST_DATABASE_URL") || Deno.env.get("DATABASE_URL");
    if (fromEnv) return fromEnv;
    const local = await localServerUrl();
    if (local) return local;
  }
  return await startTempCluster();
}

/** A URL for the server at 127.0.0.1:5432 if it answers a query, else undefined. */
async function localServerUrl(): Promise<string | undefined> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port: 5432 })).close();
  } catch {
    return undefined;
  }
  for (const db of ["test", "postgres"]) {
    const url = `postgres://postgres@127.0.0.1:5432/${db}`;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return url;
    } catch (error) {
      if ((error as { code?: string }).code !== "3D000") return undefined; // 3D000: no such db
    } finally {
      await client.end().catch(() => {});
    }
  }
  return undefined;
}

/**
 * The directory holding `initdb`, `pg_ctl` and the other server tools (`pg_basebackup`): where
 * the `initdb` found on PATH really lives (PATH may hold only links), else the newest
 * /usr/lib/postgresql.
 */
export async function findPgBinDir(): Promise<string> {
  const isFile = (path: string) => Deno.stat(path).then((s) => s.isFile, () => false);
  const versions: string[] = [];
  try {
    for await (const entry of Deno.readDir("/usr/lib/postgresql")) versions.push(entry.name);
  } catch { /* not installed there */ }
  versions.sort((a, b) => parseFloat(b) - parseFloat(a));
  const candidates = [
    ...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean),
    ...versions.map((v) => `/usr/lib/postgresql/${v}/bin`),
  ];
  for (const dir of candidates) {
    if (await isFile(`${dir}/initdb`) && await isFile(`${dir}/pg_ctl`)) {
      const real = await Deno.realPath(`${dir}/initdb`);
      return real.slice(0, real.lastIndexOf("/"));
    }
  }
  throw new Error("no PostgreSQL found: set TEST_DATABASE_URL or install PostgreSQL (initdb)");
}

/**
 * Starts a throwaway cluster whose `postgres` user must log in with `password` (SCRAM), for
 * tests of authentication failures. It is stopped and deleted when the process exits.
 */
export async function startPasswordCluster(password: string): Promise<string> {
  const url = new URL((await startThrowawayCluster({ password })).url);
  url.password = password;
  return url.href;
}

/** A throwaway cluster a test controls: stop it, start it again on the same port. */
export interface ThrowawayCluster {
  /** A URL for its `postgres` database as user `postgres` (trust, unless a password was set). */
  url: string;
  /** The data directory. */
  dataDir: string;
  /**
   * Stops the server. `fast` (the default) ends sessions and checkpoints; `immediate` kills
   * every process at once, like a crash (the next start replays the WAL).
   */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again, on the same port, and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it (immediately) and deletes its directory; also done when the process exits. */
  destroy(): Promise<void>;
}

/** Options of {@linkcode startThrowawayCluster}. */
export interface ThrowawayClusterOptions {
  /** Make the `postgres` user log in with this password (SCRAM). */
  password?: string;
  /** Server settings, passed as `-c name=value` at every start (`shared_preload_libraries`…). */
  settings?: Record<string, string>;
  /**
   * The URL of a running throwaway cluster to copy with `pg_basebackup -R` instead of `initdb`:
   * the new cluster is a hot standby streaming from it (read-only, lagging behind it).
   */
  standbyOf?: string;
}

/**
 * Starts a throwaway PostgreSQL cluster of the test's own with `initdb` (or `pg_basebackup`)
 * and `pg_ctl` (free port, temp dir), for tests that stop or restart the server, replicate it or
 * preload extensions. It is stopped and deleted when the process exits, or by `destroy()`.
 *
 * @param options A password, server settings, or the primary to stream from.
 */
export async function startThrowawayCluster(
  options: ThrowawayClusterOptions = {},
): Promise<ThrowawayCluster> {
  const bin = await findPgBinDir();
  const tmp = await Deno.makeTempDir({ prefix: "heph-pg-" });
  const data = `${tmp}/data`;
  // initdb refuses to run as root, so then run the server tools as the `postgres` user.
  const asRoot = Deno.uid() === 0;
  const pgTool = (tool: string, args: string[]): [string, string[]] =>
    asRoot
      ? ["runuser", ["-u", "postgres", "--", `${bin}/${tool}`, ...args]]
      : [`${bin}/${tool}`, args];
  if (asRoot) {
    const id = async (flag: string) => Number(await run("id", [flag, "postgres"]));
    await Deno.chown(tmp, await id("-u"), await id("-g"));
  }

  let destroyed = false;
  const destroySync = () => {
    if (destroyed) return;
    destroyed = true;
    const [cmd, args] = pgTool("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
    new Deno.Command(cmd, { args, cwd: tmp, stdout: "null", stderr: "null" }).outputSync();
    Deno.removeSync(tmp, { recursive: true });
  };
  globalThis.addEventListener("unload", destroySync);
  const auth = ["-A", "trust"];
  if (options.password !== undefined) {
    await Deno.writeTextFile(`${tmp}/pwfile`, options.password);
    if (asRoot) await run("chown", ["postgres", `${tmp}/pwfile`]);
    auth.splice(0, 2, "-A", "scram-sha-256", `--pwfile=${tmp}/pwfile`);
  }
  if (options.standbyOf === undefined) {
    await run(...pgTool("initdb", [...auth, "-U", "postgres", "-D", data]), tmp);
  } else {
    // -R writes standby.signal and primary_conninfo: started, it streams from the primary.
    const copy = ["-d", options.standbyOf, "-D", data, "-R", "-X", "stream", "-c", "fast"];
    await run(...pgTool("pg_basebackup", copy), tmp);
  }
  // -l: the server must not inherit our stdout pipe, or waiting for pg_ctl would never end.
  const log = `${tmp}/server.log`;
  const extra = Object.entries(options.settings ?? {}).map(([name, value]) => {
    if (!/^[a-z_.]+$/.test(name) || /[\s'"\\]/.test(value)) {
      throw new Error(`startThrowawayCluster: unsupported setting ${name}=${value}`);
    }
    return ` -c ${name}=${value}`;
  }).join("");
  let port = 0;
  const start = async () => {
    const settings = `-p ${port} -k ${tmp} -c listen_addresses=127.0.0.1 -c fsync=off${extra}`;
    await run(...pgTool("pg_ctl", ["-D", data, "-l", log, "-o", settings, "-w", "start"]), tmp);
  };
  for (let attempt = 1;; attempt++) {
    port = freePort(); // another process may grab it before the server does: retry
    try {
      await start();
      break;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir: data,
    start,
    async stop(mode = "fast") {
      await run(...pgTool("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]), tmp);
    },
    destroy() {
      globalThis.removeEventListener("unload", destroySync);
      destroySync();
      return Promise.resolve();
    },
  };
}

async function startTempCluster(): Promise<string> {
  return (await startThrowawayCluster()).url;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return (listener.addr as Deno.NetAddr).port;
}

/** Runs a command; returns its trimmed stdout or throws with its output. */
async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdin: "null" }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  if (out.success) return text(out.stdout);
  throw new Error(`${cmd} ${args.join(" ")} failed:\n${text(out.stdout)}\n${text(out.stderr)}`);
}
