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
    examples.push({ where: `${path}:${start + 1}`, attributes, code: code.join("\n") });
  }
  return examples;
}

/**
 * The names an example uses but neither imports nor declares, as the type checker reports them
 * (the example written to a temporary module beside deno.json, so `@heph/pg` resolves).
 */
async function unboundNames(code: string): Promise<string[]> {
  const file = await Deno.makeTempFile({ dir: ROOT, prefix: ".doc_example_", suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, `${code}\nexport {};\n`);
    const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-lock", file],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    return [...new Set([...text.matchAll(/Cannot find name '([^']+)'/g)].map(([, n]) => n ?? ""))];
  } finally {
    await Deno.remove(file);
  }
}

/** Why an example cannot run as a test, or null when it could. */
async function whyNotRunnable(code: string): Promise<string | null> {
  const database =
    /DATABASE_URL|OWNER_URL|postgres(?:ql)?:\/\/|\bpostgres\(|new pg\.(?:Pool|Client)\(|new PGlite\(/;
  if (database.test(code)) return "it makes a database client or connection";
  if (/from "jsr:/.test(code)) return "it imports from JSR";
  if (/Deno\.(?:test|serve)\(/.test(code)) return "it starts a test or a server";
  if (/\bdeclare const\b/.test(code)) return "it declares a value it does not have";
  const unbound = await unboundNames(code);
  if (unbound.length > 0) return `a fragment using ${unbound.join(", ")}`;
  return null;
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
  const skippedWithoutReason: string[] = [];
  let skipped = 0;
  for (const examples of (await publishedExamples()).values()) {
    for (const example of examples) {
      if (!example.attributes.includes("ignore")) continue;
      skipped++;
      if (await whyNotRunnable(example.code) === null) skippedWithoutReason.push(example.where);
    }
  }
  assert.deepEqual(skippedWithoutReason, [], "these could run under deno task test:doc");
  assert.ok(skipped > 0, "the scan finds the skipped examples");
});

Deno.test("a skipped example still type-checks, but for the names a fragment borrows", async () => {
  const skipped: { example: Example; file: string }[] = [];
  try {
    for (const [path, examples] of await publishedExamples()) {
      for (const example of examples) {
        if (!example.attributes.includes("ignore") || /from "jsr:/.test(example.code)) continue;
        // Beside its module, so the example's relative imports resolve as in `deno check --doc`.
        const dir = `${ROOT}${path.slice(0, path.lastIndexOf("/") + 1)}`;
        const file = await Deno.makeTempFile({ dir, prefix: ".doc_example_", suffix: ".ts" });
        skipped.push({ example, file });
        await Deno.writeTextFile(file, `${example.code}\nexport {};\n`);
      }
    }
    assert.ok(skipped.length > 10, `${skipped.length} skipped examples`);
    const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-lock", ...skipped.map(({ file }) => file)],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
    const report = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    const errors = report.split(/\n(?=TS\d+ \[ERROR\])/).filter((e) => /^TS\d+ \[ERROR\]/.test(e))
      // "Cannot find name" (with or without a suggestion): a fragment's borrowed name.
      .filter((error) => !/^TS(?:2304|2552|2592) /.test(error))
      .map((error) =>
        skipped.reduce((text, { example, file }) => text.replaceAll(file, example.where), error)
      );
    assert.deepEqual(errors, []);
  } finally {
    await Promise.all(skipped.map(({ file }) => Deno.remove(file)));
  }
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
  const runnable =
    'import { newInstance } from "@heph/pg";\n\nnewInstance({ id: "a", workflow: "W" });';
  assert.equal(await whyNotRunnable(runnable), null);
  assert.equal(
    await whyNotRunnable("const { count } = await storage.estimateCount();"),
    "a fragment using storage",
  );
  assert.equal(
    await whyNotRunnable(
      'const pool = new pg.Pool({ connectionString: Deno.env.get("DATABASE_URL") });',
    ),
    "it makes a database client or connection",
  );
  assert.equal(
    await whyNotRunnable('import { Pool } from "jsr:@db/postgres";'),
    "it imports from JSR",
  );
});
