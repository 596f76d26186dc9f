/**
 * The serializer: a {@linkcode WorkflowInstance} to a row of `workflow_instances` and back.
 *
 * The `state` column keeps the Elixir adapter's layout (snake_case keys, sorted step lists,
 * ISO-8601 UTC timestamps) with user data in natural JSON form; values JSON cannot hold are
 * listed under `"$types"` (see {@linkcode TypeAnnotation}), a key present only when needed.
 * The id, workflow, version and status live in their own columns.
 *
 * @module
 */

import { CorruptRecordError, SerializationError, ValidationError } from "./errors.ts";
import {
  type HistoryEntry,
  INSTANCE_STATUSES,
  type InstanceLease,
  type InstanceStatus,
  type StoredInstance,
  type WorkflowInstance,
} from "./instance.ts";
import {
  applyAnnotations,
  dateTimeValue,
  formatPath,
  isPlainObject,
  isStorableText,
  type JsonPath,
  TypedJsonWriter,
} from "./typed_json.ts";

/** The key of `state` that holds the type annotations. */
const TYPES_KEY = "$types";
/** The longest id or workflow name, in characters (the id column is varchar(255)). */
const MAX_NAME_LENGTH = 255;
const MAX_INT4 = 2147483647;

/**
 * An instance ready for the database: the column values and the `state` document as JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeInstance, newInstance, type EncodedInstance } from "@heph/pg";
 *
 * const row: EncodedInstance = encodeInstance(newInstance({ id: "a", workflow: "W" }));
 * assert.deepEqual(JSON.parse(row.state).context, { initial: {}, steps: {} });
 * ```
 */
export interface EncodedInstance {
  /** The `id` column. */
  id: string;
  /** The `workflow` column. */
  workflow: string;
  /** The `workflow_version` column. */
  workflowVersion: number;
  /** The `status` column. */
  status: InstanceStatus;
  /** The `state` column, as JSON text. */
  state: string;
}

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
 * Checks an id: 1 to 255 characters of storable text.
 *
 * @param id The candidate id.
 * @returns The id.
 * @throws {ValidationError} When it is not a valid id.
 */
export function validateId(id: unknown): string {
  if (typeof id !== "string" || id === "") {
    throw new ValidationError(`Invalid id: expected a non-empty string, got ${describe(id)}`);
  }
  if (!isStorableText(id)) {
    throw new ValidationError(`Invalid id: ${JSON.stringify(id)} contains NUL or a lone surrogate`);
  }
  const length = codePoints(id);
  if (length > MAX_NAME_LENGTH) {
    throw new ValidationError(
      `Invalid id: ${length} characters, at most ${MAX_NAME_LENGTH} allowed`,
    );
  }
  return id;
}

/**
 * Checks a status.
 *
 * @param status The candidate.
 * @returns The status.
 * @throws {ValidationError} When it is not one of {@linkcode INSTANCE_STATUSES}.
 */
export function validateStatus(status: unknown): InstanceStatus {
  if (!(INSTANCE_STATUSES as readonly unknown[]).includes(status)) {
    throw new ValidationError(
      `Invalid status: ${describe(status)}, expected one of ${INSTANCE_STATUSES.join(", ")}`,
    );
  }
  return status as InstanceStatus;
}

/**
 * Checks a workflow name: 1 to 255 characters of storable text (longer names would not fit
 * the B-tree index on the workflow column).
 *
 * @param workflow The candidate.
 * @param what How to name it in the message.
 * @returns The name.
 * @throws {ValidationError} When it is empty or not text.
 */
export function validateWorkflowName(workflow: unknown, what = "workflow"): string {
  if (typeof workflow !== "string" || workflow === "" || !isStorableText(workflow)) {
    throw new ValidationError(
      `Invalid ${what}: expected a non-empty string, got ${describe(workflow)}`,
    );
  }
  const length = codePoints(workflow);
  if (length > MAX_NAME_LENGTH) {
    throw new ValidationError(
      `Invalid ${what}: ${length} characters, at most ${MAX_NAME_LENGTH} allowed`,
    );
  }
  return workflow;
}

