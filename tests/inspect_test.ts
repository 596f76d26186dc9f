/**
 * `deno task inspect` (cli/inspect.ts), run as a subprocess with the task's own permissions:
 * against a fresh schema on the test PostgreSQL, and once against embedded PGlite in a temp
 * directory. What it prints is checked against what was seeded through PgStorage.
 *
 * @module
 */
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { migrate, newInstance, PgStorage, type WorkflowInstance } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { pgliteDriver } from "../drivers/pglite.ts";
import { assertOneLineError, type Run, runTask } from "./support/cli_run.ts";
import { withTestSchema } from "./support/test_db.ts";
import { nth } from "./support/nth.ts";

/** Runs `deno task inspect` with `args`, adding `env`. */
function inspect(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runTask("inspect", args, { env });
}

/** Asserts a one-line failure that printed nothing on stdout. */
function assertFailure(run: Run, code: number, pattern: RegExp): string {
  const line = assertOneLineError(run, code, pattern);
  assert.equal(run.stdout, "");
  return line;
}

/** The cells of a table row printed by `list` (columns are separated by two spaces or more). */
const cells = (line: string) => line.trim().split(/ {2,}/);

function instance(
  id: string,
  workflow: string,
  status: WorkflowInstance["status"],
  initial: Record<string, unknown> = {},
): WorkflowInstance {
  const made = newInstance({ id, workflow, initial });
  made.status = status;
  return made;
}

const T0 = new Date("2025-03-01T10:00:00.000Z");

