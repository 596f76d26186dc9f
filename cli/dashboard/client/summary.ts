/// <reference lib="dom" />
/**
 * The summary card: counts by status as bars (each opens the list of that status), and the
 * breakdown by workflow, version and status (each count opens the list it counts).
 *
 * @example
 * ```ts ignore
 * import { loadSummary } from "./summary.ts";
 *
 * await loadSummary();
 * ```
 *
 * @module
 */

import type { CountGroup } from "../../../mod.ts";
import type { SummaryAnswer } from "../api.ts";
import { $, api, duration, h, STATUSES } from "./dom.ts";
import { currentRoute, seen } from "./route.ts";

/** Reads /api/summary and shows it. */
export async function loadSummary(): Promise<void> {
  const summary = await api<SummaryAnswer>("api/summary");
  $("schema").textContent = "schema " + summary.schema;
  $("total").textContent = summary.total + " instance" + (summary.total === 1 ? "" : "s");
  $("updated").textContent = "as of " + new Date(summary.now).toLocaleTimeString();
  seen.summaryKey = JSON.stringify([summary.counts, summary.groups]);
  // A slow count (a large table) is reused for a while: say when it was made.
  $("counted").textContent = summary.cached || summary.tookMs > 200
    ? "counted at " + new Date(summary.countedAt).toLocaleTimeString() + " (counting takes " +
      duration(summary.tookMs) + ", so it is reused for a while)"
    : "";
  renderBreakdown(summary.groups);
  const max = Math.max(1, ...STATUSES.map((s) => summary.counts[s]));
  const active = currentRoute().params.get("status");
  $("bars").replaceChildren(...STATUSES.map((status) => {
    const n = summary.counts[status];
    const fill = h("span", { class: "fill s-" + status });
    fill.style.width = (n === 0 ? 0 : Math.max(0.5, (n / max) * 100)) + "%";
    return h(
      "a",
      {
        class: "bar" + (active === status ? " active" : ""),
        href: "#/?status=" + status,
        title: "Show the " + status + " instances",
        "data-status": status,
      },
      h("span", null, status),
      h("span", { class: "track" }, fill),
      h("span", { class: "count" }, String(n)),
    );
  }));
}

const BREAKDOWN_ROWS = 100;

interface BreakdownRow {
  workflow: string;
  version: number;
  counts: Partial<Record<string, number>>;
  total: number;
}

// A row per workflow version, a column per status: each count links to the list filtered by
// its workflow, version and status; the total by its workflow and version.
function renderBreakdown(groups: CountGroup[]): void {
  const rows = new Map<string, BreakdownRow>();
  for (const g of groups) {
    const key = JSON.stringify([g.workflow, g.workflowVersion]);
    let row = rows.get(key);
    if (row === undefined) {
      row = { workflow: g.workflow, version: g.workflowVersion, counts: {}, total: 0 };
      rows.set(key, row);
    }
    row.counts[g.status] = g.count;
    row.total += g.count;
  }
  const link = (params: Record<string, string>, text: string, title: string) =>
    h("a", { href: "#/?" + new URLSearchParams(params).toString(), title }, text);
  $("breakdown-head").replaceChildren(h(
    "tr",
    null,
    h("th", null, "Workflow"),
    h("th", { class: "num" }, "Version"),
    ...STATUSES.map((s) => h("th", { class: "num" }, s)),
    h("th", { class: "num" }, "Total"),
  ));
  const all = [...rows.values()];
  const body = all.slice(0, BREAKDOWN_ROWS).map((r) => {
    const base = { workflow: r.workflow, version: String(r.version) };
    const of = r.workflow + " version " + r.version;
    return h(
      "tr",
      null,
      h("td", null, r.workflow),
      h("td", { class: "num" }, String(r.version)),
      ...STATUSES.map((s) => {
        const count = r.counts[s];
        return h(
          "td",
          { class: "num" },
          count
            ? link({ ...base, status: s }, String(count), "Show the " + s + " instances of " + of)
            : h("span", { class: "muted" }, "0"),
        );
      }),
      h("td", { class: "num" }, link(base, String(r.total), "Show the instances of " + of)),
    );
  });
  const note = (text: string) => {
    const cell = h("td", { class: "muted" }, text);
    cell.colSpan = STATUSES.length + 3;
    body.push(h("tr", null, cell));
  };
  if (all.length > BREAKDOWN_ROWS) {
    note(
      "… and " + (all.length - BREAKDOWN_ROWS) +
        " more workflow versions: filter the list by workflow family",
    );
  }
  if (all.length === 0) note("No instances.");
  $("breakdown-body").replaceChildren(...body);
}
