/**
 * Benchmark: {@linkcode PgStorage} against a hand-written store on the same table, same SQL.
 *
 * "Raw" is what a hand-written store would do: `JSON.stringify` the data and send the same
 * upsert; select the plain columns and let node-postgres parse jsonb and timestamps itself.
 * The two sides alternate (and swap order) every iteration, so drift hits both alike.
 *
 * Usage: `deno task bench [--quick] [--write]`. `--quick` runs 60 iterations (10 warm-up)
 * instead of 300 (30); `bench/RESULTS.md` is written unless `--quick` is given without `--write`.
 * The database is `DATABASE_URL`, else the test harness's; a fresh schema is dropped at the end.
 *
 * @module
 */

import pg from "pg";
import pgPackage from "pg/package.json" with { type: "json" };
import {
  decodeInstance,
  encodeInstance,
  type InstanceStatus,
  migrate,
  newInstance,
  PgStorage,
  type WorkflowInstance,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { testDatabaseUrl } from "../tests/support/test_db.ts";

const quick = Deno.args.includes("--quick");
const writeResults = !quick || Deno.args.includes("--write");
const ITERATIONS = quick ? 60 : 300;
const WARMUP = quick ? 10 : 30;
const GOAL = 1.10;
const SIZES = [{ label: "2 KB", bytes: 2 * 1024 }, { label: "64 KB", bytes: 64 * 1024 }];

// COPY of the SQL text PgStorage sends (src/pg_storage.ts, `statements().upsert`): keep in sync.
const NOW = `date_trunc('milliseconds', now())`;
const upsertSql = (table: string) =>
  `INSERT INTO ${table} AS t
    (id, workflow, workflow_version, status, state, revision, inserted_at, updated_at)
    VALUES ($1, $2, $3::integer, $4, $5::text::jsonb, 1, ${NOW}, ${NOW})
    ON CONFLICT (id) DO UPDATE SET workflow = EXCLUDED.workflow, status = EXCLUDED.status,
      state = EXCLUDED.state, revision = t.revision + 1, updated_at = EXCLUDED.updated_at
    RETURNING revision::text AS revision`;
const RAW_COLUMNS =
  "id, workflow, workflow_version, status, state, revision, inserted_at, updated_at";

/** An order-workflow instance whose state grows with the number of line items. */
export function orderInstance(id: string, items: number, status: InstanceStatus): WorkflowInstance {
  const placed = new Date(Date.UTC(2025, 0, 15, 10, 30));
  const at = (seconds: number) => new Date(placed.getTime() + seconds * 1000);
  const lineItems = Array.from({ length: items }, (_, i) => ({
    sku: `SKU-${10000 + i}`,
    name: `Widget model ${i}, stainless steel, 40 cm`,
    quantity: 1 + (i % 4),
    unit_price: { amount: 1999 + i * 7, currency: "EUR" },
    tax_rate: 0.2,
    attributes: { color: ["red", "green", "blue"][i % 3], size: "SMLX"[i % 4], gift: i % 5 === 0 },
  }));
  const subtotal = lineItems.reduce((sum, li) => sum + li.quantity * li.unit_price.amount, 0);
  const address = { line1: "12 Ada Row", city: "London", postcode: "EC1A 1BB", country: "GB" };
  const instance = newInstance({
    id,
    workflow: "Shop.OrderWorkflow",
    workflowVersion: 3,
    initial: {
      order_id: 123456,
      placed_at: placed,
      channel: "web",
      customer: {
        id: "cus_8f3a9c",
        name: "Ada Lovelace",
        email: "ada@example.com",
        since: new Date(Date.UTC(2019, 4, 1)),
        loyalty: { tier: "gold", points: 12840 },
      },
      shipping_address: address,
      billing_same_as_shipping: true,
      line_items: lineItems,
      totals: { subtotal, shipping: 495, tax: Math.round(subtotal * 0.2), currency: "EUR" },
      notes: "Leave at the reception desk if nobody answers.",
    },
  });
  const steps = ["validate", "reserve_stock", "charge"];
  return Object.assign(instance, {
    status,
    currentStep: "ship",
    stepConfigs: { charge: { retries: 3, timeout_ms: 30000 }, ship: { carrier: "dhl" } },
    activeSteps: new Set(["ship"]),
    completedSteps: new Set(steps),
    runtimeMetadata: { node: "worker-2", attempt: 1 },
    telemetryMetadata: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa" },
    context: {
      initial: instance.context.initial,
      steps: {
        validate: { valid: true, checked_at: at(1), warnings: [] },
        reserve_stock: {
          reservations: lineItems.map((li, i) => ({ sku: li.sku, warehouse: `WH-${i % 3}` })),
        },
        charge: { payment_id: "pi_3NfX2", amount: subtotal + 495, captured_at: at(5) },
      },
    },
    executionHistory: [
      ...steps.map((step, i) => ({
        stepRef: step,
        event: "completed",
        timestamp: at(i + 1),
        contextUpdates: { ok: true },
      })),
      { stepRef: "ship", event: "started", timestamp: at(4), contextUpdates: null },
    ],
  });
}

/** What a hand-written store would JSON.stringify: the same layout, Sets as arrays. */
export function plainState(instance: WorkflowInstance) {
  return {
    current_step: instance.currentStep,
    context: instance.context,
    step_configs: instance.stepConfigs,
    active_steps: [...instance.activeSteps],
    completed_steps: [...instance.completedSteps],
    execution_history: instance.executionHistory.map((e) => ({
      step_ref: e.stepRef,
      event: e.event,
      timestamp: e.timestamp,
      context_updates: e.contextUpdates,
    })),
    runtime_metadata: instance.runtimeMetadata,
    telemetry_metadata: instance.telemetryMetadata,
  };
}

/** The number of line items (at least 2) whose encoded state is closest to `bytes`. */
export function itemsFor(bytes: number): number {
  const size = (items: number) => encodeInstance(orderInstance("x", items, "running")).state.length;
  let items = 2;
  while (Math.abs(size(items + 1) - bytes) < Math.abs(size(items) - bytes)) items++;
  return items;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)];
