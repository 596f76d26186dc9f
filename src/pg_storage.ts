/**
 * PgStorage: the {@linkcode Storage} contract on PostgreSQL, one SQL statement per operation.
 *
 * @module
 */

import type { StoredInstance, WorkflowInstance } from "./instance.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { validateFilter, validatePage, validatePrune, validateRead } from "./options.ts";
import { compileFilter, timestampParam } from "./filter_sql.ts";
import { claimInstances, releaseLease, renewLease } from "./pg_leases.ts";
import { putInstance, putInstances } from "./pg_put.ts";
import { type Statements, statements } from "./pg_sql.ts";
import { countGroupOf, decodeRow } from "./pg_rows.ts";
import { decodeEach } from "./instance_decoder.ts";
import {
  checkStorageOptions,
  type CountEstimate,
  type PgStorageOptions,
} from "./pg_storage_types.ts";
import { scanPages } from "./scan.ts";
import { quoteSchema, validateId } from "./validation.ts";
import { whereClause } from "./sql_params.ts";
import { StatementRunner } from "./statement_runner.ts";
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

export type { CountEstimate, PgStorageOptions } from "./pg_storage_types.ts";
export type { QueryEvent, QueryInfo, QueryOperation, QueryWrapper } from "./query_hooks.ts";

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
  #sql: Statements;
  #run: StatementRunner;

  /**
   * Creates a storage over a driver, on one schema.
   *
   * @param options The driver, the schema and optional `onQuery` and `wrapQuery` hooks.
   * @throws {ValidationError} When the schema is not a lowercase identifier of at most 63 characters.
   */
  constructor(options: PgStorageOptions) {
    const { driver, readDriver, schema, distributed, ...hooks } = checkStorageOptions(options);
    this.schema = schema;
    const sql = statements(`${quoteSchema(schema)}.workflow_instances`, distributed);
    this.#sql = sql;
    const fixed = [
      sql.get,
      sql.upsert,
      sql.upsertAsOwner,
      sql.insert,
      sql.update,
      sql.updateAsOwner,
      sql.putMany,
      sql.delete,
      sql.renew,
      sql.release,
    ].map(({ text }) => text);
    this.#run = new StatementRunner({ driver, readDriver, schema, hooks, fixed });
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
    const read = this.#run.reader(validateRead(options).fromPrimary);
    const checked = validateId(id);
    const { get } = this.#sql;
    const params = get.params({ id: checked });
    const [row] = await this.#run.rows("get", get.text, params, {
      instanceId: checked,
      driver: read,
    });
    return row === undefined ? null : decodeRow<I>(row);
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
  put(instance: WorkflowInstance<object>, options?: PutOptions): Promise<PutResult> {
    return putInstance(this.#run, this.#sql, instance, options);
  }

  /**
   * Inserts or updates several instances in one statement, all or nothing.
   *
   * @param instances The instances; each id at most once.
   * @returns The revisions now stored, in the order given.
   * @throws {ValidationError} On an invalid instance or a repeated id (nothing is written).
   * @throws {SerializationError} When a value cannot be stored faithfully (nothing is written).
   */
  putMany(instances: readonly WorkflowInstance<object>[]): Promise<PutManyResult> {
    return putInstances(this.#run, this.#sql, instances);
  }

  /**
   * Deletes an instance; deleting a missing one is not an error.
   *
   * @param id The instance id.
   * @throws {ValidationError} On an invalid id.
   */
  async delete(id: string): Promise<void> {
    const checked = validateId(id);
    const { delete: remove } = this.#sql;
    const params = remove.params({ id: checked });
    await this.#run.rows("delete", remove.text, params, { instanceId: checked });
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
    const read = this.#run.reader(validateRead(options).fromPrimary);
    const { conditions, params } = compileFilter(validateFilter(filter));
    const text = `${this.#sql.select} ${whereClause(conditions)} ${this.#sql.order}`;
    const rows = await this.#run.rows("query", text, params, { driver: read });
    return rows.map(decodeRow<I>);
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
    const conditions = [...compiled.conditions];
    if (cursor !== null) {
      const position = decodeCursor(cursor);
      conditions.push(
        (descending ? this.#sql.before : this.#sql.after)(
          compiled.bind(position.insertedAt),
          compiled.bind(position.id),
        ),
      );
    }
    const order = descending ? this.#sql.orderDesc : this.#sql.order;
    const text = `${this.#sql.page} ${whereClause(conditions)} ${order} LIMIT ${
      compiled.bind(limit + 1)
    }::integer`;
    const driver = this.#run.reader(fromPrimary);
    const rows = await this.#run.rows("page", text, compiled.params, { driver });
    const items = rows.slice(0, limit);
    const last = rows.length > limit ? items.at(-1) : undefined;
    const nextCursor = last
      ? encodeCursor({ insertedAt: String(last.position), id: String(last.id) })
      : null;
    if (!skipCorrupt) return { items: items.map(decodeRow<I>), nextCursor };
    const { healthy, corrupt } = decodeEach(items, decodeRow<I>);
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
    const read = this.#run.reader(validateRead(options).fromPrimary);
    const { conditions, params } = compileFilter(validateFilter(filter));
    const text = `${this.#sql.count} ${whereClause(conditions)}`;
    return Number((await this.#run.one("count", text, params, { driver: read })).n);
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
    const read = this.#run.reader(validateRead(options).fromPrimary);
    const { conditions, params } = compileFilter(validateFilter(filter));
    const text = `${this.#sql.countGroups} ${whereClause(conditions)} ${this.#sql.groups}`;
    const rows = await this.#run.rows("countGroups", text, params, { driver: read });
    return rows.map(countGroupOf);
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
    const row = await this.#run.one("estimateCount", this.#sql.estimate, []);
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
  claim<I extends object = Record<string, unknown>>(
    options: ClaimOptions,
  ): Promise<StoredInstance<I>[]> {
    return claimInstances<I>(this.#run, this.#sql, options);
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
  renewLease(id: string, options: LeaseOptions): Promise<RenewLeaseResult> {
    return renewLease(this.#run, this.#sql, id, options);
  }

  /**
   * Gives up a live lease the caller holds.
   *
   * @param id The instance id.
   * @param options `owner`.
   * @throws {LeaseConflictError} When the lease is held by someone else, has expired, or the
   *   instance is gone.
   */
  releaseLease(id: string, options: ReleaseLeaseOptions): Promise<void> {
    return releaseLease(this.#run, this.#sql, id, options);
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
    const { prune } = this.#sql;
    const params = prune.params({
      statuses: JSON.stringify(statusIn),
      before: timestampParam(olderThan),
      limit,
    });
    return Number((await this.#run.one("prune", prune.text, params)).n);
  }
}
