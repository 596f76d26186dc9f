/**
 * Statement parameters by name: the text asks for a named value and gets its `$n`, so the SQL
 * text and the parameter list are built from one place and cannot drift apart.
 *
 * @module
 */

import { HephError } from "./errors.ts";

/**
 * A statement whose parameters are named: `text` holds `$1`, `$2`, … for `names[0]`,
 * `names[1]`, …, and {@linkcode NamedStatement.params} lays the values out in that order.
 *
 * @typeParam N The names of its parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { namedStatement } from "./sql_params.ts";
 *
 * const renew = namedStatement<"id" | "owner">((p) =>
 *   `UPDATE t SET owner = ${p("owner")} WHERE id = ${p("id")}`
 * );
 * assert.equal(renew.text, "UPDATE t SET owner = $1 WHERE id = $2");
 * assert.deepEqual(renew.params({ id: "order::1", owner: "worker-a" }), ["worker-a", "order::1"]);
 * ```
 */
export interface NamedStatement<N extends string> {
  /** The SQL text, with `$n` placeholders. */
  readonly text: string;
  /** The parameter names, in placeholder order. */
  readonly names: readonly N[];
  /**
   * The parameter list for these values, in placeholder order; values of names the statement
   * does not use are left out.
   *
   * @param values A value for every name (more are allowed).
   * @returns The parameters.
   * @throws {HephError} When a name the statement uses has no value (`undefined`).
   */
  params(values: { readonly [K in N]: unknown }): unknown[];
}

/**
 * Builds a statement whose text asks for parameters by name: `p(name)` returns the name's
 * placeholder, numbered in order of first use, the same one each time the name comes back.
 *
 * @typeParam N The names of its parameters.
 * @param build Writes the SQL text, calling `p` for each parameter.
 * @returns The text and its parameter layout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { namedStatement } from "./sql_params.ts";
 *
 * const get = namedStatement<"id">((p) => `SELECT * FROM t WHERE id = ${p("id")} OR parent = ${p("id")}`);
 * assert.equal(get.text, "SELECT * FROM t WHERE id = $1 OR parent = $1");
 * assert.deepEqual(get.params({ id: "order::1" }), ["order::1"]);
 * ```
 */
export function namedStatement<N extends string>(
  build: (p: (name: N) => string) => string,
): NamedStatement<N> {
  const names: N[] = [];
  const text = build((name) => {
    const index = names.indexOf(name);
    return `$${index === -1 ? names.push(name) : index + 1}`;
  });
  Object.freeze(names);
  return Object.freeze({
    text,
    names,
    params(values: { readonly [K in N]: unknown }): unknown[] {
      return names.map((name) => {
        const value = values[name];
        if (value === undefined) {
          throw new HephError(`Missing statement parameter: ${name} has no value`);
        }
        return value;
      });
    },
  });
}

/**
 * Joins conditions on table alias `w` into a WHERE clause.
 *
 * @param conditions SQL conditions, all of which must hold.
 * @returns `WHERE a AND b`, or "" when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { whereClause } from "./sql_params.ts";
 *
 * const where = whereClause(["w.status = $1", "w.workflow = $2"]);
 * assert.equal(where, "WHERE w.status = $1 AND w.workflow = $2");
 * assert.equal(whereClause([]), "");
 * ```
 */
export function whereClause(conditions: readonly string[]): string {
  return conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
}
