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
 * The options every driver's `openStorage` takes: every option of `PgStorage` but `driver`
 * (which `openStorage` makes), and `migrate`. Each driver adds its client's own options; what
 * is not a storage option goes to the client.
 *
 * `readDriver` is a driver you made over a read replica: the storage reads there, as
 * `PgStorage` does, and `close()` leaves its client open (end it yourself).
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

/**
 * Every key of {@linkcode OpenStorageOptions}, the storage's: the rest are the client's. A
 * `Record` over `keyof`, so an option added to `PgStorageOptions` and not listed here (or one
 * listed here that does not exist) does not compile.
 */
const OWN_KEYS: { readonly [key in keyof Required<OpenStorageOptions>]: true } = {
  readDriver: true,
  distributed: true,
  schema: true,
  onQuery: true,
  wrapQuery: true,
  migrate: true,
};

/** The storage options `openStorage` takes, and those it leaves to the client. */
type OwnKey = keyof OpenStorageOptions;

/**
 * Checks that an option is a boolean or absent.
 *
 * @param value The option's value.
 * @param name The option's name, for the error.
 * @returns The value.
 * @throws {ValidationError} When it is given and not a boolean.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { booleanOption } from "./open_storage.ts";
 *
 * assert.equal(booleanOption(false, "prepare"), false);
 * assert.equal(booleanOption(undefined, "prepare"), undefined);
 * assert.throws(() => booleanOption("no", "prepare"), { name: "ValidationError" });
 * ```
 */
export function booleanOption(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  throw new ValidationError(`Invalid options: ${name} must be a boolean, got ${describe(value)}`);
}

/**
 * Splits `openStorage` options into the storage's (every option of `PgStorage` but `driver`,
 * and `migrate`) and the client's (all the others).
 *
 * @param url The connection string.
 * @param options The options as given.
 * @returns The storage options, and the rest for the client.
 * @throws {ValidationError} When the URL is not a non-empty string, the options no object,
 *   `migrate` no boolean, or `driver` is given (`openStorage` makes the driver).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitOpenOptions } from "./open_storage.ts";
 *
 * const { own, client } = splitOpenOptions("postgres://db/app", {
 *   schema: "tenant_a",
 *   distributed: true,
 *   max: 5,
 * });
 * assert.deepEqual(own, { schema: "tenant_a", distributed: true });
 * assert.deepEqual(client, { max: 5 });
 * ```
 */
export function splitOpenOptions<T extends OpenStorageOptions>(
  url: unknown,
  options: T | undefined,
): { own: OpenStorageOptions; client: Omit<T, OwnKey> } {
  if (typeof url !== "string" || url === "") {
    throw new ValidationError(
      `Invalid connection string: expected a non-empty string, got ${describe(url)}`,
    );
  }
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new ValidationError(`Invalid options: expected an object, got ${describe(options)}`);
  }
  const given = options as Record<string, unknown> | undefined;
  booleanOption(given?.migrate, "migrate");
  if (given?.driver !== undefined) {
    throw new ValidationError(
      "Invalid options: driver is not an openStorage option (it makes its own over the " +
        "connection string; pass yours to new PgStorage({ driver }))",
    );
  }
  const own: Record<string, unknown> = {};
  const client: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value === undefined) continue;
    (Object.hasOwn(OWN_KEYS, key) ? own : client)[key] = value;
  }
  return { own, client: client as Omit<T, OwnKey> };
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
