/**
 * What `inspect` prints as text: tables with columns padded to their widest cell, an instance
 * with its history as a timeline, the statistics, and the rows that could not be read. Every
 * stored value is made printable first.
 *
 * @example
 * ```ts ignore
 * import { showText } from "./inspect_text.ts";
 *
 * console.log(showText(detail(instance, Date.now()), Date.now()));
 * ```
 *
 * @module
 */

import { INSTANCE_STATUSES } from "../mod.ts";
import { formatAge, formatDuration } from "./duration.ts";
import type { CorruptRow, InstanceDetail } from "./instances.ts";
import { printable, safeJson } from "./printable.ts";
import type { Stats } from "./stats.ts";

/** Columns padded to their widest cell; cells made printable, long ones (not ids) cut. */
export function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((row) =>
    row.map((cell, i) => {
      const text = printable(cell);
      return i > 0 && text.length > 48 ? `${text.slice(0, 47)}…` : text;
    })
  );
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  return cells.map((row) => row.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd())
    .join("\n");
}

/** The rows that could not be read, flagged by id with the reason. */
export function corruptText(corrupt: CorruptRow[], count = corrupt.length): string {
  const head = `${count} row${
    count === 1 ? "" : "s"
  } could not be read (inspect show <id> explains):`;
  const lines = [head, ...corrupt.map((r) => `  ${printable(r.id)}  ${printable(r.reason)}`)];
  if (count > corrupt.length) lines.push(`  … and ${count - corrupt.length} more`);
  return lines.join("\n");
}

/** An instance as text: its fields, its data as JSON, and its history as a timeline. */
export function showText(shown: InstanceDetail, now: number): string {
  const p = (text: string) => printable(text);
  const json = (value: unknown) => safeJson(value, 2).replace(/\n/g, "\n    ");
  const list = (items: string[]) => items.length ? items.map(p).join(", ") : "-";
  const lease = shown.lease
    ? `${p(shown.lease.owner)} until ${shown.lease.expiresAt} (${
      shown.lease.expired ? "expired " : ""
    }${formatAge(new Date(shown.lease.expiresAt), now)})`
    : "none";
  const lines = [
    `${p(shown.id)}  ${
      p(shown.workflow)
    }@${shown.workflowVersion}  ${shown.status}  revision ${shown.revision}`,
    `  current step     ${shown.currentStep === null ? "-" : p(shown.currentStep)}`,
    `  inserted         ${shown.insertedAt} (${formatAge(new Date(shown.insertedAt), now)})`,
    `  updated          ${shown.updatedAt} (${formatAge(new Date(shown.updatedAt), now)})`,
    `  lease            ${lease}`,
    `  active steps     ${list(shown.activeSteps)}`,
    `  completed steps  ${list(shown.completedSteps)}`,
    "",
    "context.initial",
    `    ${json(shown.context.initial)}`,
    "context.steps",
    `    ${json(shown.context.steps)}`,
    "step configs",
    `    ${json(shown.stepConfigs)}`,
    "runtime metadata",
    `    ${json(shown.runtimeMetadata)}`,
    "telemetry metadata",
    `    ${json(shown.telemetryMetadata)}`,
    "",
  ];
  const history = shown.executionHistory;
  const spanMs = Date.parse(history.at(-1)?.timestamp ?? "") -
    Date.parse(history[0]?.timestamp ?? "");
  const span = history.length > 1 && !Number.isNaN(spanMs)
    ? `, ${formatDuration(spanMs)} from first to last`
    : "";
  lines.push(`history (${history.length} entr${history.length === 1 ? "y" : "ies"}${span})`);
  if (history.length === 0) lines.push("  (none)");
  const stepWidth = Math.min(24, Math.max(0, ...history.map((e) => p(e.stepRef).length)));
  for (const entry of history) {
    const delta = entry.sincePreviousMs === null
      ? ""
      : `${entry.sincePreviousMs < 0 ? "-" : "+"}${formatDuration(entry.sincePreviousMs)}`;
    const updates = entry.contextUpdates === null ? "" : `  ${safeJson(entry.contextUpdates)}`;
    lines.push(
      `  ${entry.timestamp.padEnd(24)}  ${delta.padStart(9)}  ${
        p(entry.stepRef).padEnd(stepWidth)
      }  ${p(entry.event)}${updates.length > 200 ? `${updates.slice(0, 199)}…` : updates}`,
    );
  }
  return lines.join("\n");
}

/** The statistics as text: by status (with bars), by workflow, oldest, corrupt, leases. */
export function statsText(stats: Stats, schema: string, now: number): string {
  const lines = [`schema ${schema}: ${stats.total} instance${stats.total === 1 ? "" : "s"}`, ""];
  const widest = Math.max(1, ...Object.values(stats.byStatus));
  lines.push("by status");
  for (const status of INSTANCE_STATUSES) {
    const n = stats.byStatus[status];
    const bar = n === 0 ? "" : "█".repeat(Math.max(1, Math.round((n / widest) * 30)));
    lines.push(`  ${status.padEnd(10)} ${String(n).padStart(8)}  ${bar}`.trimEnd());
  }
  lines.push("", "by workflow");
  const shown = stats.byWorkflow.slice(0, 30);
  if (shown.length === 0) lines.push("  (none)");
  else {
    lines.push(
      ...table(
        ["WORKFLOW", "TOTAL", ...INSTANCE_STATUSES.map((s) => s.toUpperCase())],
        shown.map((w) => [
          w.workflow,
          String(w.total),
          ...INSTANCE_STATUSES.map((s) => String(w.byStatus[s])),
        ]),
      ).split("\n").map((line) => `  ${line}`),
    );
    if (stats.byWorkflow.length > shown.length) {
      lines.push(`  … and ${stats.byWorkflow.length - shown.length} more workflows`);
    }
  }
  lines.push("", "oldest running/waiting (least recently updated)");
  if (stats.oldestActive.length === 0) lines.push("  (none)");
  else {
    lines.push(
      ...table(
        ["ID", "WORKFLOW", "STATUS", "STEP", "NOT UPDATED FOR"],
        stats.oldestActive.map((r) => [
          r.id,
          `${r.workflow}@${r.workflowVersion}`,
          r.status,
          r.currentStep ?? "-",
          formatDuration(now - Date.parse(r.updatedAt)),
        ]),
      ).split("\n").map((line) => `  ${line}`),
    );
  }
  if (stats.corrupt.count > 0) {
    lines.push("", corruptText(stats.corrupt.first, stats.corrupt.count));
  }
  lines.push("", `expired leases: ${stats.expiredLeases.count}`);
  if (stats.expiredLeases.oldest.length > 0) {
    lines.push(
      ...table(
        ["ID", "WORKFLOW", "STATUS", "OWNER", "EXPIRED"],
        stats.expiredLeases.oldest.map((r) => [
          r.id,
          `${r.workflow}@${r.workflowVersion}`,
          r.status,
          r.lease!.owner,
          formatAge(new Date(r.lease!.expiresAt), now),
        ]),
      ).split("\n").map((line) => `  ${line}`),
    );
  }
  return lines.join("\n");
}
