import { MemoryStorage } from "../mod.ts";
import { STORAGE_CASES } from "../testing/storage_conformance.ts";

Deno.test("MemoryStorage honours the Storage contract", async (t) => {
  for (const check of STORAGE_CASES) {
    await t.step(check.name, () => check.run(new MemoryStorage()));
  }
});
