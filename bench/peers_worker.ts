/**
 * The peers comparison, run by bench/peers.ts in a subprocess whose config points at a temp
 * `node_modules` holding `@mastra/pg` and `@langchain/langgraph-checkpoint-postgres` from npm
 * (Deno's "manual" node_modules mode; they are never added to this project's lock file).
 *
 * Four systems save one workflow state and load it back, on one `pg.Pool`, interleaved:
 * the raw client with PgStorage's SQL, PgStorage, Mastra's workflow snapshot store and
 * LangGraph's checkpointer. Input: the JSON in `HEPH_BENCH_PEERS`; output: a JSON file.
 *
 * @module
 */

import { PgStorage } from "../mod.ts";
import { statements } from "../src/pg_sql.ts";
import { migrate } from "../src/migrate.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { handWritten, itemsFor, orderInstance, plainState, SIZES } from "./fixtures.ts";
import { defined } from "./defined.ts";
import { clock, summarize, type Timings } from "./measure.ts";
import {
  advancePlain,
  advanceSnapshot,
  pgStorageLane,
  runWorkflows,
  startInstance,
  type WorkflowLane,
  type WorkflowResult,
} from "./workflow.ts";

/** What the parent passes in. */
export interface PeersInput {
  /** The database. */
  url: string;
  /** Timed save+load pairs per system. */
  iterations: number;
  /** Untimed pairs before them. */
  warmup: number;
  /** `file:` URL of the temp `node_modules/`, with a trailing slash. */
  nodeModules: string;
  /** Where to write the result. */
  out: string;
  /** When the parent's run started (epoch ms), for its progress clock. */
  origin: number;
  /** What to run: the save-then-load comparison, the 20-step workflow, or both. */
  parts: ("peers" | "workflow")[];
  /** Timed workflows per lane (the workflow part). */
  workflowRuns: number;
  /** Sessions with `synchronous_commit = off` (a diagnostic). */
  asyncCommit: boolean;
}

/** One system at one size. */
export interface PeerRow {
  /** Its name. */
  system: string;
  /** Save timings. */
  save: Timings;
  /** Load timings. */
  load: Timings;
  /** save + load of the same iteration. */
  total: Timings;
  /** Statements (client `query` calls, BEGIN/COMMIT included) of one save and one load. */
  statements: { save: number; load: number };
  /** Stored bytes of one state (the document's text length; its size on disk, compressed). */
  stored: { text: number; disk: number };
  /** Rows kept for this one workflow after all the saves (history a store keeps). */
  rowsKept: number;
}

/** What the worker writes. */
export interface PeersOutput {
  /** Package versions, as installed. */
  versions: Record<string, string>;
  /** Per size, the systems. */
  sizes: { size: string; rows: PeerRow[] }[];
  /** Per system: its tables' indexes (name: definition). */
  indexes: Record<string, string[]>;
  /** Per updated table: row updates and how many of them were HOT (no index entry written). */
  hot: Record<string, { updates: number; hot: number }>;
  /** The 20-step workflow (section 4), when it ran. */
  workflow?: WorkflowResult;
}

/** The diagnostic system: PgStorage on a table without its GIN index (not a peer). */
export const NO_GIN = "PgStorage without its GIN index (diagnostic)";

// deno-lint-ignore no-explicit-any
type AnyModule = Record<string, any>;

if (import.meta.main) await main();

