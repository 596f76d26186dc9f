/**
 * The serializer's way back: a row of `workflow_instances`, untrusted, to a
 * {@linkcode StoredInstance}. Every column and every key of `state` is checked; a row that does
 * not hold an instance is a {@linkcode CorruptRecordError} naming its id.
 *
 * @module
 */

import { CorruptRecordError } from "./errors.ts";
import type { HistoryEntry, InstanceLease, StoredInstance } from "./instance.ts";
import { applyAnnotations } from "./typed_json_reader.ts";
import { isPlainObject } from "./json_value.ts";
import { parseJson } from "./parse_json.ts";
import { TYPES_KEY } from "./typed_json.ts";
import { describe, isInstanceStatus } from "./validation.ts";

/**
 * A row of `workflow_instances` as read back. Accepts what drivers return by default (jsonb
 * parsed, Date, int8 as string) as well as the text forms PgStorage selects.
 *
 * @example
 * ```ts
 * import type { InstanceRow } from "@heph/pg";
 *
 * const row: InstanceRow = {
 *   id: "a", workflow: "W", workflow_version: 1, status: "pending", state: "{}",
 *   revision: "1", inserted_at: new Date(), updated_at: new Date(),
 * };
 * ```
 */
export interface InstanceRow {
  /** The id. */
  id: unknown;
  /** The workflow name. */
  workflow: unknown;
  /** The workflow version (number or numeric string). */
  workflow_version: unknown;
  /** The status. */
  status: unknown;
  /** The state: JSON text or an already-parsed object. */
  state: unknown;
  /** The revision (number, bigint or numeric string). */
  revision: unknown;
  /** A Date, an ISO string, or epoch milliseconds (number or numeric string). */
  inserted_at: unknown;
  /** A Date, an ISO string, or epoch milliseconds (number or numeric string). */
  updated_at: unknown;
  /** Who holds the lease, or null (absent before migration 2). */
  lease_owner?: unknown;
  /** When the lease lapses, in any of the timestamp forms above, or null. */
  lease_expires_at?: unknown;
}

/**
 * Decodes a stored row. The row is untrusted: its shape is checked, keys such as `__proto__`
 * stay plain data, and keys missing from older rows get their defaults.
 *
 * @param row The row.
 * @returns The instance with its revision and timestamps.
 * @throws {CorruptRecordError} When the row cannot be decoded (names the id).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeInstance } from "@heph/pg";
 *
 * const instance = decodeInstance({
 *   id: "a", workflow: "W", workflow_version: 1, status: "pending", state: "{}",
 *   revision: "1", inserted_at: "0", updated_at: "0",
 * });
 * assert.deepEqual(instance.activeSteps, new Set());
 * ```
 */
export function decodeInstance(row: InstanceRow): StoredInstance {
  const id = typeof row?.id === "string" ? row.id : undefined;
  if (id === undefined) throw new CorruptRecordError(String(row?.id), "the id is not a string");
  const state = parseState(row.state, id);
  if (Object.hasOwn(state, TYPES_KEY)) {
    applyAnnotations(state, state[TYPES_KEY], id);
  }
  const read = new FieldReader(state, id);
  const context = read.record("context", { initial: {}, steps: {} });
  const contextRead = new FieldReader(context, id, "context.");
  return {
    id,
    workflow: column(row.workflow, "workflow", id, (v) => typeof v === "string" && v !== ""),
    workflowVersion: integerColumn(row.workflow_version, "workflow_version", id),
    currentStep: read.field("current_step", null, (v) => v === null || typeof v === "string"),
    status: column(row.status, "status", id, isInstanceStatus),
    context: {
      initial: contextRead.record("initial", {}),
      steps: contextRead.record("steps", {}),
    },
    stepConfigs: read.record("step_configs", {}),
    activeSteps: new Set(read.stringList("active_steps")),
    completedSteps: new Set(read.stringList("completed_steps")),
    runtimeMetadata: read.record("runtime_metadata", {}),
    telemetryMetadata: read.record("telemetry_metadata", {}),
    executionHistory: read.field("execution_history", [], Array.isArray).map((entry, i) =>
      decodeHistoryEntry(entry, i, id)
    ),
    revision: integerColumn(row.revision, "revision", id),
    insertedAt: timestampColumn(row.inserted_at, "inserted_at", id),
    updatedAt: timestampColumn(row.updated_at, "updated_at", id),
    lease: decodeLease(row, id),
  } as StoredInstance;
}

function decodeLease(row: InstanceRow, id: string): InstanceLease | null {
  if (row.lease_owner == null && row.lease_expires_at == null) return null;
  const owner = column<string>(row.lease_owner, "lease_owner", id, (v) => typeof v === "string");
  return { owner, expiresAt: timestampColumn(row.lease_expires_at, "lease_expires_at", id) };
}

