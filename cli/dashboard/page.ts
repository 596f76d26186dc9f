/**
 * The dashboard's page: its HTML and icon, served from memory by cli/dashboard/handler.ts
 * (nothing is read from disk) with the stylesheet (style.ts) and the script (client_bundle.ts,
 * built from client/). The HTML holds no data: the script fetches JSON and builds
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

/** A labelled text input of the filter form. */
const textField = (label: string, name: string, placeholder: string, size: number) =>
  `<label>${label}
        <input name="${name}" placeholder="${placeholder}" autocomplete="off" size="${size}">
      </label>`;

/** A table of instances; the script fills in its body. */
const instanceTable = (bodyId: string) =>
  `<table class="instances">
      <thead><tr><th>ID</th><th>Workflow</th><th>Status</th><th>Step</th><th class="num">Rev</th><th>Updated</th><th>Lease</th></tr></thead>
      <tbody id="${bodyId}"></tbody>
    </table>`;

/** The page number and the Previous / Next buttons of a view. */
const pager = (view: string) =>
  `<div class="pager">
      <span id="${view}-page" class="muted"></span>
      <button type="button" id="${view}-prev">← Previous</button>
      <button type="button" id="${view}-next">Next →</button>
    </div>`;

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
      ${textField("ID", "id", "exact id", 18)}
      ${textField("ID prefix", "idPrefix", "e.g. order-12", 12)}
      <fieldset class="statuses"><legend>Status</legend>${statusChecks}</fieldset>
      ${textField("Workflow", "workflow", "exact name", 16)}
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
      ${textField("Updated after", "updatedAfter", "2026-01-31T12:00Z", 16)}
      ${textField("Updated before", "updatedBefore", "ISO time", 16)}
      ${textField("Inserted after", "insertedAfter", "ISO time", 16)}
      ${textField("Inserted before", "insertedBefore", "ISO time", 16)}
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
    ${instanceTable("list-body")}
    ${pager("list")}
  </section>

  <section id="view-stuck" class="card tabbed" hidden>
    <form id="stuck-form" class="filters">
      <label>Running or waiting, not updated for
        <input name="idle" value="15m" size="8" autocomplete="off" placeholder="15m">
      </label>
      <button type="submit" class="primary">Show</button>
    </form>
    <h3>Not updated for <span id="stuck-idle"></span> <span id="stuck-count" class="muted"></span></h3>
    ${instanceTable("stuck-body")}
    ${pager("stuck")}
    <h3>Holding an expired lease</h3>
    <p class="muted note">Pending, running or waiting instances whose lease has lapsed: the worker that
      claimed them stopped renewing it (the next claim takes them over).</p>
    ${instanceTable("lease-body")}
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

/** A small icon, so the browser does not ask for /favicon.ico. */
export const FAVICON_SVG: string =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#f06a1d"/><path d="M4 3h2v4h4V3h2v10h-2V9H6v4H4z" fill="#fff"/></svg>`;
