/**
 * The Storage contract's cases on queries: query, count and countGroups; each filter, their
 * combinations, their order, and the read options.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type InstanceFilter, newInstance, ValidationError } from "../../mod.ts";
import {
  EARLY_DATES,
  ids,
  instanceOf,
  LATE_DATES,
  oddDatesInstance,
  rejectsWith,
  seedEveryFourthFailed,
  seedForQueries,
  sleep,
} from "./helpers.ts";
import type { StorageCase } from "../storage_case.ts";

/**
 * The query cases of the Storage contract. Each case expects a fresh, empty store.
 *
 * @example Run them on a MemoryStorage
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { QUERY_CASES } from "./queries.ts";
 *
 * for (const check of QUERY_CASES) await check.run(new MemoryStorage());
 * ```
 */
export const QUERY_CASES: readonly StorageCase[] = Object.freeze([
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
    name: "query() by workflowVersion sees the version of the first insert, not a later put's",
    async run(storage) {
      const instance = newInstance({ id: "v::1", workflow: "W", workflowVersion: 2 });
      await storage.put(instance);
      instance.workflowVersion = 5;
      await storage.put(instance);
      assert.deepEqual(await ids(storage, { workflowVersion: 5 }), []);
      assert.deepEqual(await ids(storage, { workflowVersion: 2 }), ["v::1"]);
    },
  },
  {
    name: "query() reads back an instance whose Dates carry methods of their own",
    async run(storage) {
      await storage.put(oddDatesInstance("date::1"));
      assert.equal((await storage.query({ id: "date::1" })).length, 1);
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
    name: "statusIn with an empty list selects nothing",
    async run(storage) {
      await seedForQueries(storage);
      assert.deepEqual(await ids(storage, { statusIn: [] }), []);
    },
  },
  {
    name: "count() counts the matches of a filter and refuses unknown keys",
    async run(storage) {
      await seedEveryFourthFailed(storage);
      assert.equal(await storage.count({}), 23);
      assert.equal(await storage.count({ status: "failed" }), 6);
      assert.equal(await storage.count({ statusIn: [] }), 0);
      await rejectsWith(storage.count({ nope: 1 } as never), ValidationError);
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
      for (const early of EARLY_DATES) {
        assert.deepEqual(await ids(storage, { insertedBefore: early }), [], early.toISOString());
        assert.deepEqual(await ids(storage, { updatedAfter: early }), ["t1", "t2"]);
      }
      for (const late of LATE_DATES) {
        assert.deepEqual(await ids(storage, { insertedBefore: late }), ["t1", "t2"]);
        assert.deepEqual(await ids(storage, { updatedAfter: late }), []);
      }
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
]);
