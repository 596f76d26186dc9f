/**
 * What the drivers over a single connection share: running a transaction as plain BEGIN …
 * COMMIT statements, and queueing calls so nothing slips into a running transaction.
 *
 * @module
 */

import type { QueryOptions, SqlDriver, SqlResult, SqlStatement } from "../src/driver.ts";

/** Runs one statement on one connection (`options.name`: a name it may prepare it under). */
export type RunStatement = (
  text: string,
  params?: readonly unknown[],
  options?: QueryOptions,
) => Promise<SqlResult>;

/**
 * Runs statements between BEGIN and COMMIT on one connection; on failure rolls back and
 * rethrows. `onBroken` hears of a ROLLBACK that failed too (the connection is then unusable).
 *
 * @param run Runs one statement on the connection.
 * @param statements The statements.
 * @param onBroken Called when the rollback itself failed.
 * @returns One result per statement.
 */
export async function inTransaction(
  run: RunStatement,
  statements: readonly SqlStatement[],
  onBroken: (error: unknown) => void = () => {},
): Promise<SqlResult[]> {
  await run("BEGIN");
  try {
    const results: SqlResult[] = [];
    for (const { text, params } of statements) results.push(await run(text, params));
    await run("COMMIT");
    return results;
  } catch (error) {
    await run("ROLLBACK").catch(onBroken);
    throw error;
  }
}

/**
 * A driver over one connection (a client, not a pool): calls run one after another, so a
 * transaction's statements are never interleaved with others.
 *
 * @param run Runs one statement on the connection.
 * @returns The driver.
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
    transaction: (statements) => exclusive(() => inTransaction(run, statements)),
  };
}
