/**
 * `deno task dashboard` (cli/dashboard.ts) in headless Chromium: the dashboard runs as a
 * subprocess with the task's permissions on a fresh schema of the test PostgreSQL; the test
 * seeds instances (one with markup and script in its id, workflow name, context, history and
 * lease owner), opens the page, reads the bar chart, filters, pages, opens instances and the
 * stuck view, and checks that nothing seeded ever ran
 * as script. The token rules of `--host` are checked over plain HTTP and in the browser.
 *
 * Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs
 * it when missing), driven by playwright-core.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "npm:playwright-core@1.65.1";
import {
  INSTANCE_STATUSES,
  MemoryStorage,
  migrate,
  newInstance,
  PgStorage,
  type WorkflowInstance,
} from "../../mod.ts";
import { nodePostgresDriver } from "../../drivers/node_postgres.ts";
import { APP_JS } from "../../cli/dashboard/client_bundle.ts";
import { dashboardHandler } from "../../cli/dashboard/handler.ts";
import { withTestSchema } from "../support/test_db.ts";
import { nth } from "../support/nth.ts";

const ROOT = new URL("../../", import.meta.url);
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];
const SCREENSHOT = new URL("docs/dashboard.png", ROOT);
const DETAIL_SCREENSHOT = new URL("docs/dashboard_instance.png", ROOT);

/** `deno task dashboard` without the leading `deno`: `run`, the permissions, `cli/dashboard.ts`. */
const TASK: string[] = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)))
  .tasks.dashboard.split(" ").slice(1);

const SCRIPT = "<script>window.__pwned=1</script>";
const IMG = '<img src=x onerror="window.__pwned=2">';
const EVIL_WORKFLOW = `Evil.${SCRIPT}${IMG}`;
const EVIL_ID = 'xss::<img src=x onerror="window.__pwned=3">';
const EVIL_OWNER = '<img src=x onerror="window.__pwned=4">';
const TOKEN = "0123456789abcdef0123456789abcdef";

interface Dashboard {
  url: string;
  stop(): Promise<void>;
}

/** Starts the dashboard on a free port and waits for the address it prints. */
async function startDashboard(args: string[]): Promise<Dashboard> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...TASK, "--port", "0", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", DATABASE_URL: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  let url: string | undefined;
  while (url === undefined) {
    const { value, done } = await reader.read();
    if (done) {
      const status = await child.status;
      throw new Error(`the dashboard exited with ${status.code}: ${output}${await stderr}`);
    }
    output += value;
    url = output.match(/ on (http:\/\/\S+\/)/)?.[1];
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* keep the pipe flowing */ }
  })();
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      const status = await child.status;
      await drained;
      const errors = await stderr;
      assert.equal(status.code, 0, `the dashboard stops cleanly on SIGTERM; stderr: ${errors}`);
      assert.equal(errors, "", "the dashboard logged no error");
    },
  };
}

/** Runs the dashboard expecting it to refuse its command line. */
async function refused(args: string[]): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...TASK, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", DATABASE_URL: "", HEPH_DASHBOARD_TOKEN: "" },
    stdin: "null",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

