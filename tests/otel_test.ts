/**
 * `@heph/pg/otel` with the OpenTelemetry SDK's in-memory exporter and an async context manager:
 * real spans, on a real PostgreSQL.
 *
 * @module
 */
import assert from "node:assert/strict";
import { context, SpanKind, SpanStatusCode, trace } from "npm:@opentelemetry/api@^1.9.0";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "npm:@opentelemetry/sdk-trace-base@^2.0.0";
import { AsyncLocalStorageContextManager } from "npm:@opentelemetry/context-async-hooks@^2.0.0";
import { DatabaseError, migrate, newInstance, PgStorage, type SqlDriver } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { openTelemetry } from "../otel/mod.ts";
import { withTestSchema } from "./support/test_db.ts";

Deno.test("openTelemetry() spans", async (t) => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const tracer = provider.getTracer("otel_test");
  const db = await withTestSchema("otel");
  const pool = nodePostgresDriver(db.pool);
  // An instrumented driver: it starts a span of its own for each statement it sends.
  const driver: SqlDriver = {
    query: (text, params) =>
      tracer.startActiveSpan("driver query", async (span) => {
        try {
          return await pool.query(text, params);
        } finally {
          span.end();
        }
      }),
    transaction: (statements) => pool.transaction(statements),
  };
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
  try {
    await migrate(pool, { schema: db.schema });
    const storage = new PgStorage({
      driver,
      schema: db.schema,
      wrapQuery: openTelemetry({ tracer }),
    });

    await t.step(
      "under a parent span, put() is a child span with the database attributes",
      async () => {
        exporter.reset();
        await tracer.startActiveSpan("handle order", async (parent) => {
          await storage.put(
            newInstance({ id: "order::1", workflow: "Shop.Order", initial: { card: "4111" } }),
          );
          parent.end();
        });
        const spans = exporter.getFinishedSpans();
        const parent = spans.find((s) => s.name === "handle order")!;
        const put = spans.find((s) => s.name === "put workflow_instances")!;
        const inner = spans.find((s) => s.name === "driver query")!;
        assert.ok(parent && put && inner, spans.map((s) => s.name).join(", "));
        assert.equal(
          parentOf(put),
          parent.spanContext().spanId,
          "put nests under the caller's span",
        );
        assert.equal(
          parentOf(inner),
          put.spanContext().spanId,
          "the driver's span nests under put",
        );
        assert.equal(put.spanContext().traceId, parent.spanContext().traceId);
        assert.equal(put.kind, SpanKind.CLIENT);
        assert.deepEqual(put.attributes, {
          "db.system.name": "postgresql",
          "db.operation.name": "put",
          "db.collection.name": "workflow_instances",
          "db.namespace": db.schema,
          "db.response.returned_rows": 1,
        });
        assert.equal(put.status.code, SpanStatusCode.UNSET);
        assert.ok(!JSON.stringify(put.attributes).includes("4111"), "no values in the span");
        // The span covers the statement: the driver's span ended first, then put's, then the parent's.
        assert.deepEqual(spans.map((s) => s.name), [
          "driver query",
          "put workflow_instances",
          "handle order",
        ]);
      },
    );

    await t.step("a failed statement is recorded on its span and still thrown", async () => {
      exporter.reset();
      const missing = new PgStorage({
        driver,
        schema: `${db.schema}_none`,
        wrapQuery: openTelemetry({ tracer }),
      });
      const thrown = await missing.get("order::1").catch((error) => error);
      assert.ok(thrown instanceof DatabaseError);
      const [get] = exporter.getFinishedSpans().filter((s) => s.name === "get workflow_instances");
      assert.ok(get, "the failed get has a span");
      assert.equal(get.status.code, SpanStatusCode.ERROR);
      assert.equal(get.status.message, thrown.message);
      assert.equal(get.attributes["error.type"], "42P01");
      assert.equal(get.attributes["db.namespace"], `${db.schema}_none`);
      const exception = get.events.find((e) => e.name === "exception");
      assert.equal(exception?.attributes?.["exception.type"], "42P01");
      assert.equal(exception?.attributes?.["exception.message"], thrown.message);
    });

    await t.step(
      "without a tracer, spans go to the global provider's @heph/pg tracer",
      async () => {
        exporter.reset();
        trace.setGlobalTracerProvider(provider);
        try {
          await new PgStorage({ driver, schema: db.schema, wrapQuery: openTelemetry() }).count({});
        } finally {
          trace.disable();
        }
        const [count] = exporter.getFinishedSpans().filter((s) =>
          s.name === "count workflow_instances"
        );
        assert.equal(count?.instrumentationScope.name, "@heph/pg");
      },
    );
  } finally {
    context.disable();
    await provider.shutdown();
    await db.drop();
  }
});