async function main(): Promise<void> {
  const input: PeersInput = JSON.parse(Deno.env.get("HEPH_BENCH_PEERS") ?? "null");
  const log = (message: string) => console.log(`${clock(input.origin)} ${message}`);
  const load = async (name: string): Promise<AnyModule> => {
    const dir = new URL(`${name}/`, input.nodeModules);
    const pkg = JSON.parse(await Deno.readTextFile(new URL("package.json", dir)));
    const main = pkg.exports?.["."]?.import?.default ?? pkg.exports?.["."]?.import ??
      pkg.module ?? pkg.main ?? "index.js";
    const module = await import(new URL(main, dir).href);
    return module;
  };
  const version = async (name: string) =>
    JSON.parse(
      await Deno.readTextFile(new URL(`${name}/package.json`, input.nodeModules)),
    ).version as string;

  const pg = (await load("pg")).default;
  const { PostgresStore } = await load("@mastra/pg");
  const { PostgresSaver } = await load("@langchain/langgraph-checkpoint-postgres");
  const { uuid6 } = await load("@langchain/langgraph-checkpoint");
  const versions: Record<string, string> = {};
  for (
    const name of [
      "pg",
      "@mastra/pg",
      "@mastra/core",
      "@langchain/langgraph-checkpoint-postgres",
      "@langchain/langgraph-checkpoint",
      "@langchain/core",
    ]
  ) versions[name] = await version(name);

  // Count statements: every pool.query and client.query ends in Client.prototype.query.
  let statementCount = 0;
  const originalQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    statementCount++;
    return originalQuery.apply(this, args);
  };

  const suffix = crypto.randomUUID().slice(0, 8);
  const schemas = {
    heph: `bench_peers_heph_${suffix}`,
    nogin: `bench_peers_nogin_${suffix}`,
    mastra: `bench_peers_mastra_${suffix}`,
    langgraph: `bench_peers_langgraph_${suffix}`,
  };
  const pool = new pg.Pool({
    connectionString: input.url,
    max: 10,
    ...(input.asyncCommit ? { options: "-c synchronous_commit=off" } : {}),
  });
  const output: PeersOutput = { versions, sizes: [], indexes: {}, hot: {} };
  try {
    const driver = nodePostgresDriver(pool);
    await migrate(driver, { schema: schemas.heph });
    const storage = new PgStorage({ driver, schema: schemas.heph });
    await migrate(driver, { schema: schemas.nogin });
    await pool.query(`DROP INDEX "${schemas.nogin}".workflow_instances_context_idx`);
    const noGin = new PgStorage({ driver, schema: schemas.nogin });
    const sql = statements(`"${schemas.heph}".workflow_instances`);
    log("peers: setting up Mastra's store (it creates its tables) and LangGraph's");
    const mastra = new PostgresStore({ id: "bench", pool, schemaName: schemas.mastra });
    await mastra.init();
    const workflows = await mastra.getStore("workflows");
    const saver = new PostgresSaver(pool, undefined, { schema: schemas.langgraph });
    await saver.setup();

    if (input.parts.includes("workflow")) {
      output.workflow = await workflow(input, {
        pool,
        storage,
        workflows,
        table: `"${schemas.heph}".workflow_instances`,
      });
      log(
        `workflow: ${input.workflowRuns} runs of ${
          defined(output.workflow.lanes.PgStorage, "the PgStorage lane").length
        } steps`,
      );
    }
    for (const size of input.parts.includes("peers") ? SIZES : []) {
      const items = itemsFor(size.bytes);
      const instance = orderInstance(`order::peers-${items}`, items, "running");
      const plain = plainState(instance);
      const rawId = `${instance.id}-raw`;
      const runId = `run-${items}`;
      const threadId = `thread-${items}`;
      let checkpointId: string | undefined;
      let version = 0;
      const snapshot = mastraSnapshot(runId, plain);
      const rawName = "raw node-postgres (PgStorage's SQL)";
      const libName = "PgStorage";
      const mastraName = `@mastra/pg ${versions["@mastra/pg"]}`;
      const langgraphName = `@langchain/langgraph-checkpoint-postgres ${
        versions["@langchain/langgraph-checkpoint-postgres"]
      }`;
      const systems: Record<string, { save(): Promise<unknown>; load(): Promise<unknown> }> = {
        [rawName]: {
          save: () =>
            pool.query(
              sql.upsert.text,
              sql.upsert.params({
                id: rawId,
                workflow: instance.workflow,
                workflowVersion: instance.workflowVersion,
                status: instance.status,
                state: JSON.stringify(plain),
                owner: null,
                revision: null,
              }),
            ),
          load: async () => {
            // The statement selects the state as text (see src/pg_sql.ts): parse it, as the
            // decoder does, so the lane still hands back the document.
            const [row] = (await pool.query(sql.get.text, sql.get.params({ id: rawId }))).rows;
            return row && { ...row, state: JSON.parse(row.state) };
          },
        },
        [libName]: {
          save: () => storage.put(instance),
          load: () => storage.get(instance.id),
        },
        [mastraName]: {
          save: () =>
            workflows.persistWorkflowSnapshot({
              workflowName: instance.workflow,
              runId,
              snapshot: { ...snapshot, timestamp: Date.now() },
            }),
          load: () => workflows.loadWorkflowSnapshot({ workflowName: instance.workflow, runId }),
        },
        [langgraphName]: {
          save: async () => {
            version++;
            const checkpoint = {
              v: 4,
              id: uuid6(-1),
              ts: new Date().toISOString(),
              channel_values: { state: plain },
              channel_versions: { state: version },
              versions_seen: {},
            };
            const config = {
              configurable: { thread_id: threadId, checkpoint_ns: "", checkpoint_id: checkpointId },
            };
            const next = await saver.put(
              config,
              checkpoint,
              { source: "loop", step: version, parents: {} },
              { state: version },
            );
            checkpointId = next.configurable.checkpoint_id;
          },
          load: () => saver.getTuple({ configurable: { thread_id: threadId, checkpoint_ns: "" } }),
        },
        [NO_GIN]: {
          save: () => noGin.put(instance),
          load: () => noGin.get(instance.id),
        },
      };
      // Each system with its statement counts and its timings, in the order above.
      const measured = Object.entries(systems).map(([name, system]) => ({
        name,
        system,
        statements: { save: 0, load: 0 },
        save: [] as number[],
        load: [] as number[],
      }));

      // Each loads back what it saved, and how many statements that takes.
      for (const { name, system, statements: counts } of measured) {
        statementCount = 0;
        await system.save();
        counts.save = statementCount;
        statementCount = 0;
        const loaded = await system.load();
        counts.load = statementCount;
        const lineItems = lineItemsOf(loaded);
        if (lineItems !== items) {
          throw new Error(`peers: ${name} loaded ${lineItems} line items, saved ${items}`);
        }
      }

      for (let i = 0; i < input.warmup + input.iterations; i++) {
        for (let k = 0; k < measured.length; k++) {
          const turn = (i + k) % measured.length;
          const { system, save, load } = defined(measured[turn], `peers system ${turn}`);
          const t0 = performance.now();
          await system.save();
          const t1 = performance.now();
          await system.load();
          const t2 = performance.now();
          if (i >= input.warmup) {
            save.push(t1 - t0);
            load.push(t2 - t1);
          }
        }
      }

      const storedOf = async (query: string, params: unknown[]) => {
        const { rows: [row] } = await pool.query(query, params);
        return { text: Number(row.text), disk: Number(row.disk), rowsKept: Number(row.kept) };
      };
      const heph = `"${schemas.heph}".workflow_instances`;
      const stored: Record<string, { text: number; disk: number; rowsKept: number }> = {
        [rawName]: await storedOf(
          `SELECT octet_length(state::text) AS text, pg_column_size(state) AS disk, 1 AS kept
           FROM ${heph} WHERE id = $1`,
          [rawId],
        ),
        [libName]: await storedOf(
          `SELECT octet_length(state::text) AS text, pg_column_size(state) AS disk, 1 AS kept
           FROM ${heph} WHERE id = $1`,
          [instance.id],
        ),
        [mastraName]: await storedOf(
          `SELECT octet_length(snapshot::text) AS text, pg_column_size(snapshot) AS disk, 1 AS kept
           FROM "${schemas.mastra}".mastra_workflow_snapshot WHERE run_id = $1`,
          [runId],
        ),
        [NO_GIN]: await storedOf(
          `SELECT octet_length(state::text) AS text, pg_column_size(state) AS disk, 1 AS kept
           FROM "${schemas.nogin}".workflow_instances WHERE id = $1`,
          [instance.id],
        ),
        [langgraphName]: await storedOf(
          `SELECT octet_length(b.blob) + octet_length(c.checkpoint::text) AS text,
             pg_column_size(b.blob) + pg_column_size(c.checkpoint) AS disk,
             (SELECT count(*) FROM "${schemas.langgraph}".checkpoints WHERE thread_id = $1) +
             (SELECT count(*) FROM "${schemas.langgraph}".checkpoint_blobs WHERE thread_id = $1)
               AS kept
           FROM "${schemas.langgraph}".checkpoints c
           JOIN "${schemas.langgraph}".checkpoint_blobs b
             ON b.thread_id = c.thread_id AND b.version = c.checkpoint->'channel_versions'->>'state'
           WHERE c.thread_id = $1 ORDER BY c.checkpoint_id DESC LIMIT 1`,
          [threadId],
        ),
      };
      const rows: PeerRow[] = measured.map(({ name, statements: counts, save, load }) => {
        const { text, disk, rowsKept } = defined(stored[name], `what ${name} stored`);
        return {
          system: name,
          save: summarize(save),
          load: summarize(load),
          total: summarize(save.map((s, i) => s + defined(load[i], `${name}'s load ${i}`))),
          statements: counts,
          stored: { text, disk },
          rowsKept,
        };
      });
      output.sizes.push({ size: size.label, rows });
      for (const row of rows) {
        log(
          `peers: ${size.label}: ${row.system}: save ${row.save.median.toFixed(3)} ms, load ${
            row.load.median.toFixed(3)
          } ms`,
        );
      }
    }

    const indexesOf = async (schema: string, tables: string[]) =>
      (await pool.query(
        `SELECT tablename || ': ' || indexname || ' ' ||
           substring(indexdef FROM 'USING .*') AS d FROM pg_indexes
         WHERE schemaname = $1 AND tablename = ANY($2) ORDER BY tablename, indexname`,
        [schema, tables],
      )).rows.map((r: { d: string }) => r.d.replaceAll(`${schema}_`, ""));
    // Backends report their table statistics when idle, at most once a second: wait, touch
    // every pooled connection so each reports, then read how many updates were HOT.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const clients = await Promise.all(
      Array.from({ length: pool.totalCount }, () => pool.connect()),
    );
    for (const client of clients) await client.query("SELECT 1");
    for (const client of clients) client.release();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const hotOf = async (schema: string, table: string) => {
      const { rows: [row] } = await pool.query(
        `SELECT n_tup_upd::int AS updates, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables
         WHERE schemaname = $1 AND relname = $2`,
        [schema, table],
      );
      return { updates: row?.updates ?? 0, hot: row?.hot ?? 0 };
    };
    output.hot = {
      "PgStorage (workflow_instances)": await hotOf(schemas.heph, "workflow_instances"),
      [`${NO_GIN} (workflow_instances)`]: await hotOf(schemas.nogin, "workflow_instances"),
      "@mastra/pg (mastra_workflow_snapshot)": await hotOf(
        schemas.mastra,
        "mastra_workflow_snapshot",
      ),
    };
    output.indexes = {
      PgStorage: await indexesOf(schemas.heph, ["workflow_instances"]),
      "@mastra/pg": await indexesOf(schemas.mastra, ["mastra_workflow_snapshot"]),
      "@langchain/langgraph-checkpoint-postgres": await indexesOf(schemas.langgraph, [
        "checkpoints",
        "checkpoint_blobs",
        "checkpoint_writes",
      ]),
    };
  } finally {
    pg.Client.prototype.query = originalQuery;
    for (const schema of Object.values(schemas)) {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    }
    await pool.end();
  }
  await Deno.writeTextFile(input.out, JSON.stringify(output));
}

