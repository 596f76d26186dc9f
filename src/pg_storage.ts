/**
 * PgStorage: the {@linkcode Storage} contract on PostgreSQL, one SQL statement per operation.
 *
 * @module
 */

import type { SqlDriver, SqlResult } from "./driver.ts";
import {
  ConflictError,
  CorruptRecordError,
  DatabaseError,
  type HephError,
  isConnectionError,
  LeaseConflictError,
  toDatabaseError,
  ValidationError,
  wasNotSent,
} from "./errors.ts";
import { INSTANCE_STATUSES, type StoredInstance, type WorkflowInstance } from "./instance.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import {
  validateClaim,
  validateFilter,
  validateLease,
  validatePage,
  validatePrune,
  validatePut,
  validateRead,
} from "./options.ts";
import { compileFilter, statements, timestampParam } from "./pg_sql.ts";
import { scanPages } from "./scan.ts";
import { statementName } from "./statement_name.ts";
import { DEFAULT_SCHEMA, quoteSchema } from "./schema.ts";
import { decodeInstance, encodeInstance, encodeInstances, type InstanceRow } from "./serializer.ts";
import { describe, validateId } from "./validation.ts";
import type {
  ClaimOptions,
  CountGroup,
  InstanceFilter,
  LeaseOptions,
  Page,
  PageOptions,
  PruneOptions,
  PutManyResult,
  PutOptions,
  PutResult,
  ReadOptions,
  ReleaseLeaseOptions,
  RenewLeaseResult,
  ScanOptions,
  Storage,
} from "./storage.ts";

/**
 * The storage operations {@linkcode PgStorage} runs, one SQL statement each.
 *
 * @example
 * ```ts
 * import type { QueryOperation } from "@heph/pg";
 *
 * const writes: QueryOperation[] = ["put", "putMany", "delete", "prune"];
 * ```
 */
export type QueryOperation =
  | "get"
  | "put"
  | "putMany"
  | "delete"
  | "query"
  | "page"
  | "count"
  | "countGroups"
  | "estimateCount"
  | "claim"
  | "renewLease"
  | "releaseLease"
  | "prune";

/**
 * What a statement is about, known before it runs: what {@linkcode QueryWrapper} receives.
 * Never parameter values or instance state.
 *
 * @example
 * ```ts
 * import type { QueryInfo } from "@heph/pg";
 *
 * const info: QueryInfo = {
 *   operation: "get",
 *   schema: "public",
 *   table: "workflow_instances",
 *   instanceId: "order::1",
 *   sql: "SELECT …",
 * };
 * ```
 */
export interface QueryInfo {
  /** The storage operation. */
  operation: QueryOperation;
  /** The schema of the table. */
  schema: string;
  /** The table, without its schema. */
  table: "workflow_instances";
  /** The instance the operation is about, for get, put, delete, renewLease and releaseLease. */
  instanceId?: string;
  /** The SQL text (placeholders only; parameter values are never passed). */
  sql: string;
}

/**
 * What {@linkcode PgStorageOptions.onQuery} receives after each statement: never parameter values.
 *
 * @example
 * ```ts
 * import type { QueryEvent } from "@heph/pg";
 *
 * const event: QueryEvent = {
 *   operation: "get",
 *   schema: "public",
 *   table: "workflow_instances",
 *   instanceId: "order::1",
 *   sql: "SELECT …",
 *   durationMs: 0.4,
 *   rowCount: 1,
 * };
 * ```
 */
export interface QueryEvent extends QueryInfo {
  /** How long the statement took, in milliseconds. */
  durationMs: number;
  /** Rows the statement returned (0 when it failed). */
  rowCount: number;
  /** The error, when it failed. */
  error?: HephError;
}

/**
 * Runs around every statement: called before it is sent with what it is about and a `run`
 * function that sends it, it returns what `run` returned (or throws what it threw). Work done
 * around `run` (a span started before and ended after, a context made active) is in effect
 * while the driver runs the statement, so what the driver does nests inside it. `run` throws
 * the {@linkcode HephError} the operation will throw. `@heph/pg/otel` is one such wrapper;
 * any tracer or logger can be another.
 *
 * @example Time each statement with a wrapper of your own
 * ```ts
 * import type { QueryWrapper } from "@heph/pg";
 *
 * const timed: QueryWrapper = async (info, run) => {
 *   const started = performance.now();
 *   try {
 *     return await run();
 *   } finally {
 *     console.log(info.operation, info.schema, performance.now() - started);
 *   }
 * };
 * ```
 */
