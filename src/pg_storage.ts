/**
 * PgStorage: the {@linkcode Storage} contract on PostgreSQL, one SQL statement per operation.
 *
 * @module
 */

import type { SqlDriver } from "./driver.ts";
import { ConflictError, DatabaseError, toDatabaseError, ValidationError } from "./errors.ts";
import { validateExpectedRevision, validateFilter } from "./options.ts";
import type { StoredInstance, WorkflowInstance } from "./instance.ts";
import { DEFAULT_SCHEMA, quoteSchema } from "./schema.ts";
import { decodeInstance, encodeInstance, type InstanceRow, validateId } from "./serializer.ts";
import type { InstanceFilter, PutOptions, PutResult, Storage } from "./storage.ts";

/**
 * Options of {@linkcode PgStorage}.
 *
 * @example
 * ```ts ignore
 * import type { PgStorageOptions, SqlDriver } from "@heph/pg";
 *
 * declare const driver: SqlDriver;
 * const options: PgStorageOptions = { driver, schema: "tenant_a" };
 * ```
 */
export interface PgStorageOptions {
  /** The driver wrapping your PostgreSQL client. */
  driver: SqlDriver;
  /** The schema holding `workflow_instances`; `"public"` by default. */
  schema?: string;
}

/**
 * The columns, in forms every driver returns alike: numbers and timestamps as text (epoch
 * milliseconds), converted in the core. `state` stays jsonb: every driver parses it with
 * `JSON.parse` while rows are still arriving, which for many rows beats casting to text
 * (measured in bench/); the decoder accepts either form.
 */
const COLUMNS = `w.id, w.workflow, w.workflow_version::text AS workflow_version, w.status, w.state,
  w.revision::text AS revision,
  (extract(epoch FROM w.inserted_at) * 1000)::text AS inserted_at,
  (extract(epoch FROM w.updated_at) * 1000)::text AS updated_at`;

/** The statement's time, at the millisecond precision a Date holds. */
const NOW = `date_trunc('milliseconds', now())`;

/**
 * Workflow instances in a PostgreSQL table, through any {@linkcode SqlDriver}. Every operation
 * is exactly one SQL statement: one round trip, atomic on its own, fit for HTTP drivers.
 * Several PgStorage on different schemas coexist, one per tenant.
 *
 * @example Store, read, query, delete
 * ```ts ignore
 * import pg from "npm:pg";
 * import { migrate, newInstance, PgStorage } from "@heph/pg";
 * import { nodePostgresDriver } from "@heph/pg/node-postgres";
 *
 * const driver = nodePostgresDriver(new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") }));
 * await migrate(driver);
 * const storage = new PgStorage({ driver });
 * await storage.put(newInstance({ id: "order::123", workflow: "Shop.OrderWorkflow", initial: { order_id: 123 } }));
 * const found = await storage.get("order::123");
 * await storage.query({ statusIn: ["pending", "running"], workflow: "Shop.OrderWorkflow" });
 * await storage.delete("order::123");
 * ```
 */
export class PgStorage implements Storage {
  /** The schema this storage reads and writes. */
  readonly schema: string;
  #driver: SqlDriver;
  #sql: Readonly<ReturnType<typeof statements>>;

  /**
   * Creates a storage over a driver, on one schema.
   *
   * @param options The driver and the schema.
   * @throws {ValidationError} When the schema is not a lowercase identifier of at most 63 characters.
   */
  constructor(options: PgStorageOptions) {
    if (typeof options?.driver?.query !== "function") {
      throw new ValidationError("Invalid options: driver must be a SqlDriver");
    }
    this.schema = options.schema ?? DEFAULT_SCHEMA;
    this.#sql = Object.freeze(statements(`${quoteSchema(this.schema)}.workflow_instances`));
    this.#driver = options.driver;
  }

  /**
   * Reads one instance.
   *
   * @param id The instance id.
   * @returns The instance, or null.
   * @throws {ValidationError} On an invalid id.
   * @throws {CorruptRecordError} When the stored row cannot be decoded.
   */
  async get(id: string): Promise<StoredInstance | null> {
    const rows = await this.#query(this.#sql.get, [validateId(id)]);
    return rows.length === 0 ? null : decodeInstance(rows[0] as unknown as InstanceRow);
  }

