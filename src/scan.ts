/**
 * `scan` in terms of `page`, shared by every store.
 *
 * @module
 */

import type { StoredInstance } from "./instance.ts";
import type { InstanceFilter, Page, PageOptions } from "./storage.ts";

/**
 * Walks every page of a filter lazily: one page is in memory at a time.
 *
 * @param page The store's `page` method.
 * @param filter Which instances.
 * @param batchSize The page size.
 * @returns The instances, in insertion order.
 */
export async function* scanPages<I extends object>(
  page: (filter: InstanceFilter, options: PageOptions) => Promise<Page<I>>,
  filter: InstanceFilter,
  batchSize: number | undefined,
): AsyncGenerator<StoredInstance<I>, void, undefined> {
  let cursor: string | null = null;
  do {
    const next: Page<I> = await page(filter, { limit: batchSize ?? 100, cursor });
    yield* next.items;
    cursor = next.nextCursor;
  } while (cursor !== null);
}
