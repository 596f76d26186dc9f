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

import {
  CorruptRecordError,
  type InstanceFilter,
  type Page,
  PgStorage,
  type Storage,
} from "../mod.ts";
import { command, type Parsed } from "./command.ts";
import { chosenDatabase, DATABASE_OPTIONS, DATABASE_USAGE } from "./database.ts";
import { UsageError } from "./failure.ts";
import { buildFilter } from "./filter_words.ts";
import { formatAge } from "./duration.ts";
import {
  corruptReason,
  type CorruptRow,
  corruptRows,
  detail,
  type InstanceSummary,
  summarize,
} from "./instances.ts";
import { corruptText, showText, statsText, table } from "./inspect_text.ts";
import { printable, safeJson } from "./printable.ts";
import { PROGRAM } from "./program.ts";
import { collectStats } from "./stats.ts";

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

const LIST_OPTIONS = ["status", "workflow", "family", "since", "idle", "context", "limit"] as const;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100_000;

type Command =
  | { name: "list"; filter: InstanceFilter; limit: number }
  | { name: "show"; id: string }
  | { name: "stats" };

const OPTIONS = {
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
} as const;

/**
 * Runs the command.
 *
 * @param args The command-line arguments.
 * @returns The exit code.
 */
export const main: (args: string[]) => Promise<number> = command({
  usage: USAGE,
  options: OPTIONS,
  positionals: true,
  run: async ({ values, positionals }, session) => {
    const subcommand = checkCommand(values, positionals);
    const { driver, close } = await session.open(chosenDatabase(values), { create: false });
    try {
      const storage = new PgStorage({ driver, schema: values.schema });
      return await run(storage, subcommand, values.json, values.schema);
    } finally {
      await close();
    }
  },
});

function checkCommand(values: Parsed<typeof OPTIONS>["values"], positionals: string[]): Command {
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError("expected a command: list, show <id> or stats");
  if (!["list", "show", "stats"].includes(name)) {
    throw new UsageError(`unknown command ${JSON.stringify(name)}: expected list, show or stats`);
  }
  if (name !== "list") {
    const misplaced = LIST_OPTIONS.find((option) => values[option] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} applies to list only`);
  }
  if (name === "show") {
    const [id, ...extra] = rest;
    if (id === undefined || extra.length > 0) throw new UsageError("show expects one instance id");
    return { name, id };
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  if (name === "stats") return { name };
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!/^\d+$/.test(values.limit ?? "1") || limit < 1 || limit > MAX_LIMIT) {
    throw new UsageError(
      `--limit expects a number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(values.limit)}`,
    );
  }
  return { name: "list", filter: buildFilter(values, Date.now()), limit };
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
