/**
 * The dashboard's stylesheet, served from memory as `app.css` by cli/dashboard/handler.ts (the
 * Content-Security-Policy allows no inline style).
 *
 * @example
 * ```ts ignore
 * import { APP_CSS } from "./style.ts";
 * ```
 *
 * @module
 */

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
