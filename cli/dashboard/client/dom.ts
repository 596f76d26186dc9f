/// <reference lib="dom" />
/**
 * The dashboard script's building blocks: elements built with text only (never `innerHTML`),
 * JSON from the dashboard's API, the status badge, ages and the error banner.
 *
 * @example
 * ```ts ignore
 * import { $, h } from "./dom.ts";
 *
 * $("error").append(h("span", { class: "muted" }, "a stored <value> stays text"));
 * ```
 *
 * @module
 */

import { INSTANCE_STATUSES, type InstanceStatus } from "../../../src/instance.ts";
import { formatAge, formatDuration } from "../../duration.ts";

/** The statuses, in their display order. */
export const STATUSES: readonly InstanceStatus[] = INSTANCE_STATUSES;

/** The history events that have a colour of their own. */
export const EVENTS: readonly string[] = ["started", "completed", "failed"];

/** The element with this id (the page's skeleton has them all). */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`The page has no element #${id}`);
  return node as T;
}

/** A child of {@linkcode h}: a node, a string (always a text node) or nothing. */
export type Child = Node | string | null | undefined | false;

/** An element with text or element children; strings always become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string | null | undefined> | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "title") node.title = value;
    else if (key === "href") node.setAttribute("href", value);
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else throw new Error("unsupported property " + key);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Reads one of the dashboard's JSON endpoints; its `error` becomes the thrown message. */
export async function api<T>(
  path: string,
  params?: Record<string, string | null | undefined>,
): Promise<T> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const qs = query.toString();
  const response = await fetch(path + (qs ? "?" + qs : ""), {
    headers: { accept: "application/json" },
    credentials: "same-origin",
  });
  let body = null;
  try {
    body = await response.json();
  } catch (_) { /* not JSON */ }
  if (!response.ok) throw new Error((body && body.error) || "HTTP " + response.status);
  return body as T;
}

/** A duration for people (see cli/duration.ts). */
export const duration: (ms: number) => string = formatDuration;

/** How long before (or after) the server's `now` an ISO time is: `3m 05s ago`. */
export function age(iso: string, now: string): string {
  return formatAge(Date.parse(iso), Date.parse(now));
}

/** The link to an instance's view. */
export const instanceHref = (id: string): string => "#/instance/" + encodeURIComponent(id);

/** A status as a coloured badge. */
export const statusBadge = (status: string): HTMLSpanElement =>
  h("span", {
    class: "badge " + ((STATUSES as readonly string[]).includes(status) ? "s-" + status : "plain"),
  }, status);

/** The placeholder for "none". */
export const dash = (): HTMLSpanElement => h("span", { class: "muted" }, "–");

/** Shows an error in the banner, or hides it (null). */
export function showError(error: unknown): void {
  const box = $("error");
  box.textContent = error ? String((error as { message?: unknown }).message || error) : "";
  box.hidden = !error;
}

/** Runs `work`, showing what it throws in the banner. */
export async function guarded(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    showError(error);
  }
}