const p90 = (xs: number[]) => sorted(xs)[Math.ceil(xs.length * 0.9) - 1];
const ms = (x: number) => x.toFixed(3);

/** Runs both sides alternately (order swapped every iteration); returns their timings. */
async function compare(raw: () => Promise<unknown>, lib: () => Promise<unknown>) {
  const times = { raw: [] as number[], lib: [] as number[] };
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const sides = i % 2 === 0 ? (["raw", "lib"] as const) : (["lib", "raw"] as const);
    for (const side of sides) {
      const start = performance.now();
      await (side === "raw" ? raw() : lib());
      const elapsed = performance.now() - start;
      if (i >= WARMUP) times[side].push(elapsed);
    }
  }
  return times;
}

/** Median time of one call of `fn`, timed in batches so short calls stay measurable. */
function micro(fn: () => unknown, batch: number): number {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const start = performance.now();
    for (let j = 0; j < batch; j++) fn();
    if (i >= WARMUP) samples.push((performance.now() - start) / batch);
  }
  return median(samples);
}

const table = (head: string[], align: string[], body: string[][]) =>
  [head, align, ...body].map((cells) => `| ${cells.join(" | ")} |`).join("\n");

/** Seeds 50 "waiting" instances plus 20 of other statuses, then checks both sides see 50. */
async function seed(storage: PgStorage, items: number, check: () => Promise<unknown[]>) {
  const others: InstanceStatus[] = ["pending", "running", "completed", "failed"];
  for (let i = 0; i < 50; i++) await storage.put(orderInstance(`wait::${i}`, items, "waiting"));
  for (let i = 0; i < 20; i++) await storage.put(orderInstance(`o::${i}`, items, others[i % 4]));
  const [lib, raw] = [await storage.query({ status: "waiting" }), await check()];
  if (lib.length !== 50 || raw.length !== 50) throw new Error("seeding went wrong");
}

