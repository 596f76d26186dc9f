/**
 * The shared runner for Node and Bun (`runtime_tests/node/run.ts`, `runtime_tests/bun/run.ts`):
 * installs the examples' npm dependencies into a temp dir, bundles the conformance entry and the
 * runtime's examples there (see `bundle.ts`), runs the suite and then each example in the
 * runtime, and ends with `N passed, N failed`: the suite's cases plus one check per example.
 *
 * @module
 */
import pg from "pg";
import { testDatabaseUrl } from "../../tests/support/test_db.ts";
import { bundle, npmInstall, REPO_ROOT } from "./bundle.ts";

/** What differs between Node and Bun. */
export interface NodeLikeRuntime {
  /** `node` or `bun`: the runtime the conformance entry must report. */
  name: "node" | "bun";
  /** The runtime's executable. */
  executable: string;
  /** The examples directory, relative to the repository root (`examples/node`). */
  examples: string;
}

/** What each example must print, in order (each pattern matched on its own line). */
const EXAMPLE_OUTPUT: RegExp[] = [
  /^schema at version \d+$/,
  /^put order::\d+ at revision 1$/,
  /^got order::\d+: pending, placed_at is a Date: true$/,
  /^now running at revision 2$/,
  /^running: order::\d+$/,
  /^deleted, get\(\) returns null$/,
];
const SUMMARY = /^(\d+) passed, (\d+) failed$/;
const TIMEOUT_MS = 5 * 60_000;

/**
 * Runs the conformance suite and the examples in the runtime; prints `N passed, N failed` last.
 *
 * @returns The process exit code: 0 when everything passed.
 */
