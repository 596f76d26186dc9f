/// <reference lib="dom" />
/**
 * The stuck view: running or waiting instances not updated for a while (paged), and the
 * unfinished ones holding an expired lease (scanned a budget at a time).
 *
 * @example
 * ```ts ignore
 * import { renderStuck } from "./stuck.ts";
 *
 * await renderStuck(new URLSearchParams("idle=1h"));
 * ```
 *
 * @module
 */

import type { LeaseAnswer, ListAnswer } from "../api.ts";
import { $, api } from "./dom.ts";
import { fillTable, showPage } from "./table.ts";

/** How idle, the cursors of the stuck list, and how far the lease scan went. */
export const stuck: {
  idle: string;
  cursors: (string | null)[];
  next: string | null;
  leaseCursor: string | null;
  scanned: number;
  found: number;
} = { idle: "15m", cursors: [null], next: null, leaseCursor: null, scanned: 0, found: 0 };

/** Shows the stuck view for the address's `idle`. */
export async function renderStuck(params: URLSearchParams): Promise<void> {
  stuck.idle = params.get("idle") || "15m";
  ($<HTMLFormElement>("stuck-form").elements.namedItem("idle") as HTMLInputElement).value =
    stuck.idle;
  $("stuck-idle").textContent = stuck.idle;
  stuck.cursors = [null];
  await Promise.all([loadStuckPage(), loadLeases(true)]);
}

/** Reads the stuck instances at the last cursor and shows them. */
export async function loadStuckPage(): Promise<void> {
  const page = await api<ListAnswer>("api/stuck", {
    idle: stuck.idle,
    cursor: stuck.cursors[stuck.cursors.length - 1],
  });
  showPage(
    "stuck",
    stuck,
    page,
    "Nothing running or waiting is that old.",
    "Page " + stuck.cursors.length,
  );
  $("stuck-count").textContent = "(" + page.total + ")";
}

/** Scans for expired leases: from the start (`reset`), or further on. */
export async function loadLeases(reset: boolean): Promise<void> {
  if (reset) {
    stuck.leaseCursor = null;
    stuck.scanned = 0;
    stuck.found = 0;
  }
  const page = await api<LeaseAnswer>("api/expired-leases", { cursor: stuck.leaseCursor });
  stuck.leaseCursor = page.nextCursor;
  stuck.scanned += page.scanned;
  stuck.found += page.items.length;
  fillTable($("lease-body"), page.items, page.now, "No expired leases.", !reset, page.corrupt);
  $("lease-status").textContent = stuck.found + " found among " + stuck.scanned +
    " unfinished instances" + (page.nextCursor ? " scanned so far" : "");
  $("lease-more").hidden = !page.nextCursor;
}
