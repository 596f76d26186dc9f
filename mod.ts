/**
 * @heph/pg stores the workflow instances of a Hephaestus-style engine in PostgreSQL: one row
 * per instance with its state in a JSONB column under a GIN index, one SQL statement per
 * operation, values round-tripped losslessly, through any PostgreSQL client.
 *
 * @example Quick start
 * ```ts ignore
 * import pg from "npm:pg";
 * import { migrate, newInstance, PgStorage } from "jsr:@heph/pg";
 * import { nodePostgresDriver } from "jsr:@heph/pg/node-postgres";
 *
 * const driver = nodePostgresDriver(new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") }));
 * await migrate(driver);
 * const storage = new PgStorage({ driver });
 * await storage.put(newInstance({ id: "order::123", workflow: "Shop.OrderWorkflow", initial: { order_id: 123 } }));
 * const found = await storage.get("order::123");
 * await storage.query({ statusIn: ["pending", "running"], workflow: "Shop.OrderWorkflow" });
 * await storage.delete("order::123");
 * ```
 *
 * @example Without a database
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage, newInstance } from "@heph/pg";
 *
 * const storage = new MemoryStorage();
 * const { revision } = await storage.put(newInstance({ id: "order::1", workflow: "Shop.Order" }));
 * assert.equal(revision, 1);
 * ```
 *
 * What applications use comes first below. What only driver authors and tools reading the table
 * themselves need sits together at the end: the driver contract (`SqlDriver`, `SqlResult`,
 * `SqlStatement`), `toDatabaseError` (which every driver's errors go through), and the row format
 * (`encodeInstance`, `decodeInstance`, `EncodedInstance`, `InstanceRow`). Spans are in
 * `@heph/pg/otel`, one-line setup in each driver's `openStorage`.
 *
 * @module
 */

// Applications: the model, the contract, the stores, migrations, errors.
export {
  type HistoryEntry,
  INSTANCE_STATUSES,
  type InstanceContext,
  type InstanceLease,
  type InstanceStatus,
  newInstance,
  type NewInstanceInput,
  type StoredInstance,
  type WorkflowInstance,
} from "./src/instance.ts";
export type {
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
} from "./src/storage.ts";
export {
  type CountEstimate,
  PgStorage,
  type PgStorageOptions,
  type QueryEvent,
  type QueryInfo,
  type QueryOperation,
  type QueryWrapper,
} from "./src/pg_storage.ts";
export { MemoryStorage } from "./src/memory_storage.ts";
export type { OpenedStorage, OpenStorageOptions } from "./src/open_storage.ts";
export {
  type AppliedMigration,
  migrate,
  type MigrateOptions,
  type MigrateResult,
  type MigrationStatus,
  migrationStatus,
  type MigrationStep,
} from "./src/migrate.ts";
export { MIGRATIONS } from "./migrations/mod.ts";
export type { Migration } from "./migrations/migration.ts";
export { type GrantOptions, type GrantResult, grantRuntimeAccess } from "./src/grant.ts";
export {
  ConflictError,
  CorruptRecordError,
  DatabaseError,
  HephError,
  type HephErrorOptions,
  LeaseConflictError,
  MigrationError,
  SerializationError,
  ValidationError,
} from "./src/errors.ts";
export { isConnectionError } from "./src/connection_errors.ts";

// Driver authors and tools that read the table themselves: the driver contract, the error
// normalizer every driver's errors go through, and the row format.
export type { QueryOptions, SqlDriver, SqlResult, SqlStatement } from "./src/driver.ts";
export { toDatabaseError } from "./src/errors.ts";
export { type EncodedInstance, encodeInstance } from "./src/serializer.ts";
export { decodeInstance, type InstanceRow } from "./src/instance_decoder.ts";
