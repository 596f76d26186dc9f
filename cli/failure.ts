/**
 * Turning what went wrong into the one line a command prints: usage errors, connection
 * failures, and any message with the URL's password taken out.
 *
 * @module
 */

import { printable } from "./printable.ts";

/** A mistake in the command line: the command prints it and exits with 2. */
export class UsageError extends Error {
  /** Whether to point at `--help` after the message. */
  readonly hint: boolean;

  /**
   * @param message What was wrong with the arguments.
   * @param hint Whether to point at `--help` after the message.
   */
  constructor(message: string, hint = true) {
    super(message);
    this.name = "UsageError";
    this.hint = hint;
  }
}

/**
 * Parses a database URL, refusing what is not a `postgres://` or `postgresql://` URL. The
 * message never repeats the URL, which may hold a password.
 *
 * @param url The URL.
 * @returns The parsed URL.
 * @throws {UsageError} When it is not a PostgreSQL URL.
 */
export function parseDatabaseUrl(url: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch { /* reported below */ }
  if (parsed?.protocol !== "postgres:" && parsed?.protocol !== "postgresql:") {
    throw new UsageError(
      "invalid database URL: expected postgres://user:password@host:port/database",
    );
  }
  return parsed;
}

/**
 * Where a URL points, as `host:port`, without its user or password.
 *
 * @param url The parsed URL.
 * @returns Such as `127.0.0.1:5432`.
 */
export function address(url: URL): string {
  const host = url.hostname || url.searchParams.get("host") || "localhost";
  return `${host}:${url.port || "5432"}`;
}

/**
 * Says why a connection could not be opened: the network failed (`cannot reach`) or the
 * server refused it, with a SQLSTATE such as 3D000 or 28P01 (`cannot connect to`).
 *
 * @param error What the driver threw.
 * @param where The address, from {@linkcode address}.
 * @param timeoutMs The connection timeout, when the attempt lasted that long; else undefined.
 * @returns Such as `cannot reach the database at 127.0.0.1:1: connection refused`.
 */
export function connectionFailure(error: unknown, where: string, timeoutMs?: number): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const reason = timeoutMs !== undefined
    ? `no answer within ${timeoutMs / 1000} s`
    : NETWORK_FAILURES.get(String(code)) ??
      (typeof message === "string" && message !== "" ? message : String(error));
  const verb = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) // a SQLSTATE
    ? "cannot connect to"
    : "cannot reach";
  return `${verb} the database at ${where}: ${reason}`;
}

const NETWORK_FAILURES = new Map([
  ["ECONNREFUSED", "connection refused"],
  ["ENOTFOUND", "unknown host"],
  ["EAI_AGAIN", "unknown host"],
  ["EHOSTUNREACH", "host unreachable"],
  ["ENETUNREACH", "network unreachable"],
  ["ETIMEDOUT", "connection timed out"],
]);

/**
 * Makes a message printable on one line, terminal controls escaped (stored ids and names reach
 * messages), with passwords replaced by `****` where they show: the
 * password part of any URL (`postgres://user:****@host`), and a `password=` or `password:` setting
 * holding the password of `url` (plain or percent-decoded). Nothing else is touched: a password
 * that happens to be a word of the message (`postgres`, `e`) does not mangle it.
 *
 * @param message The message.
 * @param url The database URL, which may hold a password.
 * @returns The message, safe to print.
 */
export function redact(message: string, url: string | undefined): string {
  let line = message.replace(/\s*\n\s*/g, " ").trim();
  line = line.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)[^\s/]*@/gi, "$1****@");
  const password = url?.match(/^[a-z][a-z0-9+.-]*:\/\/[^:@/]*:([^/]*)@/i)?.[1];
  if (password) {
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch { /* keep it encoded */ }
    const secrets = new Set([password, decoded]);
    line = line.replace(
      /(\bpassword["']?\s*[=:]\s*)(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s"',;}]+))/gi,
      (setting, key: string, double?: string, single?: string, bare?: string) => {
        const value = double ?? single ?? bare ?? "";
        if (!secrets.has(value.replace(/\\(.)/g, "$1"))) return setting;
        return double !== undefined
          ? `${key}"****"`
          : single !== undefined
          ? `${key}'****'`
          : `${key}****`;
      },
    );
  }
  return printable(line);
}

/**
 * Prints what went wrong as one line on stderr, password redacted, and returns the exit code it
 * deserves: 2 for a {@linkcode UsageError} (pointing at `--help` when it has a hint), else 1.
 *
 * @param error What was thrown.
 * @param url The database URL in use, if any, whose password must not be printed.
 * @returns The exit code.
 */
export function reportFailure(error: unknown, url: string | undefined): number {
  if (error instanceof UsageError) {
    const hint = error.hint ? " (run with --help for usage)" : "";
    console.error(`error: ${redact(error.message, url)}${hint}`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`error: ${redact(message, url)}`);
  return 1;
}

/**
 * Turns what `parseArgs` (node:util) throws into a {@linkcode UsageError}, keeping only its first
 * sentence (Node adds a long hint after it).
 *
 * @param error What `parseArgs` threw.
 * @returns Such as `unknown option '--bogus'`.
 */
export function argsError(error: unknown): UsageError {
  const [message = ""] = String((error as Error)?.message).split(". ");
  return new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
}
