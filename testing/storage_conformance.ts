/**
 * The Storage contract as runnable checks: every behaviour a {@linkcode Storage} promises,
 * written once and run against every implementation and every driver. Built on
 * `node:assert/strict` only, so it runs under any test runner.
 *
 * @example Run the suite under `deno test`
 * ```ts ignore
 * import { MemoryStorage } from "@heph/pg";
 * import { STORAGE_CASES } from "@heph/pg/testing";
 *
 * Deno.test("MemoryStorage honours the Storage contract", async (t) => {
 *   for (const check of STORAGE_CASES) {
 *     await t.step(check.name, () => check.run(new MemoryStorage()));
 *   }
 * });
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ConflictError,
  type InstanceFilter,
  LeaseConflictError,
  migrate,
  newInstance,
  type Page,
  PgStorage,
  SerializationError,
  type SqlDriver,
  type Storage,
  type StoredInstance,
  ValidationError,
  type WorkflowInstance,
} from "../mod.ts";

/**
 * One behaviour of the contract: a name and a check that throws when a fresh, empty store
 * does not behave so.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { STORAGE_CASES, type StorageCase } from "@heph/pg/testing";
 *
 * const first: StorageCase = STORAGE_CASES[0];
 * await first.run(new MemoryStorage());
 * ```
 */
export interface StorageCase {
  /** What the store does, as a sentence. */
  name: string;
  /** Checks it on an empty store; throws an AssertionError when it does not hold. */
  run(storage: Storage): Promise<void>;
}

/**
 * An instance that exercises every part of the model and every value JSON alone would lose.
 *
 * @param id The instance id.
 * @returns A running instance with step results, configs, sets, metadata and history.
 *
 * @example
 * ```ts
 * import { richInstance } from "@heph/pg/testing";
 *
 * richInstance("order::1").status; // "running"
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

/**
 * Strips what a store adds (revision, timestamps) so a stored instance compares with the
 * instance that was put.
 *
 * @param stored What `get` returned.
 * @returns The WorkflowInstance part.
 *
 * @example
 * ```ts
 * import { MemoryStorage, newInstance } from "@heph/pg";
 * import { withoutBookkeeping } from "@heph/pg/testing";
 *
 * const storage = new MemoryStorage();
 * const instance = newInstance({ id: "a", workflow: "W" });
 * await storage.put(instance);
 * withoutBookkeeping((await storage.get("a"))!); // deep-equals instance
 * ```
 */
export function withoutBookkeeping(stored: StoredInstance): WorkflowInstance {
  const { revision: _r, insertedAt: _i, updatedAt: _u, lease: _l, ...instance } = stored;
  return instance;
}

function instanceOf(id: string, workflow: string, status: WorkflowInstance["status"], version = 1) {
  const instance = newInstance({ id, workflow, workflowVersion: version });
  instance.status = status;
  return instance;
}

async function ids(storage: Storage, filter: InstanceFilter): Promise<string[]> {
  return (await storage.query(filter)).map((instance) => instance.id);
}

