/**
 * For development and tests (`neon-local`, the test suites): a local SQL-over-HTTP endpoint that speaks the protocol the HTTP mode of
 * `@neondatabase/serverless` (its `neon()` query function) uses to reach Neon, executing on a
 * real PostgreSQL through npm:pg. Not a Neon emulator: no auth of its own, no connection caching
 * beyond one pg.Pool per connection string, raw-text output only. Clients point the driver at
 * it with `neonConfig.fetchEndpoint`. With `only`, it serves connection strings to that one
 * server and refuses others (so it is no open relay).
 *
 * Matched against:
 * - the client, `@neondatabase/serverless` 1.2.0 (`index.mjs`): `neon()` and its `execute()`
 *   (request headers and body, `results` for batches, HTTP 400 errors copied field by field
 *   into `NeonDbError`), `processQueryResult()` (raw text parsed by `dataTypeID`,
 *   `fullResults`), `prepareQuery()` (parameters already serialized to text);
 * - the server it talks to, Neon's proxy (`neondatabase/neon`, `proxy/src/serverless/
 *   sql_over_http.rs`: `HttpHeaders::try_parse`, `BatchQueryData::process`, `query_to_json`,
 *   `write_fields`, `parse_command_tag`, the error body in `handle`; and `json.rs`:
 *   `json_to_pg_text` for parameters).
 *
 * The format:
 * - `POST /sql`, headers `Neon-Connection-String` (required), `Neon-Raw-Text-Output: true`
 *   (required here), `Neon-Array-Mode` (default row shape), and for batches
 *   `Neon-Batch-Isolation-Level` (`ReadUncommitted` | `ReadCommitted` | `RepeatableRead` |
 *   `Serializable`), `Neon-Batch-Read-Only`, `Neon-Batch-Deferrable` (`"true"` enables).
 * - Body `{ query, params?, arrayMode? }`, or `{ queries: [...] }` run in one transaction that
 *   rolls back entirely when a statement fails. Statements use the extended protocol (one
 *   statement per query, as Neon's proxy does).
 * - Success: `{ fields: [{ name, dataTypeID, tableID, columnID, dataTypeSize,
 *   dataTypeModifier, format: "text" }], rows: [[text | null, …]], command, rowCount,
 *   rowAsArray }`, or `{ results: [that, …] }` for a batch.
 * - A PostgreSQL error: HTTP 400 `{ message, code, detail, hint, position, internalPosition,
 *   internalQuery, severity, where, table, column, schema, dataType, constraint, file, line,
 *   routine }` (absent fields null). Any other failure (such as PostgreSQL being unreachable):
 *   HTTP 500 with the same shape and `code: ""`.
 *
 * @module
 */
import pg from "pg";

/** A running endpoint. */
export interface NeonHttpServer {
  /** The URL to give `neonConfig.fetchEndpoint`, `http://127.0.0.1:PORT/sql`. */
  url: string;
  /** Its port on 127.0.0.1. */
  port: number;
  /** How many SQL requests it has answered (one per query, one per batch). */
  readonly requests: number;
  /** Stops the server and ends its pools. */
  close(): Promise<void>;
}

/** What pg returns for a query with `rowMode: "array"` and the raw-text parsers. */
interface RawResult {
  fields: {
    name: string;
    dataTypeID: number;
    tableID: number;
    columnID: number;
    dataTypeSize: number;
    dataTypeModifier: number;
  }[];
  rows: (string | null)[][];
  command: string | null;
  rowCount: number | null;
}

interface QueryData {
  query: string;
  params?: unknown[];
  arrayMode?: boolean;
}

const ISOLATION_LEVELS: Record<string, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

