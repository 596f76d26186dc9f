/**
 * The Storage contract's cases on writes and reads: put, get, upsert, delete and putMany. What is
 * stored comes back whole, at the right revision.
 *
 * @module
 */
import assert from "node:assert/strict";
import { newInstance, SerializationError, ValidationError } from "../../mod.ts";
import { ids, instanceOf, rejectsWith } from "./helpers.ts";
import { richInstance } from "../rich_instance.ts";
import type { StorageCase } from "../storage_case.ts";
import { withoutBookkeeping } from "../without_bookkeeping.ts";

/**
 * The write-and-read cases of the Storage contract. Each case expects a fresh, empty store.
 *
 * @example Run them on a MemoryStorage
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { CRUD_CASES } from "./crud.ts";
 *
 * for (const check of CRUD_CASES) await check.run(new MemoryStorage());
 * ```
 */
export const CRUD_CASES: readonly StorageCase[] = Object.freeze([
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
]);
