/**
 * `deno task demo` (cli/demo.ts), run as subprocesses with the task's own permissions: on
 * embedded PGlite in a temp directory, and on the test PostgreSQL in a fresh schema. What the
 * runs print is checked, and what they stored is read back through PgStorage.
 *
 * @module
 */
import assert from "node:assert/strict";
import { PGlite } from "@electric-sql/pglite";
import { newInstance, PgStorage, type StoredInstance } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { pgliteDriver } from "../drivers/pglite.ts";
import { type Run, runTask } from "./support/cli_run.ts";
import { withTestSchema } from "./support/test_db.ts";
import { nth } from "./support/nth.ts";

const STEPS = ["validate", "reserve", "charge", "ship"];

/** Runs `deno task demo` with `args`, adding `env`. */
function demo(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runTask("demo", args, { env });
}

const progress = (from: number, to: number) =>
  STEPS.slice(from - 1, to).map((step, i) =>
    `[${from + i}/4] ${step} … done (revision ${2 * (from + i) + 1})`
  );

/** The summary table's rows, as { status: count }. */
function summary(run: Run): Record<string, number> {
  const header = run.lines.indexOf("status     instances");
  assert.ok(header >= 0, `a summary table in:\n${run.lines.join("\n")}`);
  return Object.fromEntries(
    run.lines.slice(header + 1).map((line) => {
      const [status, count] = line.trim().split(/\s+/);
      return [status, Number(count)];
    }),
  );
}

const counts = (completed: number, extra: Record<string, number> = {}) => ({
  pending: 0,
  running: 0,
  waiting: 0,
  completed,
  failed: 0,
  ...extra,
  total: completed + Object.values(extra).reduce((a, b) => a + b, 0),
});

/** Checks a stored order after `done` steps: status, steps, context and history. */
function assertOrder(order: StoredInstance | null, done: number): void {
  assert.ok(order, "the order is stored");
  const finished = done === STEPS.length;
  assert.equal(order.workflow, "Shop.OrderWorkflow");
  assert.equal(order.status, finished ? "completed" : "running");
  assert.equal(order.currentStep, finished ? null : STEPS[done - 1]);
  assert.equal(order.revision, 2 * done + 1);
  assert.deepEqual(order.activeSteps, new Set());
  assert.deepEqual(order.completedSteps, new Set(STEPS.slice(0, done)));
  assert.deepEqual(Object.keys(order.context.steps).sort(), STEPS.slice(0, done).sort());
  assert.deepEqual(
    order.executionHistory.map((e) => `${e.stepRef} ${e.event}`),
    STEPS.slice(0, done).flatMap((step) => [`${step} started`, `${step} completed`]),
  );
  const times = order.executionHistory.map((e) => e.timestamp.getTime());
  assert.deepEqual(times, [...times].sort((a, b) => a - b), "timestamps in order");
  if (finished) {
    assert.equal((order.context.steps.charge as { amount_cents: number }).amount_cents, 3250);
  }
}

