/**
 * Deno with Deploy-like permissions (`deno task test:runtimes deno`). This runner has every
 * permission: it finds the test database, starts the local stand-ins for Neon's HTTP endpoint
 * and WebSocket proxy, then runs in child processes with minimal permissions:
 *
 * 1. `conformance.ts core` with `--allow-net=<HTTP endpoint>` and nothing else: MemoryStorage,
 *    and PgStorage over a driver on bare `fetch` (no npm package loaded). The core needs no
 *    environment, file system or subprocess access.
 * 2. `conformance.ts drivers` with `--allow-net=<endpoint, proxy, database>` and
 *    `--allow-env=USER,USERNAME,PG*,NODE_PG_FORCE_NATIVE`: Neon HTTP, Neon WebSocket Pool,
 *    postgres.js and node-postgres. Those npm packages read the libpq variables and the OS user
 *    through `process.env`, which Deno guards (see conformance.ts); nothing else is granted.
 * 3. `examples/deno_deploy/main.ts` with `--allow-net=<its port, the endpoint>` and
 *    `--allow-env=DATABASE_URL,NEON_FETCH_ENDPOINT,PORT` plus the same npm variables: a Deploy
 *    app reads its configuration from the environment. Its endpoints are exercised with
 *    `fetch`, one counted check each (runtime_tests/order_api_checks.ts).
 *
 * No child gets `--allow-read`, `--allow-write`, `--allow-run`, `--allow-sys` or `--allow-ffi`.
 * Prints `ok …` / `FAIL …` per case or check and ends with `N passed, N failed`.
 *
 * @module
 */
import { startNeonHttpServer } from "../../cli/neon_local/http_endpoint.ts";
import { testDatabaseUrl } from "../../tests/support/test_db.ts";
import { startWsProxy } from "../../cli/neon_local/ws_proxy.ts";
import { checkOrderApi, exampleDatabase, orderIdPrefix } from "../order_api_checks.ts";

const REPO_ROOT = new URL("../../", import.meta.url).pathname;
/** What `pg`, `@neondatabase/serverless` and `postgres` read from the environment. */
const NPM_PG_ENV = "USER,USERNAME,PG*,NODE_PG_FORCE_NATIVE";
const CHILD_TIMEOUT_MS = 5 * 60_000;

let passed = 0;
let failed = 0;
const started = performance.now();

const databaseUrl = await testDatabaseUrl();
const database = new URL(databaseUrl);
const databaseHost = `${database.hostname}:${database.port || 5432}`;
const proxy = await startWsProxy();
const http = await startNeonHttpServer();
try {
  const args = [databaseUrl, http.url, String(proxy.port)];
  await conformance("core", [`--allow-net=127.0.0.1:${http.port}`], args);
  await conformance("drivers", [
    `--allow-net=127.0.0.1:${http.port},127.0.0.1:${proxy.port},${databaseHost}`,
    `--allow-env=${NPM_PG_ENV}`,
  ], args);
  await deployExample().catch((error) => {
    failed++;
    console.log("FAIL deno_deploy example: the run itself");
    console.error(error);
  });
} finally {
  await proxy.close();
  await http.close();
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`deno: ${seconds} s`);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 ? 1 : 0);

/** Runs `conformance.ts <group>` with `permissions`, relaying and counting its ok/FAIL lines. */
async function conformance(group: string, permissions: string[], args: string[]): Promise<void> {
  const entry = new URL("./conformance.ts", import.meta.url).pathname;
  console.log(`# deno run ${permissions.join(" ")} conformance.ts ${group}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, entry, group, ...args],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
  let last = "";
  let counted = 0;
  for await (const line of lines(child.stdout)) {
    if (line.startsWith("ok ")) passed++;
    else if (line.startsWith("FAIL ")) failed++;
    else {
      console.log(`# ${group}: ${line}`); // its own summary line
      continue;
    }
    console.log(line);
    counted++;
    last = line;
  }
  clearTimeout(timer);
  const { code } = await child.status;
  if (code !== 0 || counted === 0) {
    failed++;
    console.log(
      `FAIL ${group}: the run exited with ${code} after ${counted} cases (last: ${last})`,
    );
  }
}

/** Runs the Deno Deploy example and checks its endpoints. */
async function deployExample(): Promise<void> {
  const db = await exampleDatabase(databaseUrl);
  const port = freePort();
  const permissions = [
    `--allow-net=0.0.0.0:${port},127.0.0.1:${http.port}`,
    `--allow-env=DATABASE_URL,NEON_FETCH_ENDPOINT,PORT,${NPM_PG_ENV}`,
  ];
  console.log(`# deno run ${permissions.join(" ")} examples/deno_deploy/main.ts`);
  const app = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, "examples/deno_deploy/main.ts"],
    cwd: REPO_ROOT,
    env: { DATABASE_URL: db.url, NEON_FETCH_ENDPOINT: http.url, PORT: String(port) },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const prefix = orderIdPrefix("deno");
  try {
    const base = `http://127.0.0.1:${port}`;
    if (!await listening(base, app.status)) {
      failed++;
      console.log("FAIL deno_deploy example: the app did not start");
      return;
    }
    const results = await checkOrderApi((path, init) => fetch(base + path, init), prefix);
    for (const { name, ok, detail } of results) {
      if (ok) passed++;
      else failed++;
      console.log(
        `${ok ? "ok" : "FAIL"} deno_deploy example: ${name}${detail ? `: ${detail}` : ""}`,
      );
    }
  } finally {
    try {
      app.kill("SIGTERM");
    } catch { /* already exited */ }
    await app.status;
    await db.drop();
  }
}

/** Waits until `base` answers HTTP, or the app exits, or 30 s pass. */
async function listening(base: string, exited: Promise<Deno.CommandStatus>): Promise<boolean> {
  let done = false;
  exited.then(() => done = true);
  for (const deadline = Date.now() + 30_000; !done && Date.now() < deadline;) {
    try {
      await (await fetch(`${base}/`)).body?.cancel();
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return false;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return (listener.addr as Deno.NetAddr).port;
}

/** The lines of a byte stream. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    const complete = pending.split("\n");
    pending = complete.pop()!;
    yield* complete;
  }
  if (pending !== "") yield pending;
}
