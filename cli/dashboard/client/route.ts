/// <reference lib="dom" />
/**
 * Where the page is (`#/`, `#/stuck?idle=15m`, `#/instance/<id>`), and what the live refresh
 * compares between two reads.
 *
 * @example
 * ```ts ignore
 * import { currentRoute } from "./route.ts";
 *
 * currentRoute().view; // "list", "stuck" or "instance"
 * ```
 *
 * @module
 */

import type { ListAnswer } from "../api.ts";

/** A view of the page and its parameters. */
export interface Route {
  /** Which view. */
  view: "list" | "stuck" | "instance";
  /** The instance's id, still URI-encoded (view `instance`). */
  id?: string;
  /** The parameters after `?`. */
  params: URLSearchParams;
}

/** The view the address names. */
export function currentRoute(): Route {
  const hash = location.hash.slice(1) || "/";
  const q = hash.indexOf("?");
  const path = q === -1 ? hash : hash.slice(0, q);
  const params = new URLSearchParams(q === -1 ? "" : hash.slice(q + 1));
  if (path.startsWith("/instance/")) return { view: "instance", id: path.slice(10), params };
  if (path === "/stuck") return { view: "stuck", params };
  return { view: "list", params };
}

/** Goes to `hash`; when the page is there already, renders it again. */
export function go(hash: string): void {
  if (location.hash === hash) globalThis.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = hash;
}

/** What was shown by the last read: the summary's counts and the rows of the view. */
export const seen: { summaryKey: string | null; viewKey: string | null } = {
  summaryKey: null,
  viewKey: null,
};

/** What of a page the live refresh compares: its rows, their revisions, leases, the total. */
export function rowsKey(page: ListAnswer): string {
  return JSON.stringify([
    page.total,
    page.nextCursor,
    page.items.map((i) => [i.id, i.status, i.revision, i.updatedAt, i.lease && i.lease.owner]),
    (page.corrupt || []).map((c) => c.id),
  ]);
}
