/**
 * The report: bench/RESULTS.md from one run's results (every table, the run's machine and
 * versions, and a generated explanation, with the run's own numbers, of every ratio above the
 * goal), and the two charts. The hand-written analysis lives in bench/ANALYSIS.md, which the
 * report links to and a rerun never touches.
 *
 * @module
 */

import { GOAL, HAND_GOAL_DRIVER, handGoal, type OverheadRow } from "./overhead.ts";
import type { RoundTripResult } from "./round_trips.ts";
import { NO_GIN, type PeerRow, type PeersOutput } from "./peers_worker.ts";
import type { ConcurrencyResult } from "./concurrency.ts";
import { SCALE_OPERATIONS, type ScalePoint } from "./scale.ts";
import type { SerializerRow } from "./serializer.ts";
import { defined } from "./defined.ts";
import { bytes, int, ms, ratio, table, type Timings } from "./measure.ts";
import { barChart, lineChart } from "./svg_chart.ts";
import { REPORTED_STEPS, type WorkflowResult, type WorkflowStepRow } from "./workflow.ts";

/** Facts about the run. */
export interface BenchMeta {
  /** ISO date of the start. */
  date: string;
  /** "full" or "quick". */
  mode: "full" | "quick";
  /** Timed repetitions per side. */
  iterations: number;
  /** Warm-up repetitions. */
  warmup: number;
  /** The machine. */
  machine: { os: string; cpu: string; cores: number; memGiB: number };
  /** Versions of everything involved. */
  versions: Record<string, string>;
  /** A few server settings. */
  postgresSettings: Record<string, string>;
  /** Load averages at the start. */
  loadBefore: number[];
  /** Load averages at the end. */
  loadAfter: number[];
  /** Other client sessions on the server at the start. */
  sessionsBefore: number;
  /** And at the end. */
  sessionsAfter: number;
  /** How long the run took. */
  seconds: number;
  /** The sections that ran. */
  sections: string[];
  /** Per section: duration, 1-minute load average and other server sessions at start and end. */
  timeline: {
    section: string;
    seconds: number;
    load: [start: number, end: number];
    sessions: [start: number, end: number];
  }[];
}

/** Everything one run measured. */
export interface BenchResults {
  /** The run. */
  meta: BenchMeta;
  /** Section 1. */
  overhead?: OverheadRow[];
  /** Section 2. */
  roundTrips?: RoundTripResult;
  /** Section 3. */
  peers?: PeersOutput;
  /** Section 4. */
  concurrency?: ConcurrencyResult;
  /** Section 5. */
  scale?: ScalePoint[];
  /** Section 6. */
  serializer?: SerializerRow[];
}

const OPERATIONS = ["put", "get", "query (50 rows)", "contextContains"];
const us = (msValue: number) => `${Math.round(msValue * 1000)} µs`;
/** Above the goal, as printed: a ratio shown as 1.10 meets it. */
const over = (r: number) => Number(r.toFixed(2)) > GOAL;
const verdict = (r: number) => (over(r) ? "✗" : "✓");
const pgStorageRow = (rows: PeerRow[]) => rows.find((r) => r.system === "PgStorage")!;
const shortName = (system: string) => system.replace(/ \d+\.\d+\.\d+.*$/, "");

/** The report: the full markdown, and the summary printed at the end of every run. */
export function renderReport(results: BenchResults): { markdown: string; summary: string } {
  const parts: string[] = [];
  const summary: string[] = [];
  const { meta } = results;
  parts.push(
    "# @heph/pg benchmarks",
    "",
    "Written by `deno task bench` (bench/main.ts); a rerun replaces this file and the charts. " +
      "The hand-written analysis, which a rerun keeps, is in [ANALYSIS.md](ANALYSIS.md).",
    "",
    ...runFacts(meta),
  );
  if (results.overhead || results.peers || results.scale) {
    const headline = headlineTables(results);
    parts.push("", "## Summary", "", headline);
    summary.push(headline);
  }
  if (results.overhead) parts.push("", overheadSection(results.overhead, results.serializer));
  if (results.roundTrips) {
    const section = roundTripSection(results.roundTrips);
    parts.push("", section);
    summary.push(section.split("\n\n").slice(2, 3).join(""));
  }
  if (results.peers?.sizes.length) {
    parts.push("", peersSection(results.peers, results.serializer));
  }
  if (results.peers?.workflow) parts.push("", workflowSection(results.peers.workflow));
  if (results.concurrency) {
    parts.push("", concurrencySection(results.concurrency, results.serializer));
  }
  if (results.scale) parts.push("", scaleSection(results.scale));
  if (results.serializer) parts.push("", serializerSection(results.serializer));
  return { markdown: `${parts.join("\n")}\n`, summary: summary.join("\n\n") };
}

