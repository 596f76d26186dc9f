/**
 * A driver that passes every statement on to a real one and keeps its text, for tests that count
 * statements or check where they went.
 *
 * @module
 */
import type { SqlDriver } from "../../mod.ts";

/**
 * Wraps a driver; `sent` holds the text of each statement in order (a transaction's statements
 * each), never parameters.
 *
 * @param inner The real driver.
 * @returns The recording driver and what it has sent.
 */
export function recordingDriver(inner: SqlDriver): { driver: SqlDriver; sent: string[] } {
  const sent: string[] = [];
  const driver: SqlDriver = {
    query(text, params, options) {
      sent.push(text);
      return inner.query(text, params, options);
    },
    transaction(statements) {
      sent.push(...statements.map((s) => s.text));
      return inner.transaction(statements);
    },
  };
  return { driver, sent };
}
