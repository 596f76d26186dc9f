/**
 * Migration 3: a containment index on what `contextContains` reads, and no parallel plans.
 *
 * @module
 */

import type { Migration } from "./migration.ts";

/**
 * Replaces the GIN index on the whole `state` with one on `state -> 'context'` (still
 * `jsonb_path_ops`): `contextContains` only ever looks under the context, and the execution
 * history, step configs, metadata and type annotations, which grow at every step and are never
 * searched, no longer cost index entries on each put (measured: a 20-step workflow's put ~7%
 * faster at its last step, the index smaller). PgStorage's containment filter becomes
 * `(state -> 'context') @> …`, which this index serves.
 *
 * Sets the table's `parallel_workers` to 0. The planner has no statistics for jsonb
 * containment (states are too wide for ANALYZE to sample) and guesses 1% of the table matches,
 * so on a million rows it starts parallel workers for a lookup that returns one row: 0.3 ms
 * became 5–20 ms. Every PgStorage statement reads a few rows through an index, where workers
 * only cost; an exact `count()` of a whole large table loses its parallel scan (use
 * `estimateCount()` for dashboards). Both are plain DDL that Citus propagates to the shards.
 */
export const contextIndexNoParallel: Migration = Object.freeze({
  version: 3,
  name: "context_index_no_parallel",
  up: `
CREATE INDEX workflow_instances_context_idx
  ON {schema}.workflow_instances USING gin ((state -> 'context') jsonb_path_ops);
DROP INDEX {schema}.workflow_instances_state_idx;
ALTER TABLE {schema}.workflow_instances SET (parallel_workers = 0);
`,
  down: `
ALTER TABLE {schema}.workflow_instances RESET (parallel_workers);
CREATE INDEX workflow_instances_state_idx
  ON {schema}.workflow_instances USING gin (state jsonb_path_ops);
DROP INDEX {schema}.workflow_instances_context_idx;
`,
});