/** The 20-step workflow through PgStorage, the hand-written code and Mastra, side by side. */
function workflow(
  input: PeersInput,
  // deno-lint-ignore no-explicit-any
  on: { pool: any; storage: PgStorage; workflows: AnyModule; table: string },
): Promise<WorkflowResult> {
  const items = itemsFor(2 * 1024);
  const hand = handWritten(on.table);
  const name = "Shop.OrderWorkflow";
  const handLane: WorkflowLane = {
    name: "hand-written",
    start: (id) => {
      const instance = startInstance(id, items);
      return on.pool.query(hand.put, [
        id,
        instance.workflow,
        instance.workflowVersion,
        instance.status,
        JSON.stringify(plainState(instance)),
      ]);
    },
    read: async (id) => JSON.parse((await on.pool.query(hand.get, [id])).rows[0].state),
    advance: (loaded, k) => advancePlain(loaded as Record<string, unknown>, k),
    write: (id, advanced) =>
      on.pool.query(hand.put, [id, name, 3, "running", JSON.stringify(advanced)]),
  };
  const mastraLane: WorkflowLane = {
    name: "@mastra/pg",
    start: (id) =>
      on.workflows.persistWorkflowSnapshot({
        workflowName: name,
        runId: id,
        snapshot: mastraSnapshot(id, plainState(startInstance(id, items))),
      }),
    read: (id) => on.workflows.loadWorkflowSnapshot({ workflowName: name, runId: id }),
    advance: (loaded, k) => advanceSnapshot(loaded as Record<string, unknown>, k),
    write: (id, advanced) =>
      on.workflows.persistWorkflowSnapshot({ workflowName: name, runId: id, snapshot: advanced }),
  };
  const warmup = Math.max(2, Math.round(input.warmup / 10));
  return runWorkflows(
    [pgStorageLane(on.storage, items), handLane, mastraLane],
    input.workflowRuns,
    warmup,
    "wf::",
    items,
  );
}

