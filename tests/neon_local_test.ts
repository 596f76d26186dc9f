/**
 * The CLI's `neon-local` (`deno task neon-local`): a local Neon HTTP endpoint and WebSocket
 * proxy in front of the test PostgreSQL, used as the examples' READMEs say — Neon's driver over
 * HTTP and over a WebSocket `Pool` with the printed settings, and the Deno Deploy example run
 * against it — in a database of its own. Also: it refuses other servers, and without a URL.
 *
 * @module
 */
import assert from "node:assert/strict";
import { neon, neonConfig, Pool } from "@neondatabase/serverless";
import { fileURLToPath } from "node:url";
import { assertOneLineError, runTask } from "./support/cli_run.ts";
import { testDatabaseUrl } from "./support/test_db.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** A task of deno.json as a command: `deno run …permissions cli/main.ts <command>`. */
async function task(name: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  return config.tasks[name].split(" ").slice(1);
}

/** Starts a long-running command and collects its stdout until `ready` matches. */
async function start(args: string[], env: Record<string, string>, ready: RegExp) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", DATABASE_URL: "", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!ready.test(output)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited early: ${output}${await stderr}`);
    output += value;
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* keep the pipe flowing */ }
  })();
  return {
    output,
    async stop(): Promise<{ code: number; stderr: string }> {
      child.kill("SIGTERM");
      const { code } = await child.status;
      await drained;
      return { code, stderr: await stderr };
    },
  };
}

Deno.test("neon-local serves Neon's driver and the Deno Deploy example from a local PostgreSQL", async (t) => {
  const admin = new URL(await testDatabaseUrl());
  const database = `heph_neon_local_${crypto.randomUUID().slice(0, 8)}`;
  const sql = async (text: string) => {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: admin.href });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  await sql(`CREATE DATABASE ${database}`);
  const url = new URL(admin.href);
  url.pathname = `/${database}`;
  const server = await start(
    [...await task("neon-local"), "--url", url.href, "--http-port", "0", "--ws-port", "0"],
    {},
    /Press Ctrl-C to stop\./,
  );
  try {
    const fetchEndpoint = server.output.match(/^ {2}NEON_FETCH_ENDPOINT=(\S+)$/m)?.[1];
    const wsProxy = server.output.match(/^ {2}NEON_WS_PROXY=(\S+)$/m)?.[1];
    assert.ok(fetchEndpoint && wsProxy, server.output);
    assert.match(server.output, /neonConfig\.fetchEndpoint = "http:\/\/127\.0\.0\.1:\d+\/sql";/);

    await t.step(
      "migrate, as the README says, then Neon's driver over HTTP and a Pool",
      async () => {
        const migrated = await runTask("migrate", [], { env: { DATABASE_URL: url.href } });
        assert.equal(migrated.code, 0, migrated.stderr);
        neonConfig.fetchEndpoint = fetchEndpoint!;
        const rows = await neon(url.href)`SELECT count(*)::int AS n FROM workflow_instances`;
        assert.deepEqual(rows, [{ n: 0 }]);
        neonConfig.wsProxy = (host, port) => `${wsProxy}/v1?address=${host}:${port}`;
        neonConfig.useSecureWebSocket = false;
        neonConfig.pipelineTLS = false;
        neonConfig.pipelineConnect = false;
        const pool = new Pool({ connectionString: url.href });
        try {
          const { rows: [row] } = await pool.query("SELECT current_database() AS db");
          assert.equal(row.db, database);
        } finally {
          await pool.end();
        }
      },
    );

    await t.step("it serves only the server it was started for", async () => {
      const other = new URL(url.href);
      other.port = "1";
      const response = await fetch(fetchEndpoint!, {
        method: "POST",
        headers: { "Neon-Connection-String": other.href, "Neon-Raw-Text-Output": "true" },
        body: JSON.stringify({ query: "SELECT 1" }),
      });
      assert.equal(response.status, 400);
      assert.match((await response.json()).message, /serves only the database at/);
      const proxied = await fetch(`http://${wsProxy}/v1?address=example.com:5432`, {
        headers: { upgrade: "websocket" },
      });
      assert.equal(proxied.status, 403);
      await proxied.body?.cancel();
    });

    await t.step("the Deno Deploy example runs against it, with the README's flags", async () => {
      const port = String(freePort());
      const app = await start(
        ["run", "--allow-net", "--allow-env", "examples/deno_deploy/main.ts"],
        { DATABASE_URL: url.href, NEON_FETCH_ENDPOINT: fetchEndpoint!, PORT: port },
        /^/,
      );
      try {
        const at = (path: string) => `http://127.0.0.1:${port}${path}`;
        await listening(at("/"));
        const created = await fetch(at("/orders/7"), { method: "POST", body: '{"items":3}' });
        assert.equal(created.status, 201, await created.clone().text());
        assert.equal((await created.json()).revision, 1);
        const advanced = await fetch(at("/orders/7/advance"), { method: "POST" });
        assert.deepEqual(
          { status: advanced.status, step: (await advanced.json()).step },
          { status: 200, step: "validate" },
        );
        const shown = await (await fetch(at("/orders/7"))).json();
        assert.deepEqual([shown.id, shown.revision, shown.context.initial.items], [
          "order::7",
          2,
          3,
        ]);
      } finally {
        await app.stop();
      }
    });

    await t.step("without an endpoint, the example says to start neon-local", async () => {
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-net", "--allow-env", "examples/deno_deploy/main.ts"],
        cwd: ROOT,
        env: { NO_COLOR: "1", DATABASE_URL: url.href, NEON_FETCH_ENDPOINT: "", PORT: "0" },
        stdin: "null",
      }).output();
      assert.equal(code, 1);
      assert.match(
        new TextDecoder().decode(stderr),
        /start `deno run -A jsr:@heph\/pg\/cli neon-local/,
      );
    });
  } finally {
    const { code, stderr } = await server.stop();
    await sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    assert.equal(code, 0, stderr);
  }
});

Deno.test("neon-local without a database is a usage error", async () => {
  assertOneLineError(
    await runTask("neon-local", []),
    2,
    /^error: no database: pass --url <url> or set DATABASE_URL$/,
  );
  assertOneLineError(
    await runTask("neon-local", ["--url", "postgres://h/db", "--http-port", "x"]),
    2,
    /--http-port expects a port number/,
  );
});

/** Waits until something answers at `url` (the app prints its address on stderr). */
async function listening(url: string): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await (await fetch(url)).body?.cancel();
      return;
    } catch (error) {
      if (attempt >= 600) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
