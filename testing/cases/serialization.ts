/**
 * The Storage contract's cases on serialization: values JSON alone would lose come back whole;
 * values that cannot be stored faithfully are refused with the path.
 *
 * @module
 */
import assert from "node:assert/strict";
import { newInstance, SerializationError, type WorkflowInstance } from "../../mod.ts";
import { oddDatesInstance, rejectsWith } from "./helpers.ts";
import type { StorageCase } from "../storage_case.ts";
import { withoutBookkeeping } from "../without_bookkeeping.ts";

/**
 * The serialization cases of the Storage contract. Each case expects a fresh, empty store.
 *
 * @example Run them on a MemoryStorage
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { SERIALIZATION_CASES } from "./serialization.ts";
 *
 * for (const check of SERIALIZATION_CASES) await check.run(new MemoryStorage());
 * ```
 */
export const SERIALIZATION_CASES: readonly StorageCase[] = Object.freeze([
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
      await storage.put(oddDatesInstance("date::1"));
      const stored = (await storage.get("date::1"))!;
      const times = Object.fromEntries(
        Object.entries(stored.context.initial).map(([k, d]) => [k, (d as Date).getTime()]),
      );
      assert.deepEqual(times, { iso: 1, value: 2, primitive: 3, json: 4, time: 5 });
      assert.equal(stored.executionHistory.at(0)?.timestamp.getTime(), 6);
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
]);

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
