/**
 * Checking what callers pass to a store (filters, put options), once for every store.
 *
 * @module
 */

import { ValidationError } from "./errors.ts";
import type { InstanceStatus } from "./instance.ts";
import {
  describe,
  validateId,
  validateStatus,
  validateWorkflowName,
  validateWorkflowVersion,
} from "./serializer.ts";
import type { InstanceFilter } from "./storage.ts";
import { isPlainObject } from "./typed_json.ts";

const CHECKS: Record<keyof InstanceFilter, (value: unknown) => unknown> = {
  id: validateId,
  status: validateStatus,
  statusIn: (value) => {
    if (!Array.isArray(value)) {
      throw new ValidationError(
        `Invalid statusIn: expected a list of statuses, got ${describe(value)}`,
      );
    }
    return [...new Set(value.map(validateStatus))];
  },
  workflow: validateWorkflowName,
  workflowVersion: validateWorkflowVersion,
  workflowFamily: (value) => validateWorkflowName(value, "workflowFamily"),
};

/**
 * Checks a filter and returns a frozen copy without `undefined` keys.
 *
 * @param filter The filter as given (untrusted).
 * @returns The checked filter.
 * @throws {ValidationError} On an unknown key or an invalid value.
 *
 * @example
 * ```ts
 * import { validateFilter } from "@heph/pg";
 *
 * validateFilter({ status: "running", workflow: undefined }); // { status: "running" }
 * ```
 */
export function validateFilter(filter: unknown): Readonly<InstanceFilter> {
  if (!isPlainObject(filter)) {
    throw new ValidationError(`Invalid filter: expected an object, got ${describe(filter)}`);
  }
  const checked: Record<string, unknown> = {};
  for (const key of Object.keys(filter)) {
    if (!Object.hasOwn(CHECKS, key)) {
      throw new ValidationError(
        `Invalid filter: unknown key ${JSON.stringify(key)}, expected one of ${
          Object.keys(CHECKS).join(", ")
        }`,
      );
    }
    const value = filter[key];
    if (value !== undefined) checked[key] = CHECKS[key as keyof InstanceFilter](value);
  }
  return Object.freeze(checked as InstanceFilter);
}

/**
 * Whether the fields of an instance satisfy a checked filter (used by {@linkcode MemoryStorage}).
 *
 * @param instance The instance's id, workflow, version and status.
 * @param filter A filter returned by {@linkcode validateFilter}.
 * @returns True when every key holds.
 *
 * @example
 * ```ts
 * import { matchesFilter } from "@heph/pg";
 *
 * matchesFilter({ id: "a", workflow: "Shop.Order", workflowVersion: 1, status: "running" }, {
 *   workflowFamily: "Shop.",
 * }); // true
 * ```
 */
export function matchesFilter(
  instance: { id: string; workflow: string; workflowVersion: number; status: InstanceStatus },
  filter: Readonly<InstanceFilter>,
): boolean {
  return (filter.id === undefined || instance.id === filter.id) &&
    (filter.status === undefined || instance.status === filter.status) &&
    (filter.statusIn === undefined || filter.statusIn.includes(instance.status)) &&
    (filter.workflow === undefined || instance.workflow === filter.workflow) &&
    (filter.workflowVersion === undefined ||
      instance.workflowVersion === filter.workflowVersion) &&
    (filter.workflowFamily === undefined || instance.workflow.startsWith(filter.workflowFamily));
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
 * import { validateExpectedRevision } from "@heph/pg";
 *
 * validateExpectedRevision(0); // 0
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
