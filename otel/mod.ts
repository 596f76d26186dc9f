/**
 * OpenTelemetry spans for {@linkcode PgStorage}: one span per storage operation, started before
 * its SQL statement is sent and ended after the answer, so the spans of an instrumented driver
 * (or anything else the statement causes) nest under it. The only module of the package that
 * imports `@opentelemetry/api`; it is built on {@linkcode QueryWrapper}, the hook any other
 * tracer can use too.
 *
 * Each span is named `<operation> workflow_instances` (such as `put workflow_instances`), of
 * kind CLIENT, with the database semantic conventions: `db.system.name` (`postgresql`),
 * `db.operation.name` (the storage operation), `db.collection.name` (`workflow_instances`),
 * `db.namespace` (the schema) and `db.response.returned_rows`. Never parameter values, instance
 * state or ids. A failure is recorded as an exception event, an ERROR status and `error.type`
 * (the SQLSTATE, or the error's name).
 *
 * @example Trace a storage
 * ```ts ignore
 * import pg from "npm:pg";
 * import { PgStorage } from "@heph/pg";
 * import { nodePostgresDriver } from "@heph/pg/node-postgres";
 * import { openTelemetry } from "@heph/pg/otel";
 *
 * const driver = nodePostgresDriver(new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") }));
 * const storage = new PgStorage({ driver, wrapQuery: openTelemetry() });
 * ```
 *
 * @module
 */

import {
  type Attributes,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "npm:@opentelemetry/api@^1.9.0";
import type { QueryInfo, QueryWrapper } from "../src/pg_storage.ts";
import type { SqlResult } from "../src/driver.ts";

/**
 * Options of {@linkcode openTelemetry}.
 *
 * @example
 * ```ts
 * import { trace } from "npm:@opentelemetry/api@^1.9.0";
 * import type { OpenTelemetryOptions } from "@heph/pg/otel";
 *
 * const options: OpenTelemetryOptions = { tracer: trace.getTracer("orders") };
 * ```
 */
export interface OpenTelemetryOptions {
  /**
   * The tracer to start spans with; by default the global tracer provider's tracer named
   * `@heph/pg`, looked up at each statement (so a provider registered later is used).
   */
  tracer?: Tracer;
}

/**
 * Makes a {@linkcode QueryWrapper} that runs each statement in a span of its own, made active
 * while the statement runs: spans started by the driver become its children, and the span
 * itself is a child of whatever span is active when the storage operation is called.
 *
 * @param options The tracer to use (the global `@heph/pg` tracer by default).
 * @returns The wrapper, for {@linkcode PgStorageOptions.wrapQuery}.
 *
 * @example
 * ```ts
 * import { openTelemetry } from "@heph/pg/otel";
 *
 * const wrapQuery = openTelemetry();
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): QueryWrapper {
  const tracer = options.tracer;
  return (info: QueryInfo, run: () => Promise<SqlResult>): Promise<SqlResult> =>
    (tracer ?? trace.getTracer("@heph/pg")).startActiveSpan(
      `${info.operation} ${info.table}`,
      { kind: SpanKind.CLIENT, attributes: attributesOf(info) },
      async (span) => {
        try {
          const result = await run();
          span.setAttribute("db.response.returned_rows", result.rows.length);
          return result;
        } catch (error) {
          const { code, name, message } = error as {
            code?: unknown;
            name?: unknown;
            message?: unknown;
          };
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(message ?? error) });
          span.setAttribute(
            "error.type",
            typeof code === "string" ? code : String(name ?? "Error"),
          );
          throw error;
        } finally {
          span.end();
        }
      },
    );
}

function attributesOf(info: QueryInfo): Attributes {
  return {
    "db.system.name": "postgresql",
    "db.operation.name": info.operation,
    "db.collection.name": info.table,
    "db.namespace": info.schema,
  };
}
