/**
 * Cloudflare Workers (`deno task test:runtimes workerd`): bundles workers with esbuild
 * (bundle.ts) and runs them in workerd through Miniflare, against the local PostgreSQL.
 *
 * 1. `conformance_worker.ts`: `GET /conformance?driver=http`, `?driver=ws` and
 *    `?driver=hyperdrive` each run the whole Storage conformance suite inside one request: on
 *    Neon's HTTP query function, on a Neon WebSocket Pool, and on a node-postgres Client through
 *    a Hyperdrive binding (Pool and Client made and ended within the request). Each case counts.
 * 2. `examples/cloudflare_worker/src/worker.ts`, bundled as a user's Wrangler build would be:
 *    its routes are called through Miniflare, one counted check each
 *    (runtime_tests/order_api_checks.ts).
 *
 * workerd reaches the database the way a Worker reaches Neon: over `fetch` to the local
 * SQL-over-HTTP endpoint, and over WebSockets to the local WebSocket-to-TCP proxy (both from
 * tests/support/, started here), whose addresses the workers get as bindings. Miniflare's
 * Hyperdrive opens TCP connections to the database itself. Miniflare lets workerd reach
 * 127.0.0.1.
 *
 * Prints `ok …` / `FAIL …` per case or check and ends with `N passed, N failed`.
 *
 * @module
 */
import { Miniflare } from "npm:miniflare@^4";
import { startNeonHttpServer } from "../../cli/neon_local/http_endpoint.ts";
import { testDatabaseUrl } from "../../tests/support/test_db.ts";
import { startWsProxy } from "../../cli/neon_local/ws_proxy.ts";
import { checkOrderApi, exampleDatabase, orderIdPrefix } from "../order_api_checks.ts";
import { bundleWorker, REPO_ROOT } from "./bundle.ts";
import type { CaseOutcome } from "./conformance_worker.ts";

// node:fs (imported by npm:pg's pgpass) is on by default from 2025-09-15 with nodejs_compat.
const COMPATIBILITY_DATE = "2025-11-01";

let passed = 0;
let failed = 0;
const started = performance.now();
const record = (ok: boolean, line: string) => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok" : "FAIL"} ${line}`);
};

const databaseUrl = await testDatabaseUrl();
const proxy = await startWsProxy();
const http = await startNeonHttpServer();
const bindings = {
  DATABASE_URL: databaseUrl,
  NEON_FETCH_ENDPOINT: http.url,
  NEON_WS_PROXY: `127.0.0.1:${proxy.port}`,
};
try {
  await guarded("workerd", conformanceWorker);
  await guarded("cloudflare_worker example", exampleWorker);
} finally {
  await proxy.close();
  await http.close();
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`workerd: ${seconds} s`);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 ? 1 : 0);

/** Runs `body`; if it throws (a bundle or Miniflare that fails), that is one failure. */
async function guarded(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    record(false, `${name}: the run itself`);
    console.error(error);
  }
}

async function conformanceWorker(): Promise<void> {
  const script = await bundleWorker(new URL("./conformance_worker.ts", import.meta.url).pathname);
  // nodejs_compat: the suite asserts with node:assert/strict, and npm:pg needs Node's modules.
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: ["nodejs_compat"],
    bindings,
    hyperdrives: { HYPERDRIVE: withPassword(databaseUrl) },
  });
  try {
    const drivers = [["http", "neon-http"], ["ws", "neon-ws"], ["hyperdrive", "hyperdrive-pg"]];
    for (const [driver, name] of drivers) {
      const t = performance.now();
      try {
        const response = await mf.dispatchFetch(`http://worker/conformance?driver=${driver}`);
        const text = await response.text();
        if (response.status !== 200) throw new Error(`status ${response.status}: ${text}`);
        const report = JSON.parse(text) as { results: CaseOutcome[] };
        for (const { name: check, ok, error } of report.results) {
          record(ok, `workerd ${name}: ${check}`);
          if (!ok) console.error(`--- workerd ${name}: ${check}\n${error}`);
        }
        console.log(`# workerd ${name}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
      } catch (error) {
        record(false, `workerd ${name}: the request itself`);
        console.error(error);
      }
    }
  } finally {
    await mf.dispose();
  }
}

/** Miniflare's Hyperdrive wants a password in the URL; a server that trusts us never asks. */
function withPassword(url: string): string {
  const parsed = new URL(url);
  if (!parsed.password) parsed.password = "unused";
  return parsed.href;
}

async function exampleWorker(): Promise<void> {
  const db = await exampleDatabase(databaseUrl);
  const entry = new URL("examples/cloudflare_worker/src/worker.ts", REPO_ROOT).pathname;
  // Without nodejs_compat, as the example's wrangler.toml: it needs none.
  const mf = new Miniflare({
    modules: true,
    script: await bundleWorker(entry),
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: { ...bindings, DATABASE_URL: db.url },
  });
  const prefix = orderIdPrefix("workerd");
  try {
    const results = await checkOrderApi(
      (path, init) => mf.dispatchFetch(`http://worker${path}`, init),
      prefix,
      { withList: true },
    );
    for (const { name, ok, detail } of results) {
      record(ok, `cloudflare_worker example: ${name}${detail ? `: ${detail}` : ""}`);
    }
  } catch (error) {
    record(false, "cloudflare_worker example: the checks themselves");
    console.error(error);
  } finally {
    await mf.dispose();
    await db.drop();
  }
}
