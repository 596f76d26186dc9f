/**
 * `deno task bench`: every benchmark of @heph/pg in one run on the local PostgreSQL, with
 * progress as it goes, then bench/RESULTS.md, bench/peers.svg and bench/scale.svg.
 *
 * 1. overhead: PgStorage against the same SQL through the raw client (node-postgres,
 *    postgres.js, Neon over WebSocket), put / get / query / contextContains, 2 KB and 64 KB;
 * 2. round trips: statements per operation (onQuery, a counting driver, pg_stat_statements);
 * 3. peers: save-then-load against @mastra/pg and @langchain/langgraph-checkpoint-postgres;
 * 4. workflow: a 20-step instance growing at every step (get, advance, put), against the
 *    hand-written code and @mastra/pg;
 * 5. concurrency: put+get with 1, 8, 32 callers; 8 workers draining 10,000 instances by claim;
 * 6. scale: 10,000 / 100,000 / 1,000,000 instances: latencies and size on disk;
 * 7. serializer: encode+decode against JSON.stringify+JSON.parse.
 *
 * Usage: `deno task bench [--quick] [--write] [--only=a,b] [--skip=a,b] [--deno-websocket]
 * [--no-sync-commit]`,
 * sections named overhead, round-trips, peers, workflow, concurrency, scale, serializer. `--quick` (under
 * two minutes) repeats less and stops at 100,000 instances; it prints but writes nothing unless
 * `--write`. A full run of every section writes the report. Every run also saves its results as
 * JSON in the temp dir; `--from=FILE` renders the report from such a file without measuring.
 * `--deno-websocket` runs Neon through Deno's own WebSocket and the test suite's proxy instead
 * of bench/ws_nodelay.ts (to see the Nagle stalls). `--no-sync-commit` runs the peers and
 * workflow sessions with `synchronous_commit = off` (a diagnostic; never written as the report). The database is `DATABASE_URL`, else the
 * test harness's (127.0.0.1:5432); every schema it creates is dropped at the end.
 *
 * @module
 */

import pg from "pg";
import { testDatabaseUrl } from "../tests/support/test_db.ts";
import { lockedVersions, openTargets, startProxyWorker } from "./connections.ts";
import { type BenchSettings, clock } from "./measure.ts";
import { measureOverhead } from "./overhead.ts";
import { measureRoundTrips } from "./round_trips.ts";
import { measurePeers } from "./peers.ts";
import { measureConcurrency } from "./concurrency.ts";
import { measureScale } from "./scale.ts";
import { measureSerializer } from "./serializer.ts";
import { type BenchMeta, type BenchResults, renderCharts, renderReport } from "./report.ts";

const SECTIONS = [
  "serializer",
  "round-trips",
  "overhead",
  "peers",
  "workflow",
  "concurrency",
  "scale",
];

function listArg(name: string): string[] | undefined {
  const arg = Deno.args.find((a) => a.startsWith(`--${name}=`));
  if (!arg) return undefined;
  const names = arg.slice(name.length + 3).split(",").filter(Boolean);
  for (const n of names) {
    if (!SECTIONS.includes(n)) throw new Error(`unknown section ${n}: ${SECTIONS.join(", ")}`);
  }
  return names;
}

async function machine(): Promise<BenchMeta["machine"]> {
  // Deno wants --allow-all to read /proc/cpuinfo; lscpu reports the same.
  const lscpu = await new Deno.Command("lscpu", { stdout: "piped", stderr: "null" }).output()
    .then((out) => new TextDecoder().decode(out.stdout), () => "");
  const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, "m").exec(lscpu)?.[1]?.trim();
  const hypervisor = field("Hypervisor vendor");
  const cpu = `${field("Model name") ?? "unknown CPU"}${hypervisor ? ` (${hypervisor} VM)` : ""}`;
  return {
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    cpu,
    cores: navigator.hardwareConcurrency,
    memGiB: Deno.systemMemoryInfo().total / 2 ** 30,
  };
}

async function serverFacts(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const settings: Record<string, string> = {};
    const { rows } = await client.query(
      `SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem',
        'synchronous_commit', 'fsync', 'max_connections', 'default_toast_compression', 'jit')`,
    );
    for (const r of rows) {
      settings[r.name] = r.unit === "8kB"
        ? `${(Number(r.setting) * 8 / 1024).toFixed(0)} MB`
        : r.unit === "kB"
        ? `${(Number(r.setting) / 1024).toFixed(0)} MB`
        : r.setting;
    }
    const version = (await client.query("SHOW server_version")).rows[0].server_version;
    return { version, settings };
  } finally {
    await client.end();
  }
}

/** The 1-minute load average of this machine. */
function oneMinuteLoad(): number {
  const [oneMinute] = Deno.loadavg();
  if (oneMinute === undefined) throw new Error("No load average: Deno.loadavg() returned none");
  return oneMinute;
}