export async function runNodeLike(runtime: NodeLikeRuntime): Promise<number> {
  const started = performance.now();
  const url = await testDatabaseUrl();
  const examplesDir = new URL(`${runtime.examples}/`, REPO_ROOT).pathname;
  const manifest = JSON.parse(await Deno.readTextFile(`${examplesDir}package.json`));
  const { "@heph/pg": _fromSource, ...dependencies } = manifest.dependencies as Record<
    string,
    string
  >;
  const examples = [...Deno.readDirSync(examplesDir)]
    .map((entry) => entry.name)
    .filter((name) => /\.(mjs|js|ts)$/.test(name))
    .sort();

  const work = await Deno.makeTempDir({ prefix: `heph-rt-${runtime.name}-` });
  try {
    await npmInstall(work, dependencies);
    const entries: Record<string, string> = {
      conformance: new URL("conformance_entry.ts", import.meta.url).pathname,
    };
    for (const file of examples) entries[`example_${stem(file)}`] = `${examplesDir}${file}`;
    const bundles = await bundle(entries, work);
    const bundleOf = (name: string) => {
      const path = bundles[name];
      if (path === undefined) throw new Error(`No bundle for entry: ${name}`);
      return path;
    };
    log(`prepared in ${seconds(started)} (npm install, esbuild)`);

    let passed = 0;
    let failed = 0;
    const suiteStarted = performance.now();
    const suite = await runChild(runtime.executable, bundleOf("conformance"), url, true);
    const summary = SUMMARY.exec(lastLine(suite.stdout));
    const reported = /^# runtime (\S+)/m.exec(suite.stdout)?.[1];
    if (summary) {
      passed += Number(summary[1]);
      failed += Number(summary[2]);
    }
    const problem = !summary
      ? `no summary line, exited ${suite.code}`
      : reported !== runtime.name
      ? `it ran in ${reported ?? "an unknown runtime"}, not ${runtime.name}`
      : !suite.success && Number(summary[2]) === 0
      ? `exited ${suite.code} with no failed case`
      : undefined;
    if (problem !== undefined) {
      failed++;
      console.log(`FAIL conformance suite: ${problem}${indent(suite.stderr)}`);
    }
    log(`conformance suite in ${seconds(suiteStarted)}`);

    await withExampleDatabase(url, async (exampleUrl) => {
      for (const file of examples) {
        const name = `example ${runtime.examples}/${file}`;
        const run = await runChild(
          runtime.executable,
          bundleOf(`example_${stem(file)}`),
          exampleUrl,
        );
        const problem = run.success
          ? missingOutput(run.stdout)
          : `exited ${run.code}${indent(run.stderr)}`;
        if (problem === undefined) {
          passed++;
          console.log(`ok ${name}`);
        } else {
          failed++;
          console.log(`FAIL ${name}: ${problem}${indent(run.stdout)}`);
        }
      }
    });
    log(`${runtime.name} done in ${seconds(started)}`);
    console.log(`${passed} passed, ${failed} failed`);
    return failed > 0 ? 1 : 0;
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/**
 * Finds an executable on PATH (or at an absolute path): its path, or undefined. Skips Deno
 * itself: when there is no `node` on PATH, Deno puts a `node` that is Deno on its own PATH.
 *
 * @param name The command, such as `node`.
 */
export async function which(name: string): Promise<string | undefined> {
  const deno = await Deno.realPath(Deno.execPath());
  const dirs = name.includes("/") ? [""] : (Deno.env.get("PATH") ?? "").split(":");
  for (const dir of dirs) {
    const path = dir === "" ? name : `${dir}/${name}`;
    try {
      const info = await Deno.stat(path);
      const executable = info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
      if (executable && await Deno.realPath(path) !== deno) return path;
    } catch { /* not here */ }
  }
  return undefined;
}

/** Runs a bundle; streams its stdout through when `echo`, and returns its output. */
async function runChild(
  executable: string,
  script: string,
  databaseUrl: string,
  echo = false,
): Promise<{ success: boolean; code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(executable, {
    args: [script],
    cwd: script.slice(0, script.lastIndexOf("/")),
    env: { DATABASE_URL: databaseUrl },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).spawn();
  const decoder = new TextDecoder();
  let stdout = "";
  const stderr = new Response(child.stderr).text();
  for await (const chunk of child.stdout) {
    if (echo) await Deno.stdout.write(chunk);
    stdout += decoder.decode(chunk, { stream: true });
  }
  const status = await child.status;
  return { success: status.success, code: status.code, stdout, stderr: await stderr };
}

/** Why an example's output is wrong, or undefined when it printed every expected line. */
function missingOutput(stdout: string): string | undefined {
  const lines = stdout.split("\n").map((line) => line.trim()).filter(Boolean);
  let at = 0;
  for (const pattern of EXAMPLE_OUTPUT) {
    const found = lines.findIndex((line, i) => i >= at && pattern.test(line));
    if (found === -1) return `expected a line matching ${pattern} in its output`;
    at = found + 1;
  }
  return undefined;
}

/**
 * Runs `body` with the URL of a new, empty database on the test server, dropped afterwards, so
 * the examples (which use the default schema) leave nothing behind. Falls back to the test
 * database itself when the server refuses CREATE DATABASE.
 */
async function withExampleDatabase(url: string, body: (url: string) => Promise<void>) {
  const name = `heph_examples_${crypto.randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } catch (error) {
      log(`cannot create a database (${(error as Error).message}): examples use the test database`);
      return await body(url);
    }
    const exampleUrl = new URL(url);
    exampleUrl.pathname = `/${name}`;
    try {
      await body(exampleUrl.href);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

function stem(file: string): string {
  return file.replace(/\.[^.]+$/, "");
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)?.trim() ?? "";
}

function indent(text: string): string {
  const trimmed = text.trim();
  return trimmed === "" ? "" : `\n    ${trimmed.split("\n").join("\n    ")}`;
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)}s`;
}

/** Progress notes go to stderr, so stdout stays the test report. */
function log(message: string): void {
  console.error(`[runtime_tests] ${message}`);
}
