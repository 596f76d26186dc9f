/**
 * The @heph/pg command line, published as `jsr:@heph/pg/cli`: one entry with the subcommands
 * `migrate`, `inspect`, `dashboard`, `demo` and `neon-local`, each with `--help`. It resolves
 * everything through the package's own imports, never relative to the working directory, and
 * never opens a database nobody named: `migrate`, `inspect` and `dashboard` need `--url`,
 * `DATABASE_URL` or `--embedded`.
 *
 * Exit codes: 0 on success, 1 when the work failed, 2 on a bad command line; a failure is one
 * line on stderr.
 *
 * @example Migrate, from any directory
 * ```sh
 * DATABASE_URL=postgres://app@db.example.com/app deno run --allow-net --allow-env jsr:@heph/pg/cli migrate
 * deno run -A jsr:@heph/pg/cli migrate --sql > heph.sql   # for psql, Flyway, Atlas…
 * deno run -A jsr:@heph/pg/cli inspect stats --url postgres://…
 * deno run -A jsr:@heph/pg/cli --help
 * ```
 *
 * @module
 */

import { reportFailure, UsageError } from "./failure.ts";
import { PROGRAM } from "./program.ts";

/** A subcommand: what `--help` says of it, and how to load it (only when it runs). */
interface Command {
  summary: string;
  load(): Promise<{ main(args: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  migrate: {
    summary: "bring a schema to the latest version; --status, --dry-run, --sql, --grant",
    load: () => import("./migrate.ts"),
  },
  inspect: {
    summary: "list, show and count the stored instances (read-only)",
    load: () => import("./inspect.ts"),
  },
  dashboard: {
    summary: "serve the read-only web dashboard",
    load: () => import("./dashboard.ts"),
  },
  demo: {
    summary: "an order workflow stored step by step (embedded PGlite unless --url)",
    load: () => import("./demo.ts"),
  },
  "neon-local": {
    summary:
      "serve Neon's HTTP endpoint and WebSocket proxy in front of a PostgreSQL (development)",
    load: () => import("./neon_local.ts"),
  },
};

const USAGE = `Usage: ${PROGRAM} <command> [options]

The @heph/pg command line.

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`).join("\n")}

Run ${PROGRAM} <command> --help for a command's options.
Without --url, DATABASE_URL or --embedded, no command but demo opens a database.`;

/**
 * Runs the command line.
 *
 * @param args The arguments: a command and its options.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    return reportFailure(
      new UsageError(
        `unknown command ${JSON.stringify(name)}: expected ${Object.keys(COMMANDS).join(", ")}`,
      ),
      undefined,
    );
  }
  return await (await command.load()).main(rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