Deno.test("deno task demo on embedded PGlite", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "heph-demo-" });
  try {
    // Three runs, one first open: PGlite takes seconds to initialize a directory.
    // --data-dir picks PGlite even when DATABASE_URL is set.
    const unreachable = { DATABASE_URL: "postgres://postgres@127.0.0.1:1/test" };
    const crashed = await demo(["--data-dir", dataDir, "--crash-after", "reserve"], unreachable);
    assert.equal(crashed.code, 1, crashed.stderr);
    assert.deepEqual(crashed.lines, ["new order order::1 (revision 1)", ...progress(1, 2)]);
    assert.deepEqual(crashed.stderr.trimEnd().split("\n"), [
      `using embedded PGlite at ${dataDir} (--data-dir given: DATABASE_URL not used)`,
      "crash: exiting after reserve (--crash-after); run again to resume",
    ]);

    const resumed = await demo(["--data-dir", dataDir]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(resumed.lines.slice(0, 4), [
      "resuming order::1 from step charge (revision 5)",
      ...progress(3, 4),
      "order::1 completed",
    ]);
    assert.deepEqual(summary(resumed), counts(1));

    const fresh = await demo(["--data-dir", dataDir]);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.deepEqual(fresh.lines.slice(0, 6), [
      "new order order::2 (revision 1)",
      ...progress(1, 4),
      "order::2 completed",
    ]);
    assert.deepEqual(summary(fresh), counts(2));

    const db = new PGlite(dataDir);
    try {
      const storage = new PgStorage({ driver: pgliteDriver(db) });
      assertOrder(await storage.get("order::1"), 4);
      assertOrder(await storage.get("order::2"), 4);
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("deno task demo on PostgreSQL (--url)", async (t) => {
  const { url, schema, pool, drop } = await withTestSchema("demo");
  const storage = new PgStorage({ driver: nodePostgresDriver(pool), schema });
  const run = (args: string[]) => demo(["--url", url, "--schema", schema, ...args]);
  try {
    await t.step("a full run migrates, completes a new order and prints the summary", async () => {
      const full = await run([]);
      assert.equal(full.code, 0, full.stderr);
      assert.equal(full.stderr, "", "nothing on stderr with a server");
      assert.deepEqual(full.lines.slice(0, 6), [
        "new order order::1 (revision 1)",
        ...progress(1, 4),
        "order::1 completed",
      ]);
      assert.deepEqual(summary(full), counts(1));
      assertOrder(await storage.get("order::1"), 4);
    });

    await t.step("--crash-after reserve exits non-zero with reserve stored", async () => {
      const crashed = await run(["--crash-after", "reserve"]);
      assert.equal(crashed.code, 1);
      assert.deepEqual(crashed.lines, ["new order order::2 (revision 1)", ...progress(1, 2)]);
      assert.match(crashed.stderr, /^crash: exiting after reserve/);
      assertOrder(await storage.get("order::2"), 2);
    });

    await t.step("the next run resumes it from the stored state to completed", async () => {
      // Another workflow's instance counts in the summary, and is not resumed.
      const other = newInstance({ id: "other::1", workflow: "Other" });
      other.status = "failed";
      await storage.put(other);
      const resumed = await run([]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(resumed.lines.slice(0, 4), [
        "resuming order::2 from step charge (revision 5)",
        ...progress(3, 4),
        "order::2 completed",
      ]);
      assert.deepEqual(summary(resumed), counts(2, { failed: 1 }));
      assertOrder(await storage.get("order::2"), 4);
      assert.equal((await storage.get("other::1"))?.revision, 1);
    });

    await t.step("a crash inside a step re-runs that step", async () => {
      // As if killed between "started" and "completed": charge is active, not completed.
      const crashed = await run(["--crash-after", "reserve"]);
      assert.equal(crashed.code, 1);
      const order = await storage.get("order::3");
      assertOrder(order, 2);
      order!.currentStep = "charge";
      order!.activeSteps.add("charge");
      order!.executionHistory.push({
        stepRef: "charge",
        event: "started",
        timestamp: new Date(),
        contextUpdates: null,
      });
      await storage.put(order!, { expectedRevision: 5 });
      const resumed = await run([]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.lines[0], "resuming order::3 from step charge (revision 6)");
      const done = await storage.get("order::3");
      assert.equal(done?.status, "completed");
      assert.deepEqual(done?.activeSteps, new Set());
      assert.deepEqual(
        done?.executionHistory.filter((e) => e.stepRef === "charge").map((e) => e.event),
        ["started", "started", "completed"],
      );
    });
  } finally {
    await drop();
  }
});

Deno.test("deno task demo command line", async (t) => {
  await t.step("--help lists the options", async () => {
    const help = await demo(["--help"]);
    assert.equal(help.code, 0);
    assert.match(nth(help.lines, 0), /^Usage: deno run -A jsr:@heph\/pg\/cli demo/);
    for (const option of ["--url", "--data-dir", "--schema", "--crash-after", "--help"]) {
      assert.ok(help.lines.some((l) => l.match(/^\s+(-h, )?(--[a-z-]+)/)?.[2] === option), option);
    }
  });

  await t.step("bad options exit 2 with one line, before opening anything", async () => {
    const cases: [string[], RegExp][] = [
      [["--crash-after", "pack"], /--crash-after expects one of validate, reserve, charge, ship/],
      [["--url", "postgres://h/db", "--data-dir", "x"], /cannot be combined/],
      [["--bogus"], /unknown option '--bogus'/],
    ];
    for (const [args, pattern] of cases) {
      const run = await demo(args);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, pattern);
      assert.equal(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
    }
  });
});
