/**
 * The conformance suite as a Node/Bun program: runs `storageConformance` on node-postgres and
 * on postgres.js against `DATABASE_URL`, each case on a fresh schema. Prints which runtime it
 * runs in (`# runtime <name> <version>`), one line per case (`ok <name>` or
 * `FAIL <name>: <message>`), then `N passed, N failed` over both drivers. Exits 1 on a failure.
 *
 * Bundled by `bundle.ts`, which resolves the `@heph/pg` imports to this repository's source.
 *
 * @module
 */
import process from "node:process";
import pg from "pg";
import postgres from "postgres";
import type { SqlDriver } from "@heph/pg";
import { nodePostgresDriver } from "@heph/pg/node-postgres";
import { postgresJsDriver } from "@heph/pg/postgres-js";
import { type CaseResult, freshSchemaStorage, storageConformance } from "@heph/pg/testing";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is not set");

const bun = (process.versions as Record<string, string | undefined>).bun;
const runtime = bun === undefined ? `node ${process.versions.node}` : `bun ${bun}`;
console.log(`# runtime ${runtime}`);

const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000 });
pool.on("error", () => {});
const sql = postgres(url, { max: 4, connect_timeout: 5, onnotice: () => {} });
const suites: { name: string; driver: SqlDriver; prefix: string }[] = [
  { name: "node-postgres", driver: nodePostgresDriver(pool), prefix: "heph_rt_pg" },
  { name: "postgres.js", driver: postgresJsDriver(sql), prefix: "heph_rt_pgjs" },
];

let passed = 0;
let failed = 0;
try {
  for (const suite of suites) {
    const print = (result: CaseResult) => {
      const name = `${suite.name}: ${result.name}`;
      console.log(result.ok ? `ok ${name}` : `FAIL ${name}: ${message(result.error)}`);
    };
    const report = await storageConformance(
      suite.name,
      freshSchemaStorage(suite.driver, suite.prefix),
      { onResult: print },
    );
    passed += report.passed;
    failed += report.failed;
  }
} finally {
  await Promise.allSettled([pool.end(), sql.end()]);
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;

/** An error's message on one line, then its further lines indented. */
function message(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.trim().split("\n").join("\n    ");
}
