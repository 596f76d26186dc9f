/**
 * README.md runs as written: every TypeScript block type-checks with its `jsr:@heph/pg…` imports
 * mapped to this repository's exports, the Quick start runs against a database of its own with
 * the command and permissions README shows and exits by itself (its pool ended), and every
 * relative link points at a file the package publishes. The Node and Bun snippet runs too (in
 * Deno, which provides Node's `process`; examples/node and examples/bun run in Node and Bun).
 *
 * Blocks that are fragments use names README introduced earlier (`driver`, `storage`, `pool`,
 * `logger`, your engine's `advance`): each gets declarations of those it uses and does not
 * declare itself, and imports of the package's exports it uses without importing.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as api from "../mod.ts";
import { publishedFiles } from "./support/published.ts";
import { testDatabaseUrl } from "./support/test_db.ts";

const ROOT = new URL("../", import.meta.url);
const README = await Deno.readTextFile(new URL("README.md", ROOT));
const CONFIG = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
/** The package's config and the tests' lock: the packages at the versions everything else uses. */
const LOCKED = [
  `--config=${new URL("deno.json", ROOT).pathname}`,
  `--lock=${new URL("tests/deno.lock", ROOT).pathname}`,
];

interface Block {
  line: number;
  section: string;
  code: string;
}

/** The ```ts (or `lang`) blocks, with their first line and section (## heading). */
function typescriptBlocks(markdown: string, lang = "ts"): Block[] {
  const blocks: Block[] = [];
  let section = "";
  let open: Block | undefined;
  markdown.split("\n").forEach((text, i) => {
    if (open) {
      if (text.startsWith("```")) {
        blocks.push(open);
        open = undefined;
      } else open.code += `${text}\n`;
    } else if (text.startsWith("## ")) section = text.slice(3);
    else if (text === "```" + lang) open = { line: i + 1, section, code: "" };
  });
  return blocks;
}

/**
 * `jsr:@heph/pg` and its subpaths → this repository's files; deno-postgres → its declaration;
 * `npm:<name>` of a driver package → deno.json's import of it (the locked version).
 */
function mapImports(code: string): string {
  return code.replace(/(["'])(?:jsr:)?@heph\/pg(\/[a-z-]+)?\1/g, (_, quote, subpath = "") => {
    const target = CONFIG.exports[`.${subpath}`];
    assert.ok(target, `README imports jsr:@heph/pg${subpath}, which is not exported`);
    return `${quote}${new URL(target, ROOT).href}${quote}`;
  }).replace(
    /"jsr:@db\/postgres"/g,
    JSON.stringify(new URL("tests/support/readme/db_postgres.ts", ROOT).href),
  ).replace(/"npm:(@?[^"@]+)"/g, (whole, name) => name in CONFIG.imports ? `"${name}"` : whole);
}

/** What README's fragments may use without declaring it. */
const ASSUMED: Record<string, string> = {
  driver: "declare const driver: __heph.SqlDriver;",
  ownerDriver: "declare const ownerDriver: __heph.SqlDriver;",
  myDriver: "declare const myDriver: __heph.SqlDriver;",
  storage: "declare const storage: __heph.PgStorage;",
  pool: "declare const pool: { on(event: 'error', listener: (error: Error) => void): void };",
  logger:
    "declare const logger: { debug(...args: unknown[]): void; warn(...args: unknown[]): void };",
  advance: "declare function advance(instance: __heph.StoredInstance): void;",
  instance: "declare const instance: __heph.WorkflowInstance;",
  sql: 'declare const sql: import("postgres").Sql;',
  db: 'declare const db: import("@electric-sql/pglite").PGlite;',
  client: `declare const client: { createTransaction(name: string): {
    begin(): Promise<void>;
    commit(): Promise<void>;
    queryObject(text: string, args?: unknown[]): Promise<unknown>;
  } & import(${
    JSON.stringify(new URL("drivers/deno_postgres.ts", ROOT).href)
  }).DenoPostgresClient };`,
  myTracer:
    "declare const myTracer: { trace<T>(name: string, attributes: Record<string, string>, run: () => Promise<T>): Promise<T> };",
  PRIMARY_URL: "declare const PRIMARY_URL: string;",
  REPLICA_URL: "declare const REPLICA_URL: string;",
};

