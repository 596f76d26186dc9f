/**
 * Keeps `deno task test:doc` honest. It runs the JSDoc examples of the published modules; an
 * example fenced as `ts ignore` is neither run nor type-checked, so it must be one that cannot
 * run in a test: it reaches a database or service (a connection string, `DATABASE_URL`, a
 * client that connects), imports from JSR, starts a test or a server of its own, or is a
 * fragment using names from the text around it. Every other example runs, and every published
 * file with a runnable example is on the task's list. A skipped example that is whole (it
 * only needs a server) is still type-checked here, as `deno check --doc` did before it was
 * skipped.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { publishedFiles } from "./support/published.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** One fenced example in a JSDoc comment. */
interface Example {
  /** `path:line` of its opening fence. */
  where: string;
  /** The fence's words after the language (`ignore`…). */
  attributes: string[];
  /** Its code, without the comment's leading `*`. */
  code: string;
  /** Whether its module is browser code (`/// <reference lib="dom" />`). */
  browser?: boolean;
}

/** The `ts`/`typescript` examples in the JSDoc comments of one file. */
function examplesOf(path: string, text: string): Example[] {
  const examples: Example[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*\*\s*```(ts|typescript)\b(.*)$/.exec(lines[i] ?? "");
    if (!open) continue;
    const start = i;
    const code: string[] = [];
    for (i++; i < lines.length && !/^\s*\*\s*```/.test(lines[i] ?? ""); i++) {
      code.push((lines[i] ?? "").replace(/^\s*\* ?/, ""));
    }
    const attributes = (open[2] ?? "").trim().split(/\s+/).filter(Boolean);
    const browser = text.startsWith('/// <reference lib="dom" />');
    examples.push({ where: `${path}:${start + 1}`, attributes, code: code.join("\n"), browser });
  }
  return examples;
}

/** A "Cannot find name" error (with or without a suggestion): a name the text around it gives. */
const UNBOUND = /^TS(?:2304|2552|2592) \[ERROR\]: Cannot find name '([^']+)'/;

/**
 * Type-checks examples in one `deno check`, each written to a temporary module beside the module
 * it documents (so its relative imports resolve as under `deno check --doc`, and `@heph/pg` through
 * deno.json). Returns each example's errors, in order. An example importing from JSR cannot be
 * loaded here: it gets no errors.
 */
