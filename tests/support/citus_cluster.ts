/**
 * A throwaway Citus cluster for tests: a coordinator and two workers, each a throwaway
 * PostgreSQL cluster on a loopback port of its own with `citus` preloaded. Needs Citus built
 * and installed into the local PostgreSQL (see the README's Citus section); tests skip without.
 *
 * @module
 */
import pg from "pg";
import { findPgBinDir, startThrowawayCluster, type ThrowawayCluster } from "./test_db.ts";

/** Whether `citus.so` is installed in the PostgreSQL the tests would start. */
export async function citusInstalled(): Promise<boolean> {
  try {
    const bin = await findPgBinDir();
    const out = await new Deno.Command(`${bin}/pg_config`, { args: ["--pkglibdir"] }).output();
    const lib = out.success
      ? new TextDecoder().decode(out.stdout).trim()
      : `${bin.slice(0, bin.lastIndexOf("/"))}/lib`;
    return (await Deno.stat(`${lib}/citus.so`)).isFile;
  } catch {
    return false;
  }
}

/** The line a Citus test prints instead of running when Citus is not installed. */
export const CITUS_MISSING =
  "skipped: the citus extension is not installed in the local PostgreSQL (build it as the README's Citus section says)";

/** A running coordinator with two workers. */
export interface CitusCluster {
  /** The coordinator's URL: clients connect here only. */
  url: string;
  /** The workers' URLs, for tests that look at shards. */
  workerUrls: string[];
  /** Stops all three nodes and deletes their directories. */
  destroy(): Promise<void>;
}

/**
 * Starts a coordinator and two workers, creates the citus extension on each and adds the
 * workers to the coordinator. Everything is stopped and deleted by `destroy()` or at exit.
 *
 * @param options `shardCount`: shards per distributed table (4 by default; Citus's own is 32).
 */
export async function startCitusCluster(
  options: { shardCount?: number } = {},
): Promise<CitusCluster> {
  const settings = {
    shared_preload_libraries: "citus",
    // Distributed transactions commit with two-phase commit on the workers.
    max_prepared_transactions: "100",
    // The nodes reach each other over loopback with trust auth, without SSL.
    "citus.node_conninfo": "sslmode=disable",
    // Four shards (two per worker) instead of 32: every statement that fans out still spans
    // shards on both workers, and the suite creates dozens of tables on a 2-core machine.
    "citus.shard_count": String(options.shardCount ?? 4),
  };
  const nodes: ThrowawayCluster[] = [];
  try {
    for (
      const node of await Promise.allSettled(
        [0, 1, 2].map(() => startThrowawayCluster({ settings })),
      )
    ) {
      if (node.status === "fulfilled") nodes.push(node.value);
      else throw node.reason;
    }
    const ports = nodes.map((node) => Number(new URL(node.url).port));
    for (const node of nodes) await sql(node.url, ["CREATE EXTENSION citus"]);
    await sql(coordinatorUrl(nodes), [
      `SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})`,
      `SELECT citus_add_node('127.0.0.1', ${ports[1]})`,
      `SELECT citus_add_node('127.0.0.1', ${ports[2]})`,
    ]);
  } catch (error) {
    await Promise.allSettled(nodes.map((node) => node.destroy()));
    throw error;
  }
  return {
    url: coordinatorUrl(nodes),
    workerUrls: nodes.slice(1).map((node) => node.url),
    async destroy() {
      await Promise.allSettled(nodes.map((node) => node.destroy()));
    },
  };
}

/** The first node is the coordinator. */
function coordinatorUrl(nodes: ThrowawayCluster[]): string {
  const [coordinator] = nodes;
  if (!coordinator) throw new Error("the Citus cluster has no coordinator");
  return coordinator.url;
}

async function sql(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const text of statements) await client.query(text);
  } finally {
    await client.end();
  }
}
