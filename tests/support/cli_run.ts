/**
 * Runs a `deno task` command (cli/main.ts and a subcommand) as a subprocess with exactly the
 * task's permissions, and checks the one-line failures the CLI promises.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = new URL("../../", import.meta.url);

/** What a run printed and how it ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  lines: string[];
}

/**
 * A task of deno.json without the leading `deno`: `run`, the permissions, the script, the
 * subcommand.
 */
async function taskArgs(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return config.tasks[task].split(" ").slice(1);
}

/**
 * Runs `deno task <task> …args` from the project directory, or from `cwd` (then with the
 * project's config and the script's absolute path); `env` is added to ours, with DATABASE_URL
 * cleared unless given.
 */
export async function runTask(
  task: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Run> {
  const base = await taskArgs(task);
  const command = options.cwd === undefined ? base : base.flatMap((word) =>
    word.endsWith(".ts")
      ? [
        "--config",
        fileURLToPath(new URL("deno.json", ROOT)),
        fileURLToPath(new URL(word, ROOT)),
      ]
      : [word]
  );
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...command, ...args],
    cwd: options.cwd ?? fileURLToPath(ROOT),
    env: { NO_COLOR: "1", DATABASE_URL: "", ...options.env },
    stdin: "null",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const out = text(stdout);
  return { code, stdout: out, stderr: text(stderr), lines: out.trimEnd().split("\n") };
}

/** Asserts a failure: the exit code, and exactly one `error: …` line on stderr, no stack. */
export function assertOneLineError(run: Run, code: number, pattern: RegExp): string {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  const lines = run.stderr.split("\n").filter((line) => line.trim() !== "");
  assert.equal(lines.length, 1, `one line on stderr, got: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /^\s+at /m);
  const [line = ""] = lines;
  assert.match(line, /^error: /);
  assert.match(line, pattern);
  return line;
}
