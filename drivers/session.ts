/**
 * What the drivers over a single connection share: running a transaction as plain BEGIN …
 * COMMIT statements, and queueing calls so nothing slips into a running transaction.
 *
 * @module
 */

import type { QueryOptions, SqlDriver, SqlResult, SqlStatement } from "../src/driver.ts";

/**
 * Runs one statement on one connection (`options.name`: a name it may prepare it under).
 *
 * @example
 * ```ts ignore
 * import type { RunStatement } from "./session.ts";
 *
 * const run: RunStatement = (text, params) => client.query(text, params ? [...params] : []);
 * ```
 */
export type RunStatement = (
  text: string,
  params?: readonly unknown[],
  options?: QueryOptions,
) => Promise<SqlResult>;

/**
 * Runs statements one after another on one connection (or one transaction of the client),
 * stopping at the first that fails.
 *
 * @param run Runs one statement.
 * @param statements The statements, in order.
 * @returns One result per statement.
 *
 * @example
 * ```ts ignore
 * import { runEach } from "./session.ts";
 *
 * const results = await runEach(run, [{ text: "SELECT 1" }, { text: "SELECT 2" }]);
 * ```
 */
export async function runEach(
  run: RunStatement,
  statements: readonly SqlStatement[],
): Promise<SqlResult[]> {
  const results: SqlResult[] = [];
  for (const { text, params } of statements) results.push(await run(text, params));
  return results;
}

/**
 * Runs statements between BEGIN and COMMIT on one connection; on failure rolls back and
 * rethrows. `onBroken` hears of a ROLLBACK that failed too (the connection is then unusable).
 *
 * @param run Runs one statement on the connection.
 * @param statements The statements.
 * @param onBroken Called when the rollback itself failed.
 * @returns One result per statement.
 *
 * @example
 * ```ts ignore
 * import { inTransaction } from "./session.ts";
 *
 * await inTransaction(run, [{ text: "CREATE TABLE t (id int)" }], () => (broken = true));
 * ```
 */
export async function inTransaction(
  run: RunStatement,
  statements: readonly SqlStatement[],
  onBroken: (error: unknown) => void = () => {},
): Promise<SqlResult[]> {
  await run("BEGIN");
  try {
    const results = await runEach(run, statements);
    await run("COMMIT");
    return results;
  } catch (error) {
    await run("ROLLBACK").catch(onBroken);
    throw error;
  }
}

/**
 * The error for a transaction asked of a driver that runs inside the caller's own transaction:
 * migrations and grants commit on their own, so they cannot share a transaction they do not
 * control. Its
 * `code` is PostgreSQL's SQLSTATE for "active SQL transaction".
 *
 * @returns The error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { insideTransactionError } from "./session.ts";
 *
 * assert.equal((insideTransactionError() as Error & { code: string }).code, "25001");
 * ```
 */
export function insideTransactionError(): Error {
  return Object.assign(
    new Error(
      "Cannot run a transaction inside your open transaction: migrate() and grantRuntimeAccess() commit on their own, so run them on a pool or on a connection outside any transaction",
    ),
    { code: "25001" },
  );
}

/**
 * Throws {@linkcode insideTransactionError} when the connection is inside a transaction block
 * (the user's BEGIN), where a BEGIN would be ignored and the COMMIT would commit the user's
 * work. A SAVEPOINT is the exact test: outside a block it fails with SQLSTATE 25P01.
 *
 * @param run Runs one statement on the connection.
 */
async function refuseInsideTransaction(run: RunStatement): Promise<void> {
  try {
    await run("SAVEPOINT heph_transaction_probe");
  } catch (error) {
    if ((error as { code?: unknown })?.code === "25P01") return;
    throw error;
  }
  await run("RELEASE SAVEPOINT heph_transaction_probe").catch(() => undefined);
  throw insideTransactionError();
}

/**
 * A driver over one connection (a client, not a pool): calls run one after another, so a
 * transaction's statements are never interleaved with others. The connection may be inside
 * the caller's own transaction: statements then commit or roll back with it, and `transaction`
 * refuses with {@linkcode insideTransactionError} rather than commit the caller's work.
 *
 * @param run Runs one statement on the connection.
 * @returns The driver.
 *
 * @example
 * ```ts ignore
 * import { serialDriver } from "./session.ts";
 *
 * const driver = serialDriver((text, params) => client.query(text, params ? [...params] : []));
 * ```
 */
export function serialDriver(run: RunStatement): SqlDriver {
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    query: (text, params, options) => exclusive(() => run(text, params, options)),
    transaction: (statements) =>
      exclusive(async () => {
        await refuseInsideTransaction(run);
        return await inTransaction(run, statements);
      }),
  };
}
