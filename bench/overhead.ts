/**
 * Section 1, overhead over the limit: PgStorage against the very same statements sent through
 * the raw client, for each driver and instance size.
 *
 * The raw side is the limit a hand-written store could reach with PgStorage's SQL: it sends the
 * exact statement text and parameters PgStorage sends (captured from PgStorage itself, so they
 * can never drift apart), serializes with plain `JSON.stringify`, and takes the rows as the
 * client returns them, with no decoding at all. The ratio PgStorage / raw is therefore the
 * whole cost of the library: validation, the lossless encoder and decoder, the adapter.
 *
 * @module
 */

import { migrate, PgStorage, type SqlDriver, type WorkflowInstance } from "../mod.ts";
import type { Target } from "./connections.ts";
import { defined } from "./defined.ts";
import {
  handWritten,
  itemsFor,
  orderInstance,
  parseStates,
  plainState,
  SIZES,
} from "./fixtures.ts";
import { type BenchSettings, interleave, ms, ratio, summarize, type Timings } from "./measure.ts";

/** The goal: PgStorage within 10% of the raw client. */
export const GOAL = 1.10;

/**
 * The goals against the hand-written code (issue 15), per operation and size: PgStorage's
 * median over the hand-written one's. Put and get at most 1.00 at 2 KB and 1.05 at 64 KB; a
 * 50-row query at most 0.80. Judged on node-postgres, shown for every driver.
 */
export function handGoal(operation: string, size: string): number | undefined {
  if (operation === "put" || operation === "get") return size === "2 KB" ? 1.00 : 1.05;
  if (operation === "query (50 rows)") return 0.80;
  return undefined;
}

/** The driver the hand-written goals are judged on. */
export const HAND_GOAL_DRIVER = "node-postgres";

/** One comparison. */
export interface OverheadRow {
  /** The driver's name. */
  driver: string;
  /** `put`, `get`, `query (50 rows)` or `contextContains`. */
  operation: string;
  /** "2 KB" or "64 KB". */
  size: string;
  /** Rows the statement returns. */
  rows: number;
  /** The raw client's timings. */
  raw: Timings;
  /** PgStorage's timings. */
  lib: Timings;
  /** PgStorage median / raw median. */
  ratio: number;
  /** The hand-written code's timings (what a user would write: its own SQL, JSON.stringify/parse). */
  hand?: Timings;
  /** PgStorage median / hand-written median. */
  handRatio?: number;
}

/** A statement as PgStorage sent it. */
interface Captured {
  text: string;
  params: unknown[];
}

/** A driver that remembers the last statement, for capturing PgStorage's SQL (never timed). */
function recorder(inner: SqlDriver): { driver: SqlDriver; last(): Captured } {
  let last: Captured | undefined;
  return {
    driver: {
      query(text, params) {
        last = { text, params: [...(params ?? [])] };
        return inner.query(text, params);
      },
      transaction: (statements) => inner.transaction(statements),
    },
    last: () => {
      if (!last) throw new Error("nothing captured");
      return last;
    },
  };
}

const BENCH_ID = "order::bench";
const BENCH_ORDER = 1;

/** Seeds the instance under test plus 50 waiting and 20 other instances of the same size. */
async function seed(storage: PgStorage, items: number): Promise<WorkflowInstance> {
  const instance = orderInstance(BENCH_ID, items, "running", BENCH_ORDER);
  await storage.put(instance);
  const others = ["pending", "running", "completed", "failed"] as const;
  const batch = [
    ...Array.from(
      { length: 50 },
      (_, i) => orderInstance(`wait::${i}`, items, "waiting", 1000 + i),
    ),
    ...Array.from(
      { length: 20 },
      (_, i) =>
        orderInstance(`o::${i}`, items, defined(others[i % 4], `status ${i % 4}`), 2000 + i),
    ),
  ];
  for (let i = 0; i < batch.length; i += 10) await storage.putMany(batch.slice(i, i + 10));
  return instance;
}

