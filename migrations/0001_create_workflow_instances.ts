/**
 * Migration 1: the `workflow_instances` table, as the Elixir adapter lays it out.
 *
 * @module
 */

import type { Migration } from "./migration.ts";

/**
 * Creates `workflow_instances`: one row per instance, user data in the `state` jsonb column
 * under a GIN index (`jsonb_path_ops`), B-tree indexes on status, workflow (with
 * `text_pattern_ops`, so prefix queries on the workflow name use it too) and
 * (workflow, workflow_version). `state` is compressed with lz4 where the server has it.
 */
export const createWorkflowInstances: Migration = Object.freeze({
  version: 1,
  name: "create_workflow_instances",
  up: `
CREATE TABLE {schema}.workflow_instances (
  id varchar(255) PRIMARY KEY,
  workflow text NOT NULL CHECK (workflow <> ''),
  status text NOT NULL
    CHECK (status IN ('pending', 'running', 'waiting', 'completed', 'failed')),
  workflow_version integer NOT NULL CHECK (workflow_version > 0),
  state jsonb NOT NULL,
  revision bigint NOT NULL DEFAULT 1 CHECK (revision > 0),
  inserted_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_instances_status_idx ON {schema}.workflow_instances (status);
CREATE INDEX workflow_instances_workflow_idx
  ON {schema}.workflow_instances (workflow text_pattern_ops);
CREATE INDEX workflow_instances_workflow_version_idx
  ON {schema}.workflow_instances (workflow, workflow_version);
CREATE INDEX workflow_instances_state_idx
  ON {schema}.workflow_instances USING gin (state jsonb_path_ops);
DO $lz4$ BEGIN
  EXECUTE 'ALTER TABLE {schema}.workflow_instances ALTER COLUMN state SET COMPRESSION lz4';
EXCEPTION WHEN others THEN NULL;
END $lz4$;
`,
  down: `DROP TABLE {schema}.workflow_instances;`,
});