  /**
   * Inserts or updates an instance in one statement. The workflow version is fixed by the first
   * insert. With `expectedRevision`, the check and the write are the same statement.
   *
   * @param instance The instance.
   * @param options `expectedRevision`: `0` for "must not exist", `n` for "must be at revision n".
   * @returns The revision now stored.
   * @throws {ValidationError} On an invalid instance or option.
   * @throws {SerializationError} When a value cannot be stored faithfully.
   * @throws {ConflictError} When the expected revision does not match; nothing is written.
   */
  async put(instance: WorkflowInstance, options: PutOptions = {}): Promise<PutResult> {
    const expected = validateExpectedRevision(options?.expectedRevision);
    const row = encodeInstance(instance);
    const params = [row.id, row.workflow, row.workflowVersion, row.status, row.state];
    if (expected === undefined) {
      const rows = await this.#query(this.#sql.upsert, params);
      return { revision: Number(rows[0].revision) };
    }
    const [result] = expected === 0
      ? await this.#query(this.#sql.insert, params)
      : await this.#query(this.#sql.update, [
        row.id,
        row.workflow,
        row.status,
        row.state,
        expected,
      ]);
    if (result.revision === null) {
      // With expectedRevision 0 the row exists; a concurrent insert may be too new to read.
      const actual = result.current !== null ? Number(result.current) : expected === 0 ? null : 0;
      throw new ConflictError(row.id, expected, actual);
    }
    return { revision: Number(result.revision) };
  }

  /**
   * Deletes an instance; deleting a missing one is not an error.
   *
   * @param id The instance id.
   * @throws {ValidationError} On an invalid id.
   */
  async delete(id: string): Promise<void> {
    await this.#query(this.#sql.delete, [validateId(id)]);
  }

  /**
   * Lists instances matching a filter, ordered by insertion time then id.
   *
   * @param filter Which instances; `{}` for all.
   * @returns The matches.
   * @throws {ValidationError} On an unknown filter key or an invalid value.
   * @throws {CorruptRecordError} When a stored row cannot be decoded (names its id).
   */
  async query(filter: InstanceFilter): Promise<StoredInstance[]> {
    const { where, params } = compileFilter(validateFilter(filter));
    const rows = await this.#query(
      `${this.#sql.select} ${where} ORDER BY w.inserted_at, w.id COLLATE "C"`,
      params,
    );
    return rows.map((row) => decodeInstance(row as unknown as InstanceRow));
  }

  async #query(text: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    try {
      return (await this.#driver.query(text, params)).rows;
    } catch (error) {
      const wrapped = toDatabaseError(error);
      if (wrapped.code === "42P01") {
        throw new DatabaseError(
          `Table ${
            quoteSchema(this.schema)
          }.workflow_instances does not exist: run migrate(driver, { schema: "${this.schema}" }) or deno task migrate first`,
          { sqlState: "42P01", cause: error },
        );
      }
      throw wrapped;
    }
  }
}

function statements(table: string) {
  const insertColumns = `INSERT INTO ${table} AS t
    (id, workflow, workflow_version, status, state, revision, inserted_at, updated_at)
    VALUES ($1, $2, $3::integer, $4, $5::text::jsonb, 1, ${NOW}, ${NOW})`;
  // On a conflict, the revision found: FOR SHARE waits for a concurrent writer and reads its
  // committed row, so `actual` is the revision a retry should expect.
  const current = `(SELECT revision::text FROM ${table} WHERE id = $1 FOR SHARE) AS current`;
  return {
    get: `SELECT ${COLUMNS} FROM ${table} w WHERE w.id = $1`,
    select: `SELECT ${COLUMNS} FROM ${table} w`,
    delete: `DELETE FROM ${table} WHERE id = $1`,
    upsert: `${insertColumns}
    ON CONFLICT (id) DO UPDATE SET workflow = EXCLUDED.workflow, status = EXCLUDED.status,
      state = EXCLUDED.state, revision = t.revision + 1, updated_at = EXCLUDED.updated_at
    RETURNING revision::text AS revision`,
    insert: `WITH written AS (${insertColumns} ON CONFLICT (id) DO NOTHING RETURNING revision)
    SELECT (SELECT revision::text FROM written) AS revision, ${current}`,
    update: `WITH written AS (
      UPDATE ${table} SET workflow = $2, status = $3, state = $4::text::jsonb,
        revision = revision + 1, updated_at = ${NOW}
      WHERE id = $1 AND revision = $5::bigint
      RETURNING revision)
    SELECT (SELECT revision::text FROM written) AS revision, ${current}`,
  };
}

function compileFilter(filter: Readonly<InstanceFilter>): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const bind = (value: unknown) => `$${params.push(value)}`;
  const conditions: string[] = [];
  if (filter.id !== undefined) conditions.push(`w.id = ${bind(filter.id)}`);
  if (filter.status !== undefined) conditions.push(`w.status = ${bind(filter.status)}`);
  if (filter.statusIn !== undefined) {
    conditions.push(
      filter.statusIn.length === 0
        ? "false"
        : `w.status IN (${filter.statusIn.map(bind).join(", ")})`,
    );
  }
  if (filter.workflow !== undefined) conditions.push(`w.workflow = ${bind(filter.workflow)}`);
  if (filter.workflowVersion !== undefined) {
    conditions.push(`w.workflow_version = ${bind(filter.workflowVersion)}::integer`);
  }
  if (filter.workflowFamily !== undefined) {
    const pattern = filter.workflowFamily.replace(/[\\%_]/g, "\\$&") + "%";
    conditions.push(`w.workflow LIKE ${bind(pattern)} ESCAPE E'\\\\'`);
  }
  return { where: conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`, params };
}
