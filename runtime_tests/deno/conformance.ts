/**
 * Runs the Storage conformance suite in Deno under Deploy-like permissions: network access to
 * the test hosts, and nothing else but what the chosen drivers' npm packages demand.
 * `runtime_tests/deno/run.ts` starts it; all configuration comes in as arguments, since
 * `Deno.args` needs no permission:
 *
 * `conformance.ts <group> <databaseUrl> <neonHttpEndpoint> <wsProxyPort>`
 *
 * - group `core`, run with `--allow-net=<the HTTP endpoint>` only: MemoryStorage, and PgStorage
 *   over a driver written here on `fetch` alone (speaking the Neon HTTP format to the local
 *   endpoint). No npm package is loaded, so this proves that the module itself (mod.ts, src/,
 *   migrations/, testing/, and drivers/, loaded here too) needs no environment, file system or
 *   other `Deno.*` access.
 * - group `drivers`, run with `--allow-net=<hosts>` plus
 *   `--allow-env=USER,USERNAME,PG*,NODE_PG_FORCE_NATIVE`: Neon over HTTP, Neon's WebSocket
 *   Pool, postgres.js and node-postgres. Every one of these npm packages reads the libpq
 *   environment variables (`PGHOST`, `PGUSER`…) and the OS user name through `process.env`,
 *   which Deno guards: `@neondatabase/serverless` and `pg` as soon as they load (their
 *   defaults), postgres.js on `postgres()` (`PGAPPNAME` is read whatever the options). So they
 *   get read access to exactly those names; still no `--allow-read`, `--allow-write`,
 *   `--allow-run` or `--allow-sys`. (Deno Deploy itself lets an app read its environment.)
 *
 * It prints `ok <store>: <case>` or `FAIL <store>: <case>` per case and ends with
 * `N passed, N failed`.
 *
 * @module
 */
import { MemoryStorage, type SqlDriver, type SqlResult, type SqlStatement } from "../../mod.ts";
import { neonDriver, neonHttpDriver } from "../../drivers/neon.ts";
import { nodePostgresDriver } from "../../drivers/node_postgres.ts";
import { postgresJsDriver } from "../../drivers/postgres_js.ts";
import {
  type CaseResult,
  freshSchemaStorage,
  storageConformance,
  type StorageFixture,
} from "../../testing/storage_conformance.ts";

const [group, databaseUrl, httpEndpoint, wsProxyPort] = Deno.args;
if (
  !group || !["core", "drivers"].includes(group) || !databaseUrl || !httpEndpoint || !wsProxyPort
) {
  console.error(
    "usage: conformance.ts core|drivers <databaseUrl> <neonHttpEndpoint> <wsProxyPort>",
  );
  Deno.exit(2);
}

let passed = 0;
let failed = 0;

/** Runs the suite on one store and prints each outcome; `close` runs afterwards. */
async function check(
  name: string,
  makeStorage: () => Promise<StorageFixture> | StorageFixture,
  close: () => Promise<unknown> = () => Promise.resolve(),
): Promise<void> {
  const onResult = (result: CaseResult) => {
    if (result.ok) passed++;
    else failed++;
    console.log(`${result.ok ? "ok" : "FAIL"} ${name}: ${result.name}`);
    if (!result.ok) console.error(`--- ${name}: ${result.name}\n`, result.error);
  };
  try {
    await storageConformance(name, makeStorage, { onResult });
  } catch (error) {
    // Failed cases are reported, not thrown: this is the run itself breaking.
    failed++;
    console.log(`FAIL ${name}: the run itself`);
    console.error(error);
  } finally {
    await close();
  }
}

if (group === "core") {
  await check("memory", () => ({ storage: new MemoryStorage() }));
  await check(
    "core over fetch",
    freshSchemaStorage(fetchDriver(httpEndpoint, databaseUrl), "heph_rt_deno_core"),
  );
} else {
  const { neon, neonConfig, Pool } = await import("@neondatabase/serverless");
  // Neon's client against local stand-ins for Neon's proxies (tests/support/): plain ws:// and
  // http://, and no pipelined connect (it sends the password before the server asks).
  neonConfig.fetchEndpoint = httpEndpoint;
  neonConfig.wsProxy = (host, port) => `127.0.0.1:${wsProxyPort}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  await check("neon-http", freshSchemaStorage(neonHttpDriver(neon(databaseUrl)), "heph_rt_deno"));

  const pool = new Pool({ connectionString: databaseUrl });
  await check("neon-ws", freshSchemaStorage(neonDriver(pool), "heph_rt_deno"), () => pool.end());

  const { default: postgres } = await import("postgres");
  const sql = postgres(databaseUrl, { onnotice: () => {} });
  await check(
    "postgres-js",
    freshSchemaStorage(postgresJsDriver(sql), "heph_rt_deno"),
    () => sql.end(),
  );

  const { default: pg } = await import("pg");
  const pgPool = new pg.Pool({ connectionString: databaseUrl });
  await check(
    "node-postgres",
    freshSchemaStorage(nodePostgresDriver(pgPool), "heph_rt_deno"),
    () => pgPool.end(),
  );
}

console.log(`${passed} passed, ${failed} failed`);

/**
 * A SqlDriver on `fetch` alone, for the `core` group: it speaks the Neon HTTP format (as
 * `@neondatabase/serverless` does, see cli/neon_local/http_endpoint.ts) to the local endpoint,
 * which runs each statement, or each batch in one transaction, on the test database.
 */
function fetchDriver(endpoint: string, connectionString: string): SqlDriver {
  const headers = {
    "Neon-Connection-String": connectionString,
    "Neon-Raw-Text-Output": "true",
    "Neon-Array-Mode": "true",
  };
  type Raw = { fields: { name: string }[]; rows: unknown[][]; rowCount: number | null };
  const post = async (body: unknown): Promise<unknown> => {
    const response = await fetch(endpoint, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw Object.assign(new Error(json.message), json);
    return json;
  };
  const toText = (value: unknown) =>
    value === null || value === undefined || typeof value === "string" || Array.isArray(value)
      ? value ?? null
      : String(value);
  const statement = ({ text, params = [] }: SqlStatement) => ({
    query: text,
    params: params.map(toText),
  });
  const toResult = (raw: Raw): SqlResult => ({
    rows: raw.rows.map((row) => Object.fromEntries(raw.fields.map((f, i) => [f.name, row[i]]))),
    rowCount: raw.rowCount ?? raw.rows.length,
  });
  return {
    query: async (text, params) => toResult(await post(statement({ text, params })) as Raw),
    transaction: async (statements) => {
      if (statements.length === 0) return [];
      const { results } = await post({ queries: statements.map(statement) }) as { results: Raw[] };
      return results.map(toResult);
    },
  };
}
