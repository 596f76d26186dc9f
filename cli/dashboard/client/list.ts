/// <reference lib="dom" />
/**
 * The instance list: the filter form (kept in the address, so a filtered list is a link),
 * the table, and paging forwards and back by keyset cursors.
 *
 * @example
 * ```ts ignore
 * import { renderList } from "./list.ts";
 *
 * await renderList(new URLSearchParams("status=failed"));
 * ```
 *
 * @module
 */

import type { ListAnswer } from "../api.ts";
import { LIST_PARAMS } from "../list_params.ts";
import { $, api } from "./dom.ts";
import { go } from "./route.ts";
import { showPage } from "./table.ts";

/** The list's filter, its cursors (one per page shown) and the address to come back to. */
export const list: {
  filter: Record<string, string>;
  cursors: (string | null)[];
  next: string | null;
  seq: number;
  hash: string;
} = { filter: {}, cursors: [null], next: null, seq: 0, hash: "#/" };

// The form's value of a filter ("status" is a set of checkboxes, comma-joined).
function fieldValue(form: HTMLFormElement, name: string): string {
  if (name === "status") {
    return Array.from(form.querySelectorAll<HTMLInputElement>("input[name=status]"))
      .filter((box) => box.checked).map((box) => box.value).join(",");
  }
  return (form.elements.namedItem(name) as HTMLInputElement).value.trim();
}
function setField(form: HTMLFormElement, name: string, value: string): void {
  if (name === "status") {
    const chosen = value.split(",");
    for (const box of form.querySelectorAll<HTMLInputElement>("input[name=status]")) {
      box.checked = chosen.includes(box.value);
    }
  } else (form.elements.namedItem(name) as HTMLInputElement).value = value;
}

/** Shows the first page of the list the address's parameters select. */
export async function renderList(params: URLSearchParams): Promise<void> {
  const form = $<HTMLFormElement>("filters");
  list.filter = {};
  for (const name of LIST_PARAMS) {
    const value = params.get(name) || (name === "limit" ? "25" : "");
    list.filter[name] = value;
    setField(form, name, value);
  }
  list.cursors = [null];
  list.hash = location.hash || "#/";
  await loadListPage();
}

/** Reads the page at the last cursor and shows it (a later call wins over an earlier one). */
export async function loadListPage(): Promise<void> {
  const seq = ++list.seq;
  const cursor = list.cursors[list.cursors.length - 1];
  const page = await api<ListAnswer>("api/instances", { cursor, ...list.filter });
  if (seq !== list.seq) return;
  showPage(
    "list",
    list,
    page,
    "No instances match these filters.",
    "Page " + list.cursors.length + " · " + page.total + " matching",
  );
}

/** Puts the form's filters in the address (the list follows). */
export function submitFilters(event: Event): void {
  event.preventDefault();
  const form = $<HTMLFormElement>("filters");
  const query = new URLSearchParams();
  for (const name of LIST_PARAMS) {
    const value = fieldValue(form, name);
    if (value !== "" && !(name === "limit" && value === "25")) query.set(name, value);
  }
  const qs = query.toString();
  go("#/" + (qs ? "?" + qs : ""));
}
