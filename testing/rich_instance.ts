/**
 * An instance with every part of the model filled in, for round-trip checks.
 *
 * @module
 */
import { newInstance, type WorkflowInstance } from "../mod.ts";

/**
 * An instance that exercises every part of the model and every value JSON alone would lose.
 *
 * @param id The instance id.
 * @returns A running instance with step results, configs, sets, metadata and history.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { richInstance } from "@heph/pg/testing";
 *
 * assert.equal(richInstance("order::1").status, "running");
 * ```
 */
export function richInstance(id: string): WorkflowInstance {
  const instance = newInstance({
    id,
    workflow: "Shop.OrderWorkflow",
    workflowVersion: 3,
    initial: {
      order_id: 123,
      customer: { name: "Zoë \u{1F600}", tags: ["vip", "eu"], address: null },
      placed_at: new Date("2026-11-25T10:20:30.456Z"),
      total_cents: 12345678901234567890n,
      lines: new Map<unknown, unknown>([["sku-1", 2], [42, { qty: 1 }], [{ k: 1 }, "object key"]]),
      coupons: new Set(["SPRING", "VIP"]),
      signature: new Uint8Array([0, 1, 2, 254, 255]),
      maybe: undefined,
      sparse: [1, undefined, 3],
      // deno-lint-ignore no-sparse-arrays
      holes: [, 1, , , 2, ,],
      ratios: [NaN, Infinity, -Infinity, -0, 0.1, 5e-324, 1.7976931348623157e308],
      "nul\u0000key": "nul\u0000value",
      lone: "\uD800 lone surrogate",
      ["__proto__"]: { polluted: true },
      constructor: "just data",
      nested: { deep: { deeper: [{ at: new Date(0) }] } },
    },
  });
  instance.status = "running";
  instance.currentStep = "reserve";
  instance.context.steps = { validate: { ok: true, checked_at: new Date(1_700_000_000_000) } };
  instance.stepConfigs = { reserve: { timeout_ms: 5000, retries: 3 }, charge: { gateway: "x" } };
  instance.activeSteps = new Set(["reserve", "audit"]);
  instance.completedSteps = new Set(["validate"]);
  instance.runtimeMetadata = { node: "worker-1", attempts: 1n };
  instance.telemetryMetadata = { trace_id: "abc123", span: { id: 7 } };
  instance.executionHistory = [
    {
      stepRef: "validate",
      event: "started",
      timestamp: new Date("2026-11-25T10:20:31.000Z"),
      contextUpdates: null,
    },
    {
      stepRef: "validate",
      event: "completed",
      timestamp: new Date("2026-11-25T10:20:31.250Z"),
      contextUpdates: { ok: true, seen: new Set([1, 2]) },
    },
  ];
  return instance;
}
