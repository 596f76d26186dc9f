/**
 * The Storage contract's cases on retention: prune deletes old finished instances.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ValidationError } from "../../mod.ts";
import { EARLY_DATES, ids, instanceOf, rejectsWith, sleep } from "./helpers.ts";
import type { StorageCase } from "../storage_case.ts";

/**
 * The retention cases of the Storage contract. Each case expects a fresh, empty store.
 *
 * @example Run them on a MemoryStorage
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { RETENTION_CASES } from "./retention.ts";
 *
 * for (const check of RETENTION_CASES) await check.run(new MemoryStorage());
 * ```
 */
export const RETENTION_CASES: readonly StorageCase[] = Object.freeze([
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
  {
    name: "prune() takes a cutoff before PostgreSQL's earliest time and deletes nothing",
    async run(storage) {
      await storage.put(instanceOf("t1", "W", "running"));
      for (const early of EARLY_DATES) {
        assert.equal(await storage.prune({ olderThan: early, statusIn: ["running"] }), 0);
      }
      assert.ok(await storage.get("t1"), "t1 is still there");
    },
  },
]);
