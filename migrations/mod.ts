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
 * import { MIGRATIONS } from "@heph/pg";
 *
 * MIGRATIONS.at(-1)?.version; // the latest schema version
 * ```
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  createWorkflowInstances,
  leasesAndKeysetOrder,
  contextIndexNoParallel,
]);
