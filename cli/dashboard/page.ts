/**
 * The dashboard's page: HTML, CSS, script and icon, served from memory by cli/dashboard/handler.ts
 * (nothing is read from disk). The HTML holds no data: the script fetches JSON and builds
 * every node with `textContent` / `createTextNode`, never `innerHTML`, so stored values render
 * as text whatever they contain. No inline script or style: the Content-Security-Policy allows
 * only these files.
 *
 * @module
 */

import { INSTANCE_STATUSES } from "../../mod.ts";

const statusChecks = INSTANCE_STATUSES.map((s) =>
  `<label class="check"><input type="checkbox" name="status" value="${s}">${s}</label>`
).join("");

/** The page: a skeleton the script fills in. */
export const PAGE_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@heph/pg dashboard</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<header class="top">
  <h1><span class="logo">heph</span>workflow instances</h1>
  <span id="schema" class="muted"></span>
  <span class="spacer"></span>
  <span id="updated" class="muted"></span>
  <span id="changed" class="muted" title="When the counts or the rows shown last differed from the previous refresh"></span>
  <button id="live" type="button" aria-pressed="true" title="The counts and the list refresh every 10 seconds">Pause live</button>
  <button id="refresh" type="button">Refresh</button>
</header>
<div id="error" class="error" role="alert" hidden></div>
<main>
  <section class="card" id="summary">
    <h2>By status <span id="total" class="muted"></span> <span id="counted" class="muted note"></span></h2>
    <div id="bars" class="bars"></div>
    <details id="breakdown-box" class="breakdown" open>
      <summary>By workflow, version and status</summary>
      <table class="breakdown">
        <thead id="breakdown-head"></thead>
        <tbody id="breakdown-body"></tbody>
      </table>
    </details>
  </section>

  <nav class="tabs">
    <a href="#/" id="tab-list">Instances</a>
    <a href="#/stuck" id="tab-stuck">Stuck</a>
  </nav>

  <section id="view-list" class="card tabbed" hidden>
    <form id="filters" class="filters">
      <label>ID
        <input name="id" placeholder="exact id" autocomplete="off" size="18">
      </label>
      <label>ID prefix
        <input name="idPrefix" placeholder="e.g. order-12" autocomplete="off" size="12">
      </label>
      <fieldset class="statuses"><legend>Status</legend>${statusChecks}</fieldset>
      <label>Workflow
        <input name="workflow" placeholder="exact name" autocomplete="off" size="16">
      </label>
      <label>Version
        <input name="version" placeholder="any" autocomplete="off" size="4" inputmode="numeric">
      </label>
      <label>Workflow family
        <input name="family" placeholder="name prefix, e.g. Shop." autocomplete="off">
      </label>
      <label>Updated since
        <select name="since">
          <option value="">any time</option>
          <option value="5m">5 minutes ago</option>
          <option value="15m">15 minutes ago</option>
          <option value="1h">1 hour ago</option>
          <option value="6h">6 hours ago</option>
          <option value="1d">1 day ago</option>
          <option value="7d">7 days ago</option>
        </select>
      </label>
      <label>Updated after
        <input name="updatedAfter" placeholder="2026-01-31T12:00Z" autocomplete="off" size="16">
      </label>
      <label>Updated before
        <input name="updatedBefore" placeholder="ISO time" autocomplete="off" size="16">
      </label>
      <label>Inserted after
        <input name="insertedAfter" placeholder="ISO time" autocomplete="off" size="16">
      </label>
      <label>Inserted before
        <input name="insertedBefore" placeholder="ISO time" autocomplete="off" size="16">
      </label>
      <label>Context contains
        <input name="context" placeholder='{"initial":{"order_id":123}}' autocomplete="off" size="26">
      </label>
      <label>Order
        <select name="order">
          <option value="">oldest first</option><option value="desc">newest first</option>
        </select>
      </label>
      <label>Per page
        <select name="limit">
          <option value="25">25</option><option value="50">50</option><option value="100">100</option>
        </select>
      </label>
      <button type="submit" class="primary">Apply</button>
      <button type="button" id="clear">Clear</button>
    </form>
    <table class="instances">
      <thead><tr><th>ID</th><th>Workflow</th><th>Status</th><th>Step</th><th class="num">Rev</th><th>Updated</th><th>Lease</th></tr></thead>
      <tbody id="list-body"></tbody>
    </table>
    <div class="pager">
      <span id="list-page" class="muted"></span>
      <button type="button" id="list-prev">← Previous</button>
      <button type="button" id="list-next">Next →</button>
    </div>
  </section>

  <section id="view-stuck" class="card tabbed" hidden>
    <form id="stuck-form" class="filters">
      <label>Running or waiting, not updated for
        <input name="idle" value="15m" size="8" autocomplete="off" placeholder="15m">
      </label>
      <button type="submit" class="primary">Show</button>
    </form>
    <h3>Not updated for <span id="stuck-idle"></span> <span id="stuck-count" class="muted"></span></h3>
    <table class="instances">
      <thead><tr><th>ID</th><th>Workflow</th><th>Status</th><th>Step</th><th class="num">Rev</th><th>Updated</th><th>Lease</th></tr></thead>
      <tbody id="stuck-body"></tbody>
    </table>
    <div class="pager">
      <span id="stuck-page" class="muted"></span>
      <button type="button" id="stuck-prev">← Previous</button>
      <button type="button" id="stuck-next">Next →</button>
    </div>
    <h3>Holding an expired lease</h3>
    <p class="muted note">Pending, running or waiting instances whose lease has lapsed: the worker that
      claimed them stopped renewing it (the next claim takes them over).</p>
    <table class="instances">
      <thead><tr><th>ID</th><th>Workflow</th><th>Status</th><th>Step</th><th class="num">Rev</th><th>Updated</th><th>Lease</th></tr></thead>
      <tbody id="lease-body"></tbody>
    </table>
    <div class="pager">
      <span id="lease-status" class="muted"></span>
      <button type="button" id="lease-more">Scan further</button>
    </div>
  </section>

  <section id="view-instance" class="card" hidden>
    <a href="#/" id="back" class="back">← Back</a>
    <h2 class="inst-title"><span id="inst-id" class="mono"></span>
      <button type="button" id="copy-id" title="Copy the id to the clipboard">Copy id</button>
      <span id="copy-done" class="muted"></span></h2>
    <div id="inst-badges" class="badges"></div>
    <div id="inst-failure" class="failure" hidden>
      <h3>Failed <span id="inst-failure-where" class="muted"></span></h3>
      <pre id="inst-failure-error"></pre>
      <h4>Last events</h4>
      <ol id="inst-last" class="last-events"></ol>
    </div>
    <dl id="inst-fields" class="fields"></dl>
    <h3>History <span id="inst-history-count" class="muted"></span></h3>
    <ol id="inst-timeline" class="timeline"></ol>
    <div class="grid2">
      <div><h3>Context: initial</h3><pre id="inst-initial"></pre></div>
      <div><h3>Context: steps</h3><pre id="inst-steps"></pre></div>
    </div>
    <h3>Step configs</h3>
    <pre id="inst-configs"></pre>
    <div class="grid2">
      <div><h3>Runtime metadata</h3><pre id="inst-runtime"></pre></div>
      <div><h3>Telemetry metadata</h3><pre id="inst-telemetry"></pre></div>
    </div>
  </section>
