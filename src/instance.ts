/**
 * The workflow instance model: what a Hephaestus-style engine keeps for each running workflow.
 *
 * @module
 */

/**
 * Every status an instance can have, in lifecycle order.
 *
 * @example Check a string
 * ```ts
 * import assert from "node:assert/strict";
 * import { INSTANCE_STATUSES } from "@heph/pg";
 *
 * assert.ok(INSTANCE_STATUSES.includes("running"));
 * ```
 */
export const INSTANCE_STATUSES: readonly ["pending", "running", "waiting", "completed", "failed"] =
  Object.freeze(["pending", "running", "waiting", "completed", "failed"] as const);

/**
 * The status of a workflow instance.
 *
 * @example
 * ```ts
 * import type { InstanceStatus } from "@heph/pg";
 *
 * const status: InstanceStatus = "waiting";
 * ```
 */
export type InstanceStatus = typeof INSTANCE_STATUSES[number];

/**
 * One entry of an instance's execution history.
 *
 * @example
 * ```ts
 * import type { HistoryEntry } from "@heph/pg";
 *
 * const entry: HistoryEntry = {
 *   stepRef: "validate",
 *   event: "completed",
 *   timestamp: new Date(),
 *   contextUpdates: { valid: true },
 * };
 * ```
 */
export interface HistoryEntry {
  /** The step this entry is about. */
  stepRef: string;
  /** What happened ("started", "completed", "failed", …). */
  event: string;
  /** When it happened; stored with millisecond precision. */
  timestamp: Date;
  /** What the step added to the context, or null. */
  contextUpdates: Record<string, unknown> | null;
}

/**
 * The context an instance carries: its initial data and each step's result.
 *
 * @typeParam I The type of `initial`; a promise the caller makes, not checked at run time.
 *
 * @example
 * ```ts
 * import type { InstanceContext } from "@heph/pg";
 *
 * const context: InstanceContext<{ order_id: number }> = {
 *   initial: { order_id: 123 },
 *   steps: { validate: { ok: true } },
 * };
 * ```
 */
export interface InstanceContext<I extends object = Record<string, unknown>> {
  /** The data the instance was started with. */
  initial: I;
  /** Results keyed by step reference. */
  steps: Record<string, unknown>;
}

/**
 * A workflow instance, as the engine holds it in memory.
 *
 * @typeParam I The type of `context.initial` (`Record<string, unknown>` by default). It is a
 *   promise the caller makes: the store does not check it when reading rows back.
 *
 * @example Untyped
 * ```ts
 * import { newInstance, type WorkflowInstance } from "@heph/pg";
 *
 * const instance: WorkflowInstance = newInstance({ id: "order::1", workflow: "Shop.Order" });
 * instance.status = "running";
 * instance.activeSteps.add("validate");
 * ```
 *
 * @example Typed initial data
 * ```ts
 * import { newInstance, type WorkflowInstance } from "@heph/pg";
 *
 * interface Order {
 *   order_id: number;
 * }
 * const instance: WorkflowInstance<Order> = newInstance<Order>({
 *   id: "order::1",
 *   workflow: "Shop.Order",
 *   initial: { order_id: 1 },
 * });
 * const orderId: number = instance.context.initial.order_id;
 * ```
 */
export interface WorkflowInstance<I extends object = Record<string, unknown>> {
  /** Business-key id, 1 to 255 characters, such as "order::123". */
  id: string;
  /** The workflow's name, such as "Shop.OrderWorkflow". */
  workflow: string;
  /** The workflow's version: a positive integer, fixed by the first insert. */
  workflowVersion: number;
  /** The step being executed, or null. */
  currentStep: string | null;
  /** The lifecycle status. */
  status: InstanceStatus;
  /** Initial data and step results. */
  context: InstanceContext<I>;
  /** Per-step configuration, keyed by step reference. */
  stepConfigs: Record<string, unknown>;
  /** Steps currently running. */
  activeSteps: Set<string>;
  /** Steps that have finished. */
  completedSteps: Set<string>;
  /** Engine-owned metadata. */
  runtimeMetadata: Record<string, unknown>;
  /** Telemetry metadata (trace ids and the like). */
  telemetryMetadata: Record<string, unknown>;
  /** What happened, in order. */
  executionHistory: HistoryEntry[];
}

