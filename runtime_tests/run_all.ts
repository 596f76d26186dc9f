/**
 * `deno task test:runtimes`: runs the Storage conformance suite in every runtime users deploy
 * to — Deno with minimal permissions, Cloudflare's workerd, Node and Bun — against the local
 * PostgreSQL. Each runtime has a runner, `runtime_tests/<runtime>/run.ts`, which prepares what
 * it needs, runs the suite there and ends its output with a line `N passed, N failed`. This
 * script runs them one after another, adds the counts up and ends with the same kind of line.
 *
 * Usage: `deno task test:runtimes [runtime…]` (all of them by default).
 *
 * The runners use runtime_tests/deno.lock (`--lock`), so their tooling (esbuild, Miniflare and
 * workerd) stays out of the package's deno.lock and a first run of the library or its tests
 * never downloads it.
 *
 * @module
 */

const RUNTIMES = ["deno", "workerd", "node", "bun"];
const SUMMARY = /^(\d+) passed, (\d+) failed$/;
/** The suites' own lock (see above). */
const LOCK = new URL("./deno.lock", import.meta.url);

const chosen = Deno.args.length > 0 ? Deno.args : RUNTIMES;
let passed = 0;
let failed = 0;
const lines: string[] = [];
for (const runtime of chosen) {
  console.log(`\n=== ${runtime} ===`);
  const runner = new URL(`./${runtime}/run.ts`, import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--lock=${LOCK.pathname}`, runner.pathname],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let last = "";
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    await Deno.stdout.write(chunk);
    pending += text;
    const complete = pending.split("\n");
    pending = complete.pop()!;
    for (const line of complete) if (line.trim() !== "") last = line.trim();
  }
  if (pending.trim() !== "") last = pending.trim();
  const { code } = await child.status;
  const match = SUMMARY.exec(last);
  const p = match ? Number(match[1]) : 0;
  const f = match ? Number(match[2]) : 0;
  const broken = code !== 0 && f === 0 ? 1 : 0; // a runner that died counts as a failure
  passed += p;
  failed += f + broken;
  lines.push(
    `${runtime}: ${p} passed, ${f + broken} failed${broken ? ` (runner exited ${code})` : ""}`,
  );
}
console.log(`\n${lines.join("\n")}`);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 ? 1 : 0);
