/**
 * A checked read: the bench indexes arrays and records whose entries it filled itself, and a
 * missing one is a bug in the bench, reported by name rather than as a `TypeError` later.
 *
 * @module
 */

/**
 * `value` when it is defined; otherwise throws an Error naming what was missing.
 *
 * @example
 * ```ts
 * import { defined } from "./defined.ts";
 * const samples = [3, 1, 2];
 * const first: number = defined(samples[0], "the first sample");
 * ```
 */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`Missing value: ${what}`);
  return value;
}