async function launch(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`,
    );
  }
  return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A page that records script errors and console errors (CSP violations land there). */
async function openPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  return { page, problems };
}

const ready = (page: Page, view: string) =>
  page.waitForSelector(`body[data-ready="${view}"]`, { timeout: 15_000 });

const texts = (page: Page, selector: string) =>
  page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.textContent ?? ""));

/** Nothing seeded ran: no global set, no element made from stored markup, one script. */
async function assertInert(page: Page): Promise<void> {
  // A string, evaluated in the page (this file is type-checked without the DOM library).
  const state = await page.evaluate(`({
    pwned: window.__pwned,
    images: document.querySelectorAll("img").length,
    scripts: Array.from(document.scripts, (s) => s.getAttribute("src")),
  })`);
  assert.deepEqual(state, { pwned: undefined, images: 0, scripts: ["app.js"] }); // relative: the page works under a base path
}

function seed(): WorkflowInstance[] {
  const cycle = ["running", "waiting", "completed", "completed", "failed", "pending"] as const;
  const seeds: WorkflowInstance[] = [];
  for (let i = 1; i <= 30; i++) {
    const id = `order::${String(i).padStart(2, "0")}`;
    const order = newInstance({ id, workflow: "Shop.OrderWorkflow", initial: { order_id: i } });
    order.status = nth(cycle, (i - 1) % cycle.length);
    order.currentStep = order.status === "running"
      ? "charge"
      : order.status === "waiting"
      ? "await_payment"
      : null;
    seeds.push(order);
  }
  const first = nth(seeds, 0);
  first.executionHistory = [
    {
      stepRef: "validate",
      event: "started",
      timestamp: new Date("2025-03-01T10:00:00.000Z"),
      contextUpdates: null,
    },
    {
      stepRef: "validate",
      event: "completed",
      timestamp: new Date("2025-03-01T10:00:01.500Z"),
      contextUpdates: { valid: true },
    },
  ];
  for (let i = 1; i <= 5; i++) {
    const invoice = newInstance({ id: `invoice::${i}`, workflow: "Billing.Invoice" });
    invoice.status = "completed";
    seeds.push(invoice);
  }
  const evil = newInstance({
    id: EVIL_ID,
    workflow: EVIL_WORKFLOW,
    initial: { note: SCRIPT + IMG, [IMG]: "key with markup" },
  });
  evil.status = "running";
  evil.currentStep = SCRIPT;
  evil.stepConfigs = { [SCRIPT]: { html: IMG } };
  evil.executionHistory = [{
    stepRef: IMG,
    event: SCRIPT,
    timestamp: new Date("2025-03-01T10:00:00.000Z"),
    contextUpdates: { html: SCRIPT },
  }];
  seeds.push(evil);
  return seeds;
}

Deno.test({
  name: "the dashboard in headless Chromium",
  sanitizeOps: false, // playwright keeps its connection's timers between calls
  sanitizeResources: false,
  async fn(t) {
    const { url, schema, pool, drop } = await withTestSchema("dashboard");
    const driver = nodePostgresDriver(pool);
    const storage = new PgStorage({ driver, schema });
    let dashboard: Dashboard | undefined;
    let browser: Browser | undefined;
    try {
      await migrate(driver, { schema });
      const seeds = seed();
      for (const instance of seeds) {
        await storage.put(instance);
        await new Promise((resolve) => setTimeout(resolve, 2)); // distinct insertion times
      }
      // The evil instance: untouched for two hours, held by a worker whose lease lapsed.
      await pool.query(
        `UPDATE "${schema}".workflow_instances SET updated_at = now() - interval '2 hours'
         WHERE id = $1`,
        [EVIL_ID],
      );
      await storage.claim({ owner: EVIL_OWNER, leaseMs: 1, id: EVIL_ID });
      // Two orders held by a live worker (they are not stuck).
      await storage.claim({ owner: "worker-a", leaseMs: 600_000, limit: 2, status: "running" });
      await new Promise((resolve) => setTimeout(resolve, 10));
      const counts = Object.fromEntries(
        INSTANCE_STATUSES.map((s) => [s, seeds.filter((i) => i.status === s).length]),
      ) as Record<typeof INSTANCE_STATUSES[number], number>;

      dashboard = await startDashboard(["--url", url, "--schema", schema]);
      browser = await launch();
      const { page, problems } = await openPage(browser);
      const base = dashboard.url;

      await t.step("the page loads: bar chart of counts by status, first page", async () => {
        await page.goto(base);
        await ready(page, "list");
        for (const status of INSTANCE_STATUSES) {
          const count = await page.locator(`#bars [data-status="${status}"] .count`).textContent();
          assert.equal(count, String(counts[status]), status);
        }
        assert.equal(await page.locator("#total").textContent(), "36 instances");
        assert.equal(await page.locator("#list-body tr").count(), 25);
        assert.equal(await page.locator("#list-page").textContent(), "Page 1 · 36 matching");
        assert.ok(await page.locator("#list-prev").isDisabled());
        assert.ok(await page.locator("#list-next").isEnabled());
        const width = (s: string) =>
          page.locator(`#bars [data-status="${s}"] .fill`).evaluate((n) =>
            n.getBoundingClientRect().width
          );
        assert.ok(await width("completed") > await width("failed"), "bars scale with counts");
      });

      await t.step("keyset paging: next and previous", async () => {
        await page.click("#list-next");
        await page.locator("#list-page", { hasText: "Page 2 · 36 matching" }).waitFor();
        assert.equal(await page.locator("#list-body tr").count(), 11);
        assert.ok(await page.locator("#list-next").isDisabled());
        const ids = await texts(page, "#list-body tr td:first-child");
        assert.deepEqual(ids.slice(0, 5), [
          "order::26",
          "order::27",
          "order::28",
          "order::29",
          "order::30",
        ]);
        assert.equal(ids.at(-1), EVIL_ID, "the stored id shows as text");
        const evilRow = page.locator("#list-body tr").last();
        assert.equal(await evilRow.locator("td").nth(1).textContent(), `${EVIL_WORKFLOW}@1`);
        assert.equal(await evilRow.locator("td").nth(3).textContent(), SCRIPT);
        assert.match((await evilRow.locator("td").nth(6).textContent())!, /expired/);
        assert.ok((await evilRow.locator("td").nth(6).textContent())!.startsWith(EVIL_OWNER));
        await assertInert(page);

        await page.click("#list-prev");
        await page.locator("#list-page", { hasText: "Page 1 · 36 matching" }).waitFor();
        assert.equal(
          await page.locator("#list-body tr td:first-child").first().textContent(),
          "order::01",
        );
      });

      await t.step("filters: status, workflow family, updated since", async () => {
        await page.fill("#filters input[name=family]", "Shop.");
        await page.click("#filters button[type=submit]");
        await page.waitForURL(/#\/\?family=Shop\.$/);
        await page.locator("#list-page", { hasText: "Page 1 · 30 matching" }).waitFor();
        await page.click("#list-next");
        await page.locator("#list-page", { hasText: "Page 2 · 30 matching" }).waitFor();
        assert.equal(await page.locator("#list-body tr").count(), 5);

        await page.check("#filters input[name=status][value=running]");
        await page.click("#filters button[type=submit]");
        await page.locator("#list-page", { hasText: "Page 1 · 5 matching" }).waitFor();
        const statuses = await texts(page, "#list-body tr td:nth-child(3)");
        assert.deepEqual(statuses, Array(5).fill("running"));

        // Updated within the hour: everything but the instance backdated by two hours.
        await page.click("#clear");
        await page.locator("#list-page", { hasText: "36 matching" }).waitFor();
        await page.selectOption("#filters select[name=since]", "1h");
        await page.click("#filters button[type=submit]");
        await page.locator("#list-page", { hasText: "Page 1 · 35 matching" }).waitFor();

        // A status bar is a shortcut to its filter.
        await page.click('#bars [data-status="failed"]');
        await page.locator("#list-page", { hasText: `Page 1 · ${counts.failed} matching` })
          .waitFor();
        assert.ok(await page.locator("#filters input[name=status][value=failed]").isChecked());
        assert.ok(!await page.locator("#filters input[name=status][value=running]").isChecked());
      });

      await t.step(
        "filters in the URL: id, prefix, workflow, version, statuses, times, context",
        async () => {
          const shows = async (hash: string, count: number) => {
            await page.goto(`${base}#/?${hash}`);
            await ready(page, "list");
            await page.locator("#list-page", { hasText: `Page 1 · ${count} matching` }).waitFor();
            return await texts(page, "#list-body tr td:first-child");
          };
          // Orders 01 to 09 that are running (1, 7) or failed (5): a bookmarked view.
          assert.deepEqual(await shows("idPrefix=order::0&status=running,failed", 3), [
            "order::01",
            "order::05",
            "order::07",
          ]);
          assert.equal(
            await page.locator("#filters input[name=idPrefix]").inputValue(),
            "order::0",
          );
          for (
            const [status, checked] of [["running", true], ["failed", true], ["waiting", false]]
          ) {
            assert.equal(
              await page.locator(`#filters input[name=status][value=${status}]`).isChecked(),
              checked,
              String(status),
            );
          }
          // The form writes the URL: an exact id.
          await page.fill("#filters input[name=idPrefix]", "");
          await page.fill("#filters input[name=id]", "order::07");
          await page.click("#filters button[type=submit]");
          await page.waitForURL(/#\/\?id=order%3A%3A07&status=running%2Cfailed$/);
          await page.locator("#list-page", { hasText: "Page 1 · 1 matching" }).waitFor();
          // Exact workflow and version, not a prefix.
          await shows("workflow=Shop.Order", 0);
          await shows("workflow=Shop.OrderWorkflow&version=1", 30);
          await shows("workflow=Shop.OrderWorkflow&version=2", 0);
          // Inserted and updated ranges.
          await shows("insertedAfter=2000-01-01T00:00:00Z&family=Billing.", 5);
          await shows("insertedBefore=2000-01-01T00:00:00Z", 0);
          await shows("updatedBefore=2999-01-01T00:00:00Z&family=Billing.", 5);
          // Context containment, combined with the rest.
          const context = encodeURIComponent('{"initial":{"order_id":12}}');
          assert.deepEqual(
            await shows(
              `context=${context}&workflow=Shop.OrderWorkflow&insertedAfter=2000-01-01`,
              1,
            ),
            ["order::12"],
          );
          assert.equal(
            await page.locator("#filters input[name=context]").inputValue(),
            '{"initial":{"order_id":12}}',
          );
          // A bad value is explained, not ignored.
          await page.goto(`${base}#/?context=%7Bnope`);
          await page.locator("#error", { hasText: "context expects a JSON document" }).waitFor();
          await page.click("#clear");
          await page.locator("#list-page", { hasText: "Page 1 · 36 matching" }).waitFor();
          assert.ok(await page.locator("#error").isHidden());
        },
      );

      await t.step("order: newest first, keyset paging both ways", async () => {
        await page.goto(base);
        await ready(page, "list");
        await page.selectOption("#filters select[name=order]", "desc");
        await page.click("#filters button[type=submit]");
        await page.waitForURL(/#\/\?order=desc$/);
        await page.locator("#list-body tr:first-child td:first-child", { hasText: "xss::" })
          .waitFor();
        await page.locator("#list-page", { hasText: "Page 1 · 36 matching" }).waitFor();
        const first = await texts(page, "#list-body tr td:first-child");
        assert.equal(first.length, 25);
        assert.equal(first[0], EVIL_ID, "the newest first");
        assert.deepEqual(first.slice(1, 4), ["invoice::5", "invoice::4", "invoice::3"]);
        await page.click("#list-next");
        await page.locator("#list-page", { hasText: "Page 2 · 36 matching" }).waitFor();
        const second = await texts(page, "#list-body tr td:first-child");
        assert.equal(second.length, 11);
        assert.deepEqual(second.slice(-2), ["order::02", "order::01"]);
        await page.click("#list-prev");
        await page.locator("#list-page", { hasText: "Page 1 · 36 matching" }).waitFor();
        assert.deepEqual(await texts(page, "#list-body tr td:first-child"), first);
        assert.equal(await page.locator("#filters select[name=order]").inputValue(), "desc");
      });

      await t.step(
        "breakdown: workflow and version by status; a cell filters the list",
        async () => {
          await page.goto(base);
          await ready(page, "list");
          assert.deepEqual(await texts(page, "#breakdown-body tr td:first-child"), [
            "Billing.Invoice",
            EVIL_WORKFLOW,
            "Shop.OrderWorkflow",
          ]);
          const shop = page.locator("#breakdown-body tr").nth(2);
          // Workflow, version, then pending, running, waiting, completed, failed, total.
          assert.deepEqual(await texts(page, "#breakdown-body tr:nth-child(3) td"), [
            "Shop.OrderWorkflow",
            "1",
            "5",
            "5",
            "5",
            "10",
            "5",
            "30",
          ]);
          await shop.locator("td").nth(6).locator("a").click();
          await page.waitForURL(/#\/\?workflow=Shop\.OrderWorkflow&version=1&status=failed$/);
          await page.locator("#list-page", { hasText: "Page 1 · 5 matching" }).waitFor();
          assert.deepEqual(
            await texts(page, "#list-body tr td:nth-child(3)"),
            Array(5).fill("failed"),
          );
          assert.equal(
            await page.locator("#filters input[name=workflow]").inputValue(),
            "Shop.OrderWorkflow",
          );
          assert.equal(await page.locator("#filters input[name=version]").inputValue(), "1");
          // The total of a row: that workflow version, any status.
          await page.locator("#breakdown-body tr").nth(0).locator("td").last().locator("a").click();
          await page.waitForURL(/#\/\?workflow=Billing\.Invoice&version=1$/);
          await page.locator("#list-body tr:first-child td:first-child", { hasText: "invoice::1" })
            .waitFor();
          await page.locator("#list-page", { hasText: "Page 1 · 5 matching" }).waitFor();
          await assertInert(page);
        },
      );

      await t.step("an instance: fields, history timeline, context", async () => {
        await page.click("#clear");
        await page.locator("#list-page", { hasText: "36 matching" }).waitFor();
        await page.click("#list-body a >> text=order::01");
        await ready(page, "instance");
        assert.equal(await page.locator("#inst-id").textContent(), "order::01");
        const timeline = await texts(page, "#inst-timeline li");
        assert.equal(timeline.length, 2);
        assert.match(timeline[0], /2025-03-01T10:00:00\.000Zstartvalidate started/);
        assert.match(timeline[1], /2025-03-01T10:00:01\.500Z\+1\.5 svalidate completed/);
        assert.match(
          (await page.locator("#inst-history-count").textContent())!,
          /2 entries, 1\.5 s/,
        );
        assert.deepEqual(JSON.parse((await page.locator("#inst-initial").textContent())!), {
          order_id: 1,
        });
        await page.click("#back");
        await ready(page, "list");
      });

      await t.step("detail: a failure up front, typed values, the lease, copy the id", async () => {
        const failed = newInstance({
          id: "typed::1",
          workflow: "Typed.Probe",
          initial: {
            at: new Date("2025-03-01T10:00:00.000Z"),
            big: 12345678901234567890n,
            tags: new Set(["a", "b"]),
            map: new Map([["k", 1]]),
            raw: new Uint8Array([1, 2, 3]),
          },
        });
        failed.status = "failed";
        const steps = ["validate", "reserve", "charge"];
        failed.executionHistory = steps.flatMap((step, i) => [
          {
            stepRef: step,
            event: "started",
            timestamp: new Date(Date.UTC(2025, 2, 1, 10, i, 0)),
            contextUpdates: null,
          },
          {
            stepRef: step,
            event: step === "charge" ? "failed" : "completed",
            timestamp: new Date(Date.UTC(2025, 2, 1, 10, i, 30)),
            contextUpdates: step === "charge"
              ? { error: "card declined", code: 402n }
              : { done: true },
          },
        ]);
        await storage.put(failed);
        const context = await browser!.newContext({
          viewport: { width: 1280, height: 900 },
          permissions: ["clipboard-read", "clipboard-write"],
        });
        try {
          const detail = await context.newPage();
          await detail.goto(`${base}#/instance/typed%3A%3A1`);
          await ready(detail, "instance");
          // The error and the last events show without expanding anything.
          assert.ok(await detail.locator("#inst-failure").isVisible());
          assert.equal(
            await detail.locator("#inst-failure-where").textContent(),
            "at step charge, 2025-03-01T10:02:30.000Z",
          );
          const error = (await detail.locator("#inst-failure-error").textContent())!;
          assert.match(error, /"error": "card declined"/);
          assert.match(error, /"code": 402n/);
          assert.ok(await detail.locator("#inst-failure-error").isVisible());
          const last = await texts(detail, "#inst-last li");
          assert.equal(last.length, 5);
          assert.match(last[0], /2025-03-01T10:02:30\.000Z charge failed/);
          assert.match(last[3], /reserve started/);
          assert.match(last[4], /validate completed/);
          assert.ok(await detail.locator("#inst-timeline details[open] pre").isVisible());
          // Values keep the type the serializer recorded.
          const initial = (await detail.locator("#inst-initial").textContent())!;
          for (
            const shown of [
              '"at": Date(2025-03-01T10:00:00.000Z)',
              '"big": 12345678901234567890n',
              'Set [\n    "a",\n    "b"\n  ]',
              'Map {\n    "k" => 1\n  }',
              '"raw": bytes(3) AQID',
            ]
          ) assert.ok(initial.includes(shown), `${shown} in ${initial}`);
          // Copy the id.
          await detail.click("#copy-id");
          await detail.locator("#copy-done", { hasText: "copied" }).waitFor();
          assert.equal(await detail.evaluate("navigator.clipboard.readText()"), "typed::1");
          // An instance that did not fail has no failure box; its lease holder and expiry show.
          await detail.goto(`${base}#/instance/order%3A%3A01`);
          await ready(detail, "instance");
          assert.ok(await detail.locator("#inst-failure").isHidden());
          const fields = await texts(detail, "#inst-fields dt, #inst-fields dd");
          const field = (name: string) => fields[fields.indexOf(name) + 1];
          assert.equal(field("Lease holder"), "worker-a");
          assert.match(field("Lease expires"), /^\d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+m \d\ds\)$/);
          await detail.goto(`${base}#/instance/${encodeURIComponent(EVIL_ID)}`);
          await ready(detail, "instance");
          const evil = await texts(detail, "#inst-fields dt, #inst-fields dd");
          assert.equal(evil[evil.indexOf("Lease holder") + 1], EVIL_OWNER);
          assert.match(evil[evil.indexOf("Lease expires") + 1], /\(expired .* ago\)$/);
        } finally {
          await context.close();
          await storage.delete("typed::1");
        }
      });

      await t.step("markup in stored values renders as text and never runs", async () => {
        await page.goto(`${base}#/?family=Evil.`);
        await ready(page, "list");
        assert.equal(await page.locator("#list-body tr").count(), 1);
        await page.locator("#list-body a").click();
        await ready(page, "instance");
        assert.equal(await page.locator("#inst-id").textContent(), EVIL_ID);
        const fields = (await page.locator("#inst-fields").textContent())!;
        assert.ok(fields.includes(EVIL_WORKFLOW), fields);
        assert.ok(fields.includes(`Current step${SCRIPT}`), fields);
        assert.ok(fields.includes(EVIL_OWNER), fields);
        const initial = JSON.parse((await page.locator("#inst-initial").textContent())!);
        assert.deepEqual(initial, { note: SCRIPT + IMG, [IMG]: "key with markup" });
        assert.deepEqual(JSON.parse((await page.locator("#inst-configs").textContent())!), {
          [SCRIPT]: { html: IMG },
        });
        await page.locator("#inst-timeline summary").click();
        const entry = (await page.locator("#inst-timeline li").textContent())!;
        assert.ok(entry.includes(`${IMG} ${SCRIPT}`), entry);
        assert.ok(entry.includes(JSON.stringify(SCRIPT)), entry);
        await assertInert(page);
      });

      await t.step("stuck: not updated for a while, and expired leases", async () => {
        await page.click("#tab-stuck");
        await ready(page, "stuck");
        assert.equal(await page.locator("#stuck-count").textContent(), "(1)");
        assert.deepEqual(await texts(page, "#stuck-body tr td:first-child"), [EVIL_ID]);
        assert.deepEqual(await texts(page, "#lease-body tr td:first-child"), [EVIL_ID]);
        assert.match(
          (await page.locator("#lease-status").textContent())!,
          /^1 found among \d+ unfinished instances$/,
        );
        // Idle for 1s or more: everything running or waiting.
        await page.fill("#stuck-form input[name=idle]", "1s");
        await page.click("#stuck-form button[type=submit]");
        await page.waitForURL(/#\/stuck\?idle=1s$/);
        await page.locator("#stuck-count", {
          hasText: `(${counts.running + counts.waiting})`,
        }).waitFor();
        await page.fill("#stuck-form input[name=idle]", "soon");
        await page.click("#stuck-form button[type=submit]");
        await page.locator("#error", { hasText: "idle expects a duration" }).waitFor();
        await assertInert(page);
      });

      await t.step("a corrupt row is flagged in the list and explained on its page", async () => {
        const broken = "broken::1";
        await pool.query(
          `INSERT INTO "${schema}".workflow_instances (id, workflow, workflow_version, status, state)
           VALUES ($1, 'Broken.Flow', 1, 'running', '{"active_steps": "x"}')`,
          [broken],
        );
        try {
          await page.goto(`${base}#/?family=Broken.`);
          await ready(page, "list");
          assert.deepEqual(await texts(page, "#list-body tr.corrupt-row td"), [
            broken,
            "cannot be read: state.active_steps has the wrong type",
          ]);
          await page.goto(`${base}#/`);
          await ready(page, "list");
          assert.equal(await page.locator("#list-page").textContent(), "Page 1 · 37 matching");
          await page.goto(`${base}#/?family=Broken.`);
          await ready(page, "list");
          await page.locator("#list-body a").click();
          await page.locator("#error", { hasText: "cannot be read: state.active_steps" }).waitFor();
        } finally {
          await pool.query(`DELETE FROM "${schema}".workflow_instances WHERE id = $1`, [broken]);
        }
      });

      await t.step(
        "live: the list and the counts refresh, can pause, say when they changed",
        async () => {
          const opened = await openPage(browser!);
          const live = opened.page;
          try {
            await live.clock.install();
            await live.goto(`${base}#/?order=desc&workflow=Live.Probe`);
            await ready(live, "list");
            await live.locator("#list-page", { hasText: "Page 1 · 0 matching" }).waitFor();
            const total = Number((await live.locator("#total").textContent())!.split(" ")[0]);
            assert.match((await live.locator("#changed").textContent())!, /no change seen since/);

            await storage.put(newInstance({ id: "live::1", workflow: "Live.Probe" }));
            await live.clock.runFor(10_500);
            await live.locator("#list-page", { hasText: "Page 1 · 1 matching" }).waitFor();
            await live.locator("#total", { hasText: `${total + 1} instances` }).waitFor();
            await live.locator("#changed", { hasText: "last changed" }).waitFor();
            assert.deepEqual(await texts(live, "#list-body tr td:first-child"), ["live::1"]);

            // Paused: nothing is read again until resumed.
            await live.click("#live");
            assert.equal(await live.locator("#live").textContent(), "Resume live");
            await storage.put(newInstance({ id: "live::2", workflow: "Live.Probe" }));
            await live.clock.runFor(30_000);
            await new Promise((resolve) => setTimeout(resolve, 500));
            assert.equal(await live.locator("#list-page").textContent(), "Page 1 · 1 matching");
            await live.click("#live");
            assert.equal(await live.locator("#live").textContent(), "Pause live");
            await live.locator("#list-page", { hasText: "Page 1 · 2 matching" }).waitFor();
            assert.deepEqual(await texts(live, "#list-body tr td:first-child"), [
              "live::2",
              "live::1",
            ]);
            await live.locator("#total", { hasText: `${total + 2} instances` }).waitFor();
            assert.deepEqual(opened.problems, []);
          } finally {
            await live.close();
            await storage.delete("live::1");
            await storage.delete("live::2");
          }
        },
      );

      await t.step("screenshot", async () => {
        await page.goto(`${base}#/`);
        await ready(page, "list");
        // The README's screenshots come from the realistic dataset below; this one is checked only.
        const shot = await Deno.makeTempFile({ suffix: ".png" });
        await page.screenshot({ path: shot });
        const png = await Deno.readFile(shot);
        await Deno.remove(shot);
        assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
        assert.ok(png.length > 20_000, "not blank");
      });

      await t.step("no script error, no CSP violation, nothing seeded ran", async () => {
        await assertInert(page);
        assert.deepEqual(
          // The expected failures: the refused idle time ("soon"), a 400; the corrupt row, a 422.
          problems.filter((p) =>
            !p.includes("status of 400 (Bad Request)") &&
            !p.includes("status of 422 (Unprocessable Entity)")
          ),
          [],
        );
      });
    } finally {
      await browser?.close();
      await dashboard?.stop();
      await drop();
    }
  },
});

Deno.test({
  name: "the dashboard's headers, read-only API and --host/--token rules",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { url, schema, pool, drop } = await withTestSchema("dashboard");
    const driver = nodePostgresDriver(pool);
    let dashboard: Dashboard | undefined;
    let browser: Browser | undefined;
    try {
      await migrate(driver, { schema });
      await new PgStorage({ driver, schema }).put(newInstance({ id: "a::1", workflow: "A" }));

      await t.step("--host without a token, or a weak token, is refused", async () => {
        for (
          const [args, pattern] of [
            [["--host", "0.0.0.0"], /--host requires a token/],
            [["--host", "0.0.0.0", "--token", "short"], /--token expects 16 to 256 characters/],
            [["--port", "http"], /--port expects a port number/],
          ] as const
        ) {
          const run = await refused([...args, "--url", url, "--schema", schema]);
          assert.equal(run.code, 2, run.stderr);
          assert.equal(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
          assert.match(run.stderr, pattern);
        }
      });

      await t.step("on localhost: security headers, JSON endpoints, read-only", async () => {
        dashboard = await startDashboard(["--url", url, "--schema", schema]);
        const page = await fetch(dashboard.url);
        assert.equal(page.status, 200);
        const csp = page.headers.get("content-security-policy")!;
        for (
          const directive of [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
          ]
        ) assert.ok(csp.includes(directive), csp);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
        assert.equal(page.headers.get("x-content-type-options"), "nosniff");
        const html = await page.text();
        assert.doesNotMatch(html, /<script>|<style>|\sstyle=|\son\w+=/, "nothing inline");

        const script = await fetch(new URL("app.js", dashboard.url));
        assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
        assert.equal(await script.text(), APP_JS);
        assert.doesNotMatch(APP_JS, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);

        const summary = await fetch(new URL("api/summary", dashboard.url));
        assert.equal(summary.headers.get("content-type"), "application/json; charset=utf-8");
        assert.equal((await summary.json()).counts.pending, 1);
        const bad = await fetch(new URL("api/instances?status=nope", dashboard.url));
        assert.equal(bad.status, 400);
        assert.match((await bad.json()).error, /status expects/);
        const missing = await fetch(new URL("api/instance?id=a::2", dashboard.url));
        assert.equal(missing.status, 404);
        await missing.body?.cancel();

        // DNS rebinding: a request for another name reaching the loopback listener is refused.
        const { port } = new URL(dashboard.url);
        const connection = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
        await connection.write(new TextEncoder().encode(
          "GET /api/summary HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        ));
        const raw = await new Response(connection.readable).text();
        assert.match(raw, /^HTTP\/1\.1 403 /);

        const post = await fetch(new URL("api/summary", dashboard.url), { method: "POST" });
        assert.equal(post.status, 405);
        await post.body?.cancel();
        await dashboard.stop();
        dashboard = undefined;
      });

      await t.step("with --host and --token: refused without the token", async () => {
        dashboard = await startDashboard([
          "--url",
          url,
          "--schema",
          schema,
          "--host",
          "127.0.0.1",
          "--token",
          TOKEN,
        ]);
        const at = (path: string) => new URL(path, dashboard!.url);
        for (const path of ["", "app.js", "api/summary", `?token=${TOKEN.slice(1)}x`]) {
          const response = await fetch(at(path), { redirect: "manual" });
          assert.equal(response.status, 401, path);
          assert.equal(response.headers.get("x-content-type-options"), "nosniff");
          assert.match(await response.text(), /^unauthorized/);
        }
        const wrongBearer = await fetch(at("api/summary"), {
          headers: { authorization: `Bearer ${TOKEN.replace("0", "1")}` },
        });
        assert.equal(wrongBearer.status, 401);
        await wrongBearer.body?.cancel();
        const wrongCookie = await fetch(at("api/summary"), {
          headers: { cookie: `heph_dashboard_token=${TOKEN}x` },
        });
        assert.equal(wrongCookie.status, 401);
        await wrongCookie.body?.cancel();

        const bearer = await fetch(at("api/summary"), {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        assert.equal(bearer.status, 200);
        assert.equal((await bearer.json()).total, 1);

        const exchange = await fetch(at(`?token=${TOKEN}`), { redirect: "manual" });
        assert.equal(exchange.status, 303);
        assert.equal(exchange.headers.get("location"), "/");
        const cookie = exchange.headers.get("set-cookie")!;
        assert.match(cookie, /^heph_dashboard_token=\w+; HttpOnly; SameSite=Strict; Path=\/$/);
        await exchange.body?.cancel();
        const withCookie = await fetch(at("api/summary"), {
          headers: { cookie: nth(cookie.split(";"), 0) },
        });
        assert.equal(withCookie.status, 200);
        await withCookie.body?.cancel();
      });

      await t.step("in the browser: ?token= once, then the cookie", async () => {
        browser = await launch();
        const { page, problems } = await openPage(browser);
        const denied = await page.goto(dashboard!.url);
        assert.equal(denied?.status(), 401);
        await page.goto(`${dashboard!.url}?token=${TOKEN}`);
        await ready(page, "list");
        assert.equal(new URL(page.url()).search, "", "the token left the address bar");
        assert.equal(await page.locator("#total").textContent(), "1 instance");
        assert.deepEqual(await texts(page, "#list-body tr td:first-child"), ["a::1"]);
        assert.deepEqual(problems.filter((p) => !p.includes("status of 401 (Unauthorized)")), []);
      });
    } finally {
      await browser?.close();
      await dashboard?.stop();
      await drop();
    }
  },
});

Deno.test({
  name: "dashboardHandler mounted in an app under a base path, in Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const storage = new MemoryStorage();
    for (const instance of seed()) await storage.put(instance);
    const dashboard = dashboardHandler(storage, { basePath: "/admin/workflows", title: "memory" });
    // The host app: its own routes, and the dashboard behind its own check.
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return new Response("the app");
      if (!pathname.startsWith("/admin/workflows")) return new Response("nope", { status: 404 });
      return request.headers.get("cookie")?.includes("admin=yes")
        ? dashboard(request)
        : new Response("forbidden", { status: 403 });
    });
    const base = `http://127.0.0.1:${server.addr.port}`;
    let browser: Browser | undefined;
    try {
      browser = await launch();
      const context = await browser.newContext();
      await context.addCookies([{ name: "admin", value: "yes", url: base }]);
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console error: ${message.text()}`);
      });
      await page.goto(`${base}/admin/workflows`); // redirected to /admin/workflows/
      await ready(page, "list");
      assert.equal(new URL(page.url()).pathname, "/admin/workflows/");
      assert.equal(await page.locator("#total").textContent(), "36 instances");
      await page.click("#list-body a >> text=order::01");
      await ready(page, "instance");
      assert.equal(await page.locator("#inst-id").textContent(), "order::01");
      assert.equal((await texts(page, "#inst-timeline li")).length, 2);
      await assertInert(page);
      assert.deepEqual(problems, []);
      const outside = await fetch(`${base}/admin/workflows/api/summary`);
      assert.equal(outside.status, 403, "the app's own check stays in front");
      await outside.body?.cancel();
    } finally {
      await browser?.close();
      await server.shutdown();
    }
  },
});

/** A shop's instances as an operator would see them: five workflows, a day of history. */
function realisticSeed(): WorkflowInstance[] {
  const kinds = [
    {
      workflow: "Shop.OrderWorkflow",
      version: 2,
      n: 180,
      prefix: "order",
      steps: ["validate", "reserve_stock", "charge", "ship"],
    },
    {
      workflow: "Shop.OrderWorkflow",
      version: 1,
      n: 30,
      prefix: "order",
      steps: ["validate", "charge", "ship"],
    },
    {
      workflow: "Billing.InvoiceWorkflow",
      version: 1,
      n: 70,
      prefix: "inv",
      steps: ["draft", "send", "await_payment"],
    },
    {
      workflow: "Shipping.DispatchWorkflow",
      version: 3,
      n: 50,
      prefix: "dsp",
      steps: ["pick", "pack", "hand_over"],
    },
    {
      workflow: "Support.RefundWorkflow",
      version: 1,
      n: 16,
      prefix: "rfd",
      steps: ["review", "refund"],
    },
  ];
  const statuses = [
    "completed",
    "completed",
    "completed",
    "running",
    "completed",
    "waiting",
    "completed",
    "failed",
    "completed",
    "pending",
    "completed",
    "completed",
  ] as const;
  const seeds: WorkflowInstance[] = [];
  let serial = 10_400;
  for (const kind of kinds) {
    for (let i = 0; i < kind.n; i++) {
      serial += 7;
      const status = nth(statuses, (seeds.length * 5 + (i % 7)) % statuses.length);
      const instance = newInstance({
        id: `${kind.prefix}-${serial}`,
        workflow: kind.workflow,
        workflowVersion: kind.version,
        initial: {
          customer_id: `cus_${(serial * 31) % 9973}`,
          amount_cents: BigInt(1000 + (serial * 37) % 90000),
          placed_at: new Date(Date.now() - 86_400_000 + serial % 1000 * 86_000),
          tags: new Set(serial % 3 ? ["web"] : ["web", "priority"]),
        },
      });
      instance.status = status;
      const reached = status === "completed"
        ? kind.steps.length
        : 1 + (serial % (kind.steps.length - 1 || 1));
      const done = kind.steps.slice(0, reached);
      const start = Date.now() - 86_400_000 + (serial % 1000) * 86_000;
      instance.executionHistory = done.flatMap((step, k) => {
        const last = k === done.length - 1;
        const event = last && status === "failed"
          ? "failed"
          : last && status !== "completed"
          ? "started"
          : "completed";
        return [
          {
            stepRef: step,
            event: "started",
            timestamp: new Date(start + k * 9_000),
            contextUpdates: null,
          },
          ...(event === "started" ? [] : [{
            stepRef: step,
            event,
            timestamp: new Date(start + k * 9_000 + 1_200 + (serial % 7) * 300),
            contextUpdates: event === "failed"
              ? { error: "Payment declined: insufficient funds", code: "card_declined", attempt: 3 }
              : { [`${step}_ok`]: true },
          }]),
        ];
      });
      instance.currentStep = status === "completed" ? null : nth(done, done.length - 1);
      instance.completedSteps = new Set(status === "completed" ? done : done.slice(0, -1));
      seeds.push(instance);
    }
  }
  return seeds;
}

Deno.test({
  name: "README screenshots, from a realistic dataset",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { schema, pool, drop } = await withTestSchema("dashboard_shots");
    const driver = nodePostgresDriver(pool);
    const storage = new PgStorage({ driver, schema });
    let browser: Browser | undefined;
    // In process, titled as an operator would title it: no test schema name on the page.
    const dashboard = dashboardHandler(storage, { title: "shop" });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, dashboard);
    try {
      await migrate(driver, { schema });
      await storage.putMany(realisticSeed());
      // A day of traffic: inserted over the last 24 hours (as the histories say), updated after.
      await pool.query(
        `UPDATE "${schema}".workflow_instances w
         SET inserted_at = now() - interval '1 day'
               + (split_part(w.id, '-', 2)::integer % 1000) * interval '86 seconds',
             updated_at = now() - interval '1 day'
               + (split_part(w.id, '-', 2)::integer % 1000) * interval '86 seconds'
               + CASE WHEN w.status IN ('completed', 'failed') THEN interval '25 seconds'
                      WHEN w.status = 'pending' THEN interval '0' ELSE interval '12 seconds' END`,
      );
      await storage.claim({ owner: "worker-eu-1", leaseMs: 300_000, limit: 6, status: "running" });
      await storage.claim({ owner: "worker-eu-2", leaseMs: 300_000, limit: 4, status: "running" });
      browser = await launch();
      const { page, problems } = await openPage(browser);
      const base = `http://127.0.0.1:${server.addr.port}/`;
      await page.goto(`${base}#/?order=desc`);
      await ready(page, "list");
      assert.equal(await page.locator("#schema").textContent(), "schema shop");
      await page.screenshot({ path: fileURLToPath(SCREENSHOT), fullPage: true });
      const failed = await storage.page({ status: "failed", workflow: "Shop.OrderWorkflow" }, {
        limit: 1,
        order: "desc",
      });
      await page.goto(`${base}#/instance/${encodeURIComponent(nth(failed.items, 0).id)}`);
      await ready(page, "instance");
      assert.ok(await page.locator("#inst-failure").isVisible());
      await page.screenshot({ path: fileURLToPath(DETAIL_SCREENSHOT), fullPage: true });
      for (const shot of [SCREENSHOT, DETAIL_SCREENSHOT]) {
        const png = await Deno.readFile(shot);
        assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
        assert.ok(png.length > 20_000, "not blank");
      }
      assert.deepEqual(problems, []);
    } finally {
      await browser?.close();
      await server.shutdown();
      await drop();
    }
  },
});
