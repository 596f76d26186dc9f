/**
 * `scan` in terms of `page`, shared by every store.
 *
 * @module
 */

import type { StoredInstance } from "./instance.ts";
import type { InstanceFilter, Page, PageOptions, ScanOptions } from "./storage.ts";

/**
 * Walks every page of a filter lazily: one page is in memory at a time.
 *
 * @param page The store's `page` method.
 * @param filter Which instances.
 * @param options `batchSize`, the page size (100 by default), and `fromPrimary`, passed on.
 * @returns The instances, in insertion order.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../mod.ts";
 * import { scanPages } from "./scan.ts";
 *
 * const storage = new MemoryStorage();
 * for await (const instance of scanPages((f, o) => storage.page(f, o), {}, { batchSize: 50 })) {
 *   console.log(instance.id);
 * }
 * ```
 */
export async function* scanPages<I extends object>(
  page: (filter: InstanceFilter, options: PageOptions) => Promise<Page<I>>,
  filter: InstanceFilter,
  options: ScanOptions | undefined,
): AsyncGenerator<StoredInstance<I>, void, undefined> {
  const read = options?.fromPrimary === undefined ? {} : { fromPrimary: options.fromPrimary };
  let cursor: string | null = null;
  do {
    const next: Page<I> = await page(filter, { limit: options?.batchSize ?? 100, cursor, ...read });
    yield* next.items;
    cursor = next.nextCursor;
  } while (cursor !== null);
}
