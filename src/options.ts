/**
 * Checking what callers pass to a store (filters and options), once for every store.
 *
 * @module
 */

import { ValidationError } from "./errors.ts";
import { INSTANCE_STATUSES, type InstanceStatus } from "./instance.ts";
import { dateTimeValue, isPlainObject } from "./json_value.ts";
import type {
  ClaimOptions,
  InstanceFilter,
  LeaseOptions,
  PageOptions,
  PruneOptions,
  ReadOptions,
} from "./storage_options.ts";
import { parseJson } from "./parse_json.ts";
import { TypedJsonWriter } from "./typed_json.ts";
import {
  describe,
  validateId,
  validateOwner,
  validateStatus,
  validateWorkflowName,
  validateWorkflowVersion,
} from "./validation.ts";

/**
 * A filter that passed {@linkcode validateFilter}: frozen, without `undefined` keys, statuses
 * deduplicated, and `contextContains` encoded as it is stored (`contextDocument`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CheckedFilter, validateFilter } from "./options.ts";
 *
 * const filter: CheckedFilter = validateFilter({ contextContains: { initial: { at: new Date(0) } } });
 * assert.deepEqual(filter.contextDocument, { initial: { at: "1970-01-01T00:00:00.000Z" } });
 * ```
 */
export interface CheckedFilter extends Readonly<InstanceFilter> {
  /** `contextContains` in its stored JSON form. */
  readonly contextDocument?: unknown;
}

const statusList = (what: string) => (value: unknown): InstanceStatus[] => {
  if (!Array.isArray(value)) {
    throw new ValidationError(
      `Invalid ${what}: expected a list of statuses, got ${describe(value)}`,
    );
  }
  return [...new Set(Array.from(value, validateStatus))];
};

const moment = (what: string) => (value: unknown): Date => {
  const time = dateTimeValue(value);
  if (!(value instanceof Date) || Number.isNaN(time)) {
    throw new ValidationError(`Invalid ${what}: expected a valid Date, got ${describe(value)}`);
  }
  return new Date(time);
};

const CHECKS: Record<keyof InstanceFilter, (value: unknown) => unknown> = {
  id: validateId,
  idPrefix: (value) => validateWorkflowName(value, "idPrefix"),
  status: validateStatus,
  statusIn: statusList("statusIn"),
  workflow: validateWorkflowName,
  workflowVersion: validateWorkflowVersion,
  workflowFamily: (value) => validateWorkflowName(value, "workflowFamily"),
  contextContains: (value) => {
    if (!isPlainObject(value) || Object.keys(value).length === 0) {
      throw new ValidationError(
        `Invalid contextContains: expected an object with initial and/or steps, got ${
          describe(value)
        }`,
      );
    }
    for (const key of Object.keys(value)) {
      if ((key !== "initial" && key !== "steps") || !isPlainObject(value[key])) {
        throw new ValidationError(
          `Invalid contextContains: ${
            JSON.stringify(key)
          } must be "initial" or "steps" with an object`,
        );
      }
    }
    return value;
  },
  updatedBefore: moment("updatedBefore"),
  updatedAfter: moment("updatedAfter"),
  insertedBefore: moment("insertedBefore"),
  insertedAfter: moment("insertedAfter"),
};

/** The keys of {@linkcode InstanceFilter}. */
const FILTER_KEYS = Object.keys(CHECKS);

/**
 * Checks a filter and returns a frozen copy without `undefined` keys.
 *
 * @param filter The filter as given (untrusted).
 * @param extra Other keys the caller accepts alongside the filter (such as claim's `owner`).
 * @returns The checked filter.
 * @throws {ValidationError} On an unknown key or an invalid value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateFilter } from "./options.ts";
 *
 * const filter = validateFilter({ status: "running", workflow: undefined });
 * assert.deepEqual(filter, { status: "running" });
 * ```
 */
