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
 * import { MemoryStorage, newInstance } from "@heph/pg";
 *
 * const storage = new MemoryStorage();
 * const { revision } = await storage.put(newInstance({ id: "order::1", workflow: "Shop.Order" }));
 * console.log(revision); // 1
 * ```
 *
 * @module
 */

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
  InstanceFilter,
  LeaseOptions,
  Page,
  PageOptions,
  PruneOptions,
  PutOptions,
  PutResult,
  ReadOptions,
  Storage,
} from "./src/storage.ts";
export { PgStorage, type PgStorageOptions, type QueryEvent } from "./src/pg_storage.ts";
export { MemoryStorage } from "./src/memory_storage.ts";
export {
  type CheckedFilter,
  type FilterSubject,
  matchesFilter,
  validateClaim,
  validateExpectedRevision,
  validateFilter,
  validateLease,
  validatePage,
  validatePrune,
  validatePut,
} from "./src/options.ts";
export type { SqlDriver, SqlResult, SqlStatement } from "./src/driver.ts";
export {
  type AppliedMigration,
  migrate,
  type MigrateOptions,
  type MigrateResult,
  type MigrationStatus,
  migrationStatus,
  type MigrationStep,
} from "./src/migrate.ts";
export { type GrantOptions, type GrantResult, grantRuntimeAccess } from "./src/grant.ts";
export { MIGRATIONS } from "./migrations/mod.ts";
export type { Migration } from "./migrations/migration.ts";
export {
  decodeInstance,
  type EncodedInstance,
  encodeInstance,
  type InstanceRow,
} from "./src/serializer.ts";
export {
  applyAnnotations,
  type JsonPath,
  type TypeAnnotation,
  TypedJsonWriter,
} from "./src/typed_json.ts";
export {
  ConflictError,
  CorruptRecordError,
  DatabaseError,
  HephError,
  type HephErrorOptions,
  isConnectionError,
  LeaseConflictError,
  MigrationError,
  SerializationError,
  toDatabaseError,
  ValidationError,
} from "./src/errors.ts";
