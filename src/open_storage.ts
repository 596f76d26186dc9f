/**
 * What the drivers' `openStorage(url, options)` share: the options, the result, and the steps
 * after the client is made (storage, optional migration, closing on failure).
 *
 * @module
 */

import type { SqlDriver } from "./driver.ts";
import { ValidationError } from "./errors.ts";
import { migrate } from "./migrate.ts";
import { PgStorage, type PgStorageOptions } from "./pg_storage.ts";
import { describe } from "./validation.ts";

/**
 * The options every driver's `openStorage` takes; each driver adds its client's own options.
 *
 * @example
 * ```ts
 * import type { OpenStorageOptions } from "@heph/pg";
 *
 * const options: OpenStorageOptions = { schema: "tenant_a", migrate: true };
 * ```
 */
export interface OpenStorageOptions extends Omit<PgStorageOptions, "driver"> {
  /**
   * Bring the schema to the latest version before returning (with {@linkcode migrate}); false
   * by default, for deployments that migrate with the CLI
   * (`deno run -A jsr:@heph/pg/cli migrate`) or their own pipeline.
   */
  migrate?: boolean;
}

/**
 * What `openStorage` returns: the storage, the driver under it (for `migrate` and the like),
 * and `close`, which ends the client `openStorage` opened.
 *
 * @example
 * ```ts ignore
 * import { openStorage } from "@heph/pg/postgres-js";
 * import type { OpenedStorage } from "@heph/pg";
 *
 * const opened: OpenedStorage = await openStorage(Deno.env.get("DATABASE_URL")!);
 * await opened.close();
 * ```
 */
export interface OpenedStorage {
  /** The storage. */
  storage: PgStorage;
  /** The driver, over the client `openStorage` made. */
  driver: SqlDriver;
  /** Ends the client; the storage cannot be used afterwards. */
  close(): Promise<void>;
}

/** The keys of {@linkcode OpenStorageOptions}; every other key is the client's. */
const OWN_KEYS = ["schema", "migrate", "onQuery", "wrapQuery"] as const;

/**
 * Splits `openStorage` options into the storage's and the client's.
 *
 * @param url The connection string.
 * @param options The options as given.
 * @returns The storage options, and the rest for the client.
 * @throws {ValidationError} When the URL is not a non-empty string, the options no object, or
 *   `migrate` no boolean.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitOpenOptions } from "./open_storage.ts";
 *
 * const { own, client } = splitOpenOptions("postgres://db/app", { schema: "tenant_a", max: 5 });
 * assert.deepEqual(own, { schema: "tenant_a" });
 * assert.deepEqual(client, { max: 5 });
 * ```
 */
export function splitOpenOptions<T extends OpenStorageOptions>(
  url: unknown,
  options: T | undefined,
): { own: OpenStorageOptions; client: Omit<T, typeof OWN_KEYS[number]> } {
  if (typeof url !== "string" || url === "") {
    throw new ValidationError(
      `Invalid connection string: expected a non-empty string, got ${describe(url)}`,
    );
  }
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new ValidationError(`Invalid options: expected an object, got ${describe(options)}`);
  }
  const migrate = (options as { migrate?: unknown } | undefined)?.migrate;
  if (migrate !== undefined && typeof migrate !== "boolean") {
    throw new ValidationError(
      `Invalid options: migrate must be a boolean, got ${describe(migrate)}`,
    );
  }
  const own: Record<string, unknown> = {};
  const client: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value === undefined) continue;
    ((OWN_KEYS as readonly string[]).includes(key) ? own : client)[key] = value;
  }
  return { own, client: client as Omit<T, typeof OWN_KEYS[number]> };
}

/**
 * Builds the storage over a driver the caller just made, migrating first when asked. On any
 * failure it closes the client before rethrowing, so nothing is left open.
 *
 * @param driver The driver over the new client.
 * @param close Ends the new client.
 * @param options The storage's options.
 * @returns The opened storage.
 *
 * @example
 * ```ts ignore
 * import { openOn } from "./open_storage.ts";
 *
 * const pool = new pg.Pool({ connectionString: url });
 * const opened = await openOn(nodePostgresDriver(pool), () => pool.end(), { migrate: true });
 * ```
 */
export async function openOn(
  driver: SqlDriver,
  close: () => Promise<void>,
  options: OpenStorageOptions,
): Promise<OpenedStorage> {
  try {
    const { migrate: migrateFirst, ...storageOptions } = options;
    const storage = new PgStorage({ ...storageOptions, driver });
    if (migrateFirst) await migrate(driver, { schema: storage.schema });
    let closing: Promise<void> | undefined;
    return { storage, driver, close: () => (closing ??= close()) };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