const ERROR_FIELDS = [
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "severity",
  "where",
  "table",
  "column",
  "schema",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

/** Values come back as the server's text, as with `Neon-Raw-Text-Output: true`. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

/** A request the endpoint refuses before running anything (HTTP 400, no SQLSTATE). */
class RequestError extends Error {}

/** Where {@linkcode startNeonHttpServer} listens, and what it may connect to. */
export interface EndpointOptions {
  /** The port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Serve only connection strings to this `host:port`; any by default. */
  only?: string;
}

/** Starts the endpoint on 127.0.0.1 (a free port unless `port` is given). */
export function startNeonHttpServer(options: EndpointOptions = {}): Promise<NeonHttpServer> {
  const pools = new Map<string, pg.Pool>();
  let requests = 0;
  const poolFor = (connectionString: string) => {
    let pool = pools.get(connectionString);
    if (!pool) {
      pool = new pg.Pool({ connectionString, max: 4 });
      pool.on("error", () => {}); // an idle connection dropped: the next checkout replaces it
      pools.set(connectionString, pool);
    }
    return pool;
  };

  const handle = async (request: Request): Promise<Response> => {
    if (new URL(request.url).pathname !== "/sql") return new Response("Not found", { status: 404 });
    if (request.method !== "POST") return new Response("Use POST", { status: 405 });
    requests++;
    try {
      const headers = request.headers;
      const connectionString = headers.get("Neon-Connection-String");
      if (!connectionString) throw new RequestError("missing connection string");
      if (options.only !== undefined && serverOf(connectionString) !== options.only) {
        throw new RequestError(`this endpoint serves only the database at ${options.only}`);
      }
      if (headers.get("Neon-Raw-Text-Output") !== "true") {
        throw new RequestError("this test endpoint supports only Neon-Raw-Text-Output: true");
      }
      const arrayMode = headers.get("Neon-Array-Mode") === "true";
      const isolation = headers.get("Neon-Batch-Isolation-Level");
      if (isolation !== null && !(isolation in ISOLATION_LEVELS)) {
        throw new RequestError("invalid isolation level");
      }
      let payload: { queries?: unknown } & Partial<QueryData>;
      try {
        payload = await request.json();
      } catch (error) {
        throw new RequestError(`could not parse the request body: ${error}`);
      }
      const pool = poolFor(connectionString);
      if (Array.isArray(payload.queries)) {
        const queries = payload.queries.map(checkQuery);
        const modes = [
          isolation !== null ? `ISOLATION LEVEL ${ISOLATION_LEVELS[isolation]}` : "",
          headers.get("Neon-Batch-Read-Only") === "true" ? "READ ONLY" : "",
          headers.get("Neon-Batch-Deferrable") === "true" ? "DEFERRABLE" : "",
        ].filter(Boolean).join(", ");
        const results = await inTransaction(pool, `BEGIN ${modes}`, queries, arrayMode);
        const echo: Record<string, string> = {};
        for (const name of ["Isolation-Level", "Read-Only", "Deferrable"]) {
          const value = headers.get(`Neon-Batch-${name}`);
          if (value !== null && value !== "false") echo[`Neon-Batch-${name}`] = value;
        }
        return Response.json({ results }, { headers: echo });
      }
      return Response.json(await run(pool, checkQuery(payload), arrayMode));
    } catch (error) {
      return errorResponse(error);
    }
  };

  const { promise, resolve } = Promise.withResolvers<NeonHttpServer>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    onListen: ({ port }) =>
      resolve({
        url: `http://127.0.0.1:${port}/sql`,
        port,
        get requests() {
          return requests;
        },
        close,
      }),
  }, handle);
  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      await server.shutdown();
      await Promise.all([...pools.values()].map((pool) => pool.end()));
      pools.clear();
    })();
    return closing;
  }
  return promise;
}

/**
 * The `host:port` a connection string points to (port 5432 by default), or "" if it is not a
 * URL.
 *
 * @param connectionString A `postgres://` URL.
 * @returns Such as `127.0.0.1:5432`.
 */
export function serverOf(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || "5432"}`;
  } catch {
    return "";
  }
}

function checkQuery(data: unknown): QueryData {
  const query = data as QueryData;
  if (
    typeof query !== "object" || query === null || typeof query.query !== "string" ||
    (query.params !== undefined && !Array.isArray(query.params))
  ) {
    throw new RequestError("expected { query, params } or { queries: [{ query, params }, ...] }");
  }
  return query;
}

async function inTransaction(
  pool: pg.Pool,
  begin: string,
  queries: QueryData[],
  arrayMode: boolean,
): Promise<unknown[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(begin.trim());
    try {
      const results = [];
      for (const query of queries) results.push(await run(client, query, arrayMode));
      await client.query("COMMIT");
      return results;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    }
  } catch (error) {
    if (!isDatabaseError(error)) broken = error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}

async function run(
  client: pg.Pool | pg.PoolClient,
  data: QueryData,
  defaultArrayMode: boolean,
): Promise<unknown> {
  const result: RawResult = await client.query({
    text: data.query,
    values: (data.params ?? []).map(toPgText),
    rowMode: "array",
    types: RAW_TEXT,
    queryMode: "extended",
  });
  const arrayMode = data.arrayMode ?? defaultArrayMode;
  const names = result.fields.map((f) => f.name);
  return {
    fields: result.fields.map((f) => ({
      name: f.name,
      dataTypeID: f.dataTypeID,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: "text",
    })),
    command: result.command ?? "",
    rowCount: result.rowCount,
    rows: arrayMode
      ? result.rows
      : result.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]]))),
    rowAsArray: arrayMode,
  };
}

/** A JSON parameter as PostgreSQL text, as Neon's proxy converts it (`json_to_pg_text`). */
function toPgText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return toPgArray(value);
  return JSON.stringify(value);
}

function toPgArray(value: unknown): string {
  if (value === null) return "NULL";
  if (Array.isArray(value)) return `{${value.map(toPgArray).join(",")}}`;
  if (typeof value === "object") return JSON.stringify(JSON.stringify(value));
  return JSON.stringify(value);
}

function isDatabaseError(error: unknown): error is pg.DatabaseError {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) &&
    typeof (error as { severity?: unknown }).severity === "string";
}

function errorResponse(error: unknown): Response {
  const body: Record<string, unknown> = {
    message: error instanceof Error ? error.message : String(error),
    code: "",
  };
  for (const field of ERROR_FIELDS) body[field] = null;
  if (isDatabaseError(error)) {
    body.code = error.code;
    for (const field of ERROR_FIELDS) body[field] = error[field] ?? null;
  }
  const status = isDatabaseError(error) || error instanceof RequestError ? 400 : 500;
  return Response.json(body, { status, headers: { "Access-Control-Allow-Origin": "*" } });
}
