/**
 * The Storage contract's cases on leases: claim, renewLease, releaseLease and puts under a lease.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ConflictError, LeaseConflictError, ValidationError } from "../../mod.ts";
import { instanceOf, oddDatesInstance, rejectsWith, sleep } from "./helpers.ts";
import type { StorageCase } from "../storage_case.ts";

/**
 * The lease cases of the Storage contract. Each case expects a fresh, empty store.
 *
 * @example Run them on a MemoryStorage
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { LEASE_CASES } from "./leases.ts";
 *
 * for (const check of LEASE_CASES) await check.run(new MemoryStorage());
 * ```
 */
export const LEASE_CASES: readonly StorageCase[] = Object.freeze([
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
      assert.equal((await storage.query({ id: "c4" })).at(0)?.lease?.owner, "w2");
    },
  },
  {
    name: "claim() leases an instance whose Dates carry methods of their own",
    async run(storage) {
      await storage.put(oddDatesInstance("date::1"));
      assert.equal((await storage.claim({ id: "date::1", owner: "o", leaseMs: 1000 })).length, 1);
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
      assert.ok(taken, "the expired lease is claimed again");
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
      assert.ok(claimed, "lease::1 is claimed");
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
      await rejectsWith(
        storage.renewLease("lease::1", { owner: "w", leaseMs: 5, extra: 1 } as never),
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
]);