function runFacts(meta: BenchMeta): string[] {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(", ");
  return [
    `- Date: ${meta.date}; ${meta.mode} run of ${meta.sections.join(", ")}, ${
      (meta.seconds / 60).toFixed(1)
    } minutes`,
    `- Machine: ${meta.machine.cpu}, ${meta.machine.cores} CPUs, ${
      meta.machine.memGiB.toFixed(1)
    } GiB RAM, ${meta.machine.os}; PostgreSQL on the same machine, over loopback`,
    `- Versions: ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `- PostgreSQL settings: ${
      Object.entries(meta.postgresSettings).map(([k, v]) => `${k} ${v}`).join(", ")
    }`,
    `- Repetitions: latencies are medians of ${meta.iterations} timed runs per side after ${meta.warmup} warm-up runs; ` +
    "the sides of a comparison alternate every run (order rotating), on the same client and pool",
    `- Noise: load average (1, 5, 15 min) ${load(meta.loadBefore)} at the start, ${
      load(meta.loadAfter)
    } at the end; ${meta.sessionsBefore} other client sessions on the server at the start, ${meta.sessionsAfter} at the end. ` +
    "Other work on this machine (other test suites) shares its CPUs: interleaving cancels slow " +
    "drift between the sides, not short bursts, so compare ratios rather than absolute times.",
    ...(meta.timeline?.length
      ? [
        `- Per section (seconds; 1-minute load average and other client sessions at its start → end): ${
          meta.timeline.map((t) =>
            `${t.section} ${t.seconds.toFixed(0)} s (load ${t.load[0].toFixed(1)} → ${
              t.load[1].toFixed(1)
            }, sessions ${t.sessions[0]} → ${t.sessions[1]})`
          ).join("; ")
        }`,
      ]
      : []),
  ];
}

/** The Mastra goals (issue 15): PgStorage's save+load over Mastra's, per size. */
const MASTRA_GOAL: Record<string, number> = { "2 KB": 0.95, "64 KB": 0.85 };
/** Single-match operations at 1,000,000 instances over 100,000: at most this. */
const FLAT_GOAL = 1.5;
const FLAT_OPERATIONS = [
  "get by id",
  "contextContains (1 match)",
  "page, waiting, limit 100 (middle, by cursor)",
];
const check = (value: number | undefined, goal: number) =>
  value === undefined ? "–" : Number(value.toFixed(2)) <= goal ? "✓" : "✗";

/** Every goal of issue 15 with what this run measured and ✓ or ✗ ("–": not measured). */
export function goalRows(results: BenchResults): string[][] {
  const rows: string[][] = [];
  const cell = (value: number | undefined, goal: number) => [
    value === undefined ? "–" : ratio(value),
    check(value, goal),
  ];
  for (const size of ["2 KB", "64 KB"]) {
    for (const op of ["put", "get", "query (50 rows)"]) {
      const goal = handGoal(op, size)!;
      const r = results.overhead?.find((x) =>
        x.driver === HAND_GOAL_DRIVER && x.operation === op && x.size === size
      );
      rows.push([
        `${op}, ${size}: PgStorage ÷ hand-written ≤ ${goal.toFixed(2)} (${HAND_GOAL_DRIVER})`,
        ...cell(r?.handRatio, goal),
      ]);
    }
  }
  for (const [size, goal] of Object.entries(MASTRA_GOAL)) {
    const rows_ = results.peers?.sizes.find((s) => s.size === size)?.rows;
    const mastra = rows_?.find((r) => r.system.startsWith("@mastra/pg"));
    const value = rows_ && mastra
      ? pgStorageRow(rows_).total.median / mastra.total.median
      : undefined;
    rows.push([
      `save+load, ${size}: PgStorage ÷ @mastra/pg ≤ ${goal.toFixed(2)}`,
      ...cell(value, goal),
    ]);
  }
  const wf = results.peers?.workflow;
  const at = (lane: string, step: number) => wf?.lanes[lane]?.[step - 1];
  const last = defined(REPORTED_STEPS.at(-1), "the last reported workflow step");
  const lib = at("PgStorage", last);
  const hand = at("hand-written", last);
  const mastra = at("@mastra/pg", last);
  rows.push(
    [
      `workflow step ${last}: get ÷ hand-written ≤ 1.00`,
      ...cell(lib && hand ? lib.read.median / hand.read.median : undefined, 1.00),
    ],
    [
      `workflow step ${last}: put ÷ hand-written ≤ 1.00`,
      ...cell(lib && hand ? lib.write.median / hand.write.median : undefined, 1.00),
    ],
    [
      `workflow step ${last}: get+advance+put ÷ @mastra/pg ≤ 0.95`,
      ...cell(lib && mastra ? lib.total.median / mastra.total.median : undefined, 0.95),
    ],
  );
  const point = (n: number) => results.scale?.find((p) => p.instances === n);
  for (const op of FLAT_OPERATIONS) {
    const big = point(1_000_000)?.latency[op];
    const base = point(100_000)?.latency[op];
    rows.push([
      `${op}: 1,000,000 ÷ 100,000 instances ≤ ${FLAT_GOAL.toFixed(1)}`,
      ...cell(big && base ? big.median / base.median : undefined, FLAT_GOAL),
    ]);
  }
  return rows;
}

function headlineTables(results: BenchResults): string {
  const out: string[] = [];
  out.push(
    "Goals (medians of interleaved runs; ✓ met, ✗ not, – not measured in this run):",
    "",
    table(["goal", "measured", ""], ["---", "---:", ":---:"], goalRows(results)),
    "",
  );
  if (results.overhead?.some((r) => r.handRatio !== undefined)) {
    const drivers = [...new Set(results.overhead.map((r) => r.driver))];
    const body: string[][] = [];
    for (const size of ["2 KB", "64 KB"]) {
      for (const op of OPERATIONS) {
        const cells = drivers.map((d) => {
          const r = results.overhead!.find((x) =>
            x.driver === d && x.operation === op && x.size === size
          );
          const goal = handGoal(op, size);
          return r?.handRatio === undefined
            ? "–"
            : `${ratio(r.handRatio)}${goal === undefined ? "" : ` ${check(r.handRatio, goal)}`}`;
        });
        body.push([op, size, ...cells]);
      }
    }
    out.push(
      "PgStorage ÷ the code a user would write by hand (its own upsert and `state::text` + " +
        "`JSON.parse`; median latency ratio, below 1 is faster):",
      "",
      table(
        ["operation", "size", ...drivers],
        ["---", "---", ...drivers.map(() => ":---:")],
        body,
      ),
      "",
    );
  }
  if (results.overhead) {
    const drivers = [...new Set(results.overhead.map((r) => r.driver))];
    const body: string[][] = [];
    for (const size of ["2 KB", "64 KB"]) {
      for (const op of OPERATIONS) {
        const cells = drivers.map((d) => {
          const r = results.overhead!.find((x) =>
            x.driver === d && x.operation === op && x.size === size
          );
          return r ? `${ratio(r.ratio)} ${verdict(r.ratio)}` : "–";
        });
        body.push([op, size, ...cells]);
      }
    }
    out.push(
      `PgStorage / raw client with the same SQL (median latency ratio; goal ≤ ${GOAL.toFixed(2)}):`,
      "",
      table(
        ["operation", "size", ...drivers],
        ["---", "---", ...drivers.map(() => ":---:")],
        body,
      ),
    );
  }
  const [firstSize] = results.peers?.sizes ?? [];
  if (results.peers && firstSize) {
    const sizes = results.peers.sizes;
    const systems = firstSize.rows.map((r) => r.system).filter((name) => name !== NO_GIN);
    const body = systems.map((system) => [
      system,
      ...sizes.flatMap((s) => {
        const row = s.rows.find((r) => r.system === system)!;
        const base = pgStorageRow(s.rows);
        return [
          int(1000 / row.total.median),
          `${(row.total.median / base.total.median).toFixed(2)}×`,
        ];
      }),
    ]);
    out.push(
      "",
      "Save one workflow state, then load it back (node-postgres, one pool; time vs PgStorage: " +
        "above 1 is slower):",
      "",
      table(
        [
          "system",
          ...sizes.flatMap((s) => [`${s.size} save+load/s`, `${s.size} time vs PgStorage`]),
        ],
        ["---", ...sizes.flatMap(() => ["---:", "---:"])],
        body,
      ),
    );
  }
  return out.join("\n");
}

/** Where the extra time of one ratio above the goal goes, in the run's own numbers. */
function explainOverhead(row: OverheadRow, serializer: SerializerRow[] | undefined): string {
  const extra = row.lib.median - row.raw.median;
  const s = serializer?.find((x) => x.size === row.size);
  const head = `**${row.operation}, ${row.size}, ${row.driver}: ${ratio(row.ratio)}.** ` +
    `PgStorage took ${us(extra)} more per call (${ms(row.lib.median)} against ${
      ms(row.raw.median)
    } ms).`;
  const spread = row.raw.p90 - row.raw.median;
  const noisy = spread > extra
    ? ` The raw side's own spread (p90 − median) is ${us(spread)}, larger than the difference: ` +
      "part of this ratio is noise of this run."
    : "";
  const remote = (row.lib.median + 1) / (row.raw.median + 1);
  if (!s) return head + noisy;
  if (row.operation === "put") {
    const codec = s.encode - s.stringify;
    return `${head} The lossless encoder accounts for ${us(codec)} of it (encodeInstance ${
      us(s.encode)
    } against JSON.stringify ${
      us(s.stringify)
    } of the plain state, section 6): it walks every value to check it can be stored ` +
      "faithfully and to record the types JSON would lose (Dates, Sets, -0, undefined, BigInt), " +
      `then stringifies. The other ${
        us(Math.max(0, extra - codec))
      } is validation of the instance and options, the adapter and this run's noise.${noisy} ` +
      (s.stringChecks !== undefined
        ? `What would remove most of it: the encoder checks each of the ${
          int(s.strings)
        } strings and keys for NUL and lone surrogates (${
          us(s.stringChecks)
        }); checking the JSON text once for their escapes instead costs ${
          us(s.textScan)
        } (section 6), leaving only the walk that finds the values JSON would lose. `
        : "") +
      "See ANALYSIS.md.";
  }
  const perRow = s.decode;
  const decodeTotal = perRow * row.rows;
  return `${head} Decoding ${row.rows === 1 ? "the row" : `the ${row.rows} rows`} accounts for ${
    us(decodeTotal)
  } of it (decodeInstance ${us(perRow)} per row at this size, section 6): ` +
    "checking the untrusted row's shape, reviving the Dates of the context and history and the " +
    "step Sets from their `$types` annotations, and converting the text columns; the raw side " +
    `returns the driver's objects as they are. The other ${
      us(Math.max(0, extra - decodeTotal))
    } is the adapter, the filter's validation and this run's noise.${noisy} ` +
    "The decode is a fixed cost per row (it hardly grows with the state), visible here " +
    "because loopback makes the statement itself fast: with a 1 ms network round trip on " +
    `both sides this ratio would be ${ratio(remote)}. What would remove it: ` +
    "only decoding less (a lazy decoder reviving values on first access, or fewer rows per " +
    "call with `page`); see ANALYSIS.md.";
}

function overheadSection(rows: OverheadRow[], serializer: SerializerRow[] | undefined): string {
  const out = [
    "## 1. Overhead over the limit: PgStorage against the raw client",
    "",
    "The raw side sends exactly the statement text and parameters PgStorage sends (captured " +
    "from PgStorage in the same run), serializes with plain `JSON.stringify` and takes the rows " +
    "as the client returns them, undecoded (jsonb parsed by the client, numbers and timestamps " +
    "as text). That is the limit for a store on this SQL; the ratio is the whole cost of the " +
    "library: validation, the lossless encoder and decoder, the driver adapter. Instances: 2 KB " +
    "and 64 KB order states; the table holds 71 of them (50 waiting). `query` returns the 50 " +
    "waiting ones, `contextContains` one (by `context.initial.order_id`, through the GIN index). " +
    "Neon's WebSocket `Pool` reaches the server through a local WebSocket-to-TCP proxy in a " +
    "worker thread, on sockets with TCP_NODELAY and with Neon's `coalesceWrites` off " +
    "(bench/ws_nodelay.ts): Deno's own WebSocket leaves Nagle's algorithm on, which stalls " +
    "statements of 1–16 KB for ~40 ms on loopback, and `coalesceWrites` waits a `setTimeout(0)`, " +
    "~2 ms in Deno, per statement (ANALYSIS.md); either would hide the library's cost. " +
    "The hand-written side is what a user would write instead of PgStorage, on the same table " +
    "and client, through the client's ordinary call: `INSERT … ON CONFLICT (id) DO UPDATE … " +
    "RETURNING revision` with `JSON.stringify` of the plain state as a `$5::jsonb` parameter, and " +
    "`SELECT … state::text …` parsed with `JSON.parse` (timestamps and numbers parsed by the " +
    "client as it does by default). It takes turns with the other two sides.",
  ];
  for (const driver of [...new Set(rows.map((r) => r.driver))]) {
    const driverRows = rows.filter((r) => r.driver === driver);
    out.push(
      "",
      `### ${driver}`,
      "",
      table(
        [
          "operation",
          "size",
          "raw median ms",
          "raw p90 ms",
          "PgStorage median ms",
          "PgStorage p90 ms",
          "ratio",
          `goal ≤ ${GOAL.toFixed(2)}`,
          "hand-written median ms",
          "PgStorage ÷ hand-written",
        ],
        ["---", "---", "---:", "---:", "---:", "---:", "---:", ":---:", "---:", "---:"],
        driverRows.map((r) => [
          r.operation,
          r.size,
          ms(r.raw.median),
          ms(r.raw.p90),
          ms(r.lib.median),
          ms(r.lib.p90),
          ratio(r.ratio),
          verdict(r.ratio),
          r.hand ? ms(r.hand.median) : "–",
          r.handRatio === undefined ? "–" : ratio(r.handRatio),
        ]),
      ),
    );
  }
  const above = rows.filter((r) => over(r.ratio));
  out.push("", "### Above the goal", "");
  if (above.length === 0) out.push(`Every ratio is within ${GOAL.toFixed(2)}.`);
  else out.push(...above.map((r) => `- ${explainOverhead(r, serializer)}`));
  return out.join("\n");
}

/** A lane's row of `step` (1-based). */
function stepRow(rows: readonly WorkflowStepRow[], step: number, lane: string): WorkflowStepRow {
  return defined(rows[step - 1], `${lane}'s workflow step ${step}`);
}

function workflowSection(wf: WorkflowResult): string {
  const lanes = Object.entries(wf.lanes);
  const base = defined(wf.lanes["PgStorage"], "the PgStorage workflow lane");
  const body: string[][] = [];
  for (const step of REPORTED_STEPS) {
    for (const [lane, rows] of lanes) {
      const r = stepRow(rows, step, lane);
      const b = stepRow(base, step, "PgStorage");
      body.push([
        String(step),
        lane,
        `${(r.stateChars / 1024).toFixed(1)} KB`,
        ms(r.read.median),
        ms(r.write.median),
        `${ms(r.total.median)} (${ms(r.total.p90)})`,
        lane === "PgStorage" ? "1.00" : ratio(b.total.median / r.total.median),
      ]);
    }
  }
  const growth = lanes.map(([lane, rows]) => {
    const first = stepRow(rows, 1, lane);
    const final = stepRow(rows, rows.length, lane);
    return `${lane} ${ratio(final.total.median / first.total.median)}×`;
  });
  return [
    "## 4. A 20-step workflow",
    "",
    `One instance of the order workflow (2 KB of input) taken through ${base.length} steps, ` +
    "each a read, an advance (the step's result of ~500 characters added to the context, two " +
    "history entries, the step's config, the step sets) and a write, so the state grows at " +
    "every step. The three systems take turns at every step (order rotating), on one " +
    `node-postgres pool; ${wf.runs} timed workflows each; median ms per step (p90). ` +
    "Hand-written: `JSON.parse` of `state::text`, the plain object advanced, `JSON.stringify` " +
    "into the upsert. @mastra/pg: `loadWorkflowSnapshot`, the snapshot advanced, " +
    "`persistWorkflowSnapshot`. State: PgStorage's encoded state after the step.",
    "",
    table(
      ["step", "system", "state", "read ms", "write ms", "step ms (p90)", "PgStorage ÷ this"],
      ["---:", "---", "---:", "---:", "---:", "---:", "---:"],
      body,
    ),
    "",
    `Cost of step ${base.length} over step 1: ${growth.join(", ")}.`,
  ].join("\n");
}

function roundTripSection(result: RoundTripResult): string {
  const ok = result.rows.every((r) =>
    Object.values(r.counts).every((c) =>
      c.onQuery === r.expected && c.driver === r.expected && c.server === r.expected
    )
  );
  const body = result.rows.map((r) => [
    r.operation,
    String(r.expected),
    ...result.drivers.map((d) => {
      const c = r.counts[d];
      if (!c) return "–";
      const good = c.onQuery === r.expected && c.driver === r.expected && c.server === r.expected;
      return `${c.onQuery} / ${c.driver} / ${c.server} ${good ? "✓" : "✗"}`;
    }),
  ]);
  return [
    "## 2. Round trips: statements per operation",
    "",
    "Each cell: statements counted by PgStorage's `onQuery` hook / by a counting driver wrapper / " +
    `by the server (\`pg_stat_statements\` calls of the storage's own role, on a throwaway cluster ` +
    `with the extension preloaded: ${result.server}). ` +
    (ok
      ? "Every operation is one statement on every driver, and the server agrees."
      : "**Some counts differ from the expected number (✗).**"),
    "",
    table(
      ["operation", "expected", ...result.drivers],
      ["---", "---:", ...result.drivers.map(() => ":---:")],
      body,
    ),
  ].join("\n");
}

function peersSection(peers: PeersOutput, serializer: SerializerRow[] | undefined): string {
  const out = [
    "## 3. Peers: the same save-then-load through other TypeScript workflow stores",
    "",
    "![save+load per second, PgStorage and its peers](peers.svg)",
    "",
    "One workflow state (the same order data as section 1) saved, then loaded back, again and " +
    "again; the systems take turns every iteration (order rotating), all through one " +
    "node-postgres `pg.Pool` in one Deno process, with the peers installed from npm into a " +
    "temp directory. Time vs PgStorage: its save+load median over PgStorage's (above 1 is " +
    "slower). Statements: client `query` calls of one save / one load, BEGIN and COMMIT included.",
  ];
  for (const { size, rows } of peers.sizes) {
    const base = pgStorageRow(rows);
    out.push(
      "",
      `### ${size}`,
      "",
      table(
        [
          "system",
          "save ms",
          "load ms",
          "save+load ms (p90)",
          "save+load/s",
          "time vs PgStorage",
          "statements",
          "stored: text / on disk",
          "rows kept",
        ],
        ["---", "---:", "---:", "---:", "---:", "---:", ":---:", "---:", "---:"],
        rows.map((r) => [
          r.system,
          ms(r.save.median),
          ms(r.load.median),
          `${ms(r.total.median)} (${ms(r.total.p90)})`,
          int(1000 / r.total.median),
          `${(r.total.median / base.total.median).toFixed(2)}×`,
          `${r.statements.save} / ${r.statements.load}`,
          `${bytes(r.stored.text)} / ${bytes(r.stored.disk)}`,
          int(r.rowsKept),
        ]),
      ),
    );
  }
  const last = defined(peers.sizes.at(-1), "the peers' largest size").rows;
  const lg = last.find((r) => r.system.startsWith("@langchain"));
  const indexes = (name: string) =>
    (peers.indexes[name] ?? []).map((d) => `\`${d.replace(/^[a-z_]+: /, "")}\``).join(", ");
  out.push(
    "",
    "What each stores, so the comparison is fair:",
    "",
    "- **PgStorage**: one row per instance, upserted with its revision incremented; `state` is " +
      "jsonb (lz4 where available) with `$types` annotations, so Dates, Sets, Maps, BigInt, -0 " +
      "and undefined come back as they went in; the load returns a typed instance (Dates, Sets, " +
      "revision, lease). Maintains a GIN index on `state -> 'context'` for `contextContains` plus " +
      `B-tree indexes for status, workflow and keyset order: ${indexes("PgStorage")}.`,
    "- **raw node-postgres**: PgStorage's table and SQL, `JSON.stringify` in (Dates become " +
      "strings, Sets become arrays), rows as the driver returns them out: the limit, not a store.",
    `- **@mastra/pg** (\`persistWorkflowSnapshot\` / \`loadWorkflowSnapshot\`): one row per ` +
      "(workflow_name, run_id), upserted; the snapshot (a WorkflowRunState holding the same " +
      "data: input and step outputs in `context`, the rest alongside) is `JSON.stringify`-ed " +
      "into a jsonb column: Dates come back as strings, no revision check, no lease, no " +
      `containment index. Indexes: ${indexes("@mastra/pg")}.`,
    "- **@langchain/langgraph-checkpoint-postgres** (`put` / `getTuple`): every save appends a " +
      "checkpoint row (jsonb) and one blob row (bytea, LangGraph's JsonPlusSerializer) per " +
      "changed channel, in a transaction of BEGIN, blob upsert, checkpoint upsert, COMMIT; the " +
      "state is one channel here, LangGraph's cheapest layout for it (a graph with one channel " +
      "per key writes one blob per changed key). History is kept: after this run the one thread " +
      `holds ${
        lg ? int(lg.rowsKept) : "?"
      } rows (checkpoints + blobs). The load is one SELECT whose ` +
      "subqueries gather the channel blobs and pending writes, then deserializes them. Indexes: " +
      `${indexes("@langchain/langgraph-checkpoint-postgres")}.`,
  );
  const hot = Object.entries(peers.hot).map(([table, h]) =>
    `${table}: ${int(h.hot)} of ${int(h.updates)} (${
      h.updates === 0 ? "–" : `${Math.round((100 * h.hot) / h.updates)}%`
    })`
  );
  out.push(
    `- **${NO_GIN}**: not a peer; PgStorage on a copy of its table without the GIN index, to ` +
      "show what that index costs on every save.",
    "",
    `HOT updates (rewritten in place, no index entry written), from \`pg_stat_user_tables\`: ${
      hot.join("; ")
    }.`,
  );
  const above = peers.sizes.flatMap(({ size, rows }) => {
    const base = pgStorageRow(rows);
    const noGin = rows.find((r) => r.system === NO_GIN);
    const codec = serializer?.find((x) => x.size === size);
    return rows
      .filter((r) => r.system !== "PgStorage" && r.system !== NO_GIN && !r.system.startsWith("raw"))
      .filter((r) => over(base.total.median / r.total.median))
      .map((r) => {
        const peer = shortName(r.system);
        const peerHot = Object.entries(peers.hot).find(([table]) => table.startsWith(peer))?.[1];
        const parts = [
          `- **${size}: PgStorage takes ${
            (base.total.median / r.total.median).toFixed(2)
          }× ${peer}'s time** (${ms(base.total.median)} against ${
            ms(r.total.median)
          } ms per save+load; save ${ms(base.save.median)} against ${ms(r.save.median)}, load ${
            ms(base.load.median)
          } against ${ms(r.load.median)}).`,
        ];
        if (noGin) {
          parts.push(
            `Its GIN index: without it PgStorage saves in ${ms(noGin.save.median)} ms, ${
              us(base.save.median - noGin.save.median)
            } less; it gets one entry per JSON value of the state on every save, and an update ` +
              "of an indexed column is never HOT, so the row's B-tree entries are rewritten too" +
              (peerHot && peerHot.updates > 0
                ? ` (${peer}'s updates were ${
                  Math.round((100 * peerHot.hot) / peerHot.updates)
                }% HOT: its expression indexes read the snapshot, but they are three B-tree entries)`
                : "") +
              ".",
          );
        }
        if (codec) {
          parts.push(
            `The lossless encoder: ${
              us(codec.encode - codec.stringify)
            } more than JSON.stringify at this size (section 6), which ${peer} uses.`,
          );
        }
        parts.push(
          "What would remove it: a narrower or opt-in containment index (only " +
            "`contextContains` needs it), and a cheaper encoder; see ANALYSIS.md.",
        );
        return parts.join(" ");
      });
  });
  if (above.length > 0) {
    out.push("", "Where PgStorage is slower than a peer by more than 10%:", "", ...above);
  }
  return out.join("\n");
}

function concurrencySection(
  result: ConcurrencyResult,
  serializer: SerializerRow[] | undefined,
): string {
  const out = [
    "## 5. Concurrency",
    "",
    `put then get of a 2 KB instance (each caller its own), by 1, 8 and 32 concurrent callers ` +
    `on one node-postgres pool of 32 connections; ${result.rounds.count} rounds of ${result.rounds.ms} ms per side, ` +
    "the sides alternating; pairs per second, median over the rounds.",
    "",
    table(
      ["callers", "raw put+get/s", "PgStorage put+get/s", "raw / PgStorage"],
      ["---:", "---:", "---:", "---:"],
      result.throughput.map((r) => [String(r.callers), int(r.raw), int(r.lib), ratio(r.ratio)]),
    ),
  ];
  const s = serializer?.find((x) => x.size === "2 KB");
  const above = result.throughput.filter((r) => over(r.ratio));
  if (above.length > 0) {
    out.push(
      "",
      ...above.map((r) =>
        `- **${r.callers} callers: raw does ${ratio(r.ratio)}× PgStorage's pairs per second** ` +
        `(${int(r.raw)} against ${int(r.lib)}: ${us(1000 / r.lib - 1000 / r.raw)} more per pair ` +
        "of throughput time). " +
        (r.callers === 1
          ? "With one caller a pair's latency is the throughput, so the client work of section " +
            "1 adds one for one"
          : "With many callers the client's one JavaScript thread, sharing 2 cores with " +
            "PostgreSQL, is the bottleneck, so every microsecond of client CPU costs throughput") +
        (s
          ? `: PgStorage's encoder and decoder take ${us(s.encode + s.decode)} per pair against ` +
            `JSON.stringify's ${us(s.stringify)} (section 6), plus validation`
          : "") +
        ". What would remove it: a cheaper encoder (section 1); see ANALYSIS.md."
      ),
    );
  }
  out.push(
    "",
    `8 workers drain ${
      int(result.drains[0]?.instances ?? 0)
    } waiting 2 KB instances with \`claim\` (\`FOR UPDATE SKIP LOCKED\`); ` +
      "every instance must be claimed exactly once:",
    "",
    table(
      ["workers do", "instances", "claimed", "double claims", "seconds", "instances/s"],
      ["---", "---:", "---:", "---:", "---:", "---:"],
      result.drains.map((d) => [
        d.variant,
        int(d.instances),
        int(d.claimed),
        String(d.doubles),
        d.seconds.toFixed(2),
        int(d.perSecond),
      ]),
    ),
  );
  return out.join("\n");
}

/** The timings of `op` at one table size. */
function latencyOf(point: ScalePoint, op: string): Timings {
  return defined(point.latency[op], `the ${op} latency at ${int(point.instances)} instances`);
}

function scaleSection(points: ScalePoint[]): string {
  const head = ["operation", ...points.map((p) => `${int(p.instances)} instances`)];
  const latency = SCALE_OPERATIONS.map((op) => [
    op,
    ...points.map((p) => {
      const { median, p90 } = latencyOf(p, op);
      return `${ms(median)} (${ms(p90)})`;
    }),
  ]);
  const indexNames = [...new Set(points.flatMap((p) => Object.keys(p.disk.indexes)))];
  const disk = [
    ["heap (main fork)", ...points.map((p) => bytes(p.disk.heap))],
    ["TOAST, free space and visibility maps", ...points.map((p) => bytes(p.disk.toast))],
    ...indexNames.map((name) => [
      `index ${name}`,
      ...points.map((p) => p.disk.indexes[name] === undefined ? "–" : bytes(p.disk.indexes[name])),
    ]),
    ["all indexes", ...points.map((p) => bytes(p.disk.indexTotal))],
    ["**total**", ...points.map((p) => `**${bytes(p.disk.total)}**`)],
    ["per instance", ...points.map((p) => `${int(p.disk.total / p.instances)} B`)],
    ["stored state, average (compressed)", ...points.map((p) => `${int(p.avgState)} B`)],
    [
      "seeding (insert, index rebuild, vacuum)",
      ...points.map((p) => `${p.seedSeconds.toFixed(1)} s`),
    ],
  ];
  return [
    "## 6. Scale",
    "",
    "![latency against table size](scale.svg)",
    "",
    "One table grown to each size with one `INSERT … SELECT generate_series` of the 2 KB order " +
    "state (each row its own id, order id, customer and insertion time; 2% waiting, 1% each " +
    "running, failed and pending, the rest completed), secondary indexes rebuilt after the load, " +
    "then `VACUUM ANALYZE`. Through PgStorage on node-postgres: `get` of a random id, a `page` " +
    "of waiting instances (the first, and one from the middle of them through its cursor), " +
    "`contextContains` of a random order id (one match, through the GIN index on the context), " +
    "`count`, and `estimateCount` (PostgreSQL's statistics, labelled as an estimate; checked " +
    "within 5% of the true count). The table has `parallel_workers = 0` (migration 3), so " +
    "`count (all)` reads the primary key alone. Median ms (p90):",
    "",
    table(head, ["---", ...points.map(() => "---:")], latency),
    "",
    "The plan PostgreSQL chose for each (EXPLAIN of the statement PgStorage sent; node types " +
    "from the top, the index, the estimated rows of the bottom node):",
    "",
    table(
      head,
      ["---", ...points.map(() => "---")],
      SCALE_OPERATIONS.map((op) => [op, ...points.map((p) => p.plans?.[op] ?? "–")]),
    ),
    ...parallelNotes(points),
    "",
    "Size on disk (`pg_relation_size`, `pg_table_size`, `pg_indexes_size`, " +
    "`pg_total_relation_size`):",
    "",
    table(
      ["", ...points.map((p) => `${int(p.instances)}`)],
      ["---", ...points.map(() => "---:")],
      disk,
    ),
  ].join("\n");
}

/** Notes on operations whose plan turned parallel at some size, with their latencies. */
function parallelNotes(points: ScalePoint[]): string[] {
  const notes: string[] = [];
  for (const op of SCALE_OPERATIONS) {
    const parallel = points.filter((p) => /Gather/.test(p.plans?.[op] ?? ""));
    const [at] = parallel;
    if (!at || op === "count (all)") continue;
    const serial = points.filter((p) => !/Gather/.test(p.plans?.[op] ?? ""));
    const before = serial.at(-1);
    notes.push(
      `- **${op}** at ${int(at.instances)} instances: ${ms(latencyOf(at, op).median)} ms` +
        (before
          ? ` against ${ms(latencyOf(before, op).median)} ms at ${int(before.instances)}`
          : "") +
        `. The planner ${
          op.startsWith("contextContains")
            ? "has no statistics for jsonb containment and estimates"
            : "estimates"
        } ${
          /est\. ([\d,]+) rows/.exec(at.plans?.[op] ?? "")?.[1] ?? "many"
        } rows, so it plans a parallel scan; starting the workers costs more than the ` +
        "lookup itself. See ANALYSIS.md for the fixes.",
    );
  }
  return notes.length === 0 ? [] : ["", ...notes];
}

function serializerSection(rows: SerializerRow[]): string {
  const out = [
    "## 7. Serializer",
    "",
    "CPU only, no database: median ms per call. PgStorage's pipeline is `encodeInstance`, then " +
    "`JSON.parse` of the encoded state (what the driver does with jsonb) and `decodeInstance`; " +
    "the plain one is `JSON.stringify` of the plain state and `JSON.parse` of it.",
    "",
    table(
      [
        "size",
        "state chars (plain)",
        "encodeInstance",
        "JSON.stringify",
        "JSON.parse (encoded)",
        "decodeInstance",
        "JSON.parse (plain)",
        "encode+decode",
        "stringify+parse",
        "ratio",
      ],
      ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"],
      rows.map((r) => [
        r.size,
        `${int(r.stateChars)} (${int(r.plainChars)})`,
        ms(r.encode),
        ms(r.stringify),
        ms(r.parseEncoded),
        ms(r.decode),
        ms(r.parsePlain),
        ms(r.lib),
        ms(r.plain),
        ratio(r.ratio),
      ]),
    ),
  ];
  if (rows.every((r) => r.stringChecks !== undefined)) {
    out.push(
      "",
      "Inside `encodeInstance`, the check that every string and key is storable (no NUL, no lone " +
        "surrogate: PostgreSQL refuses both in jsonb) against the same check done once on the " +
        "JSON text, as a regex for the `\\u0000` and `\\udXXX` escapes `JSON.stringify` writes " +
        "for them:",
      "",
      table(
        ["size", "strings + keys", "checked one by one ms", "one scan of the JSON text ms"],
        ["---", "---:", "---:", "---:"],
        rows.map((r) => [r.size, int(r.strings), ms(r.stringChecks), ms(r.textScan)]),
      ),
    );
  }
  const above = rows.filter((r) => over(r.ratio));
  if (above.length > 0) {
    out.push(
      "",
      ...above.map((r) =>
        `- **${r.size}: ${ratio(r.ratio)}×.** Of the ${
          us(r.lib - r.plain)
        } extra, the encoder adds about ${us(r.encode - r.stringify)} over JSON.stringify ` +
        `(it checks every string is storable, every object's prototype, cycles and depth, and ` +
        `records type annotations) and the decoder ${us(r.decode)} on top of JSON.parse ` +
        "(shape checks of an untrusted row, reviving annotated values, Sets, history Dates). " +
        "That is the price of lossless, validated round trips; in the database operations of " +
        "section 1 it is the difference between PgStorage and raw."
      ),
    );
  }
  return out.join("\n");
}

/** The charts: `peers.svg` and `scale.svg`, for whichever sections ran. */
export function renderCharts(results: BenchResults): Record<string, string> {
  const charts: Record<string, string> = {};
  if (results.peers?.sizes.length) {
    charts["peers.svg"] = barChart({
      title: "Save one workflow state, then load it back",
      subtitle: `save+load per second, higher is better; ${results.meta.date.slice(0, 10)}, ` +
        `${results.meta.machine.cores} CPUs, PostgreSQL ${
          results.meta.versions.PostgreSQL?.split(" ")[0]
        }, node-postgres, one pool`,
      axisLabel: "save+load per second",
      panels: results.peers.sizes.map(({ size, rows }) => {
        const base = pgStorageRow(rows);
        return {
          title: `${size} state`,
          bars: rows.filter((r) => r.system !== NO_GIN).map((r) => ({
            series: shortName(r.system),
            value: 1000 / r.total.median,
            label: `${int(1000 / r.total.median)}/s (${
              (r.total.median / base.total.median).toFixed(2)
            }× PgStorage's time)`,
          })),
        };
      }),
    });
  }
  if (results.scale) {
    charts["scale.svg"] = lineChart({
      title: "Latency against table size",
      subtitle: "PgStorage on node-postgres, 2 KB states; median ms, both axes logarithmic",
      xLabel: "instances in the table",
      yLabel: "median latency, ms",
      xLog: true,
      yLog: true,
      xFormat: (x) => (x >= 1e6 ? `${x / 1e6}M` : x >= 1e3 ? `${x / 1e3}k` : String(x)),
      series: SCALE_OPERATIONS.map((op) => ({
        name: op,
        points: results.scale!.map((p) => ({ x: p.instances, y: latencyOf(p, op).median })),
      })),
    });
  }
  return charts;
}
