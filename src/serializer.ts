/**
 * The serializer: a {@linkcode WorkflowInstance} to a row of `workflow_instances` and back.
 *
 * The `state` column keeps the Elixir adapter's layout (snake_case keys, sorted step lists,
 * ISO-8601 UTC timestamps) with user data in natural JSON form; values JSON cannot hold are
 * listed under `"$types"` (see {@linkcode TypeAnnotation}), a key present only when needed.
 * The id, workflow, version and status live in their own columns.
 *
 * This module encodes; the way back, `decodeInstance`, lives in `instance_decoder.ts`. The checks of ids, names and statuses live in `validation.ts`.
 *
 * @module
 */

import { SerializationError, ValidationError } from "./errors.ts";
import type { HistoryEntry, InstanceStatus, WorkflowInstance } from "./instance.ts";
import { dateTimeValue, isPlainObject } from "./json_value.ts";
import { formatPath, type JsonPath } from "./json_path.ts";
import { TypedJsonWriter, TYPES_KEY } from "./typed_json.ts";
import {
  describe,
  validateId,
  validateStatus,
  validateWorkflowName,
  validateWorkflowVersion,
} from "./validation.ts";

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
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newInstance } from "@heph/pg";
 * import { encodeInstances } from "./serializer.ts";
 *
 * const rows = encodeInstances([
 *   newInstance({ id: "a", workflow: "W" }),
 *   newInstance({ id: "b", workflow: "W" }),
 * ]);
 * assert.deepEqual(rows.map((row) => row.id), ["a", "b"]);
 * ```
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

function shapeError(where: string, expected: string, value: unknown): ValidationError {
  return new ValidationError(
    `Invalid instance: ${where} must be ${expected}, got ${describe(value)}`,
  );
}