function parseState(value: unknown, id: string): Record<string, unknown> {
  let state = value;
  if (typeof value === "string") {
    try {
      state = parseJson(value);
    } catch (error) {
      throw new CorruptRecordError(id, "state is not valid JSON", { cause: error });
    }
  }
  if (!isPlainObject(state)) throw new CorruptRecordError(id, "state is not an object");
  return state;
}

class FieldReader {
  #object: Record<string, unknown>;
  #id: string;
  #prefix: string;

  constructor(object: Record<string, unknown>, id: string, prefix = "") {
    this.#object = object;
    this.#id = id;
    this.#prefix = prefix;
  }

  field<T>(key: string, fallback: T, valid: (value: unknown) => boolean): T {
    if (!Object.hasOwn(this.#object, key)) return fallback;
    const value = this.#object[key];
    if (!valid(value)) {
      throw new CorruptRecordError(this.#id, `state.${this.#prefix}${key} has the wrong type`);
    }
    return value as T;
  }

  record(key: string, fallback: Record<string, unknown>): Record<string, unknown> {
    return this.field(key, fallback, isPlainObject);
  }

  stringList(key: string): string[] {
    return this.field<string[]>(
      key,
      [],
      (v) => Array.isArray(v) && v.every((step) => typeof step === "string"),
    );
  }
}

function decodeHistoryEntry(entry: unknown, i: number, id: string): HistoryEntry {
  const where = `state.execution_history[${i}]`;
  if (!isPlainObject(entry)) throw new CorruptRecordError(id, `${where} is not an object`);
  const { step_ref, event, timestamp, context_updates } = entry;
  if (typeof step_ref !== "string" || typeof event !== "string") {
    throw new CorruptRecordError(id, `${where} has no step_ref or event string`);
  }
  const updates = context_updates ?? null;
  if (updates !== null && !isPlainObject(updates)) {
    throw new CorruptRecordError(id, `${where}.context_updates is not an object`);
  }
  const date = typeof timestamp === "string" ? new Date(timestamp) : new Date(NaN);
  if (Number.isNaN(date.getTime())) {
    throw new CorruptRecordError(id, `${where}.timestamp is not an ISO-8601 timestamp`);
  }
  return { stepRef: step_ref, event, timestamp: date, contextUpdates: updates };
}

function column<T>(value: unknown, name: string, id: string, valid: (v: unknown) => boolean): T {
  if (!valid(value)) {
    throw new CorruptRecordError(id, `column ${name} is invalid: ${describe(value)}`);
  }
  return value as T;
}

function integerColumn(value: unknown, name: string, id: string): number {
  const n = typeof value === "string" && /^\d+$/.test(value)
    ? Number(value)
    : typeof value === "bigint"
    ? Number(value)
    : value;
  return column(n, name, id, (v) => Number.isSafeInteger(v) && (v as number) > 0);
}

function timestampColumn(value: unknown, name: string, id: string): Date {
  let date: Date;
  if (value instanceof Date) date = new Date(value.getTime());
  // Epoch milliseconds may have a fraction (microseconds): floored, as a Date would hold the
  // instant (new Date(-0.5) would round toward zero, to a later millisecond).
  else if (typeof value === "number") date = new Date(Math.floor(value));
  else if (typeof value === "string") {
    date = new Date(/^-?\d+(\.\d+)?$/.test(value) ? Math.floor(Number(value)) : value);
  } else date = new Date(NaN);
  if (Number.isNaN(date.getTime())) {
    throw new CorruptRecordError(id, `column ${name} is not a timestamp: ${describe(value)}`);
  }
  return date;
}

/**
 * Decodes every item, keeping the healthy instances and the errors of the corrupt ones apart
 * (for `skipCorrupt` and `claim`).
 *
 * @typeParam T What is decoded (a row, a store's entry).
 * @typeParam R What one item decodes to.
 * @param items The items.
 * @param decode Decodes one item, throwing a {@linkcode CorruptRecordError} when it cannot.
 * @returns The decoded items, and an error for each item that did not decode, both in order.
 * @throws {Error} Any error `decode` throws other than a {@linkcode CorruptRecordError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeEach, decodeInstance, type InstanceRow } from "./instance_decoder.ts";
 *
 * const row = (state: string): InstanceRow => ({
 *   id: "a", workflow: "W", workflow_version: 1, status: "pending", state,
 *   revision: "1", inserted_at: "0", updated_at: "0",
 * });
 * const { healthy, corrupt } = decodeEach([row("{}"), row("not json")], decodeInstance);
 * assert.equal(healthy.length, 1);
 * assert.equal(corrupt[0]?.id, "a");
 * ```
 */
export function decodeEach<T, R>(
  items: readonly T[],
  decode: (item: T) => R,
): { healthy: R[]; corrupt: CorruptRecordError[] } {
  const healthy: R[] = [];
  const corrupt: CorruptRecordError[] = [];
  for (const item of items) {
    try {
      healthy.push(decode(item));
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      corrupt.push(error);
    }
  }
  return { healthy, corrupt };
}
