/**
 * The Storage contract's cases on paging: page and scan; cursors, order, forged cursors, stability
 * under writes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type InstanceFilter, newInstance, type Page, ValidationError } from "../../mod.ts";
import {
  instanceOf,
  LATE_DATES,
  oddDatesInstance,
  rejectsWith,
  seedEveryFourthFailed,
  sleep,
} from "./helpers.ts";
import type { StorageCase } from "../storage_case.ts";

/**
 * The paging cases of the Storage contract. Each case expects a fresh, empty store.
 *
 * @example Run them on a MemoryStorage
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { PAGING_CASES } from "./paging.ts";
 *
 * for (const check of PAGING_CASES) await check.run(new MemoryStorage());
 * ```
 */
export const PAGING_CASES: readonly StorageCase[] = Object.freeze([
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
      await rejectsWith(storage.page({}, { limit: 5, curser: "x" } as never), ValidationError);
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
    name: "page() takes filter times after the year 9999 and finds nothing after them",
    async run(storage) {
      await storage.putMany([instanceOf("t1", "W", "running"), instanceOf("t2", "W", "waiting")]);
      for (const late of LATE_DATES) {
        assert.equal((await storage.page({ insertedAfter: late }, { limit: 5 })).items.length, 0);
      }
    },
  },
  {
    name: "page() reads back an instance whose Dates carry methods of their own",
    async run(storage) {
      await storage.put(oddDatesInstance("date::1"));
      assert.equal((await storage.page({ id: "date::1" }, { limit: 1 })).items.length, 1);
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
        const id = existing[round];
        assert.ok(id !== undefined, "more instances than pages");
        const updated = (await storage.get(id))!;
        updated.status = "running";
        await storage.put(updated);
      } while (cursor !== null);
      assert.equal(new Set(seen).size, seen.length, "no duplicates");
      for (const id of existing) assert.ok(seen.includes(id), `${id} was not skipped`);
    },
  },
  {
    name: "scan() yields every match lazily",
    async run(storage) {
      await seedEveryFourthFailed(storage);
      const ids: string[] = [];
      for await (const instance of storage.scan({ status: "waiting" }, { batchSize: 5 })) {
        ids.push(instance.id);
      }
      assert.equal(ids.length, 17);
      assert.deepEqual(ids, (await storage.query({ status: "waiting" })).map((i) => i.id));
      const all: string[] = [];
      for await (const instance of storage.scan({})) all.push(instance.id);
      assert.equal(all.length, 23);
      await rejectsWith(
        (async () => {
          for await (const _ of storage.scan({}, { batchSize: 0 })) { /* never */ }
        })(),
        ValidationError,
      );
    },
  },
]);