export type QueryWrapper = (info: QueryInfo, run: () => Promise<SqlResult>) => Promise<SqlResult>;

/**
 * What {@linkcode PgStorage.estimateCount} returns: a number of instances and whether it is an
 * estimate.
 *
 * @example
 * ```ts
 * import type { CountEstimate } from "@heph/pg";
 *
 * const shown: CountEstimate = { count: 1_204_000, estimated: true };
 * const label = `${shown.estimated ? "≈ " : ""}${shown.count.toLocaleString("en-US")} instances`;
 * ```
 */
export interface CountEstimate {
  /** How many instances. */
  count: number;
  /**
   * `true`: PostgreSQL's statistics estimate, as of the last ANALYZE scaled to the table's
   * current size (typically within a few percent); `false`: an exact count, made because the
   * table had no statistics yet.
   */
  estimated: boolean;
}

/**
 * Options of {@linkcode PgStorage}.
 *
 * @example
 * ```ts ignore
 * import type { PgStorageOptions, SqlDriver } from "@heph/pg";
 *
 * declare const driver: SqlDriver;
 * const options: PgStorageOptions = {
 *   driver,
 *   schema: "tenant_a",
 *   onQuery: (event) => console.log(event.operation, event.durationMs.toFixed(1), "ms"),
 * };
 * ```
 */