Deno.test("deno task inspect on PostgreSQL", async (t) => {
  const { url, schema, pool, drop } = await withTestSchema("inspect");
  const driver = nodePostgresDriver(pool);
  const storage = new PgStorage({ driver, schema });
  const run = (args: string[]) => inspect([...args, "--schema", schema], { DATABASE_URL: url });
  try {
    await migrate(driver, { schema });
    const order1 = instance("order::1", "Shop.OrderWorkflow", "completed", {
      order_id: 1,
      placed: new Date("2025-03-01T09:59:00.000Z"),
      total: 12n,
    });
    order1.executionHistory = [
      { stepRef: "validate", event: "started", timestamp: T0, contextUpdates: null },
      {
        stepRef: "validate",
        event: "completed",
        timestamp: new Date(T0.getTime() + 1_500),
        contextUpdates: { valid: true },
      },
      {
        stepRef: "charge",
        event: "completed",
        timestamp: new Date(T0.getTime() + 1_500 + 125_000),
        contextUpdates: { payment: "pay-1" },
      },
    ];
    order1.context.steps = { validate: { valid: true }, charge: { payment: "pay-1" } };
    order1.completedSteps = new Set(["validate", "charge"]);
    order1.stepConfigs = { charge: { retries: 3 } };
    order1.runtimeMetadata = { node: "n1" };
    order1.telemetryMetadata = { trace_id: "abc" };
    const order2 = instance("order::2", "Shop.OrderWorkflow", "running", { order_id: 2 });
    order2.currentStep = "reserve";
    order2.activeSteps.add("reserve");
    const seeds = [
      order1,
      order2,
      instance("order::3", "Shop.OrderWorkflow", "waiting", { order_id: 3 }),
      instance("refund::1", "Shop.Refund", "failed"),
      instance("invoice::1", "Billing.Invoice", "pending"),
      instance("invoice::2", "Billing.Invoice", "running"),
      instance("esc\u001b[2J::1", "Billing.Invoice", "pending"),
    ];
    for (const seed of seeds) {
      await storage.put(seed);
      await new Promise((resolve) => setTimeout(resolve, 3)); // insertion times kept apart
    }
    // invoice::2 has been running, untouched, for two hours; order::2 is held by a dead worker.
    await pool.query(
      `UPDATE "${schema}".workflow_instances SET updated_at = now() - interval '2 hours'
       WHERE id = 'invoice::2'`,
    );
    await storage.claim({ owner: "worker-7", leaseMs: 1, id: "order::2" });
    await new Promise((resolve) => setTimeout(resolve, 20));

    await t.step("list prints a table in insertion order, with the lease owner", async () => {
      const list = await run(["list"]);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stderr, "");
      assert.deepEqual(cells(nth(list.lines, 0)), [
        "ID",
        "WORKFLOW",
        "STATUS",
        "STEP",
        "REV",
        "UPDATED",
        "LEASE",
      ]);
      const rows = list.lines.slice(1, -2).map(cells);
      assert.deepEqual(rows.map((r) => r[0]), [
        "order::1",
        "order::2",
        "order::3",
        "refund::1",
        "invoice::1",
        "invoice::2",
        "esc\\u001b[2J::1", // control characters never reach the terminal raw
      ]);
      assert.deepEqual(nth(rows, 1).slice(0, 5), [
        "order::2",
        "Shop.OrderWorkflow@1",
        "running",
        "reserve",
        "1",
      ]);
      assert.match(nth(nth(rows, 1), 5), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(.* ago\)$/);
      assert.equal(nth(nth(rows, 1), 6), "worker-7 (expired)");
      assert.equal(nth(nth(rows, 0), 6), "-");
      assert.match(nth(nth(rows, 5), 5), /\(2h 00m ago\)$/);
      assert.equal(list.lines.at(-1), "7 matching instances");
      assert.ok(!list.stdout.includes("\u001b"), "no raw escape character");
    });

    await t.step("list filters by status, workflow, family, since, idle and context", async () => {
      const ids = async (...args: string[]) => {
        const list = await run(["list", ...args]);
        assert.equal(list.code, 0, list.stderr);
        return list.lines[0] === "no instances match"
          ? []
          : list.lines.slice(1, -2).map((line) => cells(line)[0]);
      };
      assert.deepEqual(await ids("--status", "running,waiting"), [
        "order::2",
        "order::3",
        "invoice::2",
      ]);
      assert.deepEqual(await ids("--status", "failed"), ["refund::1"]);
      assert.deepEqual(await ids("--workflow", "Shop.Refund"), ["refund::1"]);
      assert.deepEqual(await ids("--family", "Shop."), [
        "order::1",
        "order::2",
        "order::3",
        "refund::1",
      ]);
      assert.deepEqual(await ids("--family", "Billing.", "--since", "1h"), [
        "invoice::1",
        "esc\\u001b[2J::1",
      ]);
      assert.deepEqual(await ids("--status", "running,waiting", "--idle", "30m"), ["invoice::2"]);
      assert.deepEqual(await ids("--context", '{"initial":{"order_id":3}}'), ["order::3"]);
      assert.deepEqual(await ids("--workflow", "Nope"), []);

      const limited = await run(["list", "--limit", "2"]);
      assert.equal(limited.lines.length, 1 + 2 + 2);
      assert.equal(limited.lines.at(-1), "2 of 7 matching instances (raise --limit to see more)");
    });

    await t.step("list --json prints one object per line", async () => {
      const list = await run(["list", "--json", "--family", "Shop.", "--limit", "3"]);
      assert.equal(list.code, 0, list.stderr);
      const rows = list.lines.map((line) => JSON.parse(line));
      assert.deepEqual(rows.map((r) => r.id), ["order::1", "order::2", "order::3"]);
      const stored = (await storage.get("order::2"))!;
      assert.deepEqual(rows[1], {
        id: "order::2",
        workflow: "Shop.OrderWorkflow",
        workflowVersion: 1,
        status: "running",
        currentStep: "reserve",
        revision: 1,
        insertedAt: stored.insertedAt.toISOString(),
        updatedAt: stored.updatedAt.toISOString(),
        lease: {
          owner: "worker-7",
          expiresAt: stored.lease!.expiresAt.toISOString(),
          expired: true,
        },
      });
    });

    await t.step("show prints the whole instance and its history as a timeline", async () => {
      const show = await run(["show", "order::1"]);
      assert.equal(show.code, 0, show.stderr);
      assert.equal(show.lines[0], "order::1  Shop.OrderWorkflow@1  completed  revision 1");
      const text = show.stdout;
      for (
        const expected of [
          /^ {2}current step {5}-$/m,
          /^ {2}lease {12}none$/m,
          /^ {2}completed steps {2}charge, validate$/m,
          /^context\.initial\n {4}\{\n(?: {6}".*\n){3} {4}\}$/m,
          /^ {6}"placed": "2025-03-01T09:59:00\.000Z",?$/m,
          /^ {6}"total": "12",?$/m,
          /^step configs\n {4}\{\n {6}"charge": \{\n {8}"retries": 3/m,
          /^runtime metadata\n {4}\{\n {6}"node": "n1"/m,
          /^telemetry metadata\n {4}\{\n {6}"trace_id": "abc"/m,
          /^history \(3 entries, 2m 06s from first to last\)$/m,
        ]
      ) assert.match(text, expected);
      const timeline = show.lines.slice(show.lines.findIndex((l) => l.startsWith("history")) + 1);
      assert.deepEqual(timeline.map((line) => line.trim().split(/ {2,}/)), [
        ["2025-03-01T10:00:00.000Z", "validate", "started"],
        ["2025-03-01T10:00:01.500Z", "+1.5 s", "validate", "completed", '{"valid":true}'],
        ["2025-03-01T10:02:06.500Z", "+2m 05s", "charge", "completed", '{"payment":"pay-1"}'],
      ]);

      const leased = await run(["show", "order::2"]);
      assert.match(leased.stdout, /^ {2}lease {12}worker-7 until \S+Z \(expired .* ago\)$/m);
      assert.match(leased.stdout, /^ {2}active steps {5}reserve$/m);
      assert.match(leased.stdout, /^history \(0 entries\)\n {2}\(none\)$/m);
    });

    await t.step("show --json prints the instance as one JSON document", async () => {
      const show = await run(["show", "order::1", "--json"]);
      assert.equal(show.code, 0, show.stderr);
      const shown = JSON.parse(show.stdout);
      const stored = (await storage.get("order::1"))!;
      assert.equal(shown.id, "order::1");
      assert.deepEqual(shown.context, {
        initial: { order_id: 1, placed: "2025-03-01T09:59:00.000Z", total: "12" },
        steps: { validate: { valid: true }, charge: { payment: "pay-1" } },
      });
      assert.deepEqual(shown.completedSteps, ["charge", "validate"]);
      assert.deepEqual(shown.activeSteps, []);
      assert.deepEqual(shown.stepConfigs, { charge: { retries: 3 } });
      assert.equal(shown.updatedAt, stored.updatedAt.toISOString());
      assert.deepEqual(
        shown.executionHistory.map((e: { sincePreviousMs: number | null }) => e.sincePreviousMs),
        [null, 1_500, 125_000],
      );
      assert.deepEqual(shown.executionHistory[1], {
        stepRef: "validate",
        event: "completed",
        timestamp: "2025-03-01T10:00:01.500Z",
        sincePreviousMs: 1500,
        contextUpdates: { valid: true },
      });
    });

    await t.step(
      "stats: counts by status and workflow, oldest active, expired leases",
      async () => {
        const stats = await run(["stats"]);
        assert.equal(stats.code, 0, stats.stderr);
        const text = stats.stdout;
        assert.equal(stats.lines[0], `schema ${schema}: 7 instances`);
        assert.match(text, /^ {2}pending +2 {2}█+$/m);
        assert.match(text, /^ {2}running +2 {2}█+$/m);
        assert.match(text, /^ {2}waiting +1 {2}█+$/m);
        assert.match(text, /^ {2}completed +1 {2}█+$/m);
        assert.match(text, /^ {2}failed +1 {2}█+$/m);
        const byWorkflow = stats.lines.slice(stats.lines.indexOf("by workflow") + 1);
        assert.deepEqual(byWorkflow.slice(0, 4).map(cells), [
          ["WORKFLOW", "TOTAL", "PENDING", "RUNNING", "WAITING", "COMPLETED", "FAILED"],
          ["Billing.Invoice", "3", "2", "1", "0", "0", "0"],
          ["Shop.OrderWorkflow", "3", "0", "1", "1", "1", "0"],
          ["Shop.Refund", "1", "0", "0", "0", "0", "1"],
        ]);
        const oldest = stats.lines.slice(
          stats.lines.indexOf("oldest running/waiting (least recently updated)") + 2,
        );
        assert.deepEqual(cells(nth(oldest, 0)).slice(0, 4), [
          "invoice::2",
          "Billing.Invoice@1",
          "running",
          "-",
        ]);
        assert.match(nth(cells(nth(oldest, 0)), 4), /^2h 00m$/);
        assert.match(
          text,
          /^expired leases: 1\n {2}ID .*\n {2}order::2 +Shop\.OrderWorkflow@1 +running +worker-7 +.* ago$/m,
        );

        const json = await run(["stats", "--json"]);
        assert.equal(json.code, 0, json.stderr);
        const parsed = JSON.parse(json.stdout);
        assert.deepEqual(parsed.byStatus, {
          pending: 2,
          running: 2,
          waiting: 1,
          completed: 1,
          failed: 1,
        });
        assert.equal(parsed.total, 7);
        assert.equal(parsed.scanned, 7);
        assert.deepEqual(parsed.oldestActive.map((r: { id: string }) => r.id), [
          "invoice::2",
          "order::2",
          "order::3",
        ]);
        assert.equal(parsed.expiredLeases.count, 1);
        assert.equal(parsed.expiredLeases.oldest[0].lease.owner, "worker-7");
      },
    );

    await t.step(
      "a corrupt row is flagged by list and stats, explained by show, never printed raw",
      async () => {
        const id = "bad::\u001b]0;owned\u0007\u001b[2J";
        await pool.query(
          `INSERT INTO "${schema}".workflow_instances (id, workflow, workflow_version, status, state)
           VALUES ($1, 'Shop.OrderWorkflow', 1, 'running', '{"active_steps": "x"}')`,
          [id],
        );
        // deno-lint-ignore no-control-regex -- looking for raw control characters is the point
        const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
        try {
          const list = await run(["list"]);
          assert.equal(list.code, 0, list.stderr);
          assert.doesNotMatch(list.stdout + list.stderr, raw);
          assert.match(list.stdout, /^1 row could not be read \(inspect show <id> explains\):$/m);
          assert.ok(
            list.stdout.includes(
              "  bad::\\u001b]0;owned\\u0007\\u001b[2J  state.active_steps has the wrong type",
            ),
            list.stdout,
          );
          assert.ok(list.lines.some((l) => cells(l)[0] === "order::1"), "healthy rows still shown");
          assert.match(list.stdout, /^8 matching instances$/m);

          const json = await run(["list", "--json"]);
          assert.equal(json.code, 0, json.stderr);
          const flagged = json.lines.map((l) => JSON.parse(l)).filter((r) => "corrupt" in r);
          assert.deepEqual(flagged, [{ id, corrupt: "state.active_steps has the wrong type" }]);
          assert.equal(json.lines.length, 8);

          const stats = await run(["stats"]);
          assert.equal(stats.code, 0, stats.stderr);
          assert.doesNotMatch(stats.stdout + stats.stderr, raw);
          assert.match(stats.stdout, /^1 row could not be read/m);
          const statsJson = JSON.parse((await run(["stats", "--json"])).stdout);
          assert.equal(statsJson.corrupt.count, 1);
          assert.equal(statsJson.corrupt.first[0].id, id);

          const show = await run(["show", id]);
          const line = assertFailure(
            show,
            1,
            /cannot be read: state\.active_steps has the wrong type/,
          );
          assert.doesNotMatch(show.stderr, raw);
          assert.ok(line.includes("bad::\\u001b]0;owned\\u0007"), line);
        } finally {
          await pool.query(`DELETE FROM "${schema}".workflow_instances WHERE id = $1`, [id]);
        }
      },
    );

    await t.step("a missing or invalid id exits 1 with one line", async () => {
      assertFailure(
        await run(["show", "order::404"]),
        1,
        new RegExp(`^error: no instance with id "order::404" in schema ${schema}$`),
      );
      assertFailure(await run(["show", "x".repeat(300)]), 1, /id/i);
    });

    await t.step("a bad filter or command line exits 2 with one line", async () => {
      const cases: [string[], RegExp][] = [
        [["list", "--status", "runing"], /--status expects pending, running, .* got "runing"/],
        [["list", "--since", "5x"], /--since expects a duration such as 30s, 15m, 1h or 2d/],
        [["list", "--idle", "0s"], /--idle expects a duration/],
        [["list", "--limit", "0"], /--limit expects a number from 1 to 100000/],
        [["list", "--context", "{"], /--context expects a JSON document/],
        [["list", "--context", '{"other":1}'], /context/i],
        [["list", "extra"], /unexpected argument "extra"/],
        [["show"], /show expects one instance id/],
        [["show", "a", "b"], /show expects one instance id/],
        [["stats", "--status", "running"], /--status applies to list only/],
        [["frobnicate"], /unknown command "frobnicate"/],
        [[], /expected a command: list, show <id> or stats/],
        [["list", "--bogus"], /unknown option '--bogus'/],
      ];
      for (const [args, pattern] of cases) assertFailure(await run(args), 2, pattern);
    });

    await t.step("a schema without the table exits 1 with one line", async () => {
      const run = await inspect(["list", "--schema", `${schema}_none`], { DATABASE_URL: url });
      assertFailure(run, 1, /workflow_instances is missing or not migrated/);
    });
  } finally {
    await drop();
  }
});

Deno.test("deno task inspect without a working database", async (t) => {
  await t.step("an unreachable database prints one line and exits 1", async () => {
    const run = await inspect(["list", "--url", "postgres://postgres:s3cret@127.0.0.1:1/test"]);
    const line = assertFailure(run, 1, /./);
    assert.equal(line, "error: cannot reach the database at 127.0.0.1:1: connection refused");
    const stats = await inspect(["stats"], { DATABASE_URL: "postgres://postgres@127.0.0.1:1/x" });
    assertFailure(stats, 1, /^error: cannot reach the database at 127\.0\.0\.1:1/);
  });

  await t.step("--help prints usage", async () => {
    const help = await inspect(["--help"]);
    assert.equal(help.code, 0);
    assert.match(nth(help.lines, 0), /^Usage: deno run -A jsr:@heph\/pg\/cli inspect <command>/);
    for (const word of ["list", "show <id>", "stats", "--status", "--since", "--json"]) {
      assert.ok(help.stdout.includes(word), word);
    }
  });
});

Deno.test("deno task inspect on embedded PGlite (--embedded --data-dir)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "heph-inspect-" });
  try {
    const db = new PGlite(dataDir);
    try {
      const driver = pgliteDriver(db);
      await migrate(driver);
      const storage = new PgStorage({ driver });
      await storage.put(instance("a::1", "Local.Flow", "running", { n: 1 }));
      await storage.put(instance("a::2", "Local.Flow", "completed", { n: 2 }));
    } finally {
      await db.close();
    }
    // --embedded picks PGlite even when DATABASE_URL is set.
    const env = { DATABASE_URL: "postgres://postgres@127.0.0.1:1/test" };
    const list = await inspect(
      ["list", "--status", "running", "--embedded", "--data-dir", dataDir],
      env,
    );
    assert.equal(list.code, 0, list.stderr);
    assert.equal(
      list.stderr,
      `using embedded PGlite at ${dataDir} (--embedded: DATABASE_URL not used)\n`,
    );
    assert.deepEqual(cells(nth(list.lines, 1)).slice(0, 3), ["a::1", "Local.Flow@1", "running"]);
    assert.equal(list.lines.at(-1), "1 matching instance");

    const stats = await inspect(["stats", "--json", "--embedded", "--data-dir", dataDir]);
    assert.equal(stats.code, 0, stats.stderr);
    const parsed = JSON.parse(stats.stdout);
    assert.equal(parsed.total, 2);
    assert.deepEqual(parsed.byWorkflow.map((w: { workflow: string }) => w.workflow), [
      "Local.Flow",
    ]);

    const missing = await inspect(["show", "a::3", "--embedded", "--data-dir", dataDir]);
    assert.equal(missing.code, 1);
    assert.deepEqual(missing.stderr.trimEnd().split("\n"), [
      `using embedded PGlite at ${dataDir} (--embedded)`,
      'error: no instance with id "a::3" in schema public',
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
