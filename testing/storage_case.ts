/**
 * One behaviour of the Storage contract, the unit the conformance suite is made of.
 *
 * @module
 */
import type { Storage } from "../mod.ts";

/**
 * One behaviour of the contract: a name and a check that throws when a fresh, empty store
 * does not behave so.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@heph/pg";
 * import { STORAGE_CASES, type StorageCase } from "@heph/pg/testing";
 *
 * const first: StorageCase | undefined = STORAGE_CASES[0];
 * await first?.run(new MemoryStorage());
 * ```
 */
export interface StorageCase {
  /** What the store does, as a sentence. */
  name: string;
  /** Checks it on an empty store; throws an AssertionError when it does not hold. */
  run(storage: Storage): Promise<void>;
}
