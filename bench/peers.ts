/**
 * Section 3, peers: the same save-then-load workload through PgStorage, the raw client,
 * `@mastra/pg` and `@langchain/langgraph-checkpoint-postgres`. The peers are installed from npm
 * into a temp directory outside the project (reused while the pinned versions stay the same)
 * and run, with PgStorage beside them on one pool, by bench/peers_worker.ts in a Deno
 * subprocess configured for that directory's `node_modules`.
 *
 * @module
 */

import type { BenchSettings } from "./measure.ts";
import type { PeersInput, PeersOutput } from "./peers_worker.ts";
import { lockedVersions } from "./connections.ts";

/** The npm packages installed for the comparison, pinned. `pg` follows this project's lock. */
export const PEER_PACKAGES: Readonly<Record<string, string>> = {
  "@mastra/pg": "1.27.1",
  "@mastra/core": "1.71.0",
  "@langchain/langgraph-checkpoint-postgres": "1.0.5",
  "@langchain/langgraph-checkpoint": "1.2.2",
  "@langchain/core": "1.4.0",
};

/** Where the peers are installed: `HEPH_BENCH_PEERS_DIR`, else a directory under the temp dir. */
function installDir(): string {
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  return Deno.env.get("HEPH_BENCH_PEERS_DIR") || `${tmp}/heph-pg-bench-peers`;
}

/** Installs the pinned packages with npm unless that exact set is installed already. */
async function install(settings: BenchSettings, dir: string): Promise<void> {
  const pg = (await lockedVersions())["pg"];
  const manifest = JSON.stringify(
    {
      name: "heph-pg-bench-peers",
      private: true,
      type: "module",
      dependencies: { ...PEER_PACKAGES, ...(pg ? { pg } : {}) },
    },
    null,
    2,
  );
  await Deno.mkdir(dir, { recursive: true });
  const marker = `${dir}/node_modules/.heph-installed.json`;
  const installed = await Deno.readTextFile(marker).catch(() => "");
  await Deno.writeTextFile(
    `${dir}/deno.json`,
    JSON.stringify({ nodeModulesDir: "manual", lock: false }),
  );
  if (installed === manifest) return;
  await Deno.writeTextFile(`${dir}/package.json`, manifest);
  settings.log(`peers: npm install into ${dir}`);
  const out = await new Deno.Command("npm", {
    args: ["install", "--no-audit", "--no-fund", "--loglevel=error", "--no-package-lock"],
    cwd: dir,
    stdin: "null",
  }).output();
  if (!out.success) {
    throw new Error(
      `npm install failed (--skip=peers runs the rest):\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  await Deno.writeTextFile(marker, manifest);
}

/**
 * Installs the peers if needed and runs, in one worker, the save-then-load comparison
 * (`peers`), the 20-step workflow (`workflow`), or both.
 */
export async function measurePeers(
  settings: BenchSettings,
  parts: PeersInput["parts"] = ["peers"],
): Promise<PeersOutput> {
  const dir = installDir();
  await install(settings, dir);
  const out = await Deno.makeTempFile({ prefix: "heph-bench-peers-", suffix: ".json" });
  try {
    const input: PeersInput = {
      url: settings.url,
      iterations: settings.iterations,
      warmup: settings.warmup,
      nodeModules: new URL(`file://${dir}/node_modules/`).href,
      out,
      origin: settings.startedAt,
      parts,
      asyncCommit: settings.asyncCommit ?? false,
      workflowRuns: settings.quick ? 12 : 60,
    };
    const worker = new URL("./peers_worker.ts", import.meta.url).pathname;
    const status = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-write",
        "--allow-sys",
        "--config",
        `${dir}/deno.json`,
        worker,
      ],
      env: { HEPH_BENCH_PEERS: JSON.stringify(input) },
      stdin: "null",
    }).spawn().status;
    if (!status.success) throw new Error(`peers worker exited with ${status.code}`);
    return JSON.parse(await Deno.readTextFile(out));
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}
