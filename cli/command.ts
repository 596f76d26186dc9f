/**
 * The skeleton every subcommand of the CLI shares: it parses the options with `node:util`'s
 * `parseArgs` (adding `-h, --help`), prints the usage text on `--help`, runs the command, and
 * turns whatever it throws into one line on stderr and an exit code: 0 on success, 1 when the
 * work failed, 2 on a bad command line ({@linkcode UsageError}). A database URL the command
 * opened is redacted from that line.
 *
 * @example
 * ```ts ignore
 * import { command } from "./command.ts";
 *
 * export const main = command({
 *   usage: "Usage: hello [--name <name>]",
 *   options: { name: { type: "string", default: "world" } },
 *   run: ({ values }) => {
 *     console.log(`hello ${values.name}`);
 *   },
 * });
 * ```
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { type Database, type DatabaseChoice, openDatabase } from "./database.ts";
import { argsError, reportFailure } from "./failure.ts";

const HELP = { help: { type: "boolean", short: "h", default: false } } as const;

/** What `parseArgs` returns for these options, positionals allowed. */
export type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof HELP; allowPositionals: true }>
>;

/** What a running command may ask of the skeleton. */
export interface Session {
  /**
   * Opens the chosen database (see cli/database.ts) and remembers its URL, so a failure
   * reported afterwards never prints its password.
   */
  open(choice: DatabaseChoice, options: { create: boolean }): Promise<Database>;
}

/** A subcommand: its usage text, its options and what it does. */
export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  /** Printed on `--help` (`-h, --help` must be listed in it). */
  usage: string;
  /** The `parseArgs` options, without `help`. */
  options: O;
  /** Whether arguments other than options are accepted (`inspect show <id>`). */
  positionals?: boolean;
  /**
   * Checks the options and does the work; throws a {@linkcode UsageError} for a bad command
   * line.
   *
   * @returns The exit code, or nothing for 0.
   */
  run(parsed: Parsed<O>, session: Session): Promise<number | void> | number | void;
}

/**
 * Builds a subcommand's `main`: parse, `--help`, run, report.
 *
 * @param spec The usage text, the options and the work.
 * @returns `main(args)`, resolving to the exit code.
 */
export function command<O extends ParseArgsOptionsConfig>(
  spec: CommandSpec<O>,
): (args: string[]) => Promise<number> {
  return async (args) => {
    let url: string | undefined;
    const session: Session = {
      open: (choice, options) => {
        if ("url" in choice) url = choice.url;
        return openDatabase(choice, options);
      },
    };
    try {
      let parsed: Parsed<O>;
      try {
        parsed = parseArgs({
          args,
          options: { ...spec.options, ...HELP },
          allowPositionals: spec.positionals ?? false,
        }) as Parsed<O>;
      } catch (error) {
        throw argsError(error);
      }
      if ((parsed.values as { help?: boolean }).help) {
        console.log(spec.usage);
        return 0;
      }
      return (await spec.run(parsed, session)) ?? 0;
    } catch (error) {
      return reportFailure(error, url);
    }
  };
}
