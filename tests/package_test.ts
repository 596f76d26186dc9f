/**
 * The package as users get it: the files `deno publish` would upload, copied alone into a
 * temporary directory, and the CLI run from another directory (no config, no lock, no clone
 * around it) with the permissions README names. Checks that the published list holds the CLI and
 * the dashboard handler, and that `--help`, `migrate --sql`, the refusal without a database,
 * and migrate/inspect against a server behave as documented.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { MIGRATIONS } from "../mod.ts";
import { publishedFiles } from "./support/published.ts";
import { withTestSchema } from "./support/test_db.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
const LATEST = MIGRATIONS.at(-1)!.version;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

Deno.test("the published package, run from another directory", async (t) => {
  const files = await publishedFiles();
  const tmp = await Deno.makeTempDir({ prefix: "heph-package-" });
  const pkg = join(tmp, "pkg");
  const elsewhere = join(tmp, "elsewhere");
  await Deno.mkdir(elsewhere);
  await Deno.copyFile(join(ROOT, "deno.lock"), join(tmp, "deno.lock"));
  for (const file of files) {
    await Deno.mkdir(dirname(join(pkg, file)), { recursive: true });
    await Deno.copyFile(join(ROOT, file), join(pkg, file));
  }
  /** `deno run <permissions> <package>/cli/main.ts …args` from `elsewhere`. */
  const cli = async (permissions: string[], args: string[], env = {}): Promise<Run> => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        // The package's own locked versions (a copy: the run may write to it), not whatever
        // npm holds today: the test is about paths and flags, not about new releases.
        `--lock=${join(tmp, "deno.lock")}`,
        "--config",
        join(pkg, "deno.json"),
        ...permissions,
        join(pkg, "cli/main.ts"),
        ...args,
      ],
      cwd: elsewhere,
      env: { NO_COLOR: "1", DATABASE_URL: "", ...env },
      stdin: "null",
    }).output();
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code, stdout: text(stdout), stderr: text(stderr) };
  };
  const SERVER = ["--allow-net", "--allow-env"];
  const nothingCreated = async () =>
    assert.deepEqual(await Array.fromAsync(Deno.readDir(elsewhere)), []);

  try {
    await t.step("the published files hold the CLI and the dashboard handler, no tests", () => {
      const config = JSON.parse(Deno.readTextFileSync(join(pkg, "deno.json")));
      assert.equal(config.exports["./cli"], "./cli/main.ts");
      assert.equal(config.exports["./dashboard"], "./cli/dashboard/handler.ts");
      for (const path of Object.values(config.exports) as string[]) {
        assert.ok(files.includes(path.slice(2)), path);
      }
      assert.ok(!files.some((f) => /^(tests|runtime_tests|bench\/.*\.ts)/.test(f)), "no tests");
    });

    await t.step("--help lists the commands; each command has --help", async () => {
      const help = await cli([], ["--help"]);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^Usage: deno run -A jsr:@heph\/pg\/cli <command> \[options\]/);
      for (const name of ["migrate", "inspect", "dashboard", "demo", "neon-local"]) {
        assert.match(help.stdout, new RegExp(`^  ${name} `, "m"));
        const own = await cli([], [name, "--help"]);
        assert.equal(own.code, 0, own.stderr);
        assert.match(own.stdout, new RegExp(`^Usage: deno run -A jsr:@heph/pg/cli ${name}`));
      }
      const unknown = await cli([], ["frobnicate"]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /^error: unknown command "frobnicate"/);
    });

    await t.step("migrate --sql needs no database and no permission", async () => {
      const run = await cli([], ["migrate", "--sql", "--schema", "tenant_a"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^BEGIN;$/m);
      assert.match(run.stdout, /CREATE TABLE IF NOT EXISTS "tenant_a"\.heph_migrations/);
      assert.match(run.stdout, /^COMMIT;$/m);
    });

    await t.step("without a database, migrate, inspect and dashboard refuse (exit 2)", async () => {
      for (const args of [["migrate"], ["inspect", "stats"], ["dashboard"]]) {
        const run = await cli(["--allow-env", "--allow-read", "--allow-write"], args);
        assert.equal(run.code, 2, run.stderr);
        assert.equal(
          run.stderr,
          "error: no database: pass --url <url> or set DATABASE_URL (or --embedded for a local PGlite database)\n",
        );
        await nothingCreated();
      }
    });

    await t.step("migrate and inspect against a server, with --allow-net --allow-env", async () => {
      const { url, schema, drop } = await withTestSchema("pkg");
      try {
        const migrated = await cli(SERVER, ["migrate", "--schema", schema], { DATABASE_URL: url });
        assert.equal(migrated.code, 0, migrated.stderr);
        assert.match(migrated.stdout, new RegExp(`schema ${schema} is at version ${LATEST}\n$`));
        const stats = await cli(SERVER, ["inspect", "stats", "--url", url, "--schema", schema]);
        assert.equal(stats.code, 0, stats.stderr);
        assert.match(stats.stdout, new RegExp(`^schema ${schema}: 0 instances`));
        const list = await cli(SERVER, ["inspect", "list", "--url", url, "--schema", schema]);
        assert.equal(list.stdout, "no instances match\n");
        await nothingCreated();
      } finally {
        await drop();
      }
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the package's deno.lock locks only what the package and its demo use", async () => {
  // Deno fetches every package of the lock on a first run: test-only tooling lives in the
  // suites' own locks (tests/deno.lock, runtime_tests/deno.lock, tests/browser/deno.lock).
  const lock = JSON.parse(await Deno.readTextFile(new URL("../deno.lock", import.meta.url)));
  const names = Object.keys(lock.specifiers).map((s) => s.replace(/^npm:(@?[^@]+)@.*$/, "$1"));
  assert.deepEqual(
    names.sort(),
    // @opentelemetry/api: imported by the published @heph/pg/otel module (no dependencies, ~1 MB).
    ["@electric-sql/pglite", "@neondatabase/serverless", "@opentelemetry/api", "pg", "postgres"],
    "deno.lock gained a package: a suite ran without its --lock (see deno.json's tasks); " +
      "restore deno.lock from git",
  );
});

Deno.test("the dashboard handler's modules use no Deno API (it runs on Node, Bun, Workers)", async () => {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../cli/dashboard/handler.ts", import.meta.url).pathname],
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(stdout));
  const local = graph.modules.map((m: { specifier: string }) => m.specifier)
    .filter((specifier: string) => specifier.startsWith("file:"));
  assert.ok(local.length > 5, "the handler's module graph");
  for (const specifier of local) {
    const code = (await Deno.readTextFile(new URL(specifier)))
      .replace(/\/\*[\s\S]*?\*\//g, "") // doc comments hold Deno examples
      .replace(/^\s*\/\/.*$/gm, "");
    assert.doesNotMatch(code, /\bDeno\./, specifier);
  }
});