async function otherSessions(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

/** Writes the report and charts of `results` into bench/. */
async function writeReport(results: BenchResults, log: (message: string) => void): Promise<void> {
  const dir = new URL("./", import.meta.url);
  const path = new URL("RESULTS.md", dir);
  await Deno.writeTextFile(path, renderReport(results).markdown);
  const charts = renderCharts(results);
  const files = [path.pathname];
  for (const [name, svg] of Object.entries(charts)) {
    const chart = new URL(name, dir);
    await Deno.writeTextFile(chart, svg);
    files.push(chart.pathname);
  }
  // Laid out as `deno fmt --check` (the project's check task) wants them.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", ...files] }).output();
  log(`wrote bench/RESULTS.md and ${Object.keys(charts).map((n) => `bench/${n}`).join(", ")}`);
}

async function main(): Promise<void> {
  // --from=FILE: render the report of a run saved earlier (every run saves its results).
  const from = Deno.args.find((a) => a.startsWith("--from="))?.slice("--from=".length);
  if (from) {
    await writeReport(JSON.parse(await Deno.readTextFile(from)), console.log);
    return;
  }
  const quick = Deno.args.includes("--quick");
  const only = listArg("only");
  const skip = listArg("skip") ?? [];
  const sections = SECTIONS.filter((s) => (only ? only.includes(s) : true) && !skip.includes(s));
  const complete = sections.length === SECTIONS.length;
  const write = !Deno.args.includes("--no-sync-commit") &&
    (Deno.args.includes("--write") || (!quick && complete));
  const startedAt = Date.now();
  const url = Deno.env.get("DATABASE_URL") || await testDatabaseUrl();
  const settings: BenchSettings = {
    quick,
    iterations: quick ? 40 : 300,
    warmup: quick ? 8 : 30,
    url,
    asyncCommit: Deno.args.includes("--no-sync-commit"),
    startedAt,
    log: (message) => console.log(`${clock(startedAt)} ${message}`),
  };
  const server = await serverFacts(url);
  const locked = await lockedVersions();
  const meta: BenchMeta = {
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    iterations: settings.iterations,
    warmup: settings.warmup,
    machine: await machine(),
    versions: {
      Deno: Deno.version.deno,
      V8: Deno.version.v8,
      TypeScript: Deno.version.typescript,
      PostgreSQL: server.version,
      "pg (node-postgres)": locked["pg"] ?? "?",
      "postgres (postgres.js)": locked["postgres"] ?? "?",
      "@neondatabase/serverless": locked["@neondatabase/serverless"] ?? "?",
    },
    postgresSettings: server.settings,
    loadBefore: Deno.loadavg(),
    loadAfter: [],
    sessionsBefore: await otherSessions(url),
    sessionsAfter: 0,
    seconds: 0,
    sections,
    timeline: [],
  };
  settings.log(
    `@heph/pg bench, ${meta.mode} (${settings.iterations} timed repetitions after ${settings.warmup} warm-up), ` +
      `sections: ${sections.join(", ")}`,
  );
  settings.log(
    `Deno ${Deno.version.deno}, PostgreSQL ${server.version}, ${meta.machine.cores} CPUs, ` +
      `load average ${meta.loadBefore.map((l) => l.toFixed(2)).join(" ")}, ` +
      `${meta.sessionsBefore} other sessions on the server`,
  );

  const results: BenchResults = { meta };
  const proxy = sections.some((s) => s === "overhead" || s === "round-trips")
    ? await startProxyWorker(Deno.args.includes("--deno-websocket"))
    : undefined;
  try {
    for (const section of sections) {
      const started = Date.now();
      const load = oneMinuteLoad();
      const sessions = await otherSessions(url);
      switch (section) {
        case "serializer":
          results.serializer = measureSerializer(settings);
          break;
        case "round-trips":
          results.roundTrips = await measureRoundTrips(settings, proxy !== undefined);
          break;
        case "overhead": {
          const targets = await openTargets(url);
          try {
            results.overhead = await measureOverhead(settings, targets);
          } finally {
            for (const target of targets) await target.close().catch(() => {});
          }
          break;
        }
        case "peers":
        case "workflow": {
          // One worker runs both (it has the peers installed): at the first of them.
          if (results.peers) break;
          const parts = (["peers", "workflow"] as const).filter((p) => sections.includes(p));
          results.peers = await measurePeers(settings, [...parts]);
          meta.versions = { ...meta.versions, ...results.peers.versions };
          break;
        }
        case "concurrency":
          results.concurrency = await measureConcurrency(settings);
          break;
        case "scale":
          results.scale = await measureScale(settings);
          break;
      }
      meta.timeline.push({
        section,
        seconds: (Date.now() - started) / 1000,
        load: [load, oneMinuteLoad()],
        sessions: [sessions, await otherSessions(url)],
      });
    }
  } finally {
    await proxy?.close();
  }
  meta.loadAfter = Deno.loadavg();
  meta.sessionsAfter = await otherSessions(url);
  meta.seconds = (Date.now() - startedAt) / 1000;

  const saved = `${Deno.env.get("TMPDIR") || "/tmp"}/heph-pg-bench-${meta.mode}${
    complete ? "" : "-partial"
  }.json`;
  await Deno.writeTextFile(saved, JSON.stringify(results));
  console.log(`\n${renderReport(results).summary}\n`);
  settings.log(`results saved to ${saved} (--from=${saved} renders them again)`);
  if (write) await writeReport(results, settings.log);
  else {
    settings.log(
      complete ? "not written (--quick; add --write to write)" : "not written (sections left out)",
    );
  }
  settings.log(`done in ${meta.seconds.toFixed(0)} s`);
}

if (import.meta.main) await main();