export function validateFilter(filter: unknown, extra: readonly string[] = []): CheckedFilter {
  if (!isPlainObject(filter)) {
    throw new ValidationError(`Invalid filter: expected an object, got ${describe(filter)}`);
  }
  const checked: Record<string, unknown> = {};
  for (const key of Object.keys(filter)) {
    if (extra.includes(key)) continue;
    if (!Object.hasOwn(CHECKS, key)) {
      throw new ValidationError(
        `Invalid filter: unknown key ${JSON.stringify(key)}, expected one of ${
          [...FILTER_KEYS, ...extra].join(", ")
        }`,
      );
    }
    const value = filter[key];
    if (value !== undefined) checked[key] = CHECKS[key as keyof InstanceFilter](value);
  }
  if (checked.contextContains !== undefined) {
    checked.contextDocument = encodeContainment(checked.contextContains);
  }
  return Object.freeze(checked as CheckedFilter);
}

function encodeContainment(value: unknown): unknown {
  try {
    return parseJson(JSON.stringify(new TypedJsonWriter().encode(value, ["contextContains"])));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ValidationError(`Invalid contextContains: ${detail}`, { cause: error });
  }
}

/**
 * Checks a put's `expectedRevision`: absent, or a non-negative integer.
 *
 * @param value The option as given.
 * @returns The revision, or undefined when absent.
 * @throws {ValidationError} When it is not a non-negative integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateExpectedRevision } from "./options.ts";
 *
 * assert.equal(validateExpectedRevision(0), 0);
 * assert.equal(validateExpectedRevision(undefined), undefined);
 * ```
 */
export function validateExpectedRevision(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(
      `Invalid expectedRevision: expected a non-negative integer, got ${describe(value)}`,
    );
  }
  return value;
}

const MAX_LEASE_MS = 86_400_000;

