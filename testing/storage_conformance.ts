/**
 * The Storage contract as runnable checks: every behaviour a {@linkcode Storage} promises,
 * written once and run against every implementation and every driver. Built on
 * `node:assert/strict` only, so it runs under any test runner. The cases live by theme in
 * `testing/cases/` (writes and reads, bad input, queries, paging, serialization, concurrency,
 * leases, retention); this module combines them and runs them.
 *
 * @example Run the suite under `deno test`
 * ```ts ignore
 * import { MemoryStorage } from "@heph/pg";
 * import { STORAGE_CASES } from "@heph/pg/testing";
 *
 * Deno.test("MemoryStorage honours the Storage contract", async (t) => {
 *   for (const check of STORAGE_CASES) {
 *     await t.step(check.name, () => check.run(new MemoryStorage()));
 *   }
 * });
 * ```
 *
 * @module
 */

import type { StorageCase } from "./storage_case.ts";
import type { StorageFixture } from "./storage_fixture.ts";
import { CONCURRENCY_CASES } from "./cases/concurrency.ts";
import { CRUD_CASES } from "./cases/crud.ts";
import { LEASE_CASES } from "./cases/leases.ts";
import { PAGING_CASES } from "./cases/paging.ts";
import { QUERY_CASES } from "./cases/queries.ts";
import { RETENTION_CASES } from "./cases/retention.ts";
import { SERIALIZATION_CASES } from "./cases/serialization.ts";
import { VALIDATION_CASES } from "./cases/validation.ts";

export type { StorageCase } from "./storage_case.ts";
export { richInstance } from "./rich_instance.ts";
export { withoutBookkeeping } from "./without_bookkeeping.ts";
export { freshSchemaStorage, type StorageFixture } from "./storage_fixture.ts";

/**
 * Every behaviour of the Storage contract, theme by theme (writes and reads, bad input,
 * queries, paging, serialization, concurrency, leases, retention). Each case expects a fresh,
 * empty store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STORAGE_CASES } from "@heph/pg/testing";
 *
 * assert.ok(STORAGE_CASES.some((c) => c.name === "get() of an unknown id returns null"));
 * ```
 */
export const STORAGE_CASES: readonly StorageCase[] = Object.freeze([
  ...CRUD_CASES,
  ...VALIDATION_CASES,
  ...QUERY_CASES,
  ...PAGING_CASES,
  ...SERIALIZATION_CASES,
  ...CONCURRENCY_CASES,
  ...LEASE_CASES,
  ...RETENTION_CASES,
]);

/**
 * The outcome of one case in {@linkcode storageConformance}.
 *
 * @example
 * ```ts
 * import type { CaseResult } from "@heph/pg/testing";
 *
 * const result: CaseResult = { name: "get() of an unknown id returns null", ok: true };
 * ```
 */
export interface CaseResult {
  /** The case's name. */
  name: string;
  /** Whether it held. */
  ok: boolean;
  /** Why it did not hold. */
  error?: unknown;
}

/**
 * What {@linkcode storageConformance} found.
 *
 * @example
 * ```ts
 * import type { ConformanceReport } from "@heph/pg/testing";
 *
 * const report: ConformanceReport = { name: "memory", passed: 0, failed: 0, results: [] };
 * ```
 */
export interface ConformanceReport {
  /** The name given to the run. */
  name: string;
  /** How many cases held. */
  passed: number;
  /** How many did not. */
  failed: number;
  /** Each case, in order. */
  results: CaseResult[];
}

/**
 * Runs every contract case, each on a fresh store from `makeStorage`, under any runtime and
 * any test runner (Deno, Node, Bun, a Cloudflare Worker). It never throws for a failed case:
 * read the report, or pass `onResult` to print as it goes.
 *
 * @param name A name for the run (the driver or store under test).
 * @param makeStorage Makes an empty store for one case.
 * @param options `onResult` is called after each case.
 * @returns How many cases passed and failed, and each outcome.
 *
 * @example Check your own Storage implementation
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStorage } from "@heph/pg";
 * import { storageConformance } from "@heph/pg/testing";
 *
 * const report = await storageConformance("memory", () => ({ storage: new MemoryStorage() }));
 * assert.equal(report.failed, 0, report.results.filter((r) => !r.ok).map((r) => r.name).join());
 * ```
 */
export async function storageConformance(
  name: string,
  makeStorage: () => Promise<StorageFixture> | StorageFixture,
  options: { onResult?: (result: CaseResult) => void } = {},
): Promise<ConformanceReport> {
  const results: CaseResult[] = [];
  for (const check of STORAGE_CASES) {
    let result: CaseResult;
    let fixture: StorageFixture | undefined;
    try {
      fixture = await makeStorage();
      await check.run(fixture.storage);
      result = { name: check.name, ok: true };
    } catch (error) {
      result = { name: check.name, ok: false, error };
    } finally {
      await fixture?.close?.();
    }
    results.push(result);
    options.onResult?.(result);
  }
  const passed = results.filter((r) => r.ok).length;
  return { name, passed, failed: results.length - passed, results };
}
