/**
 * Bun runtime test: the Storage conformance suite on node-postgres and postgres.js, bundled
 * from this repository's TypeScript and run by `bun`, then the examples in `examples/bun/`.
 * Installs Bun with `npm install -g bun` when it is not on PATH. Ends with `N passed, N failed`.
 *
 * Usage: `deno run -A runtime_tests/bun/run.ts` (or `deno task test:runtimes bun`).
 *
 * @module
 */
import { runNodeLike, which } from "../support/node_like.ts";

Deno.exit(
  await runNodeLike({ name: "bun", executable: await findBun(), examples: "examples/bun" }),
);

/** `bun` from PATH, ~/.bun/bin or npm's global bin; installed with npm when none is found. */
async function findBun(): Promise<string> {
  const globalBin = async () => `${await output("npm", ["prefix", "-g"])}/bin/bun`;
  const home = Deno.env.get("HOME");
  for (const candidate of ["bun", `${home}/.bun/bin/bun`, await globalBin()]) {
    const found = await which(candidate);
    if (found !== undefined) return found;
  }
  console.error("[runtime_tests] bun not found: npm install -g bun");
  await output("npm", ["install", "-g", "--no-audit", "--no-fund", "--loglevel=error", "bun"]);
  const installed = (await which("bun")) ?? (await which(await globalBin()));
  if (installed === undefined) throw new Error("npm install -g bun did not provide a bun binary");
  return installed;
}

async function output(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text(out.stderr)}`);
  return text(out.stdout);
}
