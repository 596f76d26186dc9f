/// <reference lib="dom" />
/**
 * The dashboard's browser script (served as `app.js`, bundled into cli/dashboard/client_bundle.ts
 * by `deno task build:dashboard`): routing between the list, the stuck view and one instance,
 * the live refresh, and the buttons. Every value from the server goes into the page as text
 * (`textContent`, `append(string)`), attribute values only through properties and
 * `setAttribute` of fixed names, and links only as `#/…` fragments built with
 * `encodeURIComponent`.
 *
 * @example
 * ```html
 * <script src="app.js" defer></script>
 * ```
 *
 * @module
 */

import { $, guarded, showError } from "./dom.ts";
import { renderInstance } from "./instance.ts";
import { list, loadListPage, renderList, submitFilters } from "./list.ts";
import { currentRoute, go, seen } from "./route.ts";
import { loadLeases, loadStuckPage, renderStuck, stuck } from "./stuck.ts";
import { loadSummary } from "./summary.ts";

// ---- live refresh ----------------------------------------------------------------------
// Every LIVE_MS, unless paused or the tab is hidden, the summary and the page of the list (or
// of the stuck view) shown are read again, at the same cursor; "changed" says when what they
// show last differed from the read before.
const LIVE_MS = 10000;
const live = { on: true, busy: false, changed: null as number | null, since: 0 };

function showChanged(): void {
  $("changed").textContent = live.changed === null
    ? "· no change seen since " + new Date(live.since).toLocaleTimeString()
    : "· last changed " + new Date(live.changed).toLocaleTimeString();
}
async function tick(): Promise<void> {
  if (!live.on || live.busy || document.hidden) return;
  const view = currentRoute().view;
  if (view === "instance") return guarded(loadSummary);
  live.busy = true;
  const before = [seen.summaryKey, seen.viewKey];
  try {
    await Promise.all([
      guarded(loadSummary),
      guarded(view === "list" ? loadListPage : loadStuckPage),
    ]);
    if (before[0] !== seen.summaryKey || before[1] !== seen.viewKey) {
      live.changed = Date.now();
      showChanged();
    }
  } finally {
    live.busy = false;
  }
}
function toggleLive(): void {
  live.on = !live.on;
  const button = $("live");
  button.textContent = live.on ? "Pause live" : "Resume live";
  button.setAttribute("aria-pressed", String(live.on));
  document.body.setAttribute("data-live", live.on ? "on" : "paused");
  if (live.on) tick();
}

// ---- wiring ----------------------------------------------------------------------------
function setView(view: string): void {
  for (const name of ["list", "stuck", "instance"]) $("view-" + name).hidden = name !== view;
  $("tab-list").className = view === "list" ? "active" : "";
  $("tab-stuck").className = view === "stuck" ? "active" : "";
}

async function render(): Promise<void> {
  showError(null);
  const route = currentRoute();
  setView(route.view);
  document.body.setAttribute("data-view", route.view);
  document.body.removeAttribute("data-ready");
  await Promise.all([
    guarded(async () => {
      if (route.view === "list") await renderList(route.params);
      else if (route.view === "stuck") await renderStuck(route.params);
      else await renderInstance(route.id ?? "", list.hash);
    }),
    guarded(loadSummary),
  ]);
  document.body.setAttribute("data-ready", route.view);
}

function paged(work: () => Promise<unknown>): () => void {
  return () => {
    document.body.removeAttribute("data-ready");
    guarded(work).then(() => document.body.setAttribute("data-ready", currentRoute().view));
  };
}

/** Moves a view's cursors one page forwards or back, then reads that page. */
function pager(
  state: { cursors: (string | null)[]; next: string | null },
  load: () => Promise<void>,
  forwards: boolean,
): () => void {
  return paged(() => {
    if (forwards) state.cursors.push(state.next);
    else if (state.cursors.length > 1) state.cursors.pop();
    return load();
  });
}

$("filters").addEventListener("submit", submitFilters);
$("clear").addEventListener("click", () => go("#/"));
$("list-next").addEventListener("click", pager(list, loadListPage, true));
$("list-prev").addEventListener("click", pager(list, loadListPage, false));
$("stuck-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const idle = $<HTMLFormElement>("stuck-form").elements.namedItem("idle") as HTMLInputElement;
  go("#/stuck?idle=" + encodeURIComponent(idle.value.trim() || "15m"));
});
$("stuck-next").addEventListener("click", pager(stuck, loadStuckPage, true));
$("stuck-prev").addEventListener("click", pager(stuck, loadStuckPage, false));
$("lease-more").addEventListener("click", paged(() => loadLeases(false)));
$("refresh").addEventListener("click", () => render());
globalThis.addEventListener("hashchange", render);
$("live").addEventListener("click", toggleLive);
$("copy-id").addEventListener("click", async () => {
  const id = $("inst-id").textContent ?? "";
  try {
    await navigator.clipboard.writeText(id);
    $("copy-done").textContent = "copied";
  } catch (_) {
    // No clipboard (an insecure origin): select the id for Ctrl+C instead.
    const range = document.createRange();
    range.selectNodeContents($("inst-id"));
    const selection = globalThis.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    $("copy-done").textContent = "selected: press Ctrl+C";
  }
});
document.body.setAttribute("data-live", "on");
setInterval(tick, LIVE_MS);
live.since = Date.now();
render().then(showChanged);
