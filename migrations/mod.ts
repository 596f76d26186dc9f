/**
 * Every migration, in order. Bundled as modules: nothing is read from disk at run time.
 *
 * @module
 */

import { createWorkflowInstances } from "./0001_create_workflow_instances.ts";
import { leasesAndKeysetOrder } from "./0002_leases_and_keyset_order.ts";
import { contextIndexNoParallel } from "./0003_context_index_no_parallel.ts";
import type { Migration } from "./migration.ts";

/**
 * The migrations this release knows, by ascending version.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MIGRATIONS } from "@heph/pg";
 *
 * const versions = MIGRATIONS.map((migration) => migration.version);
 * assert.deepEqual(versions, versions.toSorted((a, b) => a - b));
 * ```
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  createWorkflowInstances,
  leasesAndKeysetOrder,
  contextIndexNoParallel,
]);