/** Runs the benchmark and prints (and maybe writes) the results. */
async function main(): Promise<void> {
  const url = Deno.env.get("DATABASE_URL") || await testDatabaseUrl();
  const pool = new pg.Pool({ connectionString: url });
  const schema = `bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const qualified = `"${schema}".workflow_instances`;
  const results: string[][] = [];
  const cpu: string[][] = [];
  let server = "?";
  try {
    const driver = nodePostgresDriver(pool);
    await migrate(driver, { schema });
    const storage = new PgStorage({ driver, schema });
    server = (await pool.query("SHOW server_version")).rows[0].server_version;
    const upsert = upsertSql(qualified);
    const select = `SELECT ${RAW_COLUMNS} FROM ${qualified}`;
    const byStatusSql = `${select} WHERE status = $1 ORDER BY inserted_at, id`;
    const byStatus = () => pool.query(byStatusSql, ["waiting"]);
    console.log(`Deno ${Deno.version.deno}, PostgreSQL ${server}, pg ${pgPackage.version}`);
    console.log(`${new Date().toISOString()}, ${ITERATIONS} iterations after ${WARMUP} warm-up\n`);

    for (const size of SIZES) {
      const items = itemsFor(size.bytes);
      const instance = orderInstance("order::bench", items, "running");
      const encoded = encodeInstance(instance).state;
      const plain = JSON.stringify(plainState(instance));
      console.log(
        `${size.label}: ${items} line items; encoded state ${encoded.length} chars ` +
          `(plain JSON.stringify: ${plain.length})`,
      );
      await pool.query(`TRUNCATE ${qualified}`);
      await storage.put(instance);
      await seed(storage, items, async () => (await byStatus()).rows);

      const { id, workflow, workflowVersion, status } = instance;
      const rawPut =
        () => [id, workflow, workflowVersion, status, JSON.stringify(plainState(instance))];
      const ops: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
        ["put", () => pool.query(upsert, rawPut()), () => storage.put(instance)],
        ["get", () => pool.query(`${select} WHERE id = $1`, [id]), () => storage.get(id)],
        ["query (50 rows)", byStatus, () => storage.query({ status: "waiting" })],
      ];
      for (const [op, raw, lib] of ops) {
        const t = await compare(raw, lib);
        const ratio = median(t.lib) / median(t.raw);
        const verdict = ratio <= GOAL ? "✓" : "✗";
        const cells = [t.raw, t.lib].flatMap((xs) => [ms(median(xs)), ms(p90(xs))]);
        results.push([op, size.label, ...cells, ratio.toFixed(2), verdict]);
      }

      // CPU only, no database: the serializer against what a hand-written store does instead.
      const batch = Math.ceil(128 * 1024 / encoded.length);
      const epoch = "1736937000000";
      const textRow = { id, workflow, workflow_version: "3", status, state: encoded };
      const row = { ...textRow, revision: "7", inserted_at: epoch, updated_at: epoch };
      cpu.push([
        size.label,
        ms(micro(() => encodeInstance(instance), batch)),
        ms(micro(() => JSON.stringify(plainState(instance)), batch)),
        ms(micro(() => decodeInstance(row), batch)),
        ms(micro(() => JSON.parse(plain), batch)),
      ]);
    }
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await pool.end();
  }

  const head = "operation|size|raw median ms|raw p90 ms|PgStorage median ms|PgStorage p90 ms|ratio";
  const main = table(
    [...head.split("|"), `goal ≤ ${GOAL.toFixed(2)}`],
    ["---", "---", "---:", "---:", "---:", "---:", "---:", ":---:"],
    results,
  );
  const micros = table(
    ["size", "encodeInstance ms", "JSON.stringify(plain) ms", "decodeInstance ms", "JSON.parse ms"],
    ["---", "---:", "---:", "---:", "---:"],
    cpu,
  );
  console.log(`\n${main}\n\nCPU only (median per call, no database):\n\n${micros}`);
  if (!writeResults) return;
  const gib = (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1);
  const header = [
    "# @heph/pg storage benchmark",
    "",
    "Written by `deno task bench` (bench/storage_bench.ts). Raw: the same SQL sent by hand, " +
    "`JSON.stringify` in, pg's own jsonb parsing out. Ratio: PgStorage median / raw median.",
    "",
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs, ` +
    `${gib} GiB RAM`,
    `- Versions: Deno ${Deno.version.deno}, PostgreSQL ${server}, pg ${pgPackage.version}`,
    `- Iterations: ${ITERATIONS} per side after ${WARMUP} warm-up, the sides interleaved`,
  ].join("\n");
  const body = `${main}\n\n## CPU only (median per call, no database)\n\n${micros}\n`;
  const path = new URL("./RESULTS.md", import.meta.url);
  await Deno.writeTextFile(path, `${header}\n\n${body}`);
  // Align it as `deno fmt --check` (the project's check task) wants it.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", path.pathname] }).output();
  console.log("\nWrote bench/RESULTS.md");
}

if (import.meta.main) await main();
