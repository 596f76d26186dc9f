/**
 * fast-check arbitraries for instances holding every kind of value the serializer promises to
 * round-trip.
 *
 * @module
 */
import fc from "npm:fast-check@^3.23.0";
import { INSTANCE_STATUSES, type WorkflowInstance } from "../../mod.ts";

/** One UTF-16 code unit, biased towards those PostgreSQL refuses or JSON escapes. */
const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom("\u0000", "\uD800", "\uDBFF", "\uDC00", "\\", '"', "~", "u", "0"),
);

/** Any string, lone surrogates and NUL included. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: codeUnit, maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("__proto__", "constructor", "prototype", "$types", "\\u0000", "toString"),
);

/** Any number, with the ones JSON cannot hold made frequent. */
const anyNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2),
);

/** An object with arbitrary own keys, `__proto__` included, built without touching prototypes. */
function objectOf(value: fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc.array(fc.tuple(anyString, value), { maxLength: 5 }).map((entries) => {
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      Object.defineProperty(out, key, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  });
}

/** Any value the serializer must store faithfully. */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    anyNumber,
    fc.bigInt(),
    anyString,
    fc.date(),
    fc.constant(new Date(NaN)),
    fc.uint8Array({ maxLength: 8 }),
  ),
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("leaf"),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.sparseArray(tie("value"), { maxLength: 6, noTrailingHole: false }),
    objectOf(tie("value")),
    fc.array(fc.tuple(tie("value"), tie("value")), { maxLength: 3 }).map((e) => new Map(e)),
    fc.array(tie("value"), { maxLength: 3 }).map((e) => new Set(e)),
  ),
})).value;

/** A record of arbitrary values (what context.initial, step configs and metadata hold). */
export const anyRecord: fc.Arbitrary<Record<string, unknown>> = objectOf(anyValue);

/** A whole instance with random content in every field. */
export const anyInstance: fc.Arbitrary<WorkflowInstance> = fc.record({
  id: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes("\u0000")),
  workflow: fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !s.includes("\u0000")),
  workflowVersion: fc.integer({ min: 1, max: 2147483647 }),
  currentStep: fc.option(anyString, { nil: null }),
  status: fc.constantFrom(...INSTANCE_STATUSES),
  context: fc.record({ initial: anyRecord, steps: anyRecord }),
  stepConfigs: anyRecord,
  activeSteps: fc.array(anyString, { maxLength: 4 }).map((s) => new Set(s)),
  completedSteps: fc.array(anyString, { maxLength: 4 }).map((s) => new Set(s)),
  runtimeMetadata: anyRecord,
  telemetryMetadata: anyRecord,
  executionHistory: fc.array(
    fc.record({
      stepRef: anyString,
      event: anyString,
      timestamp: fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15) }),
      contextUpdates: fc.option(anyRecord, { nil: null }),
    }),
    { maxLength: 3 },
  ),
});

/** A Date carrying own methods that would lie about it, enumerable or hidden. */
const oddDate: fc.Arbitrary<Date> = fc.tuple(
  fc.date(),
  fc.subarray(["toISOString", "valueOf", "toJSON", "getTime", Symbol.toPrimitive, "x"]),
  fc.boolean(),
  fc.constantFrom<unknown>("\u0000", "junk", NaN, 5, null, undefined, {}, "2020-01-01T00:00:00Z"),
).map(([date, keys, enumerable, result]) => {
  for (const key of keys) {
    Object.defineProperty(date, key, { value: () => result, enumerable, configurable: true });
  }
  return date;
});

/** Containers holding what JSON would drop: extra keys, subclasses, other prototypes. */
const oddContainer: fc.Arbitrary<unknown> = fc.tuple(
  fc.constantFrom(
    () => [1, 2],
    () => new Map([[1, 2]]),
    () => new Set([1]),
    () => new Uint8Array(2),
    () => new (class Sub extends Array {})(),
    () => Object.create(Array.prototype),
    () => Object.create(Date.prototype),
    () => Object.create(null),
  ),
  fc.option(fc.constantFrom<PropertyKey>("extra", "1", "length2", Symbol("s")), { nil: undefined }),
  fc.boolean(),
).map(([make, key, enumerable]) => {
  const value = make();
  if (key !== undefined) {
    try {
      Object.defineProperty(value, key, { value: 1, enumerable, configurable: true });
    } catch { /* a typed array refuses some keys */ }
  }
  return value;
});

/** Values the serializer must either refuse or store so that they decode. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    anyValue,
    oddDate,
    oddContainer,
    fc.array(tie("value"), { maxLength: 3 }),
    fc.sparseArray(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 3 }), tie("value"), { maxKeys: 3 }),
  ),
})).value;
