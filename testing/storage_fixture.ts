/**
 * A store for one contract case, and fresh PostgreSQL schemas to make one from.
 *
 * @module
 */
import { migrate, PgStorage, type SqlDriver, type Storage } from "../mod.ts";

/**
 * A store for one contract case, and how to dispose of it.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import type { StorageFixture } from "@heph/pg/testing";
 *
 * const fixture: StorageFixture = { storage: new MemoryStorage() };
 * ```
 */
export interface StorageFixture {
  /** An empty store. */
  storage: Storage;
  /** Called after the case, passed or failed (drop a schema, close a pool…). */
  close?: () => Promise<void> | void;
}

/**
 * Makes fixtures for {@linkcode storageConformance} on PostgreSQL: each case gets a
 * {@linkcode PgStorage} on a fresh schema, migrated through `driver` and dropped afterwards.
 *
 * @param driver The driver under test.
 * @param prefix The schemas' name prefix (a lowercase identifier).
 * @param options `distribute`: make each case's table a Citus distributed table (on a Citus
 *   coordinator) and use a PgStorage made for one (`distributed: true`).
 * @returns A `makeStorage` for {@linkcode storageConformance}.
 *
 * @example Check a driver
 * ```ts ignore
 * import pg from "npm:pg";
 * import { nodePostgresDriver } from "@heph/pg/node-postgres";
 * import { freshSchemaStorage, storageConformance } from "@heph/pg/testing";
 *
 * const pool = new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") });
 * const report = await storageConformance("node-postgres", freshSchemaStorage(nodePostgresDriver(pool)));
 * console.log(`${report.passed} passed, ${report.failed} failed`);
 * await pool.end();
 * ```
 */
export function freshSchemaStorage(
  driver: SqlDriver,
  prefix = "heph_conformance",
  options: { distribute?: boolean } = {},
): () => Promise<StorageFixture> {
  let n = 0;
  const run = Math.random().toString(36).slice(2, 8);
  return async () => {
    const schema = `${prefix}_${run}_${n++}`;
    await migrate(driver, { schema, distribute: options.distribute });
    return {
      storage: new PgStorage({ driver, schema, distributed: options.distribute }),
      close: async () => {
        await driver.query(`DROP SCHEMA "${schema}" CASCADE`);
      },
    };
  };
}
