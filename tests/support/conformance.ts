/**
 * Runs the Storage contract (testing/storage_conformance.ts) on PgStorage over a driver, each
 * case in a fresh schema of its own, as steps of a Deno test.
 *
 * @module
 */
import { migrate, PgStorage, type SqlDriver } from "../../mod.ts";
import { STORAGE_CASES } from "../../testing/storage_conformance.ts";

/**
 * Runs every contract case as a step, on a fresh migrated schema `${prefix}_${n}` that is
 * dropped afterwards (through the same driver, so the driver's DDL path is exercised too).
 */
export async function checkDriverConformance(
  t: Deno.TestContext,
  driver: SqlDriver,
  prefix: string,
): Promise<void> {
  for (const [i, check] of STORAGE_CASES.entries()) {
    const schema = `${prefix}_${i}`;
    await migrate(driver, { schema });
    try {
      await t.step(check.name, () => check.run(new PgStorage({ driver, schema })));
    } finally {
      await driver.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  }
}
