/**
 * Section 4, concurrency: put+get throughput with 1, 8 and 32 concurrent callers (PgStorage and
 * the raw client, alternating rounds on one pool of 32 connections), and 8 workers draining
 * 10,000 waiting instances with `claim`, checking that no instance is claimed twice.
 *
 * @module
 */

import pg from "pg";
import { migrate, PgStorage, type StoredInstance } from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { itemsFor, orderInstance, plainState } from "./fixtures.ts";
import { defined } from "./defined.ts";
import { type BenchSettings, int, median, ratio } from "./measure.ts";
import { seedRows, templateState } from "./seed.ts";

/** put+get pairs per second at one concurrency. */
export interface ThroughputRow {
  /** Concurrent callers. */
  callers: number;
  /** Raw client, pairs/s (median over rounds). */
  raw: number;
  /** PgStorage, pairs/s (median over rounds). */
  lib: number;
  /** raw / lib: how much longer PgStorage takes per pair. */
  ratio: number;
}

/** One drain of the queue. */
export interface DrainRow {
  /** What each worker does per instance. */
  variant: string;
  /** Workers. */
  workers: number;
  /** Instances seeded. */
  instances: number;
  /** Instances claimed (all of them, once each, when correct). */
  claimed: number;
  /** Instances claimed more than once. */
  doubles: number;
  /** Seconds from the first claim to the last. */
  seconds: number;
  /** Instances per second. */
  perSecond: number;
}

/** What the section measured. */
export interface ConcurrencyResult {
  /** Throughput at 1, 8 and 32 callers. */
  throughput: ThroughputRow[];
  /** The drains. */
  drains: DrainRow[];
  /** Rounds per side and their length. */
  rounds: { count: number; ms: number };
}

/** Instances each drain starts with (fewer with `--quick`, to stay within two minutes). */
const DRAIN_SIZE = 10_000;
const QUICK_DRAIN_SIZE = 2_000;
const WORKERS = 8;