/** The block as a module: declarations and imports it relies on, then the block. */
function asModule(code: string): string {
  const mapped = mapImports(code);
  const imports = [...mapped.matchAll(/^import\b[^;]*?from\s+["'][^"']+["'];?/gms)]
    .map((m) => m[0]).join("\n");
  const declares = (name: string) =>
    new RegExp(`\\b(const|let|var|function|class)\\s+${name}\\b`).test(mapped) ||
    new RegExp(`\\b(const|let|var)\\s*\\{[^}]*\\b${name}\\b[^}]*\\}\\s*=`).test(mapped) ||
    new RegExp(`\\b${name}\\b`).test(imports);
  const uses = (name: string) => new RegExp(`(?<![.\\w])${name}\\b`).test(mapped);
  const prelude = [`import type * as __heph from ${JSON.stringify(new URL("mod.ts", ROOT).href)};`];
  const fromApi = Object.keys(api).filter((name) => uses(name) && !declares(name));
  if (fromApi.length > 0) {
    prelude.push(
      `import { ${fromApi.join(", ")} } from ${JSON.stringify(new URL("mod.ts", ROOT).href)};`,
    );
  }
  for (const [name, declaration] of Object.entries(ASSUMED)) {
    if (uses(name) && !declares(name)) prelude.push(declaration);
  }
  return `${prelude.join("\n")}\n${mapped}\nexport {};\n`;
}

/**
 * Runs `work` with a database of its own (README's code uses the public schema) and a temporary
 * directory; both are removed afterwards.
 */
async function withOwnDatabase(
  prefix: string,
  work: (url: string, dir: string) => Promise<void>,
): Promise<void> {
  const url = new URL(await testDatabaseUrl());
  const database = `${prefix}_${crypto.randomUUID().slice(0, 8)}`;
  const { default: pg } = await import("pg");
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: url.href });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${database}`);
  const dir = await Deno.makeTempDir({ prefix: `${prefix}-` });
  try {
    const own = new URL(url.href);
    own.pathname = `/${database}`;
    await work(own.href, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

const blocks = typescriptBlocks(README);
const quickStart = blocks.find((b) => b.section === "Quick start");

Deno.test("README's TypeScript blocks type-check against this repository's exports", async () => {
  assert.ok(blocks.length >= 10, `found ${blocks.length} blocks`);
  assert.ok(quickStart, "a TypeScript block under ## Quick start");
  const dir = await Deno.makeTempDir({ prefix: "heph-readme-" });
  try {
    const files = [];
    for (const block of blocks) {
      const file = `${dir}/readme_line_${block.line}.ts`;
      await Deno.writeTextFile(file, asModule(block.code));
      files.push(file);
    }
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", ...LOCKED, ...files],
      cwd: dir,
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(
      code,
      0,
      `README blocks failed to type-check (file names give the line):\n${text}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README's Quick start runs as shown and exits by itself", async () => {
  const command = README.match(/^DATABASE_URL=\S+ (deno run [^\n]*quick_start\.ts)$/m)?.[1];
  assert.ok(command, "README shows the command that runs quick_start.ts");
  const permissions = command.split(" ").slice(2, -1);
  assert.ok(permissions.every((flag) => flag.startsWith("--allow-")), command);

  await withOwnDatabase("heph_readme", async (ownUrl, dir) => {
    const file = `${dir}/quick_start.ts`;
    // The check appended after the block: the pool it opened has been ended.
    await Deno.writeTextFile(
      file,
      `${
        mapImports(quickStart!.code)
      }\nconsole.log("pool ended:", (pool as unknown as { ended: boolean }).ended);\n`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...LOCKED, ...permissions, file],
      cwd: dir,
      env: { NO_COLOR: "1", DATABASE_URL: ownUrl },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const guard = setTimeout(() => child.kill("SIGKILL"), 120_000); // a hang fails, not blocks
    const { code, stdout, stderr } = await child.output();
    clearTimeout(guard);
    const out = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal(out, "pending 1\npool ended: true\n");
  });
});

Deno.test("README's relative links point at published files", async () => {
  const published = new Set(await publishedFiles());
  const links = [...README.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1] ?? "")
    .filter((target) => !/^[a-z]+:/.test(target));
  assert.ok(links.length > 0);
  for (const target of links) {
    assert.ok(published.has(target), `${target} is linked from README but not published`);
  }
});

Deno.test("README's Node and Bun snippet runs (here in Deno, whose `process` is Node's)", async () => {
  const snippet = typescriptBlocks(README, "js").find((b) => b.section === "Install");
  assert.ok(snippet, "a JavaScript block under ## Install");
  assert.match(snippet.code, /await pool\.end\(\);\n$/);
  await withOwnDatabase("heph_readme_js", async (ownUrl, dir) => {
    await Deno.writeTextFile(`${dir}/app.mjs`, mapImports(snippet.code));
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...LOCKED, "--allow-net", "--allow-env", `${dir}/app.mjs`],
      cwd: dir,
      env: { NO_COLOR: "1", DATABASE_URL: ownUrl },
      stdin: "null",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal(new TextDecoder().decode(stdout), "pending\n");
  });
});