</main>
</body>
</html>
`;

/** The stylesheet. */
export const APP_CSS: string = `:root {
  --bg: #f5f6f8; --card: #fff; --ink: #1c2230; --muted: #687186; --line: #e2e5eb;
  --accent: #3451d1; --pending: #8d96a8; --running: #2f7de1; --waiting: #e59a0b;
  --completed: #179b4d; --failed: #d93636;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
}
header.top {
  display: flex; align-items: center; gap: 14px; padding: 10px 24px;
  background: #1c2230; color: #fff;
}
header.top h1 { font-size: 16px; margin: 0; font-weight: 600; }
header.top .muted { color: #a9b0c0; }
header.top button { background: #2b3346; color: #fff; border-color: #3c465e; }
.logo {
  background: #f06a1d; color: #fff; border-radius: 4px; padding: 1px 7px; margin-right: 8px;
  font-weight: 700; letter-spacing: .02em;
}
.spacer { flex: 1; }
main { max-width: 1240px; margin: 0 auto; padding: 18px 24px 48px; }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; margin-bottom: 18px;
}
.card.tabbed { border-top-left-radius: 0; }
h2 { font-size: 15px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 22px 0 8px; }
.muted { color: var(--muted); font-weight: normal; }
.note { margin: 0 0 8px; font-size: 13px; }
.error { background: #fdecec; color: #8a1c1c; border-bottom: 1px solid #f3c0c0; padding: 10px 24px; }
.bars { display: grid; gap: 6px; }
details.breakdown { margin-top: 14px; }
details.breakdown summary { cursor: pointer; color: var(--muted); font-size: 13px; }
table.breakdown { margin-top: 6px; }
.bar {
  display: grid; grid-template-columns: 96px 1fr 80px; align-items: center; gap: 12px;
  color: inherit; text-decoration: none; padding: 3px 6px; border-radius: 5px;
}
.bar:hover { background: #f0f2f6; }
.bar.active { background: #eaeefc; }
.track { background: #eef0f4; border-radius: 4px; height: 18px; overflow: hidden; }
.fill { display: block; height: 100%; border-radius: 4px; min-width: 0; }
.count { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.s-pending { background: var(--pending); } .s-running { background: var(--running); }
.s-waiting { background: var(--waiting); } .s-completed { background: var(--completed); }
.s-failed { background: var(--failed); }
.tabs { display: flex; gap: 4px; }
.tabs a {
  padding: 7px 18px; border: 1px solid var(--line); border-bottom: none; margin-bottom: -1px;
  border-radius: 8px 8px 0 0; background: #e9ecf1; color: var(--ink); text-decoration: none;
  position: relative;
}
.tabs a.active { background: var(--card); font-weight: 600; }
.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; margin-bottom: 12px; }
.filters fieldset.statuses { border: 0; padding: 0; margin: 0; display: flex; gap: 8px; font-size: 12px; color: var(--muted); }
.filters fieldset.statuses legend { padding: 0; margin-bottom: 4px; }
.filters label.check { flex-direction: row; align-items: center; gap: 3px; color: var(--ink); }
.filters label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
input, select, button {
  font: inherit; padding: 5px 9px; border: 1px solid #cdd2db; border-radius: 6px;
  background: #fff; color: var(--ink);
}
button { cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button:disabled { opacity: .45; cursor: default; }
table { width: 100%; border-collapse: collapse; table-layout: auto; }
th {
  text-align: left; font-size: 12px; color: var(--muted); font-weight: 600;
  border-bottom: 1px solid var(--line); padding: 6px 8px;
}
td { border-bottom: 1px solid #eff1f4; padding: 6px 8px; vertical-align: top; overflow-wrap: anywhere; }
tbody tr:hover td { background: #fafbfc; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty td { color: var(--muted); text-align: center; padding: 22px; }
a { color: var(--accent); }
.badge {
  display: inline-block; padding: 0 9px; border-radius: 999px; font-size: 12px; line-height: 20px;
  color: #fff; white-space: nowrap;
}
.badge.s-waiting { color: #2e2100; }
.badge.plain { background: #eef0f4; color: var(--ink); }
.failure { border: 1px solid #f3c0c0; background: #fdf3f3; border-radius: 8px; padding: 4px 14px 10px; margin: 10px 0; }
.failure pre { background: #fff; }
.last-events { margin: 0; padding-left: 18px; font-size: 13px; }
.inst-title { display: flex; align-items: center; gap: 10px; }
.inst-title button { font-size: 12px; }
.badges { display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 8px; }
.expired { color: var(--failed); font-weight: 600; }
.corrupt { color: var(--failed); }
.mono, pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
h2.mono { font-size: 16px; overflow-wrap: anywhere; }
pre {
  background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  margin: 0; max-height: 380px; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere;
}
.pager { display: flex; gap: 10px; align-items: center; justify-content: flex-end; margin-top: 12px; }
.pager .muted { margin-right: auto; }
.back { display: inline-block; margin-bottom: 10px; text-decoration: none; }
.fields { display: grid; grid-template-columns: 150px 1fr; gap: 6px 16px; margin: 14px 0; }
.fields dt { color: var(--muted); }
.fields dd { margin: 0; overflow-wrap: anywhere; }
.timeline { list-style: none; margin: 0 0 0 8px; padding: 0; border-left: 2px solid var(--line); }
.timeline li { position: relative; padding: 3px 0 12px 20px; }
.timeline li::before {
  content: ""; position: absolute; left: -8px; top: 7px; width: 14px; height: 14px;
  border-radius: 50%; background: #fff; border: 3px solid var(--accent);
}
.timeline li.ev-completed::before { border-color: var(--completed); }
.timeline li.ev-failed::before { border-color: var(--failed); }
.timeline li.ev-started::before { border-color: var(--running); }
.timeline .when { color: var(--muted); font-size: 12px; }
.timeline .delta { display: inline-block; min-width: 72px; margin-left: 10px; color: var(--ink); font-weight: 600; }
.timeline .what { font-weight: 600; }
.timeline details { margin-top: 4px; }
.timeline summary { cursor: pointer; color: var(--muted); font-size: 12px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 0 18px; }
@media (max-width: 800px) { .grid2 { grid-template-columns: 1fr; } }
`;

/** A small icon, so the browser does not ask for /favicon.ico. */
export const FAVICON_SVG: string =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#f06a1d"/><path d="M4 3h2v4h4V3h2v10h-2V9H6v4H4z" fill="#fff"/></svg>`;

/**
 * The script. Every value from the server goes into the page as text (`textContent`,
 * `append(string)`), attribute values only through properties and `setAttribute` of fixed
 * names, and links only as `#/…` fragments built with `encodeURIComponent`.
 */
export const APP_JS: string = String.raw`"use strict";
(() => {
  const STATUSES = ${JSON.stringify(INSTANCE_STATUSES)};
  const EVENTS = ["started", "completed", "failed"];
  const $ = (id) => document.getElementById(id);

  /** An element with text or element children; strings always become text nodes. */
  function h(tag, props, ...children) {
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

  async function api(path, params) {
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
    return body;
  }

  function duration(ms) {
    const abs = Math.abs(Math.round(ms));
    const pad = (n) => String(n).padStart(2, "0");
    if (abs < 1000) return abs + " ms";
    if (abs < 60000) return (Math.floor(abs / 100) / 10).toFixed(1) + " s";
    const s = Math.floor(abs / 1000);
    if (abs < 3600000) return Math.floor(s / 60) + "m " + pad(s % 60) + "s";
    const m = Math.floor(s / 60);
    if (abs < 86400000) return Math.floor(m / 60) + "h " + pad(m % 60) + "m";
    const hours = Math.floor(m / 60);
    return Math.floor(hours / 24) + "d " + pad(hours % 24) + "h";
  }
  function age(iso, now) {
    const delta = Date.parse(now) - Date.parse(iso);
    return delta >= 0 ? duration(delta) + " ago" : "in " + duration(delta);
  }
  const instanceHref = (id) => "#/instance/" + encodeURIComponent(id);
  const statusBadge = (status) =>
    h("span", { class: "badge " + (STATUSES.includes(status) ? "s-" + status : "plain") }, status);
  const dash = () => h("span", { class: "muted" }, "–");

  function leaseCell(lease, now) {
    if (!lease) return dash();
    return h("span", { title: "until " + lease.expiresAt }, lease.owner, " ",
      lease.expired
        ? h("span", { class: "expired" }, "expired " + age(lease.expiresAt, now))
        : h("span", { class: "muted" }, "for " + duration(Date.parse(lease.expiresAt) - Date.parse(now))));
  }

  function row(item, now) {
    return h("tr", { "data-id": item.id },
      h("td", { class: "mono" }, h("a", { href: instanceHref(item.id) }, item.id)),
      h("td", null, item.workflow, h("span", { class: "muted" }, "@" + item.workflowVersion)),
      h("td", null, statusBadge(item.status)),
      h("td", null, item.currentStep === null ? dash() : item.currentStep),
      h("td", { class: "num" }, String(item.revision)),
      h("td", { title: item.updatedAt }, age(item.updatedAt, now)),
      h("td", null, leaseCell(item.lease, now)));
  }

  function corruptRow(item) {
    const reason = h("td", { class: "corrupt" }, "cannot be read: " + item.reason);
    reason.colSpan = 6;
    return h("tr", { "data-id": item.id, class: "corrupt-row" },
      h("td", { class: "mono" }, h("a", { href: instanceHref(item.id) }, item.id)),
      reason);
  }

  function fillTable(body, items, now, empty, append, corrupt) {
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

  function showError(error) {
    const box = $("error");
    box.textContent = error ? String(error.message || error) : "";
    box.hidden = !error;
  }

  // ---- summary ---------------------------------------------------------------------------
  async function loadSummary() {
    const summary = await api("api/summary");
    $("schema").textContent = "schema " + summary.schema;
    $("total").textContent = summary.total + " instance" + (summary.total === 1 ? "" : "s");
    $("updated").textContent = "as of " + new Date(summary.now).toLocaleTimeString();
    live.summaryKey = JSON.stringify([summary.counts, summary.groups]);
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
      return h("a", {
        class: "bar" + (active === status ? " active" : ""),
        href: "#/?status=" + status,
        title: "Show the " + status + " instances",
        "data-status": status,
      }, h("span", null, status), h("span", { class: "track" }, fill),
        h("span", { class: "count" }, String(n)));
    }));
  }

  // A row per workflow version, a column per status: each count links to the list filtered by
  // its workflow, version and status; the total by its workflow and version.
  const BREAKDOWN_ROWS = 100;
  function renderBreakdown(groups) {
    const rows = new Map();
    for (const g of groups) {
      const key = JSON.stringify([g.workflow, g.workflowVersion]);
      if (!rows.has(key)) rows.set(key, { workflow: g.workflow, version: g.workflowVersion, counts: {}, total: 0 });
      const row = rows.get(key);
      row.counts[g.status] = g.count;
      row.total += g.count;
    }
    const link = (params, text, title) =>
      h("a", { href: "#/?" + new URLSearchParams(params).toString(), title }, text);
    $("breakdown-head").replaceChildren(h("tr", null, h("th", null, "Workflow"),
      h("th", { class: "num" }, "Version"),
      ...STATUSES.map((s) => h("th", { class: "num" }, s)), h("th", { class: "num" }, "Total")));
    const all = [...rows.values()];
    const body = all.slice(0, BREAKDOWN_ROWS).map((r) => {
      const base = { workflow: r.workflow, version: String(r.version) };
      return h("tr", null, h("td", null, r.workflow), h("td", { class: "num" }, String(r.version)),
        ...STATUSES.map((s) => h("td", { class: "num" }, r.counts[s]
          ? link(Object.assign({}, base, { status: s }), String(r.counts[s]),
            "Show the " + s + " instances of " + r.workflow + " version " + r.version)
          : h("span", { class: "muted" }, "0"))),
        h("td", { class: "num" }, link(base, String(r.total),
          "Show the instances of " + r.workflow + " version " + r.version)));
    });
    if (all.length > BREAKDOWN_ROWS) {
      const cell = h("td", { class: "muted" }, "… and " + (all.length - BREAKDOWN_ROWS) +
        " more workflow versions: filter the list by workflow family");
      cell.colSpan = STATUSES.length + 3;
      body.push(h("tr", null, cell));
    }
    if (all.length === 0) {
      const cell = h("td", { class: "muted" }, "No instances.");
      cell.colSpan = STATUSES.length + 3;
      body.push(h("tr", null, cell));
    }
    $("breakdown-body").replaceChildren(...body);
  }

  // ---- routing ---------------------------------------------------------------------------
  function currentRoute() {
    const hash = location.hash.slice(1) || "/";
    const q = hash.indexOf("?");
    const path = q === -1 ? hash : hash.slice(0, q);
    const params = new URLSearchParams(q === -1 ? "" : hash.slice(q + 1));
    if (path.startsWith("/instance/")) return { view: "instance", id: path.slice(10), params };
    if (path === "/stuck") return { view: "stuck", params };
    return { view: "list", params };
  }
  function go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  }
  function setView(view) {
    for (const name of ["list", "stuck", "instance"]) $("view-" + name).hidden = name !== view;
    $("tab-list").className = view === "list" ? "active" : "";
    $("tab-stuck").className = view === "stuck" ? "active" : "";
  }

  // ---- the instance list -----------------------------------------------------------------
  const FILTERS = ["id", "idPrefix", "status", "workflow", "version", "family", "since",
    "updatedAfter", "updatedBefore", "insertedAfter", "insertedBefore", "context", "order", "limit"];
  const list = { filter: {}, cursors: [null], next: null, seq: 0, hash: "#/" };

  // The form's value of a filter ("status" is a set of checkboxes, comma-joined).
  function fieldValue(form, name) {
    if (name === "status") {
      return Array.from(form.querySelectorAll("input[name=status]"))
        .filter((box) => box.checked).map((box) => box.value).join(",");
    }
    return form.elements[name].value.trim();
  }
  function setField(form, name, value) {
    if (name === "status") {
      const chosen = value.split(",");
      for (const box of form.querySelectorAll("input[name=status]")) {
        box.checked = chosen.includes(box.value);
      }
    } else form.elements[name].value = value;
  }

  async function renderList(params) {
    const form = $("filters");
    list.filter = {};
    for (const name of FILTERS) {
      const value = params.get(name) || (name === "limit" ? "25" : "");
      list.filter[name] = value;
      setField(form, name, value);
    }
    list.cursors = [null];
    list.hash = location.hash || "#/";
    await loadListPage();
  }
  async function loadListPage() {
    const seq = ++list.seq;
    const cursor = list.cursors[list.cursors.length - 1];
    const page = await api("api/instances", Object.assign({ cursor }, list.filter));
    if (seq !== list.seq) return;
    live.viewKey = rowsKey(page);
    list.next = page.nextCursor;
    fillTable($("list-body"), page.items, page.now, "No instances match these filters.", false,
      page.corrupt);
    $("list-page").textContent = "Page " + list.cursors.length + " · " + page.total + " matching";
    $("list-prev").disabled = list.cursors.length === 1;
    $("list-next").disabled = !page.nextCursor;
  }
  function submitFilters(event) {
    event.preventDefault();
    const form = $("filters");
    const query = new URLSearchParams();
    for (const name of FILTERS) {
      const value = fieldValue(form, name);
      if (value !== "" && !(name === "limit" && value === "25")) query.set(name, value);
    }
    const qs = query.toString();
    go("#/" + (qs ? "?" + qs : ""));
  }

  // ---- stuck -----------------------------------------------------------------------------
  const stuck = { idle: "15m", cursors: [null], next: null, leaseCursor: null, scanned: 0, found: 0 };

  async function renderStuck(params) {
    stuck.idle = params.get("idle") || "15m";
    $("stuck-form").elements.idle.value = stuck.idle;
    $("stuck-idle").textContent = stuck.idle;
    stuck.cursors = [null];
    await Promise.all([loadStuckPage(), loadLeases(true)]);
  }
  async function loadStuckPage() {
    const page = await api("api/stuck", {
      idle: stuck.idle,
      cursor: stuck.cursors[stuck.cursors.length - 1],
    });
    live.viewKey = rowsKey(page);
    stuck.next = page.nextCursor;
    fillTable($("stuck-body"), page.items, page.now, "Nothing running or waiting is that old.",
      false, page.corrupt);
    $("stuck-count").textContent = "(" + page.total + ")";
    $("stuck-page").textContent = "Page " + stuck.cursors.length;
    $("stuck-prev").disabled = stuck.cursors.length === 1;
    $("stuck-next").disabled = !page.nextCursor;
  }
  async function loadLeases(reset) {
    if (reset) {
      stuck.leaseCursor = null;
      stuck.scanned = 0;
      stuck.found = 0;
    }
    const page = await api("api/expired-leases", { cursor: stuck.leaseCursor });
    stuck.leaseCursor = page.nextCursor;
    stuck.scanned += page.scanned;
    stuck.found += page.items.length;
    fillTable($("lease-body"), page.items, page.now, "No expired leases.", !reset, page.corrupt);
    $("lease-status").textContent = stuck.found + " found among " + stuck.scanned +
      " unfinished instances" + (page.nextCursor ? " scanned so far" : "");
    $("lease-more").hidden = !page.nextCursor;
  }

  // ---- one instance ----------------------------------------------------------------------

  async function renderInstance(encodedId) {
    let id;
    try {
      id = decodeURIComponent(encodedId);
    } catch (_) {
      throw new Error("This link does not name an instance");
    }
    $("back").setAttribute("href", list.hash);
    for (const target of ["inst-id", "inst-history-count", "copy-done", "inst-failure-where", "inst-failure-error"]) {
      $(target).textContent = "";
    }
    for (const target of ["inst-badges", "inst-fields", "inst-timeline", "inst-last"]) $(target).replaceChildren();
    $("inst-failure").hidden = true;
    for (const target of ["inst-initial", "inst-steps", "inst-configs", "inst-runtime", "inst-telemetry"]) {
      $(target).textContent = "";
    }
    $("inst-id").textContent = id;
    const d = await api("api/instance", { id });
    const now = d.now;
    $("inst-badges").replaceChildren(
      statusBadge(d.status),
      h("span", { class: "badge plain" }, d.workflow + "@" + d.workflowVersion),
      h("span", { class: "badge plain" }, "revision " + d.revision),
    );
    const when = (iso) => [iso, " ", h("span", { class: "muted" }, "(" + age(iso, now) + ")")];
    const steps = (names) => names.length ? names.join(", ") : dash();
    const fields = [
      ["Workflow", d.workflow],
      ["Version", String(d.workflowVersion)],
      ["Current step", d.currentStep === null ? dash() : d.currentStep],
      ["Inserted", when(d.insertedAt)],
      ["Updated", when(d.updatedAt)],
      ["Lease holder", d.lease ? d.lease.owner : "none"],
      ["Lease expires", d.lease ? [d.lease.expiresAt, " ", d.lease.expired
        ? h("span", { class: "expired" }, "(expired " + age(d.lease.expiresAt, now) + ")")
        : h("span", { class: "muted" }, "(in " + duration(Date.parse(d.lease.expiresAt) - Date.parse(now)) + ")")] : dash()],
      ["Active steps", steps(d.activeSteps)],
      ["Completed steps", steps(d.completedSteps)],
    ];
    $("inst-fields").replaceChildren(...fields.flatMap(([label, value]) => [h("dt", null, label), h("dd", null, value)]));

    const history = d.executionHistory;
    $("inst-history-count").textContent = "(" + history.length + " entr" + (history.length === 1 ? "y" : "ies") +
      (history.length > 1 ? ", " + duration(Date.parse(history[history.length - 1].timestamp) - Date.parse(history[0].timestamp)) + " from first to last" : "") + ")";
    const timeline = $("inst-timeline");
    if (history.length === 0) timeline.append(h("li", { class: "muted" }, "No history yet."));
    const typed = d.typed;
    if (d.status === "failed") {
      // The error up front: the last "failed" entry (else the last one), and the last events.
      let at = -1;
      for (let i = history.length - 1; i >= 0 && at === -1; i--) if (history[i].event === "failed") at = i;
      if (at === -1) at = history.length - 1;
      const entry = history[at];
      $("inst-failure-where").textContent = entry ? "at step " + entry.stepRef + ", " + entry.timestamp : "";
      $("inst-failure-error").textContent = entry && typed.history[at] !== null
        ? typed.history[at] : "No error recorded in the history.";
      $("inst-last").replaceChildren(...history.slice(-5).reverse().map((e) =>
        h("li", null, h("span", { class: "mono" }, e.timestamp), " ", h("span", { class: "what" }, e.stepRef), " ",
          h("span", { class: "muted" }, e.event))));
      if (history.length === 0) $("inst-last").append(h("li", { class: "muted" }, "No history yet."));
      $("inst-failure").hidden = false;
    }
    history.forEach((entry, index) => {
      const delta = entry.sincePreviousMs === null ? "start" :
        (entry.sincePreviousMs < 0 ? "−" : "+") + duration(entry.sincePreviousMs);
      const item = h("li", { class: EVENTS.includes(entry.event) ? "ev-" + entry.event : "" },
        h("div", { class: "when" }, entry.timestamp, h("span", { class: "delta" }, delta)),
        h("div", null, h("span", { class: "what" }, entry.stepRef), " ", h("span", { class: "muted" }, entry.event)));
      if (typed.history[index] !== null) {
        const box = h("details", null, h("summary", null, "context updates"), h("pre", null, typed.history[index]));
        if (entry.event === "failed") box.open = true;
        item.append(box);
      }
      timeline.append(item);
    });
    // Typed text: a Date, BigInt, Set, Map or bytes shows as what the serializer recorded.
    $("inst-initial").textContent = typed.initial;
    $("inst-steps").textContent = typed.steps;
    $("inst-configs").textContent = typed.stepConfigs;
    $("inst-runtime").textContent = typed.runtimeMetadata;
    $("inst-telemetry").textContent = typed.telemetryMetadata;
  }

  // ---- live refresh ----------------------------------------------------------------------
  // Every LIVE_MS, unless paused or the tab is hidden, the summary and the page of the list (or
  // of the stuck view) shown are read again, at the same cursor; "changed" says when what they
  // show last differed from the read before.
  const LIVE_MS = 10000;
  const live = { on: true, busy: false, summaryKey: null, viewKey: null, changed: null, since: 0 };
  function rowsKey(page) {
    return JSON.stringify([page.total, page.nextCursor,
      page.items.map((i) => [i.id, i.status, i.revision, i.updatedAt, i.lease && i.lease.owner]),
      (page.corrupt || []).map((c) => c.id)]);
  }
  function showChanged() {
    $("changed").textContent = live.changed === null
      ? "· no change seen since " + new Date(live.since).toLocaleTimeString()
      : "· last changed " + new Date(live.changed).toLocaleTimeString();
  }
  async function tick() {
    if (!live.on || live.busy || document.hidden) return;
    const view = currentRoute().view;
    if (view === "instance") return guarded(loadSummary);
    live.busy = true;
    const before = [live.summaryKey, live.viewKey];
    try {
      await Promise.all([
        guarded(loadSummary),
        guarded(view === "list" ? loadListPage : loadStuckPage),
      ]);
      if (before[0] !== live.summaryKey || before[1] !== live.viewKey) {
        live.changed = Date.now();
        showChanged();
      }
    } finally {
      live.busy = false;
    }
  }
  function toggleLive() {
    live.on = !live.on;
    const button = $("live");
    button.textContent = live.on ? "Pause live" : "Resume live";
    button.setAttribute("aria-pressed", String(live.on));
    document.body.setAttribute("data-live", live.on ? "on" : "paused");
    if (live.on) tick();
  }

  // ---- wiring ----------------------------------------------------------------------------
  async function guarded(work) {
    try {
      await work();
    } catch (error) {
      showError(error);
    }
  }
  async function render() {
    showError(null);
    const route = currentRoute();
    setView(route.view);
    document.body.setAttribute("data-view", route.view);
    document.body.removeAttribute("data-ready");
    await Promise.all([
      guarded(async () => {
        if (route.view === "list") await renderList(route.params);
        else if (route.view === "stuck") await renderStuck(route.params);
        else await renderInstance(route.id);
      }),
      guarded(loadSummary),
    ]);
    document.body.setAttribute("data-ready", route.view);
  }

  function paged(work) {
    return () => {
      document.body.removeAttribute("data-ready");
      guarded(work).then(() => document.body.setAttribute("data-ready", currentRoute().view));
    };
  }

  $("filters").addEventListener("submit", submitFilters);
  $("clear").addEventListener("click", () => go("#/"));
  $("list-next").addEventListener("click", paged(() => {
    list.cursors.push(list.next);
    return loadListPage();
  }));
  $("list-prev").addEventListener("click", paged(() => {
    if (list.cursors.length > 1) list.cursors.pop();
    return loadListPage();
  }));
  $("stuck-form").addEventListener("submit", (event) => {
    event.preventDefault();
    go("#/stuck?idle=" + encodeURIComponent($("stuck-form").elements.idle.value.trim() || "15m"));
  });
  $("stuck-next").addEventListener("click", paged(() => {
    stuck.cursors.push(stuck.next);
    return loadStuckPage();
  }));
  $("stuck-prev").addEventListener("click", paged(() => {
    if (stuck.cursors.length > 1) stuck.cursors.pop();
    return loadStuckPage();
  }));
  $("lease-more").addEventListener("click", paged(() => loadLeases(false)));
  $("refresh").addEventListener("click", () => render());
  window.addEventListener("hashchange", render);
  $("live").addEventListener("click", toggleLive);
  $("copy-id").addEventListener("click", async () => {
    const id = $("inst-id").textContent;
    try {
      await navigator.clipboard.writeText(id);
      $("copy-done").textContent = "copied";
    } catch (_) {
      // No clipboard (an insecure origin): select the id for Ctrl+C instead.
      const range = document.createRange();
      range.selectNodeContents($("inst-id"));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      $("copy-done").textContent = "selected: press Ctrl+C";
    }
  });
  document.body.setAttribute("data-live", "on");
  setInterval(tick, LIVE_MS);
  live.since = Date.now();
  render().then(showChanged);
})();
`;
