/**
 * PgStorage's writes of whole instances: `put`, whose revision and lease checks are part of its
 * one statement, and `putMany`, one statement for many.
 *
 * @module
 */

import { ConflictError, DatabaseError } from "./errors.ts";
import type { WorkflowInstance } from "./instance.ts";
import { validatePut } from "./options.ts";
import { heldByAnother, leaseConflict } from "./pg_rows.ts";
import type { PutParam, Statements } from "./pg_sql.ts";
import { encodeInstance, encodeInstances } from "./serializer.ts";
import type { NamedStatement } from "./sql_params.ts";
import type { StatementRunner } from "./statement_runner.ts";
import type { PutManyResult, PutOptions, PutResult } from "./storage.ts";

/**
 * Inserts or updates an instance in one statement: a plain upsert, or the conditional write
 * the options ask for, whose outcome row says what stood in its way.
 *
 * @param runner Sends the statement.
 * @param sql The table's statements.
 * @param instance The instance.
 * @param options `expectedRevision` and `owner`, unchecked.
 * @returns The revision now stored.
 * @throws {ConflictError} When the expected revision does not match; nothing is written.
 * @throws {LeaseConflictError} When another owner holds a live lease; nothing is written.
 *
 * @example
 * ```ts ignore
 * import { putInstance } from "./pg_put.ts";
 *
 * const { revision } = await putInstance(runner, sql, instance, { expectedRevision: 0 });
 * ```
 */
export async function putInstance(
  runner: StatementRunner,
  sql: Statements,
  instance: WorkflowInstance<object>,
  options: PutOptions | undefined,
): Promise<PutResult> {
  const { expectedRevision: expected, owner } = validatePut(options);
  const row = encodeInstance(instance);
  // An update keeps the stored workflow version; an insert (expectedRevision 0) checks no lease.
  const statement: NamedStatement<PutParam> = expected === undefined
    ? owner === undefined ? sql.upsert : sql.upsertAsOwner
    : expected === 0
    ? sql.insert
    : owner === undefined
    ? sql.update
    : sql.updateAsOwner;
  const params = statement.params({
    id: row.id,
    workflow: row.workflow,
    workflowVersion: row.workflowVersion,
    status: row.status,
    state: row.state,
    owner,
    revision: expected,
  });
  const result = await runner.one("put", statement.text, params, { instanceId: row.id });
  if (result.revision !== null) return { revision: Number(result.revision) };
  if (owner !== undefined && expected !== 0 && heldByAnother(result, owner)) {
    throw leaseConflict(row.id, owner, result);
  }
  // With expectedRevision 0 the row exists; a concurrent insert may be too new to read.
  const actual = result.current !== null ? Number(result.current) : expected === 0 ? null : 0;
  throw new ConflictError(row.id, expected ?? null, actual);
}

/**
 * Inserts or updates several instances in one statement, all or nothing: the rows go as one
 * JSON list parameter.
 *
 * @param runner Sends the statement.
 * @param sql The table's statements.
 * @param instances The instances; each id at most once.
 * @returns The revisions now stored, in the order given.
 * @throws {DatabaseError} When the statement returns no revision for an instance.
 *
 * @example
 * ```ts ignore
 * import { putInstances } from "./pg_put.ts";
 *
 * const { revisions } = await putInstances(runner, sql, [first, second]);
 * ```
 */
export async function putInstances(
  runner: StatementRunner,
  sql: Statements,
  instances: readonly WorkflowInstance<object>[],
): Promise<PutManyResult> {
  const rows = encodeInstances(instances);
  if (rows.length === 0) return { revisions: [] };
  const json = `[${
    rows.map((r) =>
      `{"id":${JSON.stringify(r.id)},"workflow":${
        JSON.stringify(r.workflow)
      },"workflow_version":${r.workflowVersion},"status":"${r.status}","state":${r.state}}`
    ).join(",")
  }]`;
  const { putMany } = sql;
  const result = await runner.rows("putMany", putMany.text, putMany.params({ rows: json }));
  const revisions = new Map(result.map((r) => [r.id, Number(r.revision)]));
  return {
    revisions: rows.map((r) => {
      const revision = revisions.get(r.id);
      if (revision === undefined) {
        throw new DatabaseError(`Unexpected result of putMany: no revision for ${r.id}`);
      }
      return revision;
    }),
  };
}
