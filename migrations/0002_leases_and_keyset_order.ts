/**
 * Migration 2: leases, for many workers on one database, and the indexes that serve claims
 * and keyset pages.
 *
 * @module
 */

import type { Migration } from "./migration.ts";

/**
 * Adds `lease_owner` and `lease_expires_at` (both null, or both set), an index on
 * (status, inserted_at, id) that serves claims, status queries and their pages in insertion
 * order, and one on (inserted_at, id) for pages without a status. The plain status index of
 * migration 1 becomes redundant and is dropped (every index costs each put).
 */
export const leasesAndKeysetOrder: Migration = Object.freeze({
  version: 2,
  name: "leases_and_keyset_order",
  up: `
ALTER TABLE {schema}.workflow_instances
  ADD COLUMN lease_owner text,
  ADD COLUMN lease_expires_at timestamptz,
  ADD CONSTRAINT workflow_instances_lease_check
    CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL));
CREATE INDEX workflow_instances_status_order_idx
  ON {schema}.workflow_instances (status, inserted_at, id COLLATE "C");
CREATE INDEX workflow_instances_order_idx
  ON {schema}.workflow_instances (inserted_at, id COLLATE "C");
DROP INDEX {schema}.workflow_instances_status_idx;
`,
  down: `
CREATE INDEX workflow_instances_status_idx ON {schema}.workflow_instances (status);
DROP INDEX {schema}.workflow_instances_order_idx;
DROP INDEX {schema}.workflow_instances_status_order_idx;
ALTER TABLE {schema}.workflow_instances
  DROP CONSTRAINT workflow_instances_lease_check,
  DROP COLUMN lease_expires_at,
  DROP COLUMN lease_owner;
`,
});