function codePoints(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/**
 * Checks a workflow version: an integer from 1 to 2147483647.
 *
 * @param version The candidate.
 * @returns The version.
 * @throws {ValidationError} When it is not a positive integer.
 */
export function validateWorkflowVersion(version: unknown): number {
  if (
    typeof version !== "number" || !Number.isInteger(version) || version < 1 || version > MAX_INT4
  ) {
    throw new ValidationError(
      `Invalid workflowVersion: expected a positive integer, got ${describe(version)}`,
    );
  }
  return version;
}

/**
 * Encodes an instance for storage, validating it on the way.
 *
 * @param instance The instance.
 * @returns The column values and the state as JSON text.
 * @throws {ValidationError} When the id, workflow, version, status or shape is invalid.
 * @throws {SerializationError} When a value cannot be stored faithfully (names the path).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeInstance, newInstance } from "@heph/pg";
 *
 * const instance = newInstance({ id: "a", workflow: "W", initial: { at: new Date(0) } });
 * const { $types } = JSON.parse(encodeInstance(instance).state);
 * assert.deepEqual($types, [[["context", "initial", "at"], "Date"]]);
 * ```
 */
export function encodeInstance(instance: WorkflowInstance<object>): EncodedInstance {
  if (!isPlainObject(instance)) {
    throw new ValidationError(`Invalid instance: expected an object, got ${describe(instance)}`);
  }
  const id = validateId(instance.id);
  const workflow = validateWorkflowName(instance.workflow);
  const workflowVersion = validateWorkflowVersion(instance.workflowVersion);
  const status = validateStatus(instance.status);
  const context = instance.context;
  if (!isPlainObject(context)) throw shapeError("context", "an object", context);
  const currentStep = instance.currentStep;
  if (currentStep !== null && typeof currentStep !== "string") {
    throw shapeError("currentStep", "a string or null", currentStep);
  }
  // Fast path: walk without checking each string, then look for what JSON.stringify escapes a
  // NUL or lone surrogate into. Only when one is there, walk again checking every string.
  let state = encodeState(instance, context, new TypedJsonWriter({ checkText: false }));
  if (mayHoldUnstorableText(state)) {
    state = encodeState(instance, context, new TypedJsonWriter());
    if (mayHoldUnstorableText(state)) {
      // Only a value that changed between two reads (a getter) gets here.
      throw new SerializationError(
        `Cannot store instance ${id}: a value changed while it was being encoded`,
        "(unknown)",
      );
    }
  }
  return { id, workflow, workflowVersion, status, state };
}

function encodeState(
  instance: WorkflowInstance<object>,
  context: Record<string, unknown>,
  writer: TypedJsonWriter,
): string {
  const state: Record<string, unknown> = {
    current_step: writer.encode(instance.currentStep, ["current_step"]),
    context: {
      initial: encodeRecord(context.initial, ["context", "initial"], writer),
      steps: encodeRecord(context.steps, ["context", "steps"], writer),
    },
    step_configs: encodeRecord(instance.stepConfigs, ["step_configs"], writer),
    active_steps: encodeStepSet(instance.activeSteps, "active_steps", writer),
    completed_steps: encodeStepSet(instance.completedSteps, "completed_steps", writer),
    execution_history: encodeHistory(instance.executionHistory, writer),
    runtime_metadata: encodeRecord(instance.runtimeMetadata, ["runtime_metadata"], writer),
    telemetry_metadata: encodeRecord(instance.telemetryMetadata, ["telemetry_metadata"], writer),
  };
  if (writer.annotations.length > 0) state[TYPES_KEY] = writer.annotations;
  return JSON.stringify(state);
}

/** A `\u0000` or `\udXXX` escape (preceded by an even number of backslashes) in JSON text. */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Whether JSON text produced by `JSON.stringify` may hold a NUL or a lone surrogate, which it
 * writes as `\u0000` and `\udXXX` escapes (well-formed text is written as is).
 */
function mayHoldUnstorableText(json: string): boolean {
  return json.includes("\\u") && UNSTORABLE_ESCAPE.test(json);
}

/**
 * Encodes a batch for `putMany`, refusing a repeated id (one statement cannot write a row twice).
 *
 * @param instances The instances.
 * @returns Their encodings, in order.
 * @throws {ValidationError} On an invalid instance or a repeated id.
 * @throws {SerializationError} When a value cannot be stored faithfully.
 */
export function encodeInstances(
  instances: readonly WorkflowInstance<object>[],
): EncodedInstance[] {
  if (!Array.isArray(instances)) {
    throw new ValidationError(`Invalid instances: expected a list, got ${describe(instances)}`);
  }
  const rows = instances.map((instance) => encodeInstance(instance));
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.id)) {
      throw new ValidationError(`Invalid instances: id ${JSON.stringify(row.id)} appears twice`);
    }
    seen.add(row.id);
  }
  return rows;
}

function encodeRecord(value: unknown, path: JsonPath, writer: TypedJsonWriter): unknown {
  if (!isPlainObject(value)) throw shapeError(formatPath(path), "a plain object", value);
  return writer.encode(value, path);
}

function encodeStepSet(value: unknown, key: string, writer: TypedJsonWriter): unknown[] {
  if (!(value instanceof Set) && !Array.isArray(value)) {
    throw shapeError(key, "a Set of step names", value);
  }
  const steps = [...value];
  for (const step of steps) {
    if (typeof step !== "string") throw shapeError(`${key} member`, "a string", step);
  }
  return [...new Set(steps as string[])].sort().map((step, i) => writer.encode(step, [key, i]));
}

function encodeHistory(value: unknown, writer: TypedJsonWriter): unknown[] {
  if (!Array.isArray(value)) throw shapeError("executionHistory", "an array", value);
  return value.map((entry: HistoryEntry, i): unknown => {
    const where = `executionHistory[${i}]`;
    if (!isPlainObject(entry)) throw shapeError(where, "an object", entry);
    if (typeof entry.stepRef !== "string") {
      throw shapeError(`${where}.stepRef`, "a string", entry.stepRef);
    }
    if (typeof entry.event !== "string") {
      throw shapeError(`${where}.event`, "a string", entry.event);
    }
    const time = dateTimeValue(entry.timestamp);
    if (!(entry.timestamp instanceof Date) || Number.isNaN(time)) {
      throw shapeError(`${where}.timestamp`, "a valid Date", entry.timestamp);
    }
    const updates = entry.contextUpdates ?? null;
    const base: JsonPath = ["execution_history", i];
    return {
      step_ref: writer.encode(entry.stepRef, [...base, "step_ref"]),
      event: writer.encode(entry.event, [...base, "event"]),
      timestamp: new Date(time).toISOString(),
      context_updates: updates === null
        ? null
        : encodeRecord(updates, [...base, "context_updates"], writer),
    };
  });
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
    status: column(
      row.status,
      "status",
      id,
      (v) => (INSTANCE_STATUSES as readonly unknown[]).includes(v),
    ),
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
      state = JSON.parse(value);
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

function shapeError(where: string, expected: string, value: unknown): ValidationError {
  return new ValidationError(
    `Invalid instance: ${where} must be ${expected}, got ${describe(value)}`,
  );
}

/** Describes a value briefly for error messages (not part of the public API). */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return "an array";
  return value.constructor?.name ? `a ${value.constructor.name}` : "an object";
}