/** Measures put, get, query and contextContains through every target, both sizes. */
export async function measureOverhead(
  settings: BenchSettings,
  targets: readonly Target[],
): Promise<OverheadRow[]> {
  const schema = `bench_overhead_${crypto.randomUUID().slice(0, 8)}`;
  const rows: OverheadRow[] = [];
  const [first] = targets;
  if (!first) throw new Error("No target to measure the overhead through: targets is empty");
  const setup = first.driver;
  await migrate(setup, { schema });
  try {
    for (const size of SIZES) {
      const items = itemsFor(size.bytes);
      await setup.query(`TRUNCATE "${schema}".workflow_instances`);
      const instance = await seed(new PgStorage({ driver: setup, schema }), items);
      settings.log(`overhead: ${size.label} instance (${items} line items), 71 rows seeded`);
      for (const target of targets) {
        const storage = new PgStorage({ driver: target.driver, schema });
        const capture = recorder(target.driver);
        const capturing = new PgStorage({ driver: capture.driver, schema });
        const filter = { status: "waiting" as const };
        const contains = { contextContains: { initial: { order_id: BENCH_ORDER } } };

        await capturing.put(instance);
        const put = capture.last();
        const rawPutParams = () => [
          ...put.params.slice(0, 4),
          JSON.stringify(plainState(instance)),
        ];
        await capturing.get(BENCH_ID);
        const get = capture.last();
        await capturing.query(filter);
        const query = capture.last();
        await capturing.query(contains);
        const contained = capture.last();

        const hand = handWritten(`"${schema}".workflow_instances`);
        const handRows = async (text: string, params: unknown[]) =>
          parseStates(target.rows(await target.raw(text, params)));
        const plain = plainState(instance);
        const ops: [
          string,
          () => Promise<unknown>,
          () => Promise<unknown>,
          () => Promise<unknown>,
          number,
        ][] = [
          [
            "put",
            () => target.raw(put.text, rawPutParams()),
            () => storage.put(instance),
            async () =>
              defined(
                target.rows(
                  await target.raw(hand.put, [
                    instance.id,
                    instance.workflow,
                    instance.workflowVersion,
                    instance.status,
                    target.json(plain),
                  ]),
                )[0],
                "the row the hand-written put returned",
              ).revision,
            1,
          ],
          [
            "get",
            () => target.raw(get.text, get.params),
            () => storage.get(BENCH_ID),
            async () => (await handRows(hand.get, [BENCH_ID]))[0] ?? null,
            1,
          ],
          [
            "query (50 rows)",
            () => target.raw(query.text, query.params),
            () => storage.query(filter),
            () => handRows(hand.byStatus, ["waiting"]),
            50,
          ],
          [
            "contextContains",
            () => target.raw(contained.text, contained.params),
            () => storage.query(contains),
            () =>
              handRows(hand.contains, [
                target.json({ initial: { order_id: BENCH_ORDER } }),
              ]),
            1,
          ],
        ];
        for (const [operation, raw, lib, handSide, expected] of ops) {
          // Both sides must return the same rows before either is timed.
          const rawRows = target.rowsOf(await raw());
          const libResult = await lib();
          const libRows = Array.isArray(libResult) ? libResult.length : libResult === null ? 0 : 1;
          const handResult = await handSide();
          const handCount = Array.isArray(handResult)
            ? handResult.length
            : handResult === null
            ? 0
            : 1;
          if (rawRows !== expected || libRows !== expected || handCount !== expected) {
            throw new Error(
              `${target.name} ${operation}: expected ${expected} rows, raw ${rawRows}, lib ${libRows}, hand-written ${handCount}`,
            );
          }
          const times = await interleave(
            { raw, lib, hand: handSide },
            settings.iterations,
            settings.warmup,
          );
          const row: OverheadRow = {
            driver: target.name,
            operation,
            size: size.label,
            rows: expected,
            raw: summarize(times.raw),
            lib: summarize(times.lib),
            ratio: 0,
            hand: summarize(times.hand),
          };
          row.ratio = row.lib.median / row.raw.median;
          row.handRatio = row.lib.median / row.hand!.median;
          rows.push(row);
          settings.log(
            `overhead: ${target.name}, ${operation} ${size.label}: raw ${ms(row.raw.median)} ms, ` +
              `PgStorage ${ms(row.lib.median)} ms, ratio ${ratio(row.ratio)} ${
                Number(row.ratio.toFixed(2)) <= GOAL ? "✓" : "✗"
              }; hand-written ${ms(row.hand!.median)} ms, PgStorage ÷ hand-written ${
                ratio(row.handRatio!)
              }`,
          );
        }
      }
    }
  } finally {
    await setup.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
  }
  return rows;
}