/**
 * The same data as Mastra keeps it: a workflow run's snapshot, the input and each step's
 * output in `context`, the rest of the instance alongside.
 */
function mastraSnapshot(runId: string, plain: Record<string, unknown>): Record<string, unknown> {
  const context = plain.context as { initial: unknown; steps: Record<string, unknown> };
  const at = Date.UTC(2025, 0, 15, 10, 30);
  return {
    runId,
    status: "running",
    value: {},
    context: {
      input: context.initial,
      ...Object.fromEntries(
        Object.entries(context.steps).map((
          [step, output],
        ) => [step, { status: "success", payload: {}, output, startedAt: at, endedAt: at + 1000 }]),
      ),
    },
    activePaths: [3],
    activeStepsPath: { ship: [3] },
    serializedStepGraph: [],
    suspendedPaths: {},
    resumeLabels: {},
    waitingPaths: {},
    stepConfigs: plain.step_configs,
    executionHistory: plain.execution_history,
    runtimeMetadata: plain.runtime_metadata,
    telemetryMetadata: plain.telemetry_metadata,
    timestamp: at,
  };
}

/** The number of line items in whatever a system loaded back. */
function lineItemsOf(loaded: unknown): number {
  // deno-lint-ignore no-explicit-any
  const x = loaded as any;
  const initial = x?.context?.initial ?? // PgStorage
    x?.state?.context?.initial ?? // raw row
    x?.context?.input ?? // Mastra snapshot
    x?.checkpoint?.channel_values?.state?.context?.initial; // LangGraph tuple
  return initial?.line_items?.length ?? -1;
}
