/**
 * The shape of one schema migration.
 *
 * @module
 */

/**
 * One versioned schema change. `up` and `down` are SQL in which the token `{schema}` stands
 * for the quoted schema name; they may hold several statements and `DO` blocks, but not the
 * dollar-quote tag `$heph_migration$`.
 *
 * @example
 * ```ts
 * import type { Migration } from "@heph/pg";
 *
 * const migration: Migration = {
 *   version: 99,
 *   name: "add_note",
 *   up: "ALTER TABLE {schema}.workflow_instances ADD COLUMN note text",
 *   down: "ALTER TABLE {schema}.workflow_instances DROP COLUMN note",
 * };
 * ```
 */
export interface Migration {
  /** 1, 2, 3… in order, without gaps. */
  version: number;
  /** A snake_case name. */
  name: string;
  /** SQL that applies it. */
  up: string;
  /** SQL that reverts it. */
  down: string;
}
