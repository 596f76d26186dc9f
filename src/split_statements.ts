/**
 * Splitting a migration's SQL into its statements, the way PostgreSQL's lexer sees them.
 *
 * @module
 */

/**
 * Splits SQL into its statements, at semicolons outside quotes, dollar quotes and comments.
 * Each runs as an EXECUTE of its own: Citus forwards the text of a DDL statement on a
 * distributed table to its workers, and refuses a text holding several commands.
 *
 * @param sql One migration's SQL.
 * @returns Its statements, trimmed, without the semicolons between them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitStatements } from "./split_statements.ts";
 *
 * const statements = splitStatements("CREATE INDEX a ON t (x); DO $$ BEGIN PERFORM 1; END $$;");
 * assert.equal(statements.length, 2);
 * ```
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const skipTo = (end: string, from: number) => {
    const at = sql.indexOf(end, from);
    return at === -1 ? sql.length : at + end.length;
  };
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      // A doubled quote continues the string; E'…' strings also escape with a backslash.
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? "") &&
        !/[\w$]/.test(sql[i - 2] ?? "");
      for (i++; i < sql.length; i++) {
        if (escapes && sql[i] === "\\") i++;
        else if (sql[i] === c && sql[i + 1] === c) i++;
        else if (sql[i] === c) break;
      }
      i++;
    } else if (c === "-" && sql[i + 1] === "-") i = skipTo("\n", i);
    else if (c === "/" && sql[i + 1] === "*") i = skipTo("*/", i + 2);
    else if (c === "$" && !/[\w$]/.test(sql[i - 1] ?? "")) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))?.[0];
      i = tag ? skipTo(tag, i + tag.length) : i + 1;
    } else if (c === ";") {
      statements.push(sql.slice(start, i));
      start = ++i;
    } else i++;
  }
  statements.push(sql.slice(start));
  return statements.map((text) => text.trim()).filter((text) => text !== "");
}
