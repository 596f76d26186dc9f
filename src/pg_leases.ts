/**
 * PgStorage's leases: `claim` takes free instances in one statement, `renewLease` and
 * `releaseLease` change a lease the caller holds, each refused with what stood in its way.
 *
 * @module
 */

import type { StoredInstance } from "./instance.ts";
import { validateClaim, validateLease } from "./options.ts";
import { compileFilter } from "./filter_sql.ts";
import { decodeRow, leaseConflict } from "./pg_rows.ts";
import { decodeEach } from "./instance_decoder.ts";
import type { Statements } from "./pg_sql.ts";
import { validateId } from "./validation.ts";
import type { StatementRunner } from "./statement_runner.ts";
import type {
  ClaimOptions,
  LeaseOptions,
  ReleaseLeaseOptions,
  RenewLeaseResult,
} from "./storage.ts";

/**
 * Leases up to `limit` matching instances whose lease is free or expired, in one statement. When
 * a row it took cannot be decoded, every lease it took is given back (a second statement, on
 * this path only) and the first corrupt row's error is thrown.
 *
 * @typeParam I The caller's type of `context.initial`.
 * @param runner Sends the statement.
 * @param sql The table's statements.
 * @param options `owner`, `leaseMs`, `limit` and filter keys, unchecked.
 * @returns The instances now leased to `owner`.
 * @throws {CorruptRecordError} When a row it took cannot be decoded.
 *
 * @example
 * ```ts ignore
 * import { claimInstances } from "./pg_leases.ts";
 *
 * const taken = await claimInstances(runner, sql, { owner: "worker-a", leaseMs: 30_000 });
 * ```
 */
export async function claimInstances<I extends object>(
  runner: StatementRunner,
  sql: Statements,
  options: ClaimOptions,
): Promise<StoredInstance<I>[]> {
  const { owner, leaseMs, limit, filter } = validateClaim(options);
  const compiled = compileFilter(filter);
  const text = sql.claim(
    compiled.conditions,
    compiled.bind(owner),
    compiled.bind(leaseMs),
    compiled.bind(limit),
  );
  const rows = await runner.rows("claim", text, compiled.params);
  const { healthy, corrupt } = decodeEach(rows, decodeRow<I>);
  const [firstCorrupt] = corrupt;
  if (firstCorrupt === undefined) return healthy;
  // Never keep a lease that is not handed over: give back every one this claim took.
  const { releaseMany } = sql;
  const ids = JSON.stringify(rows.map((r) => r.id));
  try {
    await runner.rows("claim", releaseMany.text, releaseMany.params({ ids, owner }));
  } catch { /* the leases lapse after leaseMs; the corrupt row is what to report */ }
  throw firstCorrupt;
}

/**
 * Extends a live lease the caller holds to `leaseMs` from now.
 *
 * @param runner Sends the statement.
 * @param sql The table's statements.
 * @param id The instance id, unchecked.
 * @param options `owner` and `leaseMs`, unchecked.
 * @returns The new expiry.
 * @throws {LeaseConflictError} When the lease is held by someone else, has expired, or the
 *   instance is gone.
 *
 * @example
 * ```ts ignore
 * import { renewLease } from "./pg_leases.ts";
 *
 * const { expiresAt } = await renewLease(runner, sql, "order::1", { owner: "worker-a", leaseMs: 30_000 });
 * ```
 */
export async function renewLease(
  runner: StatementRunner,
  sql: Statements,
  id: string,
  options: LeaseOptions,
): Promise<RenewLeaseResult> {
  const { owner, leaseMs } = validateLease(options, true);
  const checked = validateId(id);
  const { renew } = sql;
  const params = renew.params({ id: checked, owner, leaseMs });
  const row = await runner.one("renewLease", renew.text, params, { instanceId: checked });
  if (row.expires_at === null) throw leaseConflict(id, owner, row);
  return { expiresAt: new Date(Number(row.expires_at)) };
}

/**
 * Gives up a live lease the caller holds.
 *
 * @param runner Sends the statement.
 * @param sql The table's statements.
 * @param id The instance id, unchecked.
 * @param options `owner`, unchecked.
 * @throws {LeaseConflictError} When the lease is held by someone else, has expired, or the
 *   instance is gone.
 *
 * @example
 * ```ts ignore
 * import { releaseLease } from "./pg_leases.ts";
 *
 * await releaseLease(runner, sql, "order::1", { owner: "worker-a" });
 * ```
 */
export async function releaseLease(
  runner: StatementRunner,
  sql: Statements,
  id: string,
  options: ReleaseLeaseOptions,
): Promise<void> {
  const { owner } = validateLease(options, false);
  const checked = validateId(id);
  const { release } = sql;
  const params = release.params({ id: checked, owner });
  const row = await runner.one("releaseLease", release.text, params, { instanceId: checked });
  if (row.released === null) throw leaseConflict(id, owner, row);
}