async function seedForQueries(storage: Storage): Promise<void> {
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

async function rejectsWith<E extends Error>(
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

async function readModifyWrite(storage: Storage, id: string): Promise<void> {
  for (;;) {
    const current = (await storage.get(id))!;
    const counter = current.context.steps.counter as number;
    current.context.steps.counter = counter + 1;
    try {
      await storage.put(current, { expectedRevision: current.revision });
      return;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}

/**
 * Every behaviour of the Storage contract. Each case expects a fresh, empty store.
 *
 * @example
 * ```ts
 * import { STORAGE_CASES } from "@heph/pg/testing";
 *
 * console.log(STORAGE_CASES.map((c) => c.name).join("\n"));
 * ```
 */
export const STORAGE_CASES: readonly StorageCase[] = Object.freeze([
  {
    name: "put() then get() returns the instance exactly, at revision 1",
    async run(storage) {
      const instance = richInstance("order::123");
      const before = Date.now();
      assert.deepEqual(await storage.put(instance), { revision: 1 });
      const stored = await storage.get("order::123");
      assert.ok(stored);
      assert.deepStrictEqual(withoutBookkeeping(stored), richInstance("order::123"));
      assert.equal(stored.revision, 1);
      assert.ok(stored.insertedAt instanceof Date && stored.updatedAt instanceof Date);
      assert.equal(stored.insertedAt.getTime(), stored.updatedAt.getTime());
      assert.ok(Math.abs(stored.insertedAt.getTime() - before) < 60_000, "insertedAt is now");
      assert.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype pollution");
      assert.equal(Object.getPrototypeOf(stored.context.initial), Object.prototype);
    },
  },
  {
    name: "get() of an unknown id returns null",
    async run(storage) {
      assert.equal(await storage.get("missing::1"), null);
    },
  },
  {
    name: "put() upserts: a second put replaces the content and bumps the revision",
    async run(storage) {
      const instance = newInstance({ id: "order::1", workflow: "Shop.Order", initial: { n: 1 } });
      await storage.put(instance);
      const first = (await storage.get("order::1"))!;
      instance.status = "completed";
      instance.context.initial = { n: 2 };
      instance.completedSteps.add("ship");
      assert.deepEqual(await storage.put(instance), { revision: 2 });
      assert.deepEqual(await storage.put(instance), { revision: 3 });
      const stored = (await storage.get("order::1"))!;
      assert.equal(stored.revision, 3);
      assert.equal(stored.status, "completed");
      assert.deepEqual(stored.context.initial, { n: 2 });
      assert.deepEqual(stored.completedSteps, new Set(["ship"]));
      assert.equal(stored.insertedAt.getTime(), first.insertedAt.getTime());
      assert.ok(stored.updatedAt.getTime() >= first.updatedAt.getTime());
      assert.equal((await storage.query({})).length, 1);
    },
  },
  {
    name: "the workflow version is set by the first insert and kept by later puts",
    async run(storage) {
      const instance = newInstance({ id: "v::1", workflow: "W", workflowVersion: 2 });
      await storage.put(instance);
      instance.workflowVersion = 5;
      instance.status = "running";
      await storage.put(instance);
      await storage.put(instance, { expectedRevision: 2 });
      const stored = (await storage.get("v::1"))!;
      assert.equal(stored.workflowVersion, 2);
      assert.equal(stored.status, "running");
      assert.deepEqual(await ids(storage, { workflowVersion: 5 }), []);
      assert.deepEqual(await ids(storage, { workflowVersion: 2 }), ["v::1"]);
    },
  },
  {
    name: "delete() removes an instance and is idempotent",
    async run(storage) {
      await storage.put(newInstance({ id: "d::1", workflow: "W" }));
      await storage.put(newInstance({ id: "d::2", workflow: "W" }));
      assert.equal(await storage.delete("d::1"), undefined);
      assert.equal(await storage.get("d::1"), null);
      await storage.delete("d::1");
      await storage.delete("never::existed");
      assert.deepEqual(await ids(storage, {}), ["d::2"]);
      assert.deepEqual(await storage.put(newInstance({ id: "d::1", workflow: "W" })), {
        revision: 1,
      });
    },
  },
  {
    name: "query() applies each filter alone",
    async run(storage) {
      await seedForQueries(storage);
      assert.deepEqual(await ids(storage, { id: "q3" }), ["q3"]);
      assert.deepEqual(await ids(storage, { id: "nope" }), []);
      assert.deepEqual(await ids(storage, { status: "running" }), ["q2", "q6", "q7"]);
      assert.deepEqual(await ids(storage, { statusIn: ["pending", "failed"] }), ["q1", "q5"]);
      assert.deepEqual(await ids(storage, { workflow: "Shop.OrderWorkflow" }), ["q1", "q2", "q5"]);
      assert.deepEqual(await ids(storage, { workflowVersion: 2 }), ["q2"]);
      assert.deepEqual(await ids(storage, { workflowFamily: "Shop." }), ["q1", "q2", "q3", "q5"]);
      assert.deepEqual(await ids(storage, { workflowFamily: "Billing" }), ["q4"]);
    },
  },
  {
    name:
      "query() with several filters requires all of them; {} returns everything in insertion order",
    async run(storage) {
      await seedForQueries(storage);
      assert.deepEqual(
        await ids(storage, { workflow: "Shop.OrderWorkflow", statusIn: ["running", "failed"] }),
        ["q2", "q5"],
      );
      assert.deepEqual(
        await ids(storage, { workflowFamily: "Shop.", status: "running", workflowVersion: 2 }),
        ["q2"],
      );
      assert.deepEqual(
        await ids(storage, { workflow: "Shop.OrderWorkflow", status: "waiting" }),
        [],
      );
      assert.deepEqual(await ids(storage, { id: "q1", status: "running" }), []);
      assert.deepEqual(await ids(storage, {}), ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]);
      assert.deepEqual(await ids(storage, { status: undefined }), await ids(storage, {}));
    },
  },
  {
    name: "query() orders by insertion, and an update keeps an instance's place",
    async run(storage) {
      for (const id of ["c", "a", "b"]) {
        await storage.put(newInstance({ id, workflow: "W" }));
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      await storage.put(newInstance({ id: "c", workflow: "W" }));
      assert.deepEqual(await ids(storage, {}), ["c", "a", "b"]);
    },
  },
  {
    name: "workflowFamily treats %, _ and \\ literally",
    async run(storage) {
      await seedForQueries(storage);
      assert.deepEqual(await ids(storage, { workflowFamily: "Shop_" }), ["q6"]);
      assert.deepEqual(await ids(storage, { workflowFamily: "Shop_Order%" }), ["q6"]);
      assert.deepEqual(await ids(storage, { workflowFamily: "Shop_Order%Legacy\\" }), ["q6"]);
      assert.deepEqual(await ids(storage, { workflowFamily: "%" }), []);
      assert.deepEqual(await ids(storage, { workflowFamily: "_hop" }), []);
      assert.deepEqual(await ids(storage, { workflowFamily: "\\" }), []);
    },
  },
  {
    name: "idPrefix selects ids starting with it, treating %, _ and \\ literally",
    async run(storage) {
      for (const id of ["ord_1", "ord_2", "ordx", "o%d", "o_d", "a\\b"]) {
        await storage.put(newInstance({ id, workflow: "W" }));
      }
      const sorted = async (filter: InstanceFilter) => (await ids(storage, filter)).sort();
      assert.deepEqual(await sorted({ idPrefix: "ord_" }), ["ord_1", "ord_2"]);
      assert.deepEqual(await sorted({ idPrefix: "ord" }), ["ord_1", "ord_2", "ordx"]);
      assert.deepEqual(await sorted({ idPrefix: "o%" }), ["o%d"]);
      assert.deepEqual(await sorted({ idPrefix: "o_" }), ["o_d"]);
      assert.deepEqual(await sorted({ idPrefix: "a\\" }), ["a\\b"]);
      assert.deepEqual(await sorted({ idPrefix: "%" }), []);
      assert.equal(await storage.count({ idPrefix: "ord", workflow: "W" }), 3);
      await assert.rejects(() => storage.count({ idPrefix: "" }), ValidationError);
    },
  },
  {
    name: "countGroups counts per workflow, version and status, ordered, with a filter",
    async run(storage) {
      await seedForQueries(storage);
      await storage.put(instanceOf("q8", "Shop.OrderWorkflow", "running", 2));
      await storage.put(instanceOf("q9", "Shop.OrderWorkflow", "pending", 1));
      const row = (workflow: string, workflowVersion: number, status: string, count: number) => ({
        workflow,
        workflowVersion,
        status,
        count,
      });
      assert.deepEqual(await storage.countGroups({}), [
        row("Billing.InvoiceWorkflow", 1, "completed", 1),
        row("Shop.OrderWorkflow", 1, "failed", 1),
        row("Shop.OrderWorkflow", 1, "pending", 2),
        row("Shop.OrderWorkflow", 2, "running", 2),
        row("Shop.RefundWorkflow", 1, "waiting", 1),
        row("ShopXOrder", 1, "running", 1),
        row("Shop_Order%Legacy\\Flow", 1, "running", 1),
      ]);
      assert.deepEqual(
        await storage.countGroups({ workflowFamily: "Shop.", statusIn: ["running", "pending"] }),
        [
          row("Shop.OrderWorkflow", 1, "pending", 2),
          row("Shop.OrderWorkflow", 2, "running", 2),
        ],
      );
      assert.deepEqual(await storage.countGroups({ status: "completed", workflow: "Nope" }), []);
      const total = (await storage.countGroups({})).reduce((sum, g) => sum + g.count, 0);
      assert.equal(total, await storage.count({}));
      await rejectsWith(
        storage.countGroups({ status: "late" } as unknown as InstanceFilter),
        ValidationError,
      );
    },
  },
  {
    name: "page() with order desc walks newest first, the exact reverse, with a filter",
    async run(storage) {
      await storage.putMany(["t3", "t1", "t2"].map((id) => newInstance({ id, workflow: "W" })));
      for (const id of ["b", "a", "c"]) {
        await new Promise((resolve) => setTimeout(resolve, 3));
        await storage.put(newInstance({ id, workflow: id === "a" ? "X" : "W" }));
      }
      const walk = async (order: "asc" | "desc", filter: InstanceFilter = {}) => {
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page: Page = await storage.page(filter, { limit: 2, cursor, order });
          assert.ok(page.items.length <= 2);
          seen.push(...page.items.map((i) => i.id));
          cursor = page.nextCursor;
        } while (cursor !== null);
        return seen;
      };
      const oldest = await walk("asc");
      assert.equal(oldest.length, 6);
      assert.deepEqual(oldest.slice(3), ["b", "a", "c"]);
      assert.deepEqual(await walk("desc"), [...oldest].reverse());
      assert.deepEqual(await walk("desc", { workflow: "W" }), [
        "c",
        "b",
        ...oldest.slice(0, 3).reverse(),
      ]);
      const first = await storage.page({}, { limit: 1, order: "desc" });
      assert.deepEqual(first.items.map((i) => i.id), ["c"]);
      await rejectsWith(
        storage.page({}, { limit: 1, order: "newest" as "desc" }),
        ValidationError,
      );
    },
  },
  {
    name: "statusIn with an empty list selects nothing",
    async run(storage) {
      await seedForQueries(storage);
      assert.deepEqual(await ids(storage, { statusIn: [] }), []);
    },
  },
  {
    name: "query() refuses unknown keys and invalid values with ValidationError",
    async run(storage) {
      await seedForQueries(storage);
      const bad: unknown[] = [
        { stauts: "running" },
        { status: "done" },
        { status: "" },
        { statusIn: "running" },
        { statusIn: ["running", "nope"] },
        { workflow: "" },
        { workflow: 3 },
        { workflowVersion: 0 },
        { workflowVersion: 1.5 },
        { workflowVersion: "1" },
        { workflowFamily: "" },
        { workflow: "w".repeat(256) },
        { workflowFamily: "w".repeat(3000) },
        { id: "" },
        { id: 7 },
        { id: "x".repeat(256) },
        { id: "nul\u0000" },
        null,
        "running",
        [],
      ];
      for (const filter of bad) {
        await rejectsWith(storage.query(filter as InstanceFilter), ValidationError);
      }
    },
  },
  {
    name: "put() refuses invalid instances with ValidationError and writes nothing",
    async run(storage) {
      const good = () => newInstance({ id: "bad::1", workflow: "W" });
      const cases: [string, (i: WorkflowInstance) => void][] = [
        ["status outside the five", (i) => (i.status = "done" as never)],
        ["empty id", (i) => (i.id = "")],
        ["id of 256 characters", (i) => (i.id = "x".repeat(256))],
        ["non-string id", (i) => (i.id = 1 as never)],
        ["empty workflow", (i) => (i.workflow = "")],
        ["workflow of 256 characters", (i) => (i.workflow = "w".repeat(256))],
        ["workflow with NUL", (i) => (i.workflow = "a\u0000")],
        ["workflowVersion 0", (i) => (i.workflowVersion = 0)],
        ["workflowVersion -1", (i) => (i.workflowVersion = -1)],
        ["workflowVersion 1.5", (i) => (i.workflowVersion = 1.5)],
        ["workflowVersion as a string", (i) => (i.workflowVersion = "1" as never)],
        ["activeSteps not a set", (i) => (i.activeSteps = "a" as never)],
        ["context missing", (i) => (i.context = undefined as never)],
        ["history entry without a Date", (i) => (i.executionHistory = [{
          stepRef: "a",
          event: "b",
          timestamp: "2026" as never,
          contextUpdates: null,
        }])],
      ];
      for (const [what, spoil] of cases) {
        const instance = good();
        spoil(instance);
        await rejectsWith(
          storage.put(instance),
          ValidationError,
          (e) => assert.ok(e.message, what),
        );
      }
      await rejectsWith(storage.put(null as never), ValidationError);
      assert.equal(await storage.get("bad::1"), null);
      assert.deepEqual(await storage.query({}), []);
      assert.deepEqual(
        await storage.put(newInstance({ id: "x".repeat(255), workflow: "W" })),
        { revision: 1 },
      );
    },
  },
  {
    name: "get() and delete() refuse invalid ids with ValidationError",
    async run(storage) {
      for (const id of ["", "x".repeat(256), 5, null, "a\u0000b"]) {
        await rejectsWith(storage.get(id as string), ValidationError);
        await rejectsWith(storage.delete(id as string), ValidationError);
      }
    },
  },
  {
    name: "put() refuses values it cannot store faithfully, naming the path, and writes nothing",
    async run(storage) {
      class Money {
        cents = 1;
      }
      const cycle: Record<string, unknown> = { a: 1 };
      cycle.self = cycle;
      const cases: [string, (i: WorkflowInstance) => void][] = [
        [
          "context.initial.customer.callback",
          (i) => (i.context.initial.customer = { callback: () => 1 }),
        ],
        ["context.steps.validate[1]", (i) => (i.context.steps.validate = [1, Symbol("s")])],
        ["step_configs.charge.amount", (i) => (i.stepConfigs.charge = { amount: new Money() })],
        ["runtime_metadata.loop.self", (i) => (i.runtimeMetadata.loop = cycle)],
        ["context.initial.re", (i) => (i.context.initial.re = /x/)],
        ["telemetry_metadata.err", (i) => (i.telemetryMetadata.err = new Error("x"))],
        [
          "context.initial.sneaky",
          (i) => (i.context.initial.sneaky = { a: 1, toJSON: () => "\u0000" }),
        ],
        [
          "context.initial.hidden",
          (i) => (i.context.initial.hidden = Object.defineProperty({ a: 1 }, "toJSON", {
            value: () => ({ b: 2 }),
          })),
        ],
        [
          "context.initial.bytes",
          (i) => (i.context.initial.bytes = new (class Bytes extends Uint8Array {})(2)),
        ],
        [
          "context.initial.when",
          (i) => (i.context.initial.when = new (class Day extends Date {})(0)),
        ],
        [
          "context.initial.list",
          (i) => (i.context.initial.list = new (class L extends Array {})()),
        ],
        [
          "context.initial.tagged",
          (i) => (i.context.initial.tagged = Object.assign([1], { x: 1 })),
        ],
        [
          "context.initial.marked",
          (i) => (i.context.initial.marked = Object.assign([1], { [Symbol("s")]: 1 })),
        ],
        ["context.steps.m", (i) => (i.context.steps.m = Object.assign(new Map(), { size2: 1 }))],
        ["context.steps.s", (i) => (i.context.steps.s = Object.assign(new Set([1]), { a: 1 }))],
        [
          "context.steps.b",
          (i) => (i.context.steps.b = Object.assign(new Uint8Array(2), { a: 1 })),
        ],
        [
          "context.steps.d",
          (i) => (i.context.steps.d = Object.assign(new Date(0), { toISOString: () => "x" })),
        ],
        ["context.steps.far", (i) => (i.context.steps.far = sparse(2 ** 32 - 1))],
        ["context.steps.wide", (i) => (i.context.steps.wide = sparse(1_000_002))],
      ];
      for (const [path, spoil] of cases) {
        const instance = newInstance({ id: "ser::1", workflow: "W" });
        spoil(instance);
        await rejectsWith(storage.put(instance), SerializationError, (e) => {
          assert.equal(e.path, path);
          assert.ok(e.message.includes(path), e.message);
        });
      }
      const deep = newInstance({ id: "ser::1", workflow: "W", initial: { deep: nested(5000) } });
      await rejectsWith(storage.put(deep), SerializationError, (e) => {
        assert.ok(e.path.startsWith("context.initial.deep[0][0]"), e.path.slice(0, 80));
        assert.match(e.message, /nested more than 1000 levels/);
      });
      assert.equal(await storage.get("ser::1"), null);
      const stored = newInstance({ id: "ser::2", workflow: "W", initial: { ok: 1 } });
      await storage.put(stored);
      stored.context.initial.fn = () => 2;
      await rejectsWith(storage.put(stored), SerializationError);
      assert.deepEqual((await storage.get("ser::2"))!.context.initial, { ok: 1 });
      assert.equal((await storage.get("ser::2"))!.revision, 1);
    },
  },
  {
    name: "a Date is stored from its time value, whatever methods it carries",
    async run(storage) {
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
      const instance = newInstance({ id: "date::1", workflow: "W", initial });
      instance.executionHistory = history;
      await storage.put(instance);
      const stored = (await storage.get("date::1"))!;
      const times = Object.fromEntries(
        Object.entries(stored.context.initial).map(([k, d]) => [k, (d as Date).getTime()]),
      );
      assert.deepEqual(times, { iso: 1, value: 2, primitive: 3, json: 4, time: 5 });
      assert.equal(stored.executionHistory[0].timestamp.getTime(), 6);
      assert.equal((await storage.query({ id: "date::1" })).length, 1);
      assert.equal((await storage.page({ id: "date::1" }, { limit: 1 })).items.length, 1);
      assert.equal((await storage.claim({ id: "date::1", owner: "o", leaseMs: 1000 })).length, 1);
    },
  },
  {
    name: "array holes come back as holes, with a bound on how many",
    async run(storage) {
      const wide = sparse(1_000_000);
      wide[7] = "x";
      const instance = newInstance({ id: "holes::1", workflow: "W", initial: { wide } });
      await storage.put(instance);
      const back = (await storage.get("holes::1"))!.context.initial.wide as unknown[];
      assert.equal(back.length, 1_000_000);
      assert.equal(Object.keys(back).join(), "7");
    },
  },
  {
    name: "shared references (not cycles) are stored as copies",
    async run(storage) {
      const shared = { x: 1 };
      const instance = newInstance({
        id: "dag::1",
        workflow: "W",
        initial: { a: shared, b: shared },
      });
      await storage.put(instance);
      assert.deepEqual((await storage.get("dag::1"))!.context.initial, {
        a: { x: 1 },
        b: { x: 1 },
      });
    },
  },
  {
    name: "expectedRevision 0 inserts only when the id is free",
    async run(storage) {
      const instance = newInstance({ id: "opt::1", workflow: "W", initial: { v: 1 } });
      assert.deepEqual(await storage.put(instance, { expectedRevision: 0 }), { revision: 1 });
      instance.context.initial.v = 2;
      await rejectsWith(storage.put(instance, { expectedRevision: 0 }), ConflictError, (e) => {
        assert.equal(e.id, "opt::1");
        assert.equal(e.expected, 0);
        assert.equal(e.actual, 1);
        assert.equal(e.code, "HEPH_CONFLICT");
      });
      const stored = (await storage.get("opt::1"))!;
      assert.equal(stored.revision, 1);
      assert.deepEqual(stored.context.initial, { v: 1 });
    },
  },
  {
    name: "expectedRevision n writes only at revision n; a stale one is a ConflictError",
    async run(storage) {
      const instance = newInstance({ id: "opt::2", workflow: "W", initial: { v: 1 } });
      await storage.put(instance);
      instance.context.initial.v = 2;
      assert.deepEqual(await storage.put(instance, { expectedRevision: 1 }), { revision: 2 });
      instance.context.initial.v = 3;
      await rejectsWith(storage.put(instance, { expectedRevision: 1 }), ConflictError, (e) => {
        assert.equal(e.expected, 1);
        assert.equal(e.actual, 2);
      });
      await rejectsWith(storage.put(instance, { expectedRevision: 7 }), ConflictError);
      assert.deepEqual((await storage.get("opt::2"))!.context.initial, { v: 2 });
      await rejectsWith(
        storage.put(newInstance({ id: "opt::absent", workflow: "W" }), { expectedRevision: 1 }),
        ConflictError,
        (e) => assert.equal(e.actual, 0),
      );
      assert.equal(await storage.get("opt::absent"), null);
      for (const typo of [{ expectedRevison: 1 }, { ownr: "w" }, 5, "x", null]) {
        await rejectsWith(storage.put(instance, typo as never), ValidationError);
      }
      await rejectsWith(storage.page({}, { limit: 5, curser: "x" } as never), ValidationError);
      await rejectsWith(
        storage.renewLease("opt::2", { owner: "w", leaseMs: 5, extra: 1 } as never),
        ValidationError,
      );
      await rejectsWith(storage.query({ statusIn: [, "pending"] as never }), ValidationError);
      for (const expectedRevision of [-1, 1.5, "1", NaN, null]) {
        await rejectsWith(
          storage.put(instance, { expectedRevision: expectedRevision as number }),
          ValidationError,
        );
      }
      assert.equal((await storage.get("opt::2"))!.revision, 2);
    },
  },
  {
    name: "50 parallel puts of different ids all land; 50 of one id end at revision 50",
    async run(storage) {
      const results = await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) => storage.put(newInstance({ id: `par::${i}`, workflow: "W", initial: { i } })),
        ),
      );
      assert.ok(results.every((r) => r.revision === 1));
      assert.equal((await storage.query({ workflow: "W" })).length, 50);
      const same = await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) => storage.put(newInstance({ id: "par::same", workflow: "W", initial: { i } })),
        ),
      );
      assert.deepEqual(same.map((r) => r.revision).sort((a, b) => a - b), range(1, 50));
      assert.equal((await storage.get("par::same"))!.revision, 50);
    },
  },
  {
    name: "reads during 40 writes never miss the instance",
    async run(storage) {
      const instance = newInstance({ id: "rw::1", workflow: "W", initial: { n: 0 } });
      await storage.put(instance);
      let writing = true;
      const writes = (async () => {
        for (let n = 1; n <= 40; n++) {
          instance.context.initial.n = n;
          await storage.put(instance);
        }
        writing = false;
      })();
      let reads = 0;
      let last = 1;
      while (writing || reads < 10) {
        const seen = await storage.get("rw::1");
        assert.ok(seen, "the instance is always there");
        assert.ok(seen.revision >= last, "revisions never go back");
        last = seen.revision;
        reads++;
      }
      await writes;
      assert.equal((await storage.get("rw::1"))!.revision, 41);
    },
  },
  {
    name: "20 racers with the same expectedRevision: exactly one wins",
    async run(storage) {
      await storage.put(newInstance({ id: "race::1", workflow: "W" }));
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => {
          const instance = newInstance({ id: "race::1", workflow: "W", initial: { winner: i } });
          return storage.put(instance, { expectedRevision: 1 });
        }),
      );
      const won = outcomes.filter((o) => o.status === "fulfilled");
      const lost = outcomes.filter((o) => o.status === "rejected");
      assert.equal(won.length, 1);
      for (const outcome of lost) {
        const reason = (outcome as PromiseRejectedResult).reason;
        assert.ok(reason instanceof ConflictError);
        assert.equal(reason.actual, 2, "a loser learns the revision to retry from");
      }
      const stored = (await storage.get("race::1"))!;
      assert.equal(stored.revision, 2);
      const winner = outcomes.findIndex((o) => o.status === "fulfilled");
      assert.equal(stored.context.initial.winner, winner);
    },
  },
  {
    name: "20 racers inserting one id with expectedRevision 0: exactly one wins",
    async run(storage) {
      const outcomes = await Promise.allSettled(
        Array.from(
          { length: 20 },
          (_, i) =>
            storage.put(newInstance({ id: "race::new", workflow: "W", initial: { i } }), {
              expectedRevision: 0,
            }),
        ),
      );
      assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, 1);
      for (const outcome of outcomes.filter((o) => o.status === "rejected")) {
        const reason = (outcome as PromiseRejectedResult).reason;
        assert.ok(reason instanceof ConflictError);
        assert.ok(reason.actual === 1 || reason.actual === null, `actual ${reason.actual}`);
      }
      assert.equal((await storage.get("race::new"))!.revision, 1);
    },
  },
  {
    name: "8 workers x 10 read-modify-write increments with retry end at 80",
    async run(storage) {
      const instance = newInstance({ id: "rmw::1", workflow: "W" });
      instance.context.steps.counter = 0;
      await storage.put(instance);
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 10; i++) await readModifyWrite(storage, "rmw::1");
        }),
      );
      const stored = (await storage.get("rmw::1"))!;
      assert.equal(stored.context.steps.counter, 80);
      assert.equal(stored.revision, 81);
    },
  },
  {
    name: "what get() returns and what put() took are independent copies",
    async run(storage) {
      const instance = newInstance({ id: "copy::1", workflow: "W", initial: { list: [1] } });
      await storage.put(instance);
      (instance.context.initial.list as number[]).push(2);
      const first = (await storage.get("copy::1"))!;
      assert.deepEqual(first.context.initial.list, [1]);
      first.activeSteps.add("mutated");
      (first.context.initial.list as number[]).push(3);
      const second = (await storage.get("copy::1"))!;
      assert.deepEqual(second.context.initial.list, [1]);
      assert.deepEqual(second.activeSteps, new Set());
    },
  },
  {
    name: "step names and strings with NUL, quotes and lone surrogates round-trip",
    async run(storage) {
      const instance = newInstance({ id: "odd::1", workflow: "W" });
      const names = ["a\u0000b", "quote'\"", "\uDC00", "back\\slash", "é", "ünïcödé\u{1F680}"];
      instance.activeSteps = new Set(names);
      instance.completedSteps = new Set(names.slice(1));
      instance.currentStep = "cur\u0000rent";
      instance.context.steps = Object.fromEntries(names.map((n) => [n, n]));
      instance.executionHistory = [{
        stepRef: "\uD800",
        event: "ev\u0000",
        timestamp: new Date(1),
        contextUpdates: { "\u0000": "\u0000" },
      }];
      await storage.put(instance);
      const stored = (await storage.get("odd::1"))!;
      assert.deepStrictEqual(withoutBookkeeping(stored), instance);
    },
  },
  {
    name: "ids and workflow names with quotes, unicode and LIKE characters work",
    async run(storage) {
      const odd = [
        "o'rder::1",
        'q"uote',
        "100%",
        "a_b",
        "back\\slash",
        "ünï::\u{1F600}",
        "; DROP TABLE x; --",
      ];
      for (const id of odd) await storage.put(newInstance({ id, workflow: `wf ${id}` }));
      for (const id of odd) {
        assert.equal((await storage.get(id))!.workflow, `wf ${id}`);
        assert.deepEqual(await ids(storage, { workflow: `wf ${id}` }), [id]);
      }
      assert.deepEqual(await ids(storage, { workflowFamily: "wf 100%" }), ["100%"]);
      assert.deepEqual(await ids(storage, { workflowFamily: "wf a_" }), ["a_b"]);
      await storage.delete("a_b");
      assert.equal((await storage.query({})).length, odd.length - 1);
    },
  },
  {
    name: "claim() leases the oldest free matching instances to one owner",
    async run(storage) {
      await storage.putMany(
        ["c1", "c2", "c3", "c4"].map((id, i) =>
          instanceOf(id, "W", i === 2 ? "running" : "waiting")
        ),
      );
      assert.equal((await storage.get("c1"))!.lease, null);
      const before = Date.now();
      const first = await storage.claim({
        owner: "w1",
        leaseMs: 60_000,
        limit: 2,
        status: "waiting",
      });
      assert.deepEqual(first.map((i) => i.id), ["c1", "c2"]);
      for (const instance of first) {
        assert.equal(instance.lease?.owner, "w1");
        const expires = instance.lease!.expiresAt.getTime();
        assert.ok(expires >= before + 59_000 && expires <= Date.now() + 61_000, String(expires));
        assert.equal(instance.revision, 1, "a claim is not a write of the instance");
      }
      const second = await storage.claim({
        owner: "w2",
        leaseMs: 60_000,
        limit: 5,
        status: "waiting",
      });
      assert.deepEqual(second.map((i) => i.id), ["c4"], "leased instances are skipped");
      assert.deepEqual(await storage.claim({ owner: "w3", leaseMs: 1000, status: "waiting" }), []);
      assert.equal((await storage.get("c2"))!.lease?.owner, "w1");
      assert.equal((await storage.query({ id: "c4" }))[0].lease?.owner, "w2");
    },
  },
  {
    name: "an expired lease can be claimed again; the lapsed owner can neither renew nor release",
    async run(storage) {
      await storage.put(instanceOf("exp::1", "W", "waiting"));
      await storage.claim({ owner: "dead", leaseMs: 400, status: "waiting" });
      await rejectsWith(
        storage.claim({ owner: "w2", leaseMs: 1000, status: "waiting" }).then((c) =>
          c.length === 0 ? Promise.reject(new Error("none")) : c
        ),
        Error,
      );
      await sleep(450);
      const [taken] = await storage.claim({ owner: "w2", leaseMs: 60_000, status: "waiting" });
      assert.equal(taken.id, "exp::1");
      assert.equal(taken.lease?.owner, "w2");
      await rejectsWith(
        storage.renewLease("exp::1", { owner: "dead", leaseMs: 1000 }),
        LeaseConflictError,
        (e) => {
          assert.equal(e.holder?.owner, "w2");
          assert.equal(e.owner, "dead");
          assert.ok(e instanceof ConflictError);
        },
      );
      await rejectsWith(storage.releaseLease("exp::1", { owner: "dead" }), LeaseConflictError);
      assert.equal((await storage.get("exp::1"))!.lease?.owner, "w2");
    },
  },
  {
    name: "renewLease() extends a live lease; releaseLease() frees it for the next claim",
    async run(storage) {
      await storage.put(instanceOf("lease::1", "W", "waiting"));
      const [claimed] = await storage.claim({ owner: "w1", leaseMs: 1000, id: "lease::1" });
      const { expiresAt } = await storage.renewLease("lease::1", { owner: "w1", leaseMs: 120_000 });
      assert.ok(expiresAt.getTime() > claimed.lease!.expiresAt.getTime() + 100_000);
      assert.equal(
        (await storage.get("lease::1"))!.lease?.expiresAt.getTime(),
        expiresAt.getTime(),
      );
      await rejectsWith(
        storage.releaseLease("lease::1", { owner: "w2" }),
        LeaseConflictError,
        (e) => assert.equal(e.holder?.owner, "w1"),
      );
      await storage.releaseLease("lease::1", { owner: "w1" });
      assert.equal((await storage.get("lease::1"))!.lease, null);
      await rejectsWith(
        storage.renewLease("lease::1", { owner: "w1", leaseMs: 1000 }),
        LeaseConflictError,
        (e) => assert.equal(e.holder, null),
      );
      assert.equal((await storage.claim({ owner: "w2", leaseMs: 1000, id: "lease::1" })).length, 1);
      await rejectsWith(
        storage.renewLease("lease::missing", { owner: "w1", leaseMs: 1000 }),
        LeaseConflictError,
      );
      for (
        const bad of [{ owner: "", leaseMs: 1 }, { owner: "w", leaseMs: 0 }, {
          owner: "w",
          leaseMs: 1.5,
        }, { owner: 1, leaseMs: 5 }]
      ) {
        await rejectsWith(storage.renewLease("lease::1", bad as never), ValidationError);
        await rejectsWith(storage.claim({ ...bad, status: "waiting" } as never), ValidationError);
      }
      await rejectsWith(storage.claim({ owner: "w", leaseMs: 10, limit: 0 }), ValidationError);
      await rejectsWith(
        storage.claim({ owner: "w", leaseMs: 10, stauts: "waiting" } as never),
        ValidationError,
      );
    },
  },
  {
    name: "put() with an owner is refused while another owner holds a live lease",
    async run(storage) {
      const instance = instanceOf("own::1", "W", "waiting");
      await storage.put(instance);
      await storage.claim({ owner: "w1", leaseMs: 60_000, id: "own::1" });
      instance.status = "running";
      await rejectsWith(storage.put(instance, { owner: "w2" }), LeaseConflictError, (e) => {
        assert.equal(e.holder?.owner, "w1");
        assert.ok(e.holder!.expiresAt.getTime() > Date.now());
      });
      await rejectsWith(
        storage.put(instance, { owner: "w2", expectedRevision: 1 }),
        LeaseConflictError,
      );
      assert.equal((await storage.get("own::1"))!.status, "waiting", "nothing written");
      assert.deepEqual(await storage.put(instance, { owner: "w1", expectedRevision: 1 }), {
        revision: 2,
      });
      assert.deepEqual(await storage.put(instance, { owner: "w1" }), { revision: 3 });
      await rejectsWith(
        storage.put(instance, { owner: "w1", expectedRevision: 2 }),
        ConflictError,
        (e) => {
          assert.ok(!(e instanceof LeaseConflictError));
          assert.equal(e.actual, 3);
        },
      );
      assert.equal((await storage.get("own::1"))!.lease?.owner, "w1", "a put keeps the lease");
      assert.deepEqual(
        await storage.put(instance),
        { revision: 4 },
        "without owner, leases are not checked",
      );
      await storage.put(instanceOf("own::2", "W", "waiting"), { owner: "w2" });
      await storage.claim({ owner: "w1", leaseMs: 30, id: "own::2" });
      await sleep(80);
      assert.deepEqual(await storage.put(instanceOf("own::2", "W", "running"), { owner: "w2" }), {
        revision: 2,
      }, "an expired lease stops no one");
    },
  },
  {
    name: "8 workers claim, advance and release 200 instances: each processed exactly once",
    async run(storage) {
      await storage.putMany(
        Array.from({ length: 200 }, (_, i) => instanceOf(`job::${i}`, "W", "waiting")),
      );
      const processed: string[] = [];
      await Promise.all(Array.from({ length: 8 }, async (_, w) => {
        const owner = `worker-${w}`;
        for (;;) {
          const batch = await storage.claim({
            owner,
            leaseMs: 60_000,
            limit: 5,
            status: "waiting",
          });
          if (batch.length === 0) return;
          for (const instance of batch) {
            instance.status = "completed";
            instance.context.steps.done_by = owner;
            await storage.put(instance, { owner, expectedRevision: instance.revision });
            await storage.releaseLease(instance.id, { owner });
            processed.push(instance.id);
          }
        }
      }));
      assert.equal(processed.length, 200);
      assert.equal(new Set(processed).size, 200, "no instance processed twice");
      assert.equal(await storage.count({ status: "waiting" }), 0);
      assert.equal(await storage.count({ status: "completed" }), 200);
      const leased = (await storage.query({})).filter((i) => i.lease !== null);
      assert.deepEqual(leased, []);
    },
  },
  {
    name: "page() walks every match in insertion order with an opaque cursor",
    async run(storage) {
      for (let i = 0; i < 7; i++) {
        await storage.put(instanceOf(`p${i}`, i % 2 ? "Odd" : "Even", "waiting"));
        if (i % 3 === 0) await sleep(2);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Page = await storage.page({}, { limit: 3, cursor });
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
        pages++;
        if (cursor !== null) assert.match(cursor, /^[A-Za-z0-9_-]+$/);
      } while (cursor !== null);
      assert.deepEqual(seen, ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
      assert.equal(pages, 3);
      const even = await storage.page({ workflow: "Even" }, { limit: 10 });
      assert.deepEqual(even.items.map((i) => i.id), ["p0", "p2", "p4", "p6"]);
      assert.equal(even.nextCursor, null);
      const exact = await storage.page({ workflow: "Even" }, { limit: 4 });
      assert.equal(exact.nextCursor, null, "no empty last page");
      assert.deepEqual(await storage.page({ workflow: "None" }, { limit: 5 }), {
        items: [],
        nextCursor: null,
      });
      for (const limit of [0, 1001, 1.5, "10"]) {
        await rejectsWith(storage.page({}, { limit: limit as number }), ValidationError);
      }
      const forged = [
        "nope",
        "!!!",
        btoa(JSON.stringify([1, "2026-02-30T00:00:00.000000Z", "p1"])),
        btoa(JSON.stringify([1, "2024-13-01T00:00:00.000000Z", "p1"])),
        btoa(JSON.stringify([1, "2024-01-01T25:00:00.000000Z", "p1"])),
        btoa(JSON.stringify([1, "2024-01-01T00:00:60.000000Z", "p1"])),
        btoa(JSON.stringify([1, "0000-01-01T00:00:00.000000Z", "p1"])),
        btoa(JSON.stringify([2, "2026-01-01T00:00:00.000000Z", "p1"])),
        btoa(JSON.stringify([1, "2026-01-01T00:00:00.000000Z", ""])),
        btoa('[1,"2026-01-01T00:00:00.000000Z"]'),
        btoa(JSON.stringify([1, "2026-01-01T00:00:00Z'; DROP TABLE x; --", "p1"])),
        btoa(JSON.stringify([1, "0000-01-01T00:00:00.000000Z", "p1"])), // no year 0 in SQL
      ];
      for (const cursor of forged) {
        await rejectsWith(
          storage.page({}, { limit: 2, cursor: cursor.replace(/=+$/, "") }),
          ValidationError,
        );
      }
    },
  },
  {
    name:
      "forged cursors: times PostgreSQL cannot hold are refused; far and BC times order by time",
    async run(storage) {
      await storage.putMany([1, 2].map((i) => newInstance({ id: `fc::${i}`, workflow: "W" })));
      const forged = (at: string) =>
        btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify([1, at, "fc::1"]))))
          .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
      const page = async (at: string) =>
        (await storage.page({}, { limit: 5, cursor: forged(at) })).items.map((i) => i.id);
      for (
        const at of [
          "5000-01-01T00:00:00.000000Z BC",
          "4714-11-23T23:59:59.999999Z BC",
          "275760-09-13T00:00:00.000001Z",
          "294277-01-01T00:00:00.000000Z",
          "0000-01-01T00:00:00.000000Z",
        ]
      ) {
        await rejectsWith(storage.page({}, { limit: 5, cursor: forged(at) }), ValidationError);
      }
      for (
        const at of [
          "4714-11-24T00:00:00.000000Z BC",
          "0044-03-15T12:00:00.000000Z BC",
          "0001-01-01T00:00:00.000000Z BC",
          "0001-01-01T00:00:00.000000Z",
          "1999-12-31T23:59:59.999999Z",
        ]
      ) {
        assert.deepEqual(await page(at), ["fc::1", "fc::2"], at);
      }
      for (
        const at of [
          "10000-01-01T00:00:00.000000Z",
          "99999-12-31T23:59:59.999999Z",
          "275760-09-13T00:00:00.000000Z",
        ]
      ) {
        assert.deepEqual(await page(at), [], at);
      }
    },
  },
  {
    name: "page() with skipCorrupt lists the rows it could not decode (none here) in corrupt",
    async run(storage) {
      await storage.putMany([1, 2, 3].map((i) => newInstance({ id: `sk::${i}`, workflow: "W" })));
      const first = await storage.page({}, { limit: 2, skipCorrupt: true });
      assert.deepEqual(first.items.map((i) => i.id), ["sk::1", "sk::2"]);
      assert.deepEqual(first.corrupt, []);
      const rest = await storage.page({}, {
        limit: 2,
        skipCorrupt: true,
        cursor: first.nextCursor,
      });
      assert.deepEqual(rest.items.map((i) => i.id), ["sk::3"]);
      assert.equal(rest.nextCursor, null);
      assert.equal((await storage.page({}, { limit: 2 })).corrupt, undefined);
      await rejectsWith(
        storage.page({}, { limit: 2, skipCorrupt: 1 as unknown as boolean }),
        ValidationError,
      );
    },
  },
  {
    name: "a page walk is stable while others insert, update and delete",
    async run(storage) {
      await storage.putMany(
        Array.from(
          { length: 30 },
          (_, i) => instanceOf(`s${String(i).padStart(2, "0")}`, "W", "waiting"),
        ),
      );
      const existing = (await storage.query({})).map((i) => i.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let round = 0;
      do {
        const page: Page = await storage.page({}, { limit: 4, cursor });
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
        await storage.put(instanceOf(`new${round++}`, "W", "waiting"));
        const updated = (await storage.get(existing[round]))!;
        updated.status = "running";
        await storage.put(updated);
      } while (cursor !== null);
      assert.equal(new Set(seen).size, seen.length, "no duplicates");
      for (const id of existing) assert.ok(seen.includes(id), `${id} was not skipped`);
    },
  },
  {
    name: "scan() yields every match lazily; count() counts them",
    async run(storage) {
      await storage.putMany(
        Array.from(
          { length: 23 },
          (_, i) => instanceOf(`sc${i}`, "W", i % 4 === 0 ? "failed" : "waiting"),
        ),
      );
      const ids: string[] = [];
      for await (const instance of storage.scan({ status: "waiting" }, { batchSize: 5 })) {
        ids.push(instance.id);
      }
      assert.equal(ids.length, 17);
      assert.deepEqual(ids, (await storage.query({ status: "waiting" })).map((i) => i.id));
      assert.equal(await storage.count({}), 23);
      assert.equal(await storage.count({ status: "failed" }), 6);
      assert.equal(await storage.count({ statusIn: [] }), 0);
      const all: string[] = [];
      for await (const instance of storage.scan({})) all.push(instance.id);
      assert.equal(all.length, 23);
      await rejectsWith(storage.count({ nope: 1 } as never), ValidationError);
      await rejectsWith(
        (async () => {
          for await (const _ of storage.scan({}, { batchSize: 0 })) { /* never */ }
        })(),
        ValidationError,
      );
    },
  },
  {
    name: "reads take fromPrimary (same answers) and refuse other read options",
    async run(storage) {
      await storage.putMany([instanceOf("rd1", "W", "waiting"), instanceOf("rd2", "W", "failed")]);
      for (const fromPrimary of [true, false]) {
        assert.equal((await storage.get("rd1", { fromPrimary }))?.id, "rd1");
        assert.deepEqual(
          (await storage.query({ status: "waiting" }, { fromPrimary })).map((i) => i.id),
          ["rd1"],
        );
        assert.equal(await storage.count({}, { fromPrimary }), 2);
        const page = await storage.page({}, { limit: 1, fromPrimary });
        assert.deepEqual(page.items.map((i) => i.id), ["rd1"]);
        const ids: string[] = [];
        for await (const i of storage.scan({}, { batchSize: 1, fromPrimary })) ids.push(i.id);
        assert.deepEqual(ids, ["rd1", "rd2"]);
      }
      await rejectsWith(storage.get("rd1", { fromPrimary: 1 } as never), ValidationError);
      await rejectsWith(storage.get("rd1", { primary: true } as never), ValidationError);
      await rejectsWith(storage.query({}, { fromPrimry: true } as never), ValidationError);
      await rejectsWith(storage.count({}, null as never), ValidationError);
      await rejectsWith(
        storage.page({}, { limit: 1, fromPrimary: "yes" } as never),
        ValidationError,
      );
    },
  },
  {
    name: "contextContains matches by jsonb containment, typed values encoded as stored",
    async run(storage) {
      const order = newInstance({
        id: "cc::1",
        workflow: "W",
        initial: {
          order_id: 123,
          customer: { id: 7, tags: ["vip", "eu"] },
          placed_at: new Date("2026-01-02T03:04:05.678Z"),
          total: 12345678901234567890n,
          coupons: new Set(["A", "B"]),
        },
      });
      order.context.steps = { charge: { ok: true } };
      await storage.put(order);
      await storage.put(newInstance({ id: "cc::2", workflow: "W", initial: { order_id: 124 } }));
      const match = (contextContains: Record<string, unknown>) =>
        ids(storage, { contextContains } as InstanceFilter);
      assert.deepEqual(await match({ initial: { order_id: 123 } }), ["cc::1"]);
      assert.deepEqual(await match({ initial: { customer: { tags: ["eu"] } } }), ["cc::1"]);
      assert.deepEqual(
        await match({ initial: { placed_at: new Date("2026-01-02T03:04:05.678Z") } }),
        ["cc::1"],
      );
      assert.deepEqual(await match({ initial: { total: 12345678901234567890n } }), ["cc::1"]);
      assert.deepEqual(await match({ initial: { coupons: new Set(["B"]) } }), ["cc::1"]);
      assert.deepEqual(await match({ steps: { charge: { ok: true } }, initial: {} }), ["cc::1"]);
      assert.deepEqual(await match({ initial: {} }), ["cc::1", "cc::2"]);
      assert.deepEqual(await match({ initial: { order_id: 999 } }), []);
      assert.deepEqual(await match({ initial: { customer: { tags: ["us"] } } }), []);
      assert.deepEqual(await match({ initial: { order_id: "123" } }), [], "types matter");
      assert.equal(await storage.count({ contextContains: { initial: { order_id: 123 } } }), 1);
      for (const bad of [{}, { nope: {} }, { initial: 5 }, { initial: { f: () => 1 } }, "x", []]) {
        await rejectsWith(storage.query({ contextContains: bad } as never), ValidationError);
      }
    },
  },
  {
    name: "updatedBefore/After and insertedBefore/After select by time",
    async run(storage) {
      await storage.put(instanceOf("t1", "W", "waiting"));
      await sleep(20);
      const middle = new Date();
      await sleep(20);
      await storage.put(instanceOf("t2", "W", "waiting"));
      assert.deepEqual(await ids(storage, { insertedBefore: middle }), ["t1"]);
      assert.deepEqual(await ids(storage, { insertedAfter: middle }), ["t2"]);
      assert.deepEqual(await ids(storage, { updatedBefore: middle }), ["t1"]);
      await sleep(5);
      await storage.put(instanceOf("t1", "W", "running"));
      assert.deepEqual(await ids(storage, { updatedBefore: middle }), []);
      assert.deepEqual(await ids(storage, { updatedAfter: middle }), ["t1", "t2"]);
      assert.deepEqual(await ids(storage, { insertedBefore: middle, updatedAfter: middle }), [
        "t1",
      ]);
      for (const bad of [new Date(NaN), "2026-01-01", 0]) {
        await rejectsWith(storage.query({ updatedBefore: bad as Date }), ValidationError);
      }
      // Any Date JavaScript can hold: signed years, year 0, before PostgreSQL's earliest time.
      const extremes = [-8.64e15, -210_866_803_200_001, -62_167_219_200_000, -63_517_780_799_877]
        .map((ms) => new Date(ms));
      for (const early of extremes) {
        assert.deepEqual(await ids(storage, { insertedBefore: early }), [], early.toISOString());
        assert.deepEqual(await ids(storage, { updatedAfter: early }), ["t1", "t2"]);
        assert.equal(await storage.prune({ olderThan: early, statusIn: ["running"] }), 0);
      }
      for (const late of [new Date(253_402_300_800_000), new Date(8.64e15)]) {
        assert.deepEqual(await ids(storage, { insertedBefore: late }), ["t1", "t2"]);
        assert.deepEqual(await ids(storage, { updatedAfter: late }), []);
        assert.equal((await storage.page({ insertedAfter: late }, { limit: 5 })).items.length, 0);
      }
    },
  },
  {
    name: "putMany() writes all or nothing and returns revisions in order",
    async run(storage) {
      await storage.put(instanceOf("m2", "W", "waiting"));
      const { revisions } = await storage.putMany([
        instanceOf("m1", "W", "waiting"),
        instanceOf("m2", "W", "running"),
        instanceOf("m3", "W", "waiting"),
      ]);
      assert.deepEqual(revisions, [1, 2, 1]);
      assert.equal((await storage.get("m2"))!.status, "running");
      const bad = instanceOf("m4", "W", "waiting");
      bad.context.initial.fn = () => 1;
      await rejectsWith(
        storage.putMany([instanceOf("m5", "W", "waiting"), bad]),
        SerializationError,
      );
      await rejectsWith(
        storage.putMany([instanceOf("m6", "W", "waiting"), instanceOf("m6", "W", "failed")]),
        ValidationError,
      );
      await rejectsWith(storage.putMany("x" as never), ValidationError);
      assert.equal(await storage.get("m5"), null, "nothing written");
      assert.equal(await storage.get("m6"), null, "nothing written");
      assert.deepEqual(await storage.putMany([]), { revisions: [] });
      const rich = richInstance("m7");
      await storage.putMany([rich]);
      assert.deepStrictEqual(withoutBookkeeping((await storage.get("m7"))!), richInstance("m7"));
      const versioned = newInstance({ id: "m1", workflow: "W", workflowVersion: 9 });
      await storage.putMany([versioned]);
      assert.equal(
        (await storage.get("m1"))!.workflowVersion,
        1,
        "the version stays the first one",
      );
    },
  },
  {
    name: "prune() deletes old finished instances, at most limit at a time",
    async run(storage) {
      const statuses = ["completed", "failed", "completed", "running", "completed"] as const;
      for (const [i, status] of statuses.entries()) {
        await storage.put(instanceOf(`old${i}`, "W", status));
      }
      await sleep(20);
      const cutoff = new Date();
      await sleep(20);
      await storage.put(instanceOf("fresh", "W", "completed"));
      assert.equal(await storage.prune({ olderThan: cutoff, limit: 2 }), 2);
      assert.equal(await storage.prune({ olderThan: cutoff, limit: 2 }), 2);
      assert.equal(await storage.prune({ olderThan: cutoff }), 0);
      assert.deepEqual(await ids(storage, {}), ["old3", "fresh"]);
      assert.equal(await storage.prune({ olderThan: cutoff, statusIn: ["running"] }), 1);
      assert.deepEqual(await ids(storage, {}), ["fresh"]);
      for (
        const bad of [{}, { olderThan: "yesterday" }, { olderThan: cutoff, limit: 0 }, {
          olderThan: cutoff,
          statusIn: ["done"],
        }, { olderThan: cutoff, nope: 1 }]
      ) {
        await rejectsWith(storage.prune(bad as never), ValidationError);
      }
    },
  },
]);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An array of `length` holes. */
function sparse(length: number): unknown[] {
  const array: unknown[] = [];
  array.length = length;
  return array;
}