async function typeErrors(examples: readonly Example[]): Promise<string[][]> {
  const files: string[] = [];
  const checked = examples.filter((example) => !/from "jsr:/.test(example.code));
  try {
    for (const example of checked) {
      const dir = `${ROOT}${example.where.slice(0, example.where.lastIndexOf("/") + 1)}`;
      const file = await Deno.makeTempFile({ dir, prefix: ".doc_example_", suffix: ".ts" });
      files.push(file);
      await Deno.writeTextFile(file, `${example.code}\nexport {};\n`);
    }
    const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-lock", ...files],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
    const report = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    // Anything but type errors (a module that does not load) would hide every example's errors.
    assert.doesNotMatch(report, /^error: (?!Type checking failed)/m, report);
    const errors = report.split(/\n(?=TS\d+ \[ERROR\])/).filter((e) => /^TS\d+ \[ERROR\]/.test(e));
    const of = (file: string | undefined) =>
      file === undefined ? [] : errors.filter((error) => error.includes(file.slice(ROOT.length)));
    return examples.map((example) => of(files[checked.indexOf(example)]));
  } finally {
    await Promise.all(files.map((file) => Deno.remove(file)));
  }
}

/** Why an example cannot run as a test, or null when it could; `errors` are its type errors. */
function whyNotRunnable(example: Example, errors: readonly string[]): string | null {
  const { code } = example;
  const database =
    /DATABASE_URL|OWNER_URL|postgres(?:ql)?:\/\/|\bpostgres\(|new pg\.(?:Pool|Client)\(|new PGlite\(/;
  if (database.test(code)) return "it makes a database client or connection";
  if (/from "jsr:/.test(code)) return "it imports from JSR";
  if (/Deno\.(?:test|serve)\(/.test(code)) return "it starts a test or a server";
  if (example.browser) return "it runs in a browser (its module is the dashboard's script)";
  if (/^export /m.test(code)) return "it is a module of its own (it exports)";
  if (/\bdeclare const\b/.test(code)) return "it declares a value it does not have";
  const unbound = [...new Set(errors.map((error) => UNBOUND.exec(error)?.[1]).filter(Boolean))];
  if (unbound.length > 0) return `a fragment using ${unbound.join(", ")}`;
  return null;
}

/** The skipped (`ts ignore`) examples of the published files, with their type errors (once). */
function skippedExamples(): Promise<{ example: Example; errors: string[] }[]> {
  return skippedOnce ??= findSkipped();
}
let skippedOnce: Promise<{ example: Example; errors: string[] }[]> | undefined;

async function findSkipped(): Promise<{ example: Example; errors: string[] }[]> {
  const skipped = [...(await publishedExamples()).values()].flat()
    .filter((example) => example.attributes.includes("ignore"));
  const errors = await typeErrors(skipped);
  return skipped.map((example, i) => ({ example, errors: errors[i] ?? [] }));
}

/** The published TypeScript files and their examples. */
async function publishedExamples(): Promise<Map<string, Example[]>> {
  const files = (await publishedFiles()).filter((f) => f.endsWith(".ts"));
  const all = new Map<string, Example[]>();
  for (const file of files) {
    all.set(file, examplesOf(file, await Deno.readTextFile(`${ROOT}${file}`)));
  }
  return all;
}

Deno.test("an example is skipped (ts ignore) only when it cannot run as a test", async () => {
  const skipped = await skippedExamples();
  const withoutReason = skipped.filter(({ example, errors }) => !whyNotRunnable(example, errors))
    .map(({ example }) => example.where);
  assert.deepEqual(withoutReason, [], "these could run under deno task test:doc");
  assert.ok(skipped.length > 10, `${skipped.length} skipped examples`);
});

Deno.test("a skipped example still type-checks, but for the names a fragment borrows", async () => {
  const wrong = (await skippedExamples())
    .filter(({ example }) => !/from "jsr:/.test(example.code))
    .flatMap(({ example, errors }) =>
      errors.filter((error) => !UNBOUND.test(error)).map((error) => `${example.where}: ${error}`)
    );
  assert.deepEqual(wrong, []);
});

Deno.test("deno task test:doc covers every published file with a runnable example", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const task: string = config.tasks["test:doc"];
  assert.match(task, /^deno test --doc /);
  const paths = task.split(/\s+/).filter((word) => !word.startsWith("-") && /\.ts$|\/$/.test(word));
  const covered = (file: string) =>
    paths.some((path) => path.endsWith("/") ? file.startsWith(path) : file === path);
  const missing: string[] = [];
  let runnable = 0;
  for (const [file, examples] of await publishedExamples()) {
    if (!examples.some((e) => !e.attributes.includes("ignore"))) continue;
    runnable++;
    if (!covered(file)) missing.push(file);
  }
  assert.deepEqual(missing, []);
  assert.ok(runnable > 20, `${runnable} files with runnable examples`);
});

/**
 * The lines of an example that show a result in a trailing comment instead of asserting it: a
 * value (`isStorableText("a"); // true`, `.map(…); // ["a"]`, `{ … }, // 1`), or any comment after
 * a bare expression statement (`decodeCursor(c); // the same position`). A comment that explains
 * a declaration, an assertion or an object's property stays
 * (`assert.match(cursor, /^[\w-]+$/); // URL-safe base64`).
 */
function resultComments(code: string): string[] {
  const value = /^(?:true|false|null|undefined|NaN|-?\d|["'`[{]|new [A-Z])/;
  const stated =
    /^(?:(?:export\s+)?(?:const|let|var|import|function|class)\b|(?:await\s+)?assert\b)/;
  return code.split("\n").filter((line) => {
    const trailing = /^\s*(\S.*?[;,)\]}])\s*\/\/\s*(.*)$/.exec(line);
    if (!trailing || line.trimStart().startsWith("//")) return false;
    const [, statement = "", comment = ""] = trailing;
    return value.test(comment) || (statement.endsWith(";") && !stated.test(statement));
  });
}

Deno.test("a run example asserts what it shows, not in a comment", async () => {
  const shown: string[] = [];
  let run = 0;
  for (const examples of (await publishedExamples()).values()) {
    for (const example of examples) {
      if (example.attributes.includes("ignore")) continue;
      run++;
      for (const line of resultComments(example.code)) shown.push(`${example.where}: ${line}`);
    }
  }
  assert.deepEqual(shown, [], "write these as assert.equal/deepEqual/ok, with the true value");
  assert.ok(run > 50, `${run} run examples`);
});

Deno.test("the scan tells a result in a comment from a comment that explains", () => {
  const results = [
    'isStorableText("a\\u0000b"); // false',
    'whereClause([]); // ""',
    '  .map((row) => row.id); // ["a", "b"]',
    "  { onQuery: (event) => console.log(event.rowCount) }, // 1",
    "document.at; // new Date(0)",
    "decodeCursor(encodeCursor(position)); // the same position",
    "const n = count(); // 3",
  ];
  assert.deepEqual(resultComments(results.join("\n")), results);
  const explained = [
    "assert.match(cursor, /^[\\w-]+$/); // URL-safe base64",
    'assert.ok("\\uffff" > "🙂"); // in UTF-16 code units',
    'const db = new PGlite(); // in memory; new PGlite("./data") persists to a directory',
    "// isStorableText(text); // a whole comment line",
    '  id: "order::1", // the key the engine chose',
    'assert.equal(isStorableText("a"), true);',
  ];
  assert.deepEqual(resultComments(explained.join("\n")), []);
});

Deno.test("the scan tells a fragment or a database example from one that could run", async () => {
  const example = (code: string): Example => ({
    where: "src/doc_example.ts:1",
    attributes: [],
    code,
  });
  const cases = [
    example('import { newInstance } from "@heph/pg";\n\nnewInstance({ id: "a", workflow: "W" });'),
    example("const { count } = await storage.estimateCount();"),
    example('const pool = new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") });'),
    example('import { Pool } from "jsr:@db/postgres";'),
    example('import { validateId } from "./validation.ts";\n\nvalidateId("a");'),
  ];
  const errors = await typeErrors(cases);
  assert.deepEqual(cases.map((c, i) => whyNotRunnable(c, errors[i] ?? [])), [
    null,
    "a fragment using storage",
    "it makes a database client or connection",
    "it imports from JSR",
    null,
  ]);
  const broken = example('import { validateId } from "./validation.ts";\n\nvalidateId(1, 2, 3);');
  assert.equal((await typeErrors([broken]))[0]?.length, 1, "a wrong call is a type error");
});
