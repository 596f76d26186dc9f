import assert from "node:assert/strict";
import { inspect } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { migrate } from "../mod.ts";
import { pgliteDriver } from "../drivers/pglite.ts";
import { checkDriverConformance } from "./support/conformance.ts";
import { checkDriverBehaviour } from "./support/driver_checks.ts";

// One PGlite for the whole file: starting one takes seconds. Schemas keep the steps apart.
Deno.test("pgliteDriver", async (t) => {
  const db = new PGlite();
  const driver = pgliteDriver(db);
  try {
    await t.step("PgStorage on PGlite honours the Storage contract", async (t) => {
      await checkDriverConformance(t, driver, "lite");
    });

    await checkDriverBehaviour(t, driver, "lite");

    await t.step("migrate() succeeds without lz4, which PGlite lacks", async () => {
      await assert.rejects(
        driver.query("CREATE TABLE lz (s jsonb COMPRESSION lz4)"),
        { code: "0A000" },
      );
      await migrate(driver, { schema: "lite_lz4" });
      try {
        const { rows } = await driver.query(
          `SELECT attcompression::text AS compression FROM pg_attribute
            WHERE attrelid = 'lite_lz4.workflow_instances'::regclass AND attname = 'state'`,
        );
        assert.deepEqual(rows, [{ compression: "" }], "the column keeps the default compression");
      } finally {
        await driver.query("DROP SCHEMA lite_lz4 CASCADE");
      }
    });

    await t.step("errors keep their fields but do not print the parameters", async () => {
      const secret = "card-4242-4242";
      await assert.rejects(driver.query("SELECT $1::text, 1/0", [secret]), (error: unknown) => {
        assert.equal((error as { code?: string }).code, "22012");
        assert.deepEqual((error as { params?: unknown }).params, [secret]);
        assert.ok(!inspect(error).includes(secret), inspect(error));
        return true;
      });
    });
  } finally {
    await db.close();
  }
});