/**
 * A workflow instance as read back from a store, with the store's bookkeeping.
 *
 * @typeParam I The type of `context.initial`, as for {@linkcode WorkflowInstance}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage, newInstance, type StoredInstance } from "@heph/pg";
 *
 * const storage = new MemoryStorage();
 * await storage.put(newInstance({ id: "a", workflow: "W" }));
 * const stored: StoredInstance | null = await storage.get("a");
 * assert.equal(stored?.revision, 1);
 * ```
 */
export interface StoredInstance<I extends object = Record<string, unknown>>
  extends WorkflowInstance<I> {
  /** 1 after the first put, one more after each later put. */
  revision: number;
  /** Who holds the instance's lease and until when, or null when it is not leased. */
  lease: InstanceLease | null;
  /** When the instance was first stored (millisecond precision). */
  insertedAt: Date;
  /** When the instance was last stored (millisecond precision). */
  updatedAt: Date;
}

/**
 * A lease on an instance: one worker may advance it until `expiresAt`. An expired lease is
 * reported until it is renewed, released or taken over.
 *
 * @example
 * ```ts
 * import type { InstanceLease } from "@heph/pg";
 *
 * const lease: InstanceLease = { owner: "worker-1", expiresAt: new Date(Date.now() + 30_000) };
 * ```
 */
export interface InstanceLease {
  /** The worker holding it. */
  owner: string;
  /** When it lapses (millisecond precision). */
  expiresAt: Date;
}

/**
 * What {@linkcode newInstance} needs.
 *
 * @typeParam I The type of `initial`.
 *
 * @example
 * ```ts
 * import type { NewInstanceInput } from "@heph/pg";
 *
 * const input: NewInstanceInput = { id: "order::1", workflow: "Shop.Order", initial: { n: 1 } };
 * ```
 */
export interface NewInstanceInput<I extends object = Record<string, unknown>> {
  /** Business-key id. */
  id: string;
  /** Workflow name. */
  workflow: string;
  /** Workflow version; 1 when omitted. */
  workflowVersion?: number;
  /** Initial context data; `{}` when omitted. */
  initial?: I;
}

/**
 * Makes a pending instance with empty step sets, results, metadata and history.
 *
 * The type parameter `I` is never inferred from `initial`: name it (`newInstance<Order>(…)`) to
 * have `initial` checked against it, or leave it out for `Record<string, unknown>`.
 *
 * @typeParam I The type of `context.initial`.
 * @param input The id, workflow, and optionally the version and initial data.
 * @returns A fresh pending instance (not yet stored).
 *
 * @example Start an order workflow
 * ```ts
 * import assert from "node:assert/strict";
 * import { newInstance } from "@heph/pg";
 *
 * const instance = newInstance({ id: "order::123", workflow: "Shop.OrderWorkflow", initial: { order_id: 123 } });
 * assert.equal(instance.status, "pending");
 * ```
 */
export function newInstance<I extends object = Record<string, unknown>>(
  input: NewInstanceInput<NoInfer<I>>,
): WorkflowInstance<I> {
  return {
    id: input.id,
    workflow: input.workflow,
    workflowVersion: input.workflowVersion ?? 1,
    currentStep: null,
    status: "pending",
    context: { initial: input.initial ?? ({} as I), steps: {} },
    stepConfigs: {},
    activeSteps: new Set(),
    completedSteps: new Set(),
    runtimeMetadata: {},
    telemetryMetadata: {},
    executionHistory: [],
  };
}
