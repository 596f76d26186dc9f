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

import { SpanKind, SpanStatusCode, trace } from "npm:@opentelemetry/api@^1.9.0";
import type { QueryInfo, QueryWrapper } from "../src/pg_storage.ts";
import type { SqlResult } from "../src/driver.ts";

/**
 * What {@linkcode openTelemetry} needs of a span: the part of OpenTelemetry's `Span` it uses.
 *
 * @example
 * ```ts
 * import { trace } from "npm:@opentelemetry/api@^1.9.0";
 * import type { OpenTelemetrySpan } from "@heph/pg/otel";
 *
 * const span: OpenTelemetrySpan = trace.getTracer("orders").startSpan("work");
 * span.end();
 * ```
 */
export interface OpenTelemetrySpan {
  /** Sets one attribute. */
  setAttribute(key: string, value: string | number): unknown;
  /** Records an exception as an event. */
  recordException(exception: Error | string): void;
  /** Sets the status: `2` is ERROR. */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Ends the span. */
  end(): void;
}

/**
 * What {@linkcode openTelemetry} needs of a tracer: the part of OpenTelemetry's `Tracer` it
 * uses. Any `Tracer` of `@opentelemetry/api` 1.x is one.
 *
 * @example
 * ```ts
 * import { trace } from "npm:@opentelemetry/api@^1.9.0";
 * import type { OpenTelemetryTracer } from "@heph/pg/otel";
 *
 * const tracer: OpenTelemetryTracer = trace.getTracer("orders");
 * ```
 */
export interface OpenTelemetryTracer {
  /**
   * Starts a span, makes it active while `fn` runs, and returns what `fn` returns.
   *
   * @param name The span's name.
   * @param options Its kind (`2` is CLIENT) and attributes.
   * @param fn What runs with the span active.
   * @returns What `fn` returned.
   */
  startActiveSpan<F extends (span: OpenTelemetrySpan) => unknown>(
    name: string,
    options: { kind?: number; attributes?: Record<string, string | number> },
    fn: F,
  ): ReturnType<F>;
}

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
  tracer?: OpenTelemetryTracer;
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
  const tracer = (): OpenTelemetryTracer => options.tracer ?? trace.getTracer("@heph/pg");
  return (info: QueryInfo, run: () => Promise<SqlResult>): Promise<SqlResult> =>
    tracer().startActiveSpan(
      `${info.operation} ${info.table}`,
      { kind: SpanKind.CLIENT, attributes: attributesOf(info) },
      async (span: OpenTelemetrySpan): Promise<SqlResult> => {
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

function attributesOf(info: QueryInfo): Record<string, string> {
  return {
    "db.system.name": "postgresql",
    "db.operation.name": info.operation,
    "db.collection.name": info.table,
    "db.namespace": info.schema,
  };
}
