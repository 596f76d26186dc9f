import assert from "node:assert/strict";
import { MemoryStorage, type PutOptions, type Storage, type WorkflowInstance } from "../mod.ts";
import { STORAGE_CASES, storageConformance } from "../testing/storage_conformance.ts";

Deno.test("MemoryStorage honours the Storage contract", async (t) => {
  for (const check of STORAGE_CASES) {
    await t.step(check.name, () => check.run(new MemoryStorage()));
  }
});

Deno.test("storageConformance() reports every case and catches a broken store", async () => {
  const good = await storageConformance("memory", () => ({ storage: new MemoryStorage() }));
  assert.equal(good.failed, 0);
  assert.equal(good.passed, STORAGE_CASES.length);
  let closed = 0;
  const forgetful = await storageConformance("forgetful", () => {
    class Forgetful extends MemoryStorage {
      override async put(instance: WorkflowInstance, options?: PutOptions) {
        return { ...(await super.put(instance, options)), revision: 1 };
      }
    }
    const storage: Storage = new Forgetful();
    return { storage, close: () => void closed++ };
  });
  assert.ok(forgetful.failed > 0, "a store that always answers revision 1 fails the contract");
  assert.equal(forgetful.passed + forgetful.failed, STORAGE_CASES.length);
  assert.equal(closed, STORAGE_CASES.length);
  assert.ok(forgetful.results.some((r) => !r.ok && r.error instanceof Error));
});
