/// <reference lib="dom" />
/**
 * The tables of instances (the list, the stuck ones, the expired leases): one row per instance,
 * rows that could not be read flagged with their reason.
 *
 * @example
 * ```ts ignore
 * import { fillTable } from "./table.ts";
 *
 * fillTable($("list-body"), page.items, page.now, "No instances.", false, page.corrupt);
 * ```
 *
 * @module
 */

import type { CorruptRow, InstanceSummary, LeaseView } from "../../instances.ts";
import type { ListAnswer } from "../api.ts";
import { $, age, dash, duration, h, instanceHref, statusBadge } from "./dom.ts";
import { rowsKey, seen } from "./route.ts";

function leaseCell(lease: LeaseView | null, now: string): HTMLElement {
  if (!lease) return dash();
  return h(
    "span",
    { title: "until " + lease.expiresAt },
    lease.owner,
    " ",
    lease.expired ? h("span", { class: "expired" }, "expired " + age(lease.expiresAt, now)) : h(
      "span",
      { class: "muted" },
      "for " + duration(Date.parse(lease.expiresAt) - Date.parse(now)),
    ),
  );
}

function row(item: InstanceSummary, now: string): HTMLTableRowElement {
  return h(
    "tr",
    { "data-id": item.id },
    h("td", { class: "mono" }, h("a", { href: instanceHref(item.id) }, item.id)),
    h("td", null, item.workflow, h("span", { class: "muted" }, "@" + item.workflowVersion)),
    h("td", null, statusBadge(item.status)),
    h("td", null, item.currentStep === null ? dash() : item.currentStep),
    h("td", { class: "num" }, String(item.revision)),
    h("td", { title: item.updatedAt }, age(item.updatedAt, now)),
    h("td", null, leaseCell(item.lease, now)),
  );
}

function corruptRow(item: CorruptRow): HTMLTableRowElement {
  const reason = h("td", { class: "corrupt" }, "cannot be read: " + item.reason);
  reason.colSpan = 6;
  return h(
    "tr",
    { "data-id": item.id, class: "corrupt-row" },
    h("td", { class: "mono" }, h("a", { href: instanceHref(item.id) }, item.id)),
    reason,
  );
}

/**
 * Puts rows in a table's body: the unreadable ones first, then the instances, or a line saying
 * `empty` when there is none.
 *
 * @param body The `<tbody>`.
 * @param items The instances.
 * @param now The server's time, for ages.
 * @param empty What to say when the table is empty.
 * @param append Keep the rows already there (scanning further).
 * @param corrupt The rows that could not be read.
 */
export function fillTable(
  body: HTMLElement,
  items: InstanceSummary[],
  now: string,
  empty: string,
  append: boolean,
  corrupt: CorruptRow[] | undefined,
): void {
  if (!append) body.replaceChildren();
  const placeholder = body.querySelector("tr.empty");
  if (placeholder) placeholder.remove();
  for (const item of corrupt || []) body.append(corruptRow(item));
  for (const item of items) body.append(row(item, now));
  if (body.children.length === 0) {
    const cell = h("td", null, empty);
    cell.colSpan = 7;
    body.append(h("tr", { class: "empty" }, cell));
  }
}

/**
 * Shows a page of a paged view (`list` or `stuck`): its rows, its page number, and Previous /
 * Next enabled where there is a page to go to. The live refresh compares what it showed.
 *
 * @param view The prefix of the view's element ids.
 * @param state The view's cursors (one per page shown) and the next page's cursor.
 * @param page The page read.
 * @param empty What to say when nothing matches.
 * @param pageText The text of the page number, such as `Page 2`.
 */
export function showPage(
  view: "list" | "stuck",
  state: { cursors: (string | null)[]; next: string | null },
  page: ListAnswer,
  empty: string,
  pageText: string,
): void {
  seen.viewKey = rowsKey(page);
  state.next = page.nextCursor;
  fillTable($(view + "-body"), page.items, page.now, empty, false, page.corrupt);
  $(view + "-page").textContent = pageText;
  $<HTMLButtonElement>(view + "-prev").disabled = state.cursors.length === 1;
  $<HTMLButtonElement>(view + "-next").disabled = !page.nextCursor;
}
