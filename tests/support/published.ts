/**
 * What `deno publish` would upload: the file list of its dry run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The files `deno publish --dry-run` lists, relative to the repository root. */
export async function publishedFiles(): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, text);
  return [...text.matchAll(/^\s+(file:\/\/\S+) \(/gm)].map((m) =>
    fileURLToPath(m[1] ?? "").slice(ROOT.length)
  );
}
