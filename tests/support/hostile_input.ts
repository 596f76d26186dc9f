/**
 * What the hostile-input tests share: injection payloads, a settled outcome, the check that a
 * failure is a ValidationError, objects with keys defined (not assigned), a cursor envelope,
 * raw inserts of rows other programs wrote.
 *
 * @module
 */
import assert from "node:assert/strict";
import type pg from "pg";
import {
  DatabaseError,
  migrate,
  PgStorage,
  type SqlDriver,
  type StoredInstance,
  ValidationError,
} from "../../mod.ts";
import { nodePostgresDriver } from "../../drivers/node_postgres.ts";
import { withTestSchema } from "./test_db.ts";

/** Strings that try to end a literal, an identifier or a statement, or to widen a LIKE. */
export const PAYLOADS: readonly string[] = [
  "'",
  "''",
  '"',
  "\\",
  "\\'",
  "%",
  "_",
  "%_\\%",
  "'; DROP TABLE canary; --",
  '"; DROP SCHEMA public CASCADE; --',
  "'); DELETE FROM workflow_instances; --",
  "' OR '1'='1",
  "') OR true --",
  "%' OR workflow LIKE '%",
  "\\'; TRUNCATE canary; --",
  "$1",
  "$$; DROP TABLE canary; $$",
  "$heph_migration$",
  "$heph_sql$",
  "{schema}",
  "*/ DROP TABLE canary; /*",
  "--",
  ";",
  "\n; UPDATE canary SET note = 'pwned';",
  "E'\\x00'",
  "\u0000",
  "a\u0000'; DROP TABLE canary; --",
  "\uD800'",
  "😀'\"\\",
  "\u2028\u2029",
  "x".repeat(255) + "'",
];

/** A PgStorage on `schema` whose onQuery hook keeps every SQL text it sent, in `sent`. */
export function recordingStorage(
  driver: SqlDriver,
  schema: string,
): { storage: PgStorage; sent: string[] } {
  const sent: string[] = [];
  const storage = new PgStorage({ driver, schema, onQuery: ({ sql }) => sent.push(sql) });
  return { storage, sent };
}

/** An operation's value, or what it threw. */
export type Outcome<T> = { value: T } | { error: unknown };

/** Settles an operation: its value, or what it threw. */
export async function outcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { value: await work() };
  } catch (error) {
    return { error };
  }
}

/** Asserts that a failure is a ValidationError (never a database error). */
export function refusedOrRan(result: Outcome<unknown>, what: string): void {
  if ("error" in result) {
    assert.ok(
      result.error instanceof ValidationError,
      `${what}: ${
        result.error instanceof DatabaseError
          ? `${result.error.code} ${result.error.message}`
          : result.error
      }`,
    );
  }
}

/** An object with these keys defined as own data properties ("__proto__" included). */
export function defineAll(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** The ids of instances, in order. */
export const ids = (instances: StoredInstance[]): string[] => instances.map((i) => i.id);

/** A page cursor's form (base64url of JSON) around any value. */
export function encodeCursor(value: unknown): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(value))))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Runs SQL on the test pool. */
export type Raw = (text: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** A migrated schema of one test's own, reached through node-postgres and raw SQL. */
export interface HostileSchema {
  /** The test database's URL. */
  url: string;
  /** The schema's name. */
  schema: string;
  /** node-postgres over the test pool. */
  driver: SqlDriver;
  /** Runs SQL on the test pool. */
  raw: Raw;
  /** `"<schema>".workflow_instances`. */
  table: string;
}

/**
 * Runs `body` on a freshly migrated schema named after `prefix`, dropped afterwards.
 *
 * @param prefix The schema name's prefix.
 * @param body The test.
 */
export async function withHostileSchema(
  prefix: string,
  body: (db: HostileSchema) => Promise<void>,
): Promise<void> {
  const db = await withTestSchema(prefix);
  const driver = nodePostgresDriver(db.pool);
  try {
    await migrate(driver, { schema: db.schema });
    await body({
      url: db.url,
      schema: db.schema,
      driver,
      raw: (text, params = []) => db.pool.query(text, params),
      table: `"${db.schema}".workflow_instances`,
    });
  } finally {
    await db.drop();
  }
}

/**
 * Inserts a row as another program would: workflow 'W', version 1, pending, `state` as given.
 *
 * @param raw Runs SQL on the test pool.
 * @param table The quoted, schema-qualified table.
 */
export function rawInsert(
  raw: Raw,
  table: string,
): (id: string, state: string) => Promise<unknown> {
  return (id, state) =>
    raw(
      `INSERT INTO ${table} (id, workflow, workflow_version, status, state) VALUES ($1, 'W', 1, 'pending', $2::jsonb)`,
      [id, state],
    );
}
