/**
 * What `inspect` and the dashboard show of a stored instance: JSON-safe views (a list row, the
 * whole instance with its history as a timeline) and the rows that could not be decoded, all
 * built from the public {@linkcode StoredInstance} so they work on any store.
 *
 * @example
 * ```ts ignore
 * import { detail, summarize } from "./instances.ts";
 *
 * const row = summarize(instance, Date.now());
 * const whole = detail(instance, Date.now());
 * ```
 *
 * @module
 */

import type { CorruptRecordError, InstanceStatus, Page, StoredInstance } from "../mod.ts";
import { encodeBase64 } from "../src/base64.ts";

/**
 * Makes a stored value JSON-safe for display: a `Date` becomes its ISO string, a `BigInt` its
 * decimal string, a `Set` an array, a `Map` an array of `[key, value]`, a `Uint8Array` base64,
 * `undefined` null, and `NaN` / `±Infinity` their names.
 *
 * @param value Any value decoded from a store.
 * @returns A value `JSON.stringify` writes faithfully.
 */
export function toPlain(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : String(value);
  }
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Set) return Array.from(value, toPlain);
  if (value instanceof Map) return Array.from(value, ([k, v]) => [toPlain(k), toPlain(v)]);
  if (value instanceof Uint8Array) return encodeBase64(value);
  if (Array.isArray(value)) return Array.from(value, toPlain);
  // fromEntries defines own properties: a "__proto__" key stays a key.
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
}

/** A lease as shown: who, until when, and whether that moment has passed. */
export interface LeaseView {
  /** The worker holding it. */
  owner: string;
  /** When it lapses, ISO-8601. */
  expiresAt: string;
  /** Whether it had lapsed at the time of reading (by this machine's clock). */
  expired: boolean;
}

/** One instance as a row of a list: what `inspect list --json` prints, one per line. */
export interface InstanceSummary {
  /** The id. */
  id: string;
  /** The workflow name. */
  workflow: string;
  /** The workflow version. */
  workflowVersion: number;
  /** The status. */
  status: InstanceStatus;
  /** The current step, or null. */
  currentStep: string | null;
  /** The revision. */
  revision: number;
  /** When first stored, ISO-8601. */
  insertedAt: string;
  /** When last stored, ISO-8601. */
  updatedAt: string;
  /** The lease, or null. */
  lease: LeaseView | null;
}

/**
 * The row of an instance in a list.
 *
 * @param instance The instance.
 * @param now The current time, epoch milliseconds, to tell expired leases.
 * @returns The summary.
 */
export function summarize(instance: StoredInstance, now: number): InstanceSummary {
  return {
    id: instance.id,
    workflow: instance.workflow,
    workflowVersion: instance.workflowVersion,
    status: instance.status,
    currentStep: instance.currentStep,
    revision: instance.revision,
    insertedAt: instance.insertedAt.toISOString(),
    updatedAt: instance.updatedAt.toISOString(),
    lease: instance.lease && {
      owner: instance.lease.owner,
      expiresAt: instance.lease.expiresAt.toISOString(),
      expired: instance.lease.expiresAt.getTime() <= now,
    },
  };
}

/** One entry of the execution history, with the time since the entry before it. */
export interface TimelineEntry {
  /** The step. */
  stepRef: string;
  /** What happened. */
  event: string;
  /** When, ISO-8601. */
  timestamp: string;
  /** Milliseconds since the previous entry; null for the first. */
  sincePreviousMs: number | null;
  /** What the step added to the context (JSON-safe), or null. */
  contextUpdates: unknown;
}

/** The whole instance as shown: what `inspect show --json` prints and the dashboard renders. */
export interface InstanceDetail extends InstanceSummary {
  /** Initial data and step results (JSON-safe). */
  context: { initial: unknown; steps: unknown };
  /** Per-step configuration (JSON-safe). */
  stepConfigs: unknown;
  /** Steps running, sorted. */
  activeSteps: string[];
  /** Steps finished, sorted. */
  completedSteps: string[];
  /** Engine metadata (JSON-safe). */
  runtimeMetadata: unknown;
  /** Telemetry metadata (JSON-safe). */
  telemetryMetadata: unknown;
  /** The execution history, in stored order, with durations between entries. */
  executionHistory: TimelineEntry[];
}

/**
 * The whole instance, JSON-safe, with the history as a timeline.
 *
 * @param instance The instance.
 * @param now The current time, epoch milliseconds.
 * @returns The detail.
 */
export function detail(instance: StoredInstance, now: number): InstanceDetail {
  let previous: number | undefined;
  return {
    ...summarize(instance, now),
    context: { initial: toPlain(instance.context.initial), steps: toPlain(instance.context.steps) },
    stepConfigs: toPlain(instance.stepConfigs),
    activeSteps: [...instance.activeSteps].sort(),
    completedSteps: [...instance.completedSteps].sort(),
    runtimeMetadata: toPlain(instance.runtimeMetadata),
    telemetryMetadata: toPlain(instance.telemetryMetadata),
    executionHistory: instance.executionHistory.map((entry) => {
      const time = entry.timestamp.getTime();
      const sincePreviousMs = previous === undefined || Number.isNaN(time) ? null : time - previous;
      if (!Number.isNaN(time)) previous = time;
      return {
        stepRef: entry.stepRef,
        event: entry.event,
        timestamp: Number.isNaN(time) ? "invalid date" : entry.timestamp.toISOString(),
        sincePreviousMs,
        contextUpdates: toPlain(entry.contextUpdates),
      };
    }),
  };
}

/** A row a view could not decode: its id and why (`inspect show <id>` says the same). */
export interface CorruptRow {
  /** The row's id. */
  id: string;
  /** What is wrong with it. */
  reason: string;
}

/**
 * The corrupt rows of a page read with `skipCorrupt`.
 *
 * @param page The page.
 * @returns Their ids and reasons, in insertion order.
 */
export function corruptRows(page: Page): CorruptRow[] {
  return (page.corrupt ?? []).map((error) => ({ id: error.id, reason: corruptReason(error) }));
}

/**
 * What is wrong with a corrupt row: the error's message without its `Corrupt record <id>: `.
 *
 * @param error The error.
 * @returns The reason.
 */
export function corruptReason(error: CorruptRecordError): string {
  const prefix = `Corrupt record ${error.id}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}