function nested(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * A store for one contract case, and how to dispose of it.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import type { StorageFixture } from "@heph/pg/testing";
 *
 * const fixture: StorageFixture = { storage: new MemoryStorage() };
 * ```
 */
export interface StorageFixture {
  /** An empty store. */
  storage: Storage;
  /** Called after the case, passed or failed (drop a schema, close a pool…). */
  close?: () => Promise<void> | void;
}

/**
 * The outcome of one case in {@linkcode storageConformance}.
 *
 * @example
 * ```ts
 * import type { CaseResult } from "@heph/pg/testing";
 *
 * const result: CaseResult = { name: "get() of an unknown id returns null", ok: true };
 * ```
 */
export interface CaseResult {
  /** The case's name. */
  name: string;
  /** Whether it held. */
  ok: boolean;
  /** Why it did not hold. */
  error?: unknown;
}

/**
 * What {@linkcode storageConformance} found.
 *
 * @example
 * ```ts
 * import type { ConformanceReport } from "@heph/pg/testing";
 *
 * const report: ConformanceReport = { name: "memory", passed: 0, failed: 0, results: [] };
 * ```
 */
export interface ConformanceReport {
  /** The name given to the run. */
  name: string;
  /** How many cases held. */
  passed: number;
  /** How many did not. */
  failed: number;
  /** Each case, in order. */
  results: CaseResult[];
}

/**
 * Runs every contract case, each on a fresh store from `makeStorage`, under any runtime and
 * any test runner (Deno, Node, Bun, a Cloudflare Worker). It never throws for a failed case:
 * read the report, or pass `onResult` to print as it goes.
 *
 * @param name A name for the run (the driver or store under test).
 * @param makeStorage Makes an empty store for one case.
 * @param options `onResult` is called after each case.
 * @returns How many cases passed and failed, and each outcome.
 *
 * @example Check your own Storage implementation
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { storageConformance } from "@heph/pg/testing";
 *
 * const report = await storageConformance("memory", () => ({ storage: new MemoryStorage() }));
 * console.log(`${report.passed} passed, ${report.failed} failed`);
 * ```
 */
export async function storageConformance(
  name: string,
  makeStorage: () => Promise<StorageFixture> | StorageFixture,
  options: { onResult?: (result: CaseResult) => void } = {},
): Promise<ConformanceReport> {
  const results: CaseResult[] = [];
  for (const check of STORAGE_CASES) {
    let result: CaseResult;
    let fixture: StorageFixture | undefined;
    try {
      fixture = await makeStorage();
      await check.run(fixture.storage);
      result = { name: check.name, ok: true };
    } catch (error) {
      result = { name: check.name, ok: false, error };
    } finally {
      await fixture?.close?.();
    }
    results.push(result);
    options.onResult?.(result);
  }
  const passed = results.filter((r) => r.ok).length;
  return { name, passed, failed: results.length - passed, results };
}

/**
 * Makes fixtures for {@linkcode storageConformance} on PostgreSQL: each case gets a
 * {@linkcode PgStorage} on a fresh schema, migrated through `driver` and dropped afterwards.
 *
 * @param driver The driver under test.
 * @param prefix The schemas' name prefix (a lowercase identifier).
 * @param options `distribute`: make each case's table a Citus distributed table (on a Citus
 *   coordinator) and use a PgStorage made for one (`distributed: true`).
 * @returns A `makeStorage` for {@linkcode storageConformance}.
 *
 * @example Check a driver
 * ```ts ignore
 * import pg from "npm:pg";
 * import { nodePostgresDriver } from "@heph/pg/node-postgres";
 * import { freshSchemaStorage, storageConformance } from "@heph/pg/testing";
 *
 * const pool = new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") });
 * const report = await storageConformance("node-postgres", freshSchemaStorage(nodePostgresDriver(pool)));
 * console.log(`${report.passed} passed, ${report.failed} failed`);
 * await pool.end();
 * ```
 */
export function freshSchemaStorage(
  driver: SqlDriver,
  prefix = "heph_conformance",
  options: { distribute?: boolean } = {},
): () => Promise<StorageFixture> {
  let n = 0;
  const run = Math.random().toString(36).slice(2, 8);
  return async () => {
    const schema = `${prefix}_${run}_${n++}`;
    await migrate(driver, { schema, distribute: options.distribute });
    return {
      storage: new PgStorage({ driver, schema, distributed: options.distribute }),
      close: async () => {
        await driver.query(`DROP SCHEMA "${schema}" CASCADE`);
      },
    };
  };
}
