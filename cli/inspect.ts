/**
 * `inspect`: look at the stored instances from a terminal. `list` shows a filtered
 * table (or JSON lines), `show` one whole instance with its history as a timeline, `stats` the
 * counts by status and workflow, the oldest running/waiting instances and the expired leases.
 * Read-only; reads through the public Storage API. It needs `--url`, `DATABASE_URL` or
 * `--embedded` (an existing embedded database: it never creates one; see cli/database.ts). Exits with 0 on success,
 * 1 when the instance is missing or the database failed, 2 on a bad command line; a failure is
 * one line on stderr.
 *
 * @example
 * ```sh
 * deno run -A jsr:@heph/pg/cli inspect list --status running,waiting --family Shop. --since 1h
 * deno run -A jsr:@heph/pg/cli inspect show order::123 --embedded
 * deno run -A jsr:@heph/pg/cli inspect stats --url postgres://postgres@127.0.0.1:5432/app
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  CorruptRecordError,
  INSTANCE_STATUSES,
  type InstanceFilter,
  type Page,
  PgStorage,
  type Storage,
} from "../mod.ts";
import { chooseDatabase, DATABASE_OPTIONS, DATABASE_USAGE, openDatabase } from "./database.ts";
import { argsError, reportFailure, UsageError } from "./failure.ts";
import { PROGRAM } from "./program.ts";
import {
  buildFilter,
  collectStats,
  corruptReason,
  type CorruptRow,
  corruptRows,
  detail,
  formatAge,
  formatDuration,
  type InstanceDetail,
  type InstanceSummary,
  printable,
  safeJson,
  type Stats,
  summarize,
} from "./instances.ts";

const USAGE = `Usage: ${PROGRAM} inspect <command> [options]

Shows the workflow instances stored by @heph/pg. Read-only.

Commands:
  list               a table of instances, oldest first (or JSON lines with --json)
  show <id>          one instance: context, step configs, steps, metadata, history timeline
  stats              counts by status and by workflow, oldest running/waiting instances,
                     expired leases (reads every instance once, 500 at a time)

Options of list:
  --status <s>       pending, running, waiting, completed or failed; several comma-separated
  --workflow <name>  exactly this workflow
  --family <prefix>  workflows whose name starts with this prefix
  --since <time>     updated within this duration: 30s, 15m, 1h, 2d, 1w
  --idle <time>      not updated for this duration (with --status running,waiting: stuck ones)
  --context <json>   the context contains this document, e.g. '{"initial":{"order_id":123}}'
  --limit <n>        how many to show (default: 50)

Options:
${DATABASE_USAGE}
  --schema <name>    the schema to read (default: public)
  --json             print JSON (list: one object per line) instead of text
  -h, --help         print this help`;

const LIST_OPTIONS = ["status", "workflow", "family", "since", "idle", "context", "limit"];
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100_000;

type Command =
  | { name: "list"; filter: InstanceFilter; limit: number }
  | { name: "show"; id: string }
  | { name: "stats" };

/**
 * Runs the command.
 *
 * @param args The command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  let url: string | undefined;
  try {
    const parsed = parseOptions(args);
    if (parsed === "help") {
      console.log(USAGE);
      return 0;
    }
    const { command, schema, json, values } = parsed;
    const database = chooseDatabase({
      url: values.url,
      embedded: values.embedded,
      dataDir: values["data-dir"],
    });
    if ("url" in database) url = database.url;

    const { driver, close } = await openDatabase(database, { create: false });
    try {
      return await run(new PgStorage({ driver, schema }), command, json, schema);
    } finally {
      await close();
    }
  } catch (error) {
    return reportFailure(error, url);
  }
}

function parseOptions(args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...DATABASE_OPTIONS,
        schema: { type: "string", default: "public" },
        status: { type: "string" },
        workflow: { type: "string" },
        family: { type: "string" },
        since: { type: "string" },
        idle: { type: "string" },
        context: { type: "string" },
        limit: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw argsError(error);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError("expected a command: list, show <id> or stats");
  if (!["list", "show", "stats"].includes(name)) {
    throw new UsageError(`unknown command ${JSON.stringify(name)}: expected list, show or stats`);
  }
  if (name !== "list") {
    const misplaced = LIST_OPTIONS.find((option) => values[option as "status"] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} applies to list only`);
  }
  let command: Command;
  if (name === "show") {
    if (rest.length !== 1) throw new UsageError("show expects one instance id");
    command = { name, id: rest[0] };
  } else {
    if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
    if (name === "stats") command = { name };
    else {
      const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
      if (!/^\d+$/.test(values.limit ?? "1") || limit < 1 || limit > MAX_LIMIT) {
        throw new UsageError(
          `--limit expects a number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(values.limit)}`,
        );
      }
      command = { name: "list", filter: buildFilter(values, Date.now()), limit };
    }
  }
  return { command, schema: values.schema, json: values.json, values };
}

async function run(
  storage: Storage,
  command: Command,
  json: boolean,
  schema: string,
): Promise<number> {
  switch (command.name) {
    case "list":
      await list(storage, command.filter, command.limit, json);
      return 0;
    case "show": {
      let instance;
      try {
        instance = await storage.get(command.id);
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error;
        console.error(
          `error: instance ${printable(JSON.stringify(command.id))} cannot be read: ${
            printable(corruptReason(error))
          } (its stored row is damaged: fix or delete it)`,
        );
        return 1;
      }
      if (!instance) {
        console.error(
          `error: no instance with id ${printable(JSON.stringify(command.id))} in schema ${schema}`,
        );
        return 1;
      }
      const shown = detail(instance, Date.now());
      console.log(json ? safeJson(shown, 2) : showText(shown, Date.now()));
      return 0;
    }
    case "stats": {
      const stats = await collectStats(storage, Date.now());
      console.log(json ? safeJson(stats, 2) : statsText(stats, schema, Date.now()));
      return 0;
    }
  }
}

/** Prints up to `limit` matches, a page (at most 1000) at a time. */
async function list(
  storage: Storage,
  filter: InstanceFilter,
  limit: number,
  json: boolean,
): Promise<void> {
  const now = Date.now();
  const rows: InstanceSummary[] = [];
  const corrupt: CorruptRow[] = [];
  let shown = 0;
  let cursor: string | null = null;
  do {
    const page: Page = await storage.page(filter, {
      limit: Math.min(1000, limit - shown),
      cursor,
      skipCorrupt: true,
    });
    for (const instance of page.items) {
      const row = summarize(instance, now);
      if (json) console.log(safeJson(row)); // as it comes: memory bounded by the page
      else rows.push(row);
    }
    for (const row of corruptRows(page)) {
      if (json) console.log(safeJson({ id: row.id, corrupt: row.reason }));
      else corrupt.push(row);
    }
    shown += page.items.length + (page.corrupt?.length ?? 0);
    cursor = page.nextCursor;
  } while (cursor !== null && shown < limit);
  if (json) return;
  if (rows.length === 0 && corrupt.length === 0) {
    console.log("no instances match");
    return;
  }
  if (corrupt.length > 0) console.log(corruptText(corrupt) + "\n");
  console.log(table(
    ["ID", "WORKFLOW", "STATUS", "STEP", "REV", "UPDATED", "LEASE"],
    rows.map((r) => [
      r.id,
      `${r.workflow}@${r.workflowVersion}`,
      r.status,
      r.currentStep ?? "-",
      String(r.revision),
      `${r.updatedAt.slice(0, 19)}Z (${formatAge(new Date(r.updatedAt), now)})`,
      r.lease ? `${r.lease.owner}${r.lease.expired ? " (expired)" : ""}` : "-",
    ]),
  ));
  const read = rows.length + corrupt.length;
  const total = cursor === null && read < limit ? read : await storage.count(filter);
  console.log(
    total > read
      ? `\n${read} of ${total} matching instances (raise --limit to see more)`
      : `\n${total} matching instance${total === 1 ? "" : "s"}`,
  );
}

/** Columns padded to their widest cell; cells made printable, long ones (not ids) cut. */
function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((row) =>
    row.map((cell, i) => {
      const text = printable(cell);
      return i > 0 && text.length > 48 ? `${text.slice(0, 47)}…` : text;
    })
  );
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n");
}

/** The rows that could not be read, flagged by id with the reason. */
function corruptText(corrupt: CorruptRow[], count = corrupt.length): string {
  const head = `${count} row${
    count === 1 ? "" : "s"
  } could not be read (inspect show <id> explains):`;
  const lines = [head, ...corrupt.map((r) => `  ${printable(r.id)}  ${printable(r.reason)}`)];
  if (count > corrupt.length) lines.push(`  … and ${count - corrupt.length} more`);
  return lines.join("\n");
}

function showText(shown: InstanceDetail, now: number): string {
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
  const spanMs = Date.parse(history.at(-1)?.timestamp ?? "") - Date.parse(history[0]?.timestamp);
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

function statsText(stats: Stats, schema: string, now: number): string {
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
