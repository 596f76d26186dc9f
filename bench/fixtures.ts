/**
 * The instances every section measures: an order workflow whose state grows with its line
 * items, the plain form a hand-written store would `JSON.stringify`, and the sizes used.
 * Imports nothing but the module itself, so the peers worker (run with another config) can
 * use it too.
 *
 * @module
 */

import { encodeInstance, type InstanceStatus, newInstance, type WorkflowInstance } from "../mod.ts";

/** A state size the bench measures. */
export interface Size {
  /** "2 KB" or "64 KB". */
  label: string;
  /** The target length of the encoded state. */
  bytes: number;
}

/** The two instance sizes of every table: a typical state and a large one. */
export const SIZES: readonly Size[] = [
  { label: "2 KB", bytes: 2 * 1024 },
  { label: "64 KB", bytes: 64 * 1024 },
];

/**
 * An order-workflow instance, three steps done and one running, whose state grows with the
 * number of line items. `orderId` goes into `context.initial.order_id` (what `contextContains`
 * looks for).
 */
export function orderInstance(
  id: string,
  items: number,
  status: InstanceStatus,
  orderId = 123456,
): WorkflowInstance {
  const placed = new Date(Date.UTC(2025, 0, 15, 10, 30));
  const at = (seconds: number) => new Date(placed.getTime() + seconds * 1000);
  const lineItems = Array.from({ length: items }, (_, i) => ({
    sku: `SKU-${10000 + i}`,
    name: `Widget model ${i}, stainless steel, 40 cm`,
    quantity: 1 + (i % 4),
    unit_price: { amount: 1999 + i * 7, currency: "EUR" },
    tax_rate: 0.2,
    attributes: { color: ["red", "green", "blue"][i % 3], size: "SMLX"[i % 4], gift: i % 5 === 0 },
  }));
  const subtotal = lineItems.reduce((sum, li) => sum + li.quantity * li.unit_price.amount, 0);
  const address = { line1: "12 Ada Row", city: "London", postcode: "EC1A 1BB", country: "GB" };
  const instance = newInstance({
    id,
    workflow: "Shop.OrderWorkflow",
    workflowVersion: 3,
    initial: {
      order_id: orderId,
      placed_at: placed,
      channel: "web",
      customer: {
        id: "cus_8f3a9c",
        name: "Ada Lovelace",
        email: "ada@example.com",
        since: new Date(Date.UTC(2019, 4, 1)),
        loyalty: { tier: "gold", points: 12840 },
      },
      shipping_address: address,
      billing_same_as_shipping: true,
      line_items: lineItems,
      totals: { subtotal, shipping: 495, tax: Math.round(subtotal * 0.2), currency: "EUR" },
      notes: "Leave at the reception desk if nobody answers.",
    },
  });
  const steps = ["validate", "reserve_stock", "charge"];
  return Object.assign(instance, {
    status,
    currentStep: "ship",
    stepConfigs: { charge: { retries: 3, timeout_ms: 30000 }, ship: { carrier: "dhl" } },
    activeSteps: new Set(["ship"]),
    completedSteps: new Set(steps),
    runtimeMetadata: { node: "worker-2", attempt: 1 },
    telemetryMetadata: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa" },
    context: {
      initial: instance.context.initial,
      steps: {
        validate: { valid: true, checked_at: at(1), warnings: [] },
        reserve_stock: {
          reservations: lineItems.map((li, i) => ({ sku: li.sku, warehouse: `WH-${i % 3}` })),
        },
        charge: { payment_id: "pi_3NfX2", amount: subtotal + 495, captured_at: at(5) },
      },
    },
    executionHistory: [
      ...steps.map((step, i) => ({
        stepRef: step,
        event: "completed",
        timestamp: at(i + 1),
        contextUpdates: { ok: true },
      })),
      { stepRef: "ship", event: "started", timestamp: at(4), contextUpdates: null },
    ],
  });
}

/** What a hand-written store would `JSON.stringify`: the same layout, Sets as arrays. */
export function plainState(instance: WorkflowInstance): Record<string, unknown> {
  return {
    current_step: instance.currentStep,
    context: instance.context,
    step_configs: instance.stepConfigs,
    active_steps: [...instance.activeSteps],
    completed_steps: [...instance.completedSteps],
    execution_history: instance.executionHistory.map((e) => ({
      step_ref: e.stepRef,
      event: e.event,
      timestamp: e.timestamp,
      context_updates: e.contextUpdates,
    })),
    runtime_metadata: instance.runtimeMetadata,
    telemetry_metadata: instance.telemetryMetadata,
  };
}

const itemsCache = new Map<number, number>();

/** The number of line items (at least 2) whose encoded state is closest to `bytes`. */
export function itemsFor(bytes: number): number {
  const cached = itemsCache.get(bytes);
  if (cached !== undefined) return cached;
  const size = (items: number) => encodeInstance(orderInstance("x", items, "running")).state.length;
  let items = 2;
  while (Math.abs(size(items + 1) - bytes) < Math.abs(size(items) - bytes)) items++;
  itemsCache.set(bytes, items);
  return items;
}

/**
 * The statements a user would write by hand for the same table: a plain upsert returning the
 * revision, and selects of `state::text` parsed with `JSON.parse` (timestamps and numbers left
 * to the client's own parsing). Sent through the client's ordinary call, as a user would.
 */
export function handWritten(table: string) {
  const columns =
    "id, workflow, workflow_version, status, state::text AS state, revision, inserted_at, updated_at";
  return {
    put: `INSERT INTO ${table} AS t (id, workflow, workflow_version, status, state)
      VALUES ($1, $2, $3, $4, $5::jsonb)
      ON CONFLICT (id) DO UPDATE SET workflow = EXCLUDED.workflow, status = EXCLUDED.status,
        state = EXCLUDED.state, revision = t.revision + 1, updated_at = now()
      RETURNING revision`,
    get: `SELECT ${columns} FROM ${table} WHERE id = $1`,
    byStatus: `SELECT ${columns} FROM ${table} WHERE status = $1 ORDER BY inserted_at, id`,
    contains:
      `SELECT ${columns} FROM ${table} WHERE state -> 'context' @> $1::jsonb ORDER BY inserted_at, id`,
  };
}

/** Parses the `state` text of each hand-written row, as a hand-written store would. */
export function parseStates(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows) row.state = JSON.parse(row.state as string);
  return rows;
}
