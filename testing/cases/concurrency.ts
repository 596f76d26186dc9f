/**
 * The Storage contract's cases on concurrency: expectedRevision and parallel writers; one winner
 * per revision, no lost update.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ConflictError, newInstance, type Storage, ValidationError } from "../../mod.ts";
import { rejectsWith } from "./helpers.ts";
import type { StorageCase } from "../storage_case.ts";

/**
 * The concurrency cases of the Storage contract. Each case expects a fresh, empty store.
 *
 * @example Run them on a MemoryStorage
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { CONCURRENCY_CASES } from "./concurrency.ts";
 *
 * for (const check of CONCURRENCY_CASES) await check.run(new MemoryStorage());
 * ```
 */
export const CONCURRENCY_CASES: readonly StorageCase[] = Object.freeze([
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
]);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function readModifyWrite(storage: Storage, id: string): Promise<void> {
  for (;;) {
    const current = await storage.get(id);
    assert.ok(current, `${id} is stored`);
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
