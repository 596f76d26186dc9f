/**
 * The Storage contract's cases on bad input: ids, instances and filters a store refuses with a
 * ValidationError, writing nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type InstanceFilter,
  newInstance,
  ValidationError,
  type WorkflowInstance,
} from "../../mod.ts";
import { rejectsWith, seedForQueries } from "./helpers.ts";
import type { StorageCase } from "../storage_case.ts";

/**
 * The bad-input cases of the Storage contract. Each case expects a fresh, empty store.
 *
 * @example Run them on a MemoryStorage
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { VALIDATION_CASES } from "./validation.ts";
 *
 * for (const check of VALIDATION_CASES) await check.run(new MemoryStorage());
 * ```
 */
export const VALIDATION_CASES: readonly StorageCase[] = Object.freeze([
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
      await rejectsWith(storage.query({ statusIn: [, "pending"] as never }), ValidationError);
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
]);