function integerIn(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(
      `Invalid ${what}: expected an integer from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

function optionsObject(
  what: string,
  value: unknown,
  keys?: readonly string[],
): Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw new ValidationError(
      `Invalid ${what} options: expected an object, got ${describe(value)}`,
    );
  }
  for (const key of keys ? Object.keys(value) : []) {
    if (!keys!.includes(key)) {
      throw new ValidationError(
        `Invalid ${what} options: unknown key ${JSON.stringify(key)}, expected ${keys!.join(", ")}`,
      );
    }
  }
  return value;
}

/**
 * Checks the options of `put`: an object with at most `expectedRevision` and `owner` (a typo
 * must never drop a concurrency check).
 *
 * @param options As given (undefined for none).
 * @returns The expected revision and owner, each undefined when absent.
 * @throws {ValidationError} On an unknown key or an invalid value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validatePut } from "./options.ts";
 *
 * const put = validatePut({ expectedRevision: 3 });
 * assert.deepEqual(put, { expectedRevision: 3, owner: undefined });
 * ```
 */
export function validatePut(
  options: unknown,
): { expectedRevision: number | undefined; owner: string | undefined } {
  const given = options === undefined
    ? {}
    : optionsObject("put", options, ["expectedRevision", "owner"]);
  return {
    expectedRevision: validateExpectedRevision(given.expectedRevision),
    owner: given.owner === undefined ? undefined : validateOwner(given.owner),
  };
}

/**
 * Checks the options of `claim`.
 *
 * @param options As given.
 * @returns The owner, lease duration, limit, and the checked filter.
 * @throws {ValidationError} On a bad owner, duration, limit or filter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateClaim } from "./options.ts";
 *
 * assert.equal(validateClaim({ owner: "worker-1", leaseMs: 30_000, status: "waiting" }).limit, 1);
 * ```
 */
export function validateClaim(
  options: ClaimOptions,
): { owner: string; leaseMs: number; limit: number; filter: CheckedFilter } {
  const given = optionsObject("claim", options);
  return {
    owner: validateOwner(given.owner),
    leaseMs: integerIn("leaseMs", given.leaseMs, 1, MAX_LEASE_MS),
    limit: given.limit === undefined ? 1 : integerIn("limit", given.limit, 1, 1000),
    filter: validateFilter(given, ["owner", "leaseMs", "limit"]),
  };
}

/**
 * Checks the options of `renewLease` (with `leaseMs`) or `releaseLease` (without).
 *
 * @param options As given.
 * @param withDuration Whether `leaseMs` is required.
 * @returns The owner and the duration (0 when not required).
 * @throws {ValidationError} On a bad owner or duration.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateLease } from "./options.ts";
 *
 * assert.deepEqual(validateLease({ owner: "worker-1" }, false), { owner: "worker-1", leaseMs: 0 });
 * ```
 */
export function validateLease(
  options: LeaseOptions | { owner: string },
  withDuration: boolean,
): { owner: string; leaseMs: number } {
  const given = optionsObject("lease", options, withDuration ? ["owner", "leaseMs"] : ["owner"]);
  return {
    owner: validateOwner(given.owner),
    leaseMs: withDuration ? integerIn("leaseMs", given.leaseMs, 1, MAX_LEASE_MS) : 0,
  };
}

/**
 * Checks the options of `page` (or `scan`'s batch size, with `cursor` absent).
 *
 * @param options As given.
 * @returns The limit and the cursor, or null.
 * @throws {ValidationError} On a bad limit or a cursor that is not a string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validatePage } from "./options.ts";
 *
 * assert.ok(validatePage({ limit: 10, order: "desc" }).descending);
 * ```
 */
export function validatePage(
  options: PageOptions,
): {
  limit: number;
  cursor: string | null;
  skipCorrupt: boolean;
  fromPrimary: boolean;
  descending: boolean;
} {
  const given = optionsObject("page", options, [
    "limit",
    "cursor",
    "skipCorrupt",
    "fromPrimary",
    "order",
  ]);
  const order = given.order ?? "asc";
  if (order !== "asc" && order !== "desc") {
    throw new ValidationError(`Invalid order: expected "asc" or "desc", got ${describe(order)}`);
  }
  const cursor = given.cursor ?? null;
  if (cursor !== null && typeof cursor !== "string") {
    throw new ValidationError(`Invalid cursor: expected a string or null, got ${describe(cursor)}`);
  }
  const skipCorrupt = given.skipCorrupt ?? false;
  if (typeof skipCorrupt !== "boolean") {
    throw new ValidationError(
      `Invalid skipCorrupt: expected a boolean, got ${describe(skipCorrupt)}`,
    );
  }
  return {
    limit: integerIn("limit", given.limit, 1, 1000),
    cursor,
    skipCorrupt,
    fromPrimary: fromPrimary(given.fromPrimary),
    descending: order === "desc",
  };
}

/**
 * Checks the options of `get`, `query` and `count`: at most `fromPrimary`, a boolean.
 *
 * @param options As given (undefined for none).
 * @returns Whether to read from the primary.
 * @throws {ValidationError} On an unknown key or a `fromPrimary` that is not a boolean.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateRead } from "./options.ts";
 *
 * assert.deepEqual(validateRead({ fromPrimary: true }), { fromPrimary: true });
 * ```
 */
export function validateRead(options: ReadOptions | undefined): { fromPrimary: boolean } {
  if (options === undefined) return { fromPrimary: false };
  const given = optionsObject("read", options, ["fromPrimary"]);
  return { fromPrimary: fromPrimary(given.fromPrimary) };
}

function fromPrimary(value: unknown): boolean {
  if (value === undefined || typeof value === "boolean") return value === true;
  throw new ValidationError(`Invalid fromPrimary: expected a boolean, got ${describe(value)}`);
}

/**
 * Checks the options of `prune`.
 *
 * @param options As given.
 * @returns The statuses, the moment and the limit.
 * @throws {ValidationError} On bad statuses, a missing or invalid `olderThan`, or a bad limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validatePrune } from "./options.ts";
 *
 * assert.deepEqual(validatePrune({ olderThan: new Date(0) }).statusIn, ["completed", "failed"]);
 * ```
 */
export function validatePrune(
  options: PruneOptions,
): { statusIn: InstanceStatus[]; olderThan: Date; limit: number } {
  const given = optionsObject("prune", options);
  for (const key of Object.keys(given)) {
    if (!["statusIn", "olderThan", "limit"].includes(key)) {
      throw new ValidationError(`Invalid prune options: unknown key ${JSON.stringify(key)}`);
    }
  }
  return {
    statusIn: given.statusIn === undefined
      ? [INSTANCE_STATUSES[3], INSTANCE_STATUSES[4]]
      : statusList("statusIn")(given.statusIn),
    olderThan: moment("olderThan")(given.olderThan),
    limit: given.limit === undefined ? 1000 : integerIn("limit", given.limit, 1, 10_000),
  };
}
