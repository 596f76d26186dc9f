/**
 * What the contract cases share: seed data, a filter's ids, a typed rejection check, extreme
 * dates. Internal to the suite (not exported by `@heph/pg/testing`).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type InstanceFilter,
  newInstance,
  type Storage,
  type WorkflowInstance,
} from "../../mod.ts";

/**
 * A new instance with a status and a workflow version.
 *
 * @param id The instance id.
 * @param workflow The workflow name.
 * @param status Its status.
 * @param version Its workflow version (1 unless given).
 * @returns The instance, not stored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { instanceOf } from "./helpers.ts";
 *
 * assert.equal(instanceOf("a", "W", "failed").status, "failed");
 * ```
 */
export function instanceOf(
  id: string,
  workflow: string,
  status: WorkflowInstance["status"],
  version = 1,
): WorkflowInstance {
  const instance = newInstance({ id, workflow, workflowVersion: version });
  instance.status = status;
  return instance;
}

/**
 * The ids `query` returns for a filter, in its order.
 *
 * @param storage The store.
 * @param filter The filter.
 * @returns The ids.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage, newInstance } from "@heph/pg";
 * import { ids } from "./helpers.ts";
 *
 * const storage = new MemoryStorage();
 * await storage.put(newInstance({ id: "a", workflow: "W" }));
 * assert.deepEqual(await ids(storage, {}), ["a"]);
 * ```
 */
export async function ids(storage: Storage, filter: InstanceFilter): Promise<string[]> {
  return (await storage.query(filter)).map((instance) => instance.id);
}

/**
 * Stores q1…q7: workflows in two families plus names holding `_`, `%` and `\`, each status,
 * versions 1 and 2.
 *
 * @param storage An empty store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage } from "@heph/pg";
 * import { seedForQueries } from "./helpers.ts";
 *
 * const storage = new MemoryStorage();
 * await seedForQueries(storage);
 * assert.equal(await storage.count({}), 7);
 * ```
 */
export async function seedForQueries(storage: Storage): Promise<void> {
  const seeds: [string, string, WorkflowInstance["status"], number][] = [
    ["q1", "Shop.OrderWorkflow", "pending", 1],
    ["q2", "Shop.OrderWorkflow", "running", 2],
    ["q3", "Shop.RefundWorkflow", "waiting", 1],
    ["q4", "Billing.InvoiceWorkflow", "completed", 1],
    ["q5", "Shop.OrderWorkflow", "failed", 1],
    ["q6", "Shop_Order%Legacy\\Flow", "running", 1],
    ["q7", "ShopXOrder", "running", 1],
  ];
  for (const [id, workflow, status, version] of seeds) {
    await storage.put(instanceOf(id, workflow, status, version));
  }
}

/**
 * Stores sc0…sc22 in one batch: every fourth (6 of them) failed, the other 17 waiting.
 *
 * @param storage An empty store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage } from "@heph/pg";
 * import { seedEveryFourthFailed } from "./helpers.ts";
 *
 * const storage = new MemoryStorage();
 * await seedEveryFourthFailed(storage);
 * assert.equal(await storage.count({ status: "failed" }), 6);
 * ```
 */
export async function seedEveryFourthFailed(storage: Storage): Promise<void> {
  await storage.putMany(
    Array.from(
      { length: 23 },
      (_, i) => instanceOf(`sc${i}`, "W", i % 4 === 0 ? "failed" : "waiting"),
    ),
  );
}

/**
 * Asserts that `promise` rejects with an instance of `type`, then runs `check` on the error.
 *
 * @param promise What should reject.
 * @param type The error class expected.
 * @param check More assertions on the error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage, ValidationError } from "@heph/pg";
 * import { rejectsWith } from "./helpers.ts";
 *
 * await rejectsWith(new MemoryStorage().get(""), ValidationError, (e) => assert.ok(e.message));
 * ```
 */
export async function rejectsWith<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
  check?: (error: E) => void,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    check?.(error);
    return true;
  });
}

/**
 * Waits `ms` milliseconds.
 *
 * @param ms How long.
 *
 * @example
 * ```ts
 * import { sleep } from "./helpers.ts";
 *
 * await sleep(1);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * An instance whose Dates (in `context.initial` and the history) carry their own
 * `toISOString`, `valueOf`, `Symbol.toPrimitive`, `toJSON` or `getTime`: times 1 to 5 in
 * `initial` (keys iso, value, primitive, json, time) and 6 in the history entry.
 *
 * @param id The instance id.
 * @returns The instance, not stored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { oddDatesInstance } from "./helpers.ts";
 *
 * const instance = oddDatesInstance("date::1");
 * assert.equal((instance.context.initial.iso as Date).toISOString(), "not a date");
 * ```
 */
export function oddDatesInstance(id: string): WorkflowInstance {
  const odd = (at: number, define: (d: Date) => void) => {
    const date = new Date(at);
    define(date);
    return date;
  };
  const hidden = (key: PropertyKey, value: unknown) => (d: Date) =>
    Object.defineProperty(d, key, { value });
  const initial = {
    iso: odd(1, hidden("toISOString", () => "not a date")),
    value: odd(2, hidden("valueOf", () => NaN)),
    primitive: odd(3, hidden(Symbol.toPrimitive, () => "x")),
    json: odd(4, hidden("toJSON", () => 5)),
    time: odd(5, hidden("getTime", () => 99)),
  };
  const history = [{
    stepRef: "a",
    event: "done",
    timestamp: odd(6, hidden("toISOString", () => "x")),
    contextUpdates: null,
  }];
  const instance = newInstance({ id, workflow: "W", initial });
  instance.executionHistory = history;
  return instance;
}

/**
 * Dates JavaScript can hold before PostgreSQL's earliest time: the earliest Date, signed
 * years, year 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EARLY_DATES } from "./helpers.ts";
 *
 * assert.equal(EARLY_DATES[0]?.toISOString(), "-271821-04-20T00:00:00.000Z");
 * ```
 */
export const EARLY_DATES: readonly Date[] = Object.freeze(
  [-8.64e15, -210_866_803_200_001, -62_167_219_200_000, -63_517_780_799_877]
    .map((ms) => new Date(ms)),
);

/**
 * Dates JavaScript can hold after the year 9999, up to the latest Date.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LATE_DATES } from "./helpers.ts";
 *
 * assert.equal(LATE_DATES[0]?.toISOString(), "+010000-01-01T00:00:00.000Z");
 * ```
 */
export const LATE_DATES: readonly Date[] = Object.freeze(
  [253_402_300_800_000, 8.64e15].map((ms) => new Date(ms)),
);
