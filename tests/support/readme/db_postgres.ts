/**
 * The part of deno-postgres' API (`jsr:@db/postgres` 0.19) README's deno-postgres block uses,
 * declared for type checking only: JSR is unreachable where the tests run (see
 * tests/deno_postgres_test.ts, which runs the real driver from a local copy).
 *
 * @module
 */
import type { DenoPostgresPool } from "../../../drivers/deno_postgres.ts";

/** deno-postgres' `Pool`: `new Pool(url, size, lazy)`. */
export declare class Pool implements DenoPostgresPool {
  constructor(url: string, size: number, lazy?: boolean);
  connect: DenoPostgresPool["connect"];
  end(): Promise<void>;
}