export interface PgStorageOptions {
  /** The driver wrapping your PostgreSQL client: the primary, which takes every write. */
  driver: SqlDriver;
  /**
   * A driver on a read replica (a hot standby streaming from the primary). `get`, `query`,
   * `page`, `scan` and `count` go to it unless called with `fromPrimary: true`; writes, claims,
   * leases and conditional puts always go to `driver`. A replica lags the primary a little, so a
   * read there may not show a write that just returned.
   */
  readDriver?: SqlDriver;
  /**
   * The table is a Citus distributed table (`migrate(driver, { distribute: true })`). Claims and
   * prunes then use forms Citus runs over many shards: without `SKIP LOCKED`, so a claim racing
   * another may return fewer instances than are free (even none); call it again.
   */
  distributed?: boolean;
  /** The schema holding `workflow_instances`; `"public"` by default. */
  schema?: string;
  /**
   * Called after every statement, succeeded or failed, for logs and traces. What it throws is
   * ignored; it may be async, but its promise is not awaited and a rejection is ignored too. It
   * should return quickly: it runs on the operation's path.
   */
  onQuery?: ((event: QueryEvent) => void) | ((event: QueryEvent) => Promise<unknown>);
  /**
   * Runs around every statement, for spans that nest (see {@linkcode QueryWrapper}). It must
   * call `run` once and return its result.
   */
  wrapQuery?: QueryWrapper;
}

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
  #readDriver: SqlDriver;
  #sql: ReturnType<typeof statements>;
  #onQuery: PgStorageOptions["onQuery"];
  #wrapQuery: QueryWrapper | undefined;
  /** The fixed statements (their text never varies with the input), by text: their names. */
  #names: Map<string, string>;

  /**
   * Creates a storage over a driver, on one schema.
   *
   * @param options The driver, the schema and optional `onQuery` and `wrapQuery` hooks.
   * @throws {ValidationError} When the schema is not a lowercase identifier of at most 63 characters.
   */
  constructor(options: PgStorageOptions) {
    if (typeof options?.driver?.query !== "function") {
      throw new ValidationError("Invalid options: driver must be a SqlDriver");
    }
    if (options.readDriver !== undefined && typeof options.readDriver?.query !== "function") {
      throw new ValidationError(
        `Invalid options: readDriver must be a SqlDriver, got ${describe(options.readDriver)}`,
      );
    }
    if (options.onQuery !== undefined && typeof options.onQuery !== "function") {
      throw new ValidationError(
        `Invalid options: onQuery must be a function, got ${describe(options.onQuery)}`,
      );
    }
    if (options.wrapQuery !== undefined && typeof options.wrapQuery !== "function") {
      throw new ValidationError(
        `Invalid options: wrapQuery must be a function, got ${describe(options.wrapQuery)}`,
      );
    }
    this.schema = options.schema ?? DEFAULT_SCHEMA;
    if (options.distributed !== undefined && typeof options.distributed !== "boolean") {
      throw new ValidationError(
        `Invalid options: distributed must be a boolean, got ${describe(options.distributed)}`,
      );
    }
    this.#sql = statements(
      `${quoteSchema(this.schema)}.workflow_instances`,
      options.distributed ?? false,
    );
    const sql = this.#sql;
    const fixed = [
      sql.get,
      sql.upsert,
      sql.upsertAsOwner,
      sql.insert,
      sql.update(false),
      sql.update(true),
      sql.putMany,
      sql.delete,
      sql.renew,
      sql.release,
    ];
    this.#names = new Map(fixed.map((text) => [text, statementName(text)]));
    this.#driver = options.driver;
    this.#readDriver = options.readDriver ?? options.driver;
    this.#onQuery = options.onQuery;
    this.#wrapQuery = options.wrapQuery;
  }

  /**
   * Reads one instance.
   *
   * @param id The instance id.
   * @param options `fromPrimary`: read from `driver` even when a `readDriver` is set.
   * @returns The instance, or null.
   * @throws {ValidationError} On an invalid id.
   * @throws {CorruptRecordError} When the stored row cannot be decoded.
   */
  async get<I extends object = Record<string, unknown>>(
    id: string,
    options?: ReadOptions,
  ): Promise<StoredInstance<I> | null> {
    const read = this.#reader(validateRead(options).fromPrimary);
    const checked = validateId(id);
    const rows = await this.#query("get", this.#sql.get, [checked], checked, read);
    return rows.length === 0 ? null : decode(rows[0]);
  }

  /**
   * Inserts or updates an instance in one statement. The workflow version is fixed by the first
   * insert. With `expectedRevision` and `owner`, the checks and the write are the same statement.
   *
   * @param instance The instance.
   * @param options `expectedRevision` (`0`: must not exist, `n`: must be at revision n) and
   *   `owner` (refused while another owner holds a live lease).
   * @returns The revision now stored.
   * @throws {ValidationError} On an invalid instance or option.
   * @throws {SerializationError} When a value cannot be stored faithfully.
   * @throws {ConflictError} When the expected revision does not match; nothing is written.
   * @throws {LeaseConflictError} When another owner holds a live lease; nothing is written.
   */
  async put(instance: WorkflowInstance<object>, options?: PutOptions): Promise<PutResult> {
    const { expectedRevision: expected, owner } = validatePut(options);
    const row = encodeInstance(instance);
    const params: unknown[] = [row.id, row.workflow, row.workflowVersion, row.status, row.state];
    if (expected === undefined && owner === undefined) {
      const rows = await this.#query("put", this.#sql.upsert, params, row.id);
      return { revision: Number(rows[0].revision) };
    }
    let text: string;
    if (expected === undefined) text = this.#sql.upsertAsOwner;
    else if (expected === 0) text = this.#sql.insert;
    else {
      params.splice(2, 1); // an update keeps the stored workflow version
      params.push(expected);
      text = this.#sql.update(owner !== undefined);
    }
    if (owner !== undefined && expected !== 0) params[5] = owner;
    const [result] = await this.#query("put", text, params, row.id);
    if (result.revision !== null) return { revision: Number(result.revision) };
    if (owner !== undefined && expected !== 0 && heldByAnother(result, owner)) {
      throw leaseConflict(row.id, owner, result);
    }
    // With expectedRevision 0 the row exists; a concurrent insert may be too new to read.
    const actual = result.current !== null ? Number(result.current) : expected === 0 ? null : 0;
    throw new ConflictError(row.id, expected ?? null, actual);
  }

  /**
   * Inserts or updates several instances in one statement, all or nothing.
   *
   * @param instances The instances; each id at most once.
   * @returns The revisions now stored, in the order given.
   * @throws {ValidationError} On an invalid instance or a repeated id (nothing is written).
   * @throws {SerializationError} When a value cannot be stored faithfully (nothing is written).
   */
  async putMany(instances: readonly WorkflowInstance<object>[]): Promise<PutManyResult> {
    const rows = encodeInstances(instances);
    if (rows.length === 0) return { revisions: [] };
    const json = `[${
      rows.map((r) =>
        `{"id":${JSON.stringify(r.id)},"workflow":${
          JSON.stringify(r.workflow)
        },"workflow_version":${r.workflowVersion},"status":"${r.status}","state":${r.state}}`
      ).join(",")
    }]`;
    const result = await this.#query("putMany", this.#sql.putMany, [json]);
    const revisions = new Map(result.map((r) => [r.id as string, Number(r.revision)]));
    return { revisions: rows.map((r) => revisions.get(r.id)!) };
  }

  /**
   * Deletes an instance; deleting a missing one is not an error.
   *
   * @param id The instance id.
   * @throws {ValidationError} On an invalid id.
   */
  async delete(id: string): Promise<void> {
    const checked = validateId(id);
    await this.#query("delete", this.#sql.delete, [checked], checked);
  }

  /**
   * Lists all instances matching a filter, ordered by insertion time then id.
   *
   * @param filter Which instances; `{}` for all.
   * @param options `fromPrimary`: read from `driver` even when a `readDriver` is set.
   * @returns The matches.
   * @throws {ValidationError} On an unknown filter key or an invalid value.
   * @throws {CorruptRecordError} When a stored row cannot be decoded (names its id).
   */
  async query<I extends object = Record<string, unknown>>(
    filter: InstanceFilter,
    options?: ReadOptions,
  ): Promise<StoredInstance<I>[]> {
    const read = this.#reader(validateRead(options).fromPrimary);
    const { where, params } = compileFilter(validateFilter(filter));
    const rows = await this.#query(
      "query",
      `${this.#sql.select} ${where} ${this.#sql.order}`,
      params,
      undefined,
      read,
    );
    return rows.map(decode<I>);
  }

  /**
   * Reads one page in insertion order (keyset pagination on insertion time and id): stable
   * while others write, and as fast for the thousandth page as for the first.
   *
   * @param filter Which instances.
   * @param options `limit` (1 to 1000), the `cursor` of the previous page, `skipCorrupt` and
   *   `fromPrimary`.
   * @returns The items and the next cursor (null after the last page); with `skipCorrupt`, the
   *   rows that could not be decoded in `corrupt`.
   * @throws {ValidationError} On a bad filter, limit or cursor.
   * @throws {CorruptRecordError} When a row cannot be decoded, unless `skipCorrupt`.
   */
  async page<I extends object = Record<string, unknown>>(
    filter: InstanceFilter,
    options: PageOptions,
  ): Promise<Page<I>> {
    const { limit, cursor, skipCorrupt, fromPrimary, descending } = validatePage(options);
    const compiled = compileFilter(validateFilter(filter));
    const conditions = compiled.where === "" ? [] : [compiled.where.slice("WHERE ".length)];
    if (cursor !== null) {
      const position = decodeCursor(cursor);
      conditions.push(
        (descending ? this.#sql.before : this.#sql.after)(
          compiled.bind(position.insertedAt),
          compiled.bind(position.id),
        ),
      );
    }
    const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
    const order = descending ? this.#sql.orderDesc : this.#sql.order;
    const text = `${this.#sql.page} ${where} ${order} LIMIT ${compiled.bind(limit + 1)}::integer`;
    const rows = await this.#query(
      "page",
      text,
      compiled.params,
      undefined,
      this.#reader(fromPrimary),
    );
    const items = rows.slice(0, limit);
    const last = rows.length > limit ? items[limit - 1] : undefined;
    const nextCursor = last
      ? encodeCursor({ insertedAt: String(last.position), id: String(last.id) })
      : null;
    if (!skipCorrupt) return { items: items.map(decode<I>), nextCursor };
    const { healthy, corrupt } = decodeEach<I>(items);
    return { items: healthy, nextCursor, corrupt };
  }

  /**
   * Walks every matching instance, one page (one statement) at a time; memory stays bounded by
   * the batch size.
   *
   * @param filter Which instances.
   * @param options `batchSize`, 1 to 1000 (100 by default), and `fromPrimary`.
   * @returns The instances, in insertion order.
   * @throws {ValidationError} On a bad filter or batch size (when iteration starts).
   */
  scan<I extends object = Record<string, unknown>>(
    filter: InstanceFilter,
    options: ScanOptions = {},
  ): AsyncGenerator<StoredInstance<I>, void, undefined> {
    return scanPages((f, o) => this.page<I>(f, o), filter, options);
  }

  /**
   * Counts the matching instances.
   *
   * @param filter Which instances.
   * @param options `fromPrimary`: read from `driver` even when a `readDriver` is set.
   * @returns How many.
   * @throws {ValidationError} On a bad filter.
   */
  async count(filter: InstanceFilter, options?: ReadOptions): Promise<number> {
    const read = this.#reader(validateRead(options).fromPrimary);
    const { where, params } = compileFilter(validateFilter(filter));
    const [row] = await this.#query(
      "count",
      `${this.#sql.count} ${where}`,
      params,
      undefined,
      read,
    );
    return Number(row.n);
  }

  /**
   * Counts the matching instances per workflow, version and status in one `GROUP BY`
   * statement; see {@linkcode Storage.countGroups}. It reads every matching row (the
   * `(status, …)` and `(workflow, …)` indexes serve a filter on them): at a million instances,
   * give it a filter or expect a few hundred milliseconds.
   *
   * @param filter Which instances.
   * @param options `fromPrimary`: read from the primary, not a replica.
   * @returns The groups that have instances, ordered by workflow, version and status.
   * @throws {DatabaseError} When a row read back is not a group (an altered table).
   *
   * @example
   * ```ts ignore
   * for (const g of await storage.countGroups({ workflowFamily: "Shop." })) {
   *   console.log(`${g.workflow}@${g.workflowVersion} ${g.status}: ${g.count}`);
   * }
   * ```
   */
  async countGroups(filter: InstanceFilter, options?: ReadOptions): Promise<CountGroup[]> {
    const read = this.#reader(validateRead(options).fromPrimary);
    const { where, params } = compileFilter(validateFilter(filter));
    const rows = await this.#query(
      "countGroups",
      `${this.#sql.countGroups} ${where} ${this.#sql.groups}`,
      params,
      undefined,
      read,
    );
    return rows.map((row) => {
      const group = {
        workflow: row.workflow,
        workflowVersion: Number(row.workflow_version),
        status: row.status,
        count: Number(row.n),
      };
      if (
        typeof group.workflow !== "string" || !Number.isInteger(group.workflowVersion) ||
        !(INSTANCE_STATUSES as readonly unknown[]).includes(group.status) ||
        !(group.count >= 1)
      ) {
        throw new DatabaseError(`Unexpected row from a grouped count: ${describe(row)}`);
      }
      return group as CountGroup;
    });
  }

  /**
   * How many instances the table holds, cheaply: PostgreSQL's own estimate from its statistics
   * (read from the catalog, in well under a millisecond at any size), labelled as an estimate.
   * For dashboards of large tables, where an exact {@linkcode PgStorage.count} of everything
   * reads the whole primary key (~30 ms at a million rows). Where the table has no statistics
   * yet (never analyzed: new, small tables; or a Citus coordinator), it counts exactly instead
   * and says so.
   *
   * @returns The count and whether it is an estimate.
   *
   * @example
   * ```ts ignore
   * const { count, estimated } = await storage.estimateCount();
   * console.log(`${estimated ? "about " : ""}${count} instances`);
   * ```
   */
  async estimateCount(): Promise<CountEstimate> {
    const [row] = await this.#query("estimateCount", this.#sql.estimate, []);
    return row.estimate !== null
      ? { count: Number(row.estimate), estimated: true }
      : { count: Number(row.exact), estimated: false };
  }

  /**
   * Atomically leases up to `limit` matching instances whose lease is free or expired, oldest
   * first (`FOR UPDATE SKIP LOCKED`: concurrent claims never take the same instance).
   *
   * @param options `owner`, `leaseMs`, `limit` (1 by default) and any filter key.
   * @returns The instances now leased to `owner`, with their `lease`.
   * @throws {ValidationError} On a bad owner, duration, limit or filter.
   * @throws {CorruptRecordError} When a row it took cannot be decoded; every lease this claim
   *   took is given back first (a second statement, on this path only).
   */
  async claim<I extends object = Record<string, unknown>>(
    options: ClaimOptions,
  ): Promise<StoredInstance<I>[]> {
    const { owner, leaseMs, limit, filter } = validateClaim(options);
    const compiled = compileFilter(filter);
    const text = this.#sql.claim(
      compiled.where,
      compiled.bind(owner),
      compiled.bind(leaseMs),
      compiled.bind(limit),
    );
    const rows = await this.#query("claim", text, compiled.params);
    const { healthy, corrupt } = decodeEach<I>(rows);
    if (corrupt.length === 0) return healthy;
    // Never keep a lease that is not handed over: give back every one this claim took.
    try {
      await this.#query("claim", this.#sql.releaseMany, [
        JSON.stringify(rows.map((r) => r.id)),
        owner,
      ]);
    } catch { /* the leases lapse after leaseMs; the corrupt row is what to report */ }
    throw corrupt[0];
  }

  /**
   * Extends a live lease the caller holds to `leaseMs` from now.
   *
   * @param id The instance id.
   * @param options `owner` and `leaseMs`.
   * @returns The new expiry.
   * @throws {LeaseConflictError} When the lease is held by someone else, has expired, or the
   *   instance is gone.
   */
  async renewLease(id: string, options: LeaseOptions): Promise<RenewLeaseResult> {
    const { owner, leaseMs } = validateLease(options, true);
    const checked = validateId(id);
    const [row] = await this.#query(
      "renewLease",
      this.#sql.renew,
      [checked, owner, leaseMs],
      checked,
    );
    if (row.expires_at === null) throw leaseConflict(id, owner, row);
    return { expiresAt: new Date(Number(row.expires_at)) };
  }

  /**
   * Gives up a live lease the caller holds.
   *
   * @param id The instance id.
   * @param options `owner`.
   * @throws {LeaseConflictError} When the lease is held by someone else, has expired, or the
   *   instance is gone.
   */
  async releaseLease(id: string, options: ReleaseLeaseOptions): Promise<void> {
    const { owner } = validateLease(options, false);
    const checked = validateId(id);
    const [row] = await this.#query("releaseLease", this.#sql.release, [checked, owner], checked);
    if (row.released === null) throw leaseConflict(id, owner, row);
  }

  /**
   * Deletes up to `limit` instances in the given statuses last stored before `olderThan`, in one
   * statement that skips rows other transactions hold. Loop until it returns 0.
   *
   * @param options `statusIn` (completed and failed by default), `olderThan`, `limit` (1000).
   * @returns How many were deleted.
   * @throws {ValidationError} On bad statuses, a missing `olderThan` or a bad limit.
   */
  async prune(options: PruneOptions): Promise<number> {
    const { statusIn, olderThan, limit } = validatePrune(options);
    const params = [JSON.stringify(statusIn), timestampParam(olderThan), limit];
    const [row] = await this.#query("prune", this.#sql.prune, params);
    return Number(row.n);
  }

  /** The driver a read goes to: the replica, unless the caller asked for the primary. */
  #reader(fromPrimary: boolean): SqlDriver {
    return fromPrimary ? this.#driver : this.#readDriver;
  }

  /** Runs one statement: on `driver` (the primary), or on the reader a read passes. */
  async #query(
    operation: QueryOperation,
    text: string,
    params: unknown[],
    instanceId?: string,
    driver: SqlDriver = this.#driver,
  ): Promise<Record<string, unknown>[]> {
    const started = performance.now();
    const info: QueryInfo = { operation, schema: this.schema, table: TABLE, sql: text };
    if (instanceId !== undefined) info.instanceId = instanceId;
    let rows: Record<string, unknown>[] = [];
    let failure: HephError | undefined;
    const run = async (): Promise<SqlResult> => {
      try {
        const name = this.#names.get(text);
        return await (name === undefined
          ? driver.query(text, params)
          : driver.query(text, params, { name }));
      } catch (error) {
        throw (failure = this.#explain(operation, error));
      }
    };
    try {
      rows = (await (this.#wrapQuery ? this.#wrapQuery({ ...info }, run) : run())).rows;
      return rows;
    } finally {
      if (this.#onQuery) {
        const event: QueryEvent = {
          ...info,
          durationMs: performance.now() - started,
          rowCount: rows.length,
        };
        if (failure) event.error = failure;
        try {
          const result: unknown = this.#onQuery(event);
          // Not awaited; a rejection must not become an unhandled one (which ends a process).
          if (typeof (result as PromiseLike<unknown> | undefined)?.then === "function") {
            (result as PromiseLike<unknown>).then(undefined, () => {});
          }
        } catch { /* a hook never breaks an operation */ }
      }
    }
  }

  #explain(operation: QueryOperation, error: unknown): HephError {
    const wrapped = toDatabaseError(error);
    if (!(wrapped instanceof DatabaseError)) return wrapped;
    const table = `${quoteSchema(this.schema)}.workflow_instances`;
    const reason = wrapped.message;
    let message: string;
    if (wrapped.code === "42P01" || wrapped.code === "42703") {
      message =
        `Table ${table} is missing or not migrated to the latest version: run migrate(driver, { schema: "${this.schema}" }) or: deno run -A jsr:@heph/pg/cli migrate --schema ${this.schema}`;
    } else if (wrapped.code === "42501") {
      message =
        `Permission denied for ${operation} on ${table}: ${reason} (a runtime role needs USAGE on the schema and SELECT, INSERT, UPDATE, DELETE on the table: grantRuntimeAccess() or: deno run -A jsr:@heph/pg/cli migrate --grant <role>)`;
    } else if (wrapped.code === "57014" || wrapped.code === "55P03") {
      const why = wrapped.code === "55P03"
        ? " (another session holds a lock it needs; see lock_timeout)"
        : " (statement_timeout elapsed, or the statement was canceled)";
      message = `The ${operation} statement was canceled and rolled back: ${reason}${why}`;
    } else if (
      wrapped.code === "0A000" &&
      /FOR UPDATE\/SHARE|ON CONFLICT clause of INSERTs on distributed tables/.test(reason)
    ) {
      message =
        `The ${operation} statement cannot run on a Citus distributed table: ${reason} (create the PgStorage with distributed: true)`;
    } else if (wrapped.code === "25006") {
      message =
        `The ${operation} statement reached a read-only server and was refused: ${reason} (writes need the primary: a replica belongs in readDriver, never in driver)`;
    } else if (wrapped.code === "22021") {
      // Only a database whose encoding is not UTF8 (SQL_ASCII) holds such bytes: another program
      // wrote them, and the server will not convert them for a UTF-8 client.
      message =
        `A stored string is not valid UTF-8, so the server would not send the rows of ${operation}: ${reason}`;
    } else if (isConnectionError(wrapped)) {
      message = wasNotSent(wrapped)
        ? `Cannot run ${operation}, no connection to the database: ${reason}`
        : WRITES.has(operation)
        ? `Connection lost during ${operation}, which may or may not have been applied: ${reason}`
        : `Connection lost during ${operation}: ${reason}`;
    } else return wrapped;
    return new DatabaseError(message, {
      sqlState: wrapped.code,
      detail: wrapped.detail,
      cause: error,
    });
  }
}

const TABLE = "workflow_instances";

/** The operations that write: after a lost connection, one of these may have been applied. */
const WRITES = new Set<QueryOperation>([
  "put",
  "putMany",
  "delete",
  "claim",
  "renewLease",
  "releaseLease",
  "prune",
]);

/** Decodes a row as the caller's type: `I` is the caller's promise, not checked. */
function decode<I extends object>(row: Record<string, unknown>): StoredInstance<I> {
  return decodeInstance(row as unknown as InstanceRow) as StoredInstance<I>;
}

/** Decodes every row, keeping the healthy instances and the errors of the corrupt rows apart. */
function decodeEach<I extends object>(
  rows: Record<string, unknown>[],
): { healthy: StoredInstance<I>[]; corrupt: CorruptRecordError[] } {
  const healthy: StoredInstance<I>[] = [];
  const corrupt: CorruptRecordError[] = [];
  for (const row of rows) {
    try {
      healthy.push(decode<I>(row));
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      corrupt.push(error);
    }
  }
  return { healthy, corrupt };
}

function heldByAnother(row: Record<string, unknown>, owner: string): boolean {
  return row.holder !== null && row.holder !== owner && row.holder_live === "true";
}

function leaseConflict(
  id: string,
  owner: string,
  row: Record<string, unknown>,
): LeaseConflictError {
  const holder = heldByAnother(row, owner)
    ? { owner: String(row.holder), expiresAt: new Date(Number(row.holder_expires)) }
    : null;
  return new LeaseConflictError(id, owner, holder);
}
