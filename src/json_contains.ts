/**
 * PostgreSQL's jsonb containment (`@>`) in JavaScript, for {@linkcode MemoryStorage}.
 *
 * @module
 */

/**
 * Whether the JSON value `outer` contains `inner` as jsonb's `@>` decides: objects contain the
 * keys given with containing values, arrays contain each element given somewhere (order and
 * repetition do not matter), other values are equal.
 *
 * @param outer A parsed JSON value (what is stored).
 * @param inner A parsed JSON value (what is looked for).
 * @returns True when `outer @> inner` would hold.
 */
export function jsonContains(outer: unknown, inner: unknown): boolean {
  if (Array.isArray(inner)) {
    return Array.isArray(outer) && inner.every((item) => outer.some((o) => jsonContains(o, item)));
  }
  if (typeof inner === "object" && inner !== null) {
    if (typeof outer !== "object" || outer === null || Array.isArray(outer)) return false;
    const record = outer as Record<string, unknown>;
    return Object.entries(inner).every(([key, value]) =>
      Object.hasOwn(record, key) && jsonContains(record[key], value)
    );
  }
  return outer === inner;
}
