/**
 * Node runtime test: the Storage conformance suite on node-postgres and postgres.js, bundled
 * from this repository's TypeScript and run by the machine's `node` (Node 20 or later), then
 * the examples in `examples/node/`. Ends with `N passed, N failed`.
 *
 * Usage: `deno run -A runtime_tests/node/run.ts` (or `deno task test:runtimes node`).
 *
 * @module
 */
import { runNodeLike, which } from "../support/node_like.ts";

const node = await which("node");
if (node === undefined) {
  console.error("node not found on PATH: install Node.js 20 or later to run the Node tests");
  console.log("0 passed, 1 failed");
  Deno.exit(1);
}
const version = new TextDecoder().decode(
  (await new Deno.Command(node, { args: ["--version"] }).output()).stdout,
).trim();
if (Number(/^v(\d+)/.exec(version)?.[1] ?? 0) < 20) {
  console.error(`node ${version} is not Node.js 20 or later, which the Node tests need`);
  console.log("0 passed, 1 failed");
  Deno.exit(1);
}
console.error(`[runtime_tests] node ${version} at ${node}`);
Deno.exit(await runNodeLike({ name: "node", executable: node, examples: "examples/node" }));