/** Runs the section on a pool of 32 node-postgres connections. */
export async function measureConcurrency(settings: BenchSettings): Promise<ConcurrencyResult> {
  const schema = `bench_concurrency_${crypto.randomUUID().slice(0, 8)}`;
  const table = `"${schema}".workflow_instances`;
  const pool = new pg.Pool({ connectionString: settings.url, max: 32 });
  const driver = nodePostgresDriver(pool);
  const storage = new PgStorage({ driver, schema });
  const rounds = settings.quick ? { count: 3, ms: 500 } : { count: 8, ms: 1000 };
  const throughput: ThroughputRow[] = [];
  const drains: DrainRow[] = [];
  try {
    await migrate(driver, { schema });
    const items = itemsFor(2 * 1024);
    // PgStorage's own statements, so that the raw side sends exactly the same SQL.
    const captured: Record<string, string> = {};
    const capturing = new PgStorage({
      driver,
      schema,
      onQuery: (event) => (captured[event.operation] = event.sql),
    });
    const probe = orderInstance("conc::probe", items, "running");
    await capturing.put(probe);
    await capturing.get(probe.id);

    for (const callers of [1, 8, 32]) {
      const instances = Array.from(
        { length: callers },
        (_, c) => orderInstance(`conc::${c}`, items, "running", 10 + c),
      );
      const instanceOf = (c: number) => defined(instances[c], `caller ${c}'s instance`);
      const sides = {
        raw: async (c: number) => {
          const instance = instanceOf(c);
          await pool.query(captured.put, [
            instance.id,
            instance.workflow,
            instance.workflowVersion,
            instance.status,
            JSON.stringify(plainState(instance)),
          ]);
          await pool.query(captured.get, [instance.id]);
        },
        lib: async (c: number) => {
          const instance = instanceOf(c);
          await storage.put(instance);
          await storage.get(instance.id);
        },
      };
      const perSecond = { raw: [] as number[], lib: [] as number[] };
      for (let round = -1; round < rounds.count; round++) {
        const order = round % 2 === 0 ? ["raw", "lib"] as const : ["lib", "raw"] as const;
        for (const side of order) {
          const pairs = await runFor(round < 0 ? 200 : rounds.ms, callers, sides[side]);
          if (round >= 0) perSecond[side].push(pairs);
        }
      }
      const row = {
        callers,
        raw: median(perSecond.raw),
        lib: median(perSecond.lib),
        ratio: median(perSecond.raw) / median(perSecond.lib),
      };
      throughput.push(row);
      settings.log(
        `concurrency: ${callers} callers: raw ${int(row.raw)} put+get/s, PgStorage ${
          int(row.lib)
        } put+get/s (raw/PgStorage ${ratio(row.ratio)})`,
      );
    }

    const variants: [
      string,
      number,
      (s: PgStorage, i: StoredInstance, owner: string) => Promise<
        unknown
      >,
    ][] = [
      ["claim (limit 1)", 1, () => Promise.resolve()],
      ["claim (limit 10)", 10, () => Promise.resolve()],
      [
        "claim (limit 1), put completed (owner, expectedRevision), releaseLease",
        1,
        async (s, instance, owner) => {
          instance.status = "completed";
          instance.context.steps.ship = { by: owner };
          await s.put(instance, { owner, expectedRevision: instance.revision });
          await s.releaseLease(instance.id, { owner });
        },
      ],
    ];
    const state = templateState();
    const drainSize = settings.quick ? QUICK_DRAIN_SIZE : DRAIN_SIZE;
    for (const [variant, limit, work] of variants) {
      await pool.query(`TRUNCATE ${table}`);
      await seedRows(pool, table, {
        from: 1,
        to: drainSize,
        prefix: "job::",
        status: "'waiting'",
        state,
      });
      await pool.query(`VACUUM ANALYZE ${table}`);
      const claimedIds: string[] = [];
      const started = performance.now();
      await Promise.all(Array.from({ length: WORKERS }, async (_, w) => {
        const owner = `worker-${w}`;
        for (;;) {
          const batch = await storage.claim({ owner, leaseMs: 600_000, limit, status: "waiting" });
          if (batch.length === 0) return; // drained (SKIP LOCKED: the rest are being claimed)
          for (const instance of batch) {
            claimedIds.push(instance.id);
            await work(storage, instance, owner);
          }
        }
      }));
      const seconds = (performance.now() - started) / 1000;
      const distinct = new Set(claimedIds).size;
      const { rows: [check] } = await pool.query(
        `SELECT count(*) FILTER (WHERE lease_owner IS NULL AND status = 'waiting')::int AS unclaimed
         FROM ${table}`,
      );
      const row: DrainRow = {
        variant,
        workers: WORKERS,
        instances: drainSize,
        claimed: claimedIds.length,
        doubles: claimedIds.length - distinct,
        seconds,
        perSecond: claimedIds.length / seconds,
      };
      if (distinct !== drainSize || row.doubles !== 0 || check.unclaimed !== 0) {
        throw new Error(
          `drain "${variant}": ${distinct} distinct of ${drainSize}, ${row.doubles} doubles, ` +
            `${check.unclaimed} left unclaimed`,
        );
      }
      drains.push(row);
      settings.log(
        `concurrency: ${WORKERS} workers, ${variant}: ${int(row.perSecond)} instances/s, ` +
          `${row.doubles} double claims`,
      );
    }
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await pool.end();
  }
  return { throughput, drains, rounds };
}

/** Runs `callers` loops of `pair` for `ms` milliseconds; returns the pairs per second. */
async function runFor(
  ms: number,
  callers: number,
  pair: (caller: number) => Promise<void>,
): Promise<number> {
  let done = 0;
  const started = performance.now();
  const end = started + ms;
  await Promise.all(Array.from({ length: callers }, async (_, c) => {
    while (performance.now() < end) {
      await pair(c);
      done++;
    }
  }));
  return done / ((performance.now() - started) / 1000);
}
