/**
 * The CLI's `migrate` (cli/migrate.ts through cli/main.ts, as `deno task migrate` runs it), as a
 * subprocess against the test database; and every command's refusal without a database.
 *
 * @module
 */
import assert from "node:assert/strict";
import type pg from "pg";
import { MIGRATIONS } from "../mod.ts";
import { assertOneLineError, type Run, runTask } from "./support/cli_run.ts";
import { testDatabaseUrl, withTestSchema } from "./support/test_db.ts";
import { nth } from "./support/nth.ts";

const MIGRATION_1 = "create_workflow_instances";
const LATEST = MIGRATIONS.at(-1)!.version;
/** What migrating an empty schema prints: migration 1 and any later one. */
const applyAll = (schema: string) => [
  ...MIGRATIONS.map(({ version, name }) => `applied ${version} ${name}`),
  `schema ${schema} is at version ${LATEST}`,
];

/** Runs `deno task migrate` with `args`, adding `env`, from the project directory or `cwd`. */
function cli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  return runTask("migrate", args, { env, cwd });
}

/** Applies a script with psql, stopping at the first error. */
async function psql(url: string, script: string): Promise<void> {
  const child = new Deno.Command("psql", {
    args: ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
}

async function exists(pool: pg.Pool, relation: string): Promise<boolean> {
  const { rows } = await pool.query("SELECT to_regclass($1)::text AS name", [relation]);
  return rows[0].name !== null;
}

/** Gives a test its own schema on the test database, dropped afterwards. */
async function withSchema(
  test: (db: { url: string; schema: string; pool: pg.Pool }) => Promise<void>,
): Promise<void> {
  const db = await withTestSchema("cli");
  try {
    await test(db);
  } finally {
    await db.drop();
  }
}

Deno.test("deno task migrate against a database", async (t) => {
  await t.step(
    "migrate applies migration 1 (and any later one) and reports it",
    () =>
      withSchema(async ({ url, schema, pool }) => {
        const run = await cli(["--schema", schema], { DATABASE_URL: url });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stderr, "");
        assert.equal(run.lines[0], `applied 1 ${MIGRATION_1}`);
        assert.deepEqual(run.lines, applyAll(schema));
        assert.ok(await exists(pool, `"${schema}".workflow_instances`));
        const { rows } = await pool.query(
          `SELECT version, name FROM "${schema}".heph_migrations ORDER BY version`,
        );
        assert.deepEqual(rows, MIGRATIONS.map(({ version, name }) => ({ version, name })));
      }),
  );

  await t.step(
    "--distribute without the citus extension is refused and creates nothing",
    () =>
      withSchema(async ({ url, schema, pool }) => {
        const { rows } = await pool.query("SELECT 1 FROM pg_extension WHERE extname = 'citus'");
        if (rows.length > 0) return; // this database has Citus: tests/citus_test.ts covers it
        const run = await cli(["--schema", schema, "--distribute"], { DATABASE_URL: url });
        assertOneLineError(run, 1, /the citus extension is not installed/);
        assert.equal(await exists(pool, `"${schema}".workflow_instances`), false);
      }),
  );

  await t.step(
    "--url takes precedence over DATABASE_URL",
    () =>
      withSchema(async ({ url, schema, pool }) => {
        const unreachable = "postgres://postgres@127.0.0.1:1/test";
        const run = await cli(["--url", url, "--schema", schema], { DATABASE_URL: unreachable });
        assert.equal(run.code, 0, run.stderr);
        assert.ok(await exists(pool, `"${schema}".workflow_instances`));
      }),
  );

  await t.step(
    "running twice applies nothing the second time",
    () =>
      withSchema(async ({ url, schema }) => {
        assert.equal((await cli(["--url", url, "--schema", schema])).code, 0);
        const second = await cli(["--url", url, "--schema", schema]);
        assert.equal(second.code, 0, second.stderr);
        assert.deepEqual(second.lines, [`schema ${schema} is already at version ${LATEST}`]);
      }),
  );

  await t.step("--to 0 reverts", () =>
    withSchema(async ({ url, schema, pool }) => {
      assert.equal((await cli(["--url", url, "--schema", schema])).code, 0);
      const run = await cli(["--url", url, "--schema", schema, "--to", "0"]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.lines, [
        ...MIGRATIONS.toReversed().map(({ version, name }) => `reverted ${version} ${name}`),
        `schema ${schema} is at version 0`,
      ]);
      assert.equal(await exists(pool, `"${schema}".workflow_instances`), false);
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM "${schema}".heph_migrations`,
      );
      assert.equal(rows[0].n, 0);
    }));

  await t.step(
    "--dry-run prints SQL and changes nothing",
    () =>
      withSchema(async ({ url, schema, pool }) => {
        const run = await cli(["--url", url, "--schema", schema, "--dry-run"]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.lines[0], `-- up 1 ${MIGRATION_1}`);
        assert.match(run.stdout, new RegExp(`CREATE TABLE "${schema}"\\.workflow_instances`));
        assert.equal(
          run.lines.at(-1),
          `-- dry run: schema ${schema} would be at version ${LATEST}; nothing was changed`,
        );
        assert.equal(await exists(pool, `"${schema}".workflow_instances`), false);
        const { rows } = await pool.query(
          "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1",
          [schema],
        );
        assert.equal(rows[0].n, 0, "the schema was not even created");
      }),
  );

  await t.step(
    "--dry-run --to 0 prints the down SQL and keeps the table",
    () =>
      withSchema(async ({ url, schema, pool }) => {
        assert.equal((await cli(["--url", url, "--schema", schema])).code, 0);
        const run = await cli(["--url", url, "--schema", schema, "--dry-run", "--to", "0"]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.lines[0], `-- down ${LATEST} ${MIGRATIONS.at(-1)!.name}`);
        assert.match(run.stdout, /DROP TABLE/);
        assert.ok(await exists(pool, `"${schema}".workflow_instances`));
      }),
  );

  await t.step(
    "--status lists applied and pending",
    () =>
      withSchema(async ({ url, schema, pool }) => {
        const before = await cli(["--url", url, "--schema", schema, "--status"]);
        assert.equal(before.code, 0, before.stderr);
        assert.deepEqual(before.lines, [
          `schema ${schema} is at version 0 of ${LATEST}`,
          ...MIGRATIONS.map(({ version, name }) => `  pending  ${version} ${name}`),
        ]);
        assert.equal(await exists(pool, `"${schema}".heph_migrations`), false);

        assert.equal((await cli(["--url", url, "--schema", schema])).code, 0);
        const after = await cli(["--url", url, "--schema", schema, "--status"]);
        assert.equal(after.code, 0, after.stderr);
        assert.equal(after.lines.length, 1 + MIGRATIONS.length, after.stdout);
        assert.equal(after.lines[0], `schema ${schema} is at version ${LATEST} of ${LATEST}`);
        MIGRATIONS.forEach(({ version, name }, i) => {
          const applied = nth(after.lines, 1 + i).match(/^ {2}applied {2}(\d+) (\S+) {2}(\S+)$/);
          assert.ok(applied, after.lines[1 + i]);
          const [, number = "", migration, at = ""] = applied;
          assert.deepEqual([Number(number), migration], [version, name]);
          assert.ok(Math.abs(Date.parse(at) - Date.now()) < 60_000, at);
        });
      }),
  );

  await t.step(
    "a changed migration is flagged by --status and refused by migrate",
    () =>
      withSchema(async ({ url, schema, pool }) => {
        assert.equal((await cli(["--url", url, "--schema", schema])).code, 0);
        await pool.query(`UPDATE "${schema}".heph_migrations SET checksum = 'tampered'`);
        const status = await cli(["--url", url, "--schema", schema, "--status"]);
        assert.equal(status.code, 0, status.stderr);
        assert.match(
          nth(status.lines, 1),
          /^ {2}applied {2}1 create_workflow_instances .* CHANGED$/,
        );
        assertOneLineError(
          await cli(["--url", url, "--schema", schema]),
          1,
          /checksum mismatch for applied migration 1/i,
        );
        assertOneLineError(
          await cli(["--url", url, "--schema", schema, "--dry-run"]),
          1,
          /checksum mismatch for applied migration 1/i,
        );
      }),
  );

  await t.step("an invalid schema name is refused", () =>
    withSchema(async ({ url, pool }) => {
      const line = assertOneLineError(
        await cli(["--url", url, "--schema", "Bad-Name"]),
        1,
        /Invalid schema: "Bad-Name"/,
      );
      assert.doesNotMatch(line, /Error:|ValidationError/);
      assert.equal(await exists(pool, `"Bad-Name".workflow_instances`), false);
    }));

  await t.step(
    "--to beyond the latest version is a usage error (exit 2), nothing created",
    () =>
      withSchema(async ({ url, schema, pool }) => {
        for (const to of [String(LATEST + 1), "99"]) {
          assertOneLineError(
            await cli(["--url", url, "--schema", schema, "--to", to]),
            2,
            new RegExp(`--to expects a version number from 0 to ${LATEST}, got "${to}"`),
          );
        }
        assert.equal(await exists(pool, `"${schema}".heph_migrations`), false);
      }),
  );

  await t.step(
    "--sql prints a script that psql applies, after which --status is up to date",
    () =>
      withSchema(async ({ url, schema, pool }) => {
        const script = await cli(["--sql", "--schema", schema]);
        assert.equal(script.code, 0, script.stderr);
        assert.equal(script.stderr, "");
        assert.match(script.stdout, /^-- @heph\/pg: /);
        assert.match(
          script.stdout,
          new RegExp(`CREATE TABLE IF NOT EXISTS "${schema}"\\.heph_migrations`),
        );
        await psql(url, script.stdout);

        const status = await cli(["--url", url, "--schema", schema, "--status"]);
        assert.equal(status.code, 0, status.stderr);
        assert.equal(status.lines[0], `schema ${schema} is at version ${LATEST} of ${LATEST}`);
        assert.equal(status.lines.filter((l) => / {2}applied {2}/.test(l)).length, LATEST);
        assert.doesNotMatch(status.stdout, /CHANGED|pending/);
        const again = await cli(["--url", url, "--schema", schema]);
        assert.deepEqual(again.lines, [`schema ${schema} is already at version ${LATEST}`]);
        assert.ok(await exists(pool, `"${schema}".workflow_instances`));
      }),
  );

  await t.step(
    "--sql --to 1, then --sql --from 1: the upgrade leaves --status up to date",
    () =>
      withSchema(async ({ url, schema }) => {
        const first = await cli(["--sql", "--to", "1", "--schema", schema]);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /-- up 1 create_workflow_instances/);
        assert.doesNotMatch(first.stdout, /-- up 2 /);
        await psql(url, first.stdout);
        const middle = await cli(["--url", url, "--schema", schema, "--status"]);
        assert.equal(middle.lines[0], `schema ${schema} is at version 1 of ${LATEST}`);
        const rest = await cli(["--sql", "--from", "1", "--schema", schema]);
        assert.equal(rest.code, 0, rest.stderr);
        assert.doesNotMatch(rest.stdout, /-- up 1 /);
        await psql(url, rest.stdout);
        const status = await cli(["--url", url, "--schema", schema, "--status"]);
        assert.equal(status.lines[0], `schema ${schema} is at version ${LATEST} of ${LATEST}`);
        assert.doesNotMatch(status.stdout, /CHANGED|pending/);
      }),
  );

  await t.step("--sql misuse is a usage error", async () => {
    assertOneLineError(await cli(["--from", "1"]), 2, /--from applies to --sql/);
    assertOneLineError(await cli(["--sql", "--from", "2", "--to", "1"]), 2, /--from expects/);
    assertOneLineError(
      await cli(["--sql", "--url", "postgres://h/db"]),
      2,
      /--sql needs no database: it cannot be combined with --url/,
    );
    assertOneLineError(await cli(["--sql", "--schema", "Bad"]), 1, /Invalid schema: "Bad"/);
  });
});

Deno.test("deno task migrate --grant <role>", async (t) => {
  /** Runs `test` with a login role of its own, dropped afterwards. */
  const withRole = (
    test: (db: { url: string; schema: string; pool: pg.Pool }, role: string) => Promise<void>,
  ) =>
    withSchema(async (db) => {
      const role = `${db.schema}_app`;
      await db.pool.query(`CREATE ROLE "${role}" LOGIN`);
      try {
        await test(db, role);
      } finally {
        await db.pool.query(`DROP OWNED BY "${role}"`);
        await db.pool.query(`DROP ROLE "${role}"`);
      }
    });
  const granted = async (pool: pg.Pool, role: string, schema: string) =>
    (await pool.query(
      `SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p
        WHERE to_regclass($2) IS NOT NULL AND has_table_privilege($1, $2, p)
       UNION ALL
       SELECT 'schema ' || p FROM unnest(ARRAY['USAGE', 'CREATE']) AS p
        WHERE has_schema_privilege($1, $3, p)`,
      [role, `"${schema}".workflow_instances`, schema],
    ).catch(() => ({ rows: [] }))).rows.map((r: { p: string }) => r.p);

  await t.step(
    "migrates, then gives the role exactly what PgStorage needs",
    () =>
      withRole(async ({ url, schema, pool }, role) => {
        const run = await cli(["--url", url, "--schema", schema, "--grant", role]);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(run.lines, [
          ...applyAll(schema),
          `granted role ${role} USAGE on schema ${schema} and SELECT, INSERT, UPDATE, DELETE on ${schema}.workflow_instances, nothing else`,
        ]);
        assert.deepEqual(await granted(pool, role, schema), [
          "SELECT",
          "INSERT",
          "UPDATE",
          "DELETE",
          "schema USAGE",
        ]);
        const again = await cli(["--url", url, "--schema", schema, "--grant", role]);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(again.lines[0], `schema ${schema} is already at version ${LATEST}`);
      }),
  );

  await t.step(
    "--dry-run prints the REVOKE and GRANT statements and changes nothing",
    () =>
      withRole(async ({ url, schema, pool }, role) => {
        const run = await cli(["--url", url, "--schema", schema, "--grant", role, "--dry-run"]);
        assert.equal(run.code, 0, run.stderr);
        const at = run.lines.indexOf(`-- grant runtime access to role ${role}`);
        assert.ok(at > 0, run.stdout);
        assert.deepEqual(run.lines.slice(at + 1, at + 7), [
          "BEGIN;",
          `REVOKE ALL ON TABLE "${schema}".workflow_instances FROM "${role}";`,
          `REVOKE ALL ON SCHEMA "${schema}" FROM "${role}";`,
          `GRANT USAGE ON SCHEMA "${schema}" TO "${role}";`,
          `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "${schema}".workflow_instances TO "${role}";`,
          "COMMIT;",
        ]);
        assert.equal(
          run.lines.at(-1),
          `-- dry run: schema ${schema} would be at version ${LATEST}; nothing was changed`,
        );
        assert.equal(await exists(pool, `"${schema}".workflow_instances`), false);
        assert.deepEqual(await granted(pool, role, schema), []);
      }),
  );

  await t.step(
    "a reserved, missing or superuser role is one line on stderr, exit 1",
    () =>
      withSchema(async ({ url, schema, pool }) => {
        assertOneLineError(
          await cli(["--url", url, "--schema", schema, "--grant", "public"]),
          1,
          /Invalid role: "public" is reserved/,
        );
        assert.equal(await exists(pool, `"${schema}".workflow_instances`), false, "not migrated");
        assertOneLineError(
          await cli(["--url", url, "--schema", schema, "--grant", `${schema}_ghost`]),
          1,
          /Role \w+ does not exist: create it first/,
        );
        const { rows: [{ user, rolsuper }] } = await pool.query(
          "SELECT current_user AS user, rolsuper FROM pg_roles WHERE rolname = current_user",
        );
        if (rolsuper) {
          assertOneLineError(
            await cli(["--url", url, "--schema", schema, "--grant", user]),
            1,
            /is a superuser, whom no privilege restricts/,
          );
        }
      }),
  );

  await t.step("--grant with --status or --to 0 exits 2", async () => {
    assertOneLineError(await cli(["--grant", "app", "--status"]), 2, /--grant cannot be combined/);
    assertOneLineError(await cli(["--grant", "app", "--to", "0"]), 2, /--grant needs the table/);
  });
});

Deno.test("deno task migrate without a working database", async (t) => {
  await t.step("an unreachable database prints one line and exits non-zero", async () => {
    const run = await cli(["--url", "postgres://postgres:s3cret@127.0.0.1:1/test"]);
    const line = assertOneLineError(run, 1, /./);
    assert.equal(line, "error: cannot reach the database at 127.0.0.1:1: connection refused");
    assert.equal(run.stdout, "");
  });

  await t.step("bad credentials / unknown database prints one line", async () => {
    const url = await testDatabaseUrl();
    const bad = new URL(url);
    bad.password = "s3cret";
    bad.pathname = "/no_such_db_xyz";
    const run = await cli([], { DATABASE_URL: bad.href });
    const line = assertOneLineError(run, 1, /^error: cannot connect to the database at /);
    assert.match(line, /database "no_such_db_xyz" does not exist/);
    assert.doesNotMatch(run.stderr + run.stdout, /s3cret/);

    const role = new URL(url);
    role.username = "no_such_role_xyz";
    role.password = "s3cret";
    const denied = await cli(["--url", role.href]);
    assertOneLineError(denied, 1, /no_such_role_xyz/);
    assert.doesNotMatch(denied.stderr, /s3cret/);
  });

  await t.step("a malformed URL is refused without echoing its password", async () => {
    const run = await cli(["--url", "postgres://postgres:s3cret@host:99999/test"]);
    assertOneLineError(run, 2, /invalid database URL/);
    assert.doesNotMatch(run.stderr, /s3cret/);
  });

  await t.step("--url and --data-dir together exit 2 with one line", async () => {
    const run = await cli(["--url", "postgres://postgres@127.0.0.1:1/test", "--data-dir", "x"]);
    assertOneLineError(run, 2, /--url and --data-dir cannot be combined/);
  });
});

Deno.test("without --url, DATABASE_URL or --embedded, no command opens a database", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "heph-cli-" });
  const entries = async () => (await Array.fromAsync(Deno.readDir(tmp))).map((e) => e.name);
  try {
    for (
      const [task, args] of [
        ["migrate", []],
        ["migrate", ["--status"]],
        ["inspect", ["stats"]],
        ["inspect", ["list"]],
        ["dashboard", []],
      ] as const
    ) {
      await t.step(
        `${task} ${args.join(" ")} refuses with exit 2 and creates nothing`,
        async () => {
          const run = await runTask(task, [...args], { cwd: tmp });
          assertOneLineError(
            run,
            2,
            /^error: no database: pass --url <url> or set DATABASE_URL \(or --embedded for a local PGlite database\)$/,
          );
          assert.equal(run.stdout, "");
          assert.deepEqual(await entries(), []);
        },
      );
    }

    await t.step("read-only commands never create an embedded database", async () => {
      for (
        const [task, args] of [
          ["inspect", ["stats", "--embedded"]],
          ["dashboard", ["--embedded", "--port", "0"]],
          ["migrate", ["--status", "--embedded"]],
          ["migrate", ["--dry-run", "--embedded", "--data-dir", "elsewhere"]],
        ] as const
      ) {
        assertOneLineError(
          await runTask(task, [...args], { cwd: tmp }),
          1,
          /^error: no embedded database at (\.heph\/pglite|elsewhere): create it with migrate --embedded/,
        );
        assert.deepEqual(await entries(), [], `${task} ${args.join(" ")}`);
      }
    });

    await t.step("--data-dir without --embedded is a usage error", async () => {
      assertOneLineError(
        await runTask("inspect", ["stats", "--data-dir", "x"], { cwd: tmp }),
        2,
        /--data-dir applies to the embedded database: add --embedded/,
      );
      assert.deepEqual(await entries(), []);
    });

    // One PGlite run: creating a data directory takes seconds. tests/demo_test.ts covers more.
    await t.step("migrate --embedded creates PGlite in .heph/pglite and says so", async () => {
      const run = await cli(["--embedded"], {}, tmp);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, "using embedded PGlite at .heph/pglite (--embedded)\n");
      assert.deepEqual(run.lines, applyAll("public"));
      assert.ok((await Deno.stat(`${tmp}/.heph/pglite/PG_VERSION`)).isFile, "a data directory");

      const status = await cli(["--status", "--embedded"], {}, tmp);
      assert.equal(status.code, 0, status.stderr);
      assert.equal(status.lines[0], `schema public is at version ${LATEST} of ${LATEST}`);
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task migrate command line", async (t) => {
  await t.step("--help prints usage", async () => {
    for (const flag of ["--help", "-h"]) {
      const run = await cli([flag]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, "");
      assert.match(
        nth(run.lines, 0),
        /^Usage: deno run -A jsr:@heph\/pg\/cli migrate \[options\]$/,
      );
      for (
        const option of [
          "--url <url>",
          "--schema <name>",
          "--to <version>",
          "--status",
          "--grant <role>",
          "--embedded",
          "--sql",
        ]
      ) {
        assert.equal(run.lines.filter((l) => l.includes(option)).length, 1, option);
      }
      for (const option of ["--dry-run", "-h, --help"]) {
        assert.equal(run.lines.filter((l) => l.trimStart().startsWith(option)).length, 1, option);
      }
    }
  });

  await t.step("unknown option exits 2", async () => {
    const line = assertOneLineError(await cli(["--bogus"]), 2, /'--bogus'/);
    assert.match(line, /--help/);
    assertOneLineError(await cli(["--to", "two"]), 2, /--to expects a version number/);
    assertOneLineError(await cli(["--to", "-1"]), 2, /.+/);
    assertOneLineError(await cli(["--status", "--to", "1"]), 2, /cannot be combined/);
    assertOneLineError(await cli(["--distribute", "--status"]), 2, /cannot be combined/);
    assertOneLineError(await cli(["--sql", "--distribute"]), 2, /--distribute/);
    assertOneLineError(await cli(["stray"]), 2, /'stray'/);
  });
});
